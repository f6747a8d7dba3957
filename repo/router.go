package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

// Router sends the checks and updates of packages installed from a
// repository (their install record names it) to the repository's index:
// one request answers them all. A package falls back to its author's
// source, and the router says so (Warn), when its repository is not
// configured any more, is disabled, cannot be asked and its copy is older
// than StaleFactor × MaxAge (a younger copy is used, with a warning), no
// longer lists the package, or lists it with another update_url.
type Router struct {
	Client *Client
	Repos  *List
	// Warn is told what the user should know, once per message (the
	// CLI prints it, the daemon logs it).
	Warn func(msg string)

	mu     sync.Mutex
	roots  map[string]*rootRecords
	warned map[string]bool
}

var _ updater.Router = (*Router)(nil)

// rootRecords are the repositories a root's install records name.
type rootRecords struct {
	stamp   string
	looked  time.Time
	byName  map[string]string
	loading sync.Mutex
}

// recordsRecheck is how often a root's records are looked at again (a
// long-running daemon sees packages installed meanwhile).
const recordsRecheck = time.Second

// Route implements updater.Router.
func (r *Router) Route(ctx context.Context, p pkgdir.Package) (sources.Source, bool) {
	if p.Manifest == nil {
		return nil, false
	}
	name := r.repoOf(p)
	if name == "" {
		return nil, false
	}
	rp, ok := r.Repos.Find(name)
	switch {
	case !ok:
		r.warn(fmt.Sprintf("repository %s, which packages were installed from, is not configured any more: they are checked at their authors' sources (`modup repo add %s URL` brings it back)", name, name))
		return nil, false
	case !rp.Enabled:
		r.warn(fmt.Sprintf("repository %s is disabled: the packages installed from it are checked at their authors' sources", rp.Name))
		return nil, false
	}
	// One look-up gives the list and the package's entry in it.
	sum, list, found := r.Client.Package(ctx, rp, p.Name)
	if list.Err != nil {
		limit := StaleFactor * r.Client.maxAge()
		cause := list.Err
		var se *StaleError
		if errors.As(list.Err, &se) {
			cause = se.Err
		}
		key := rp.Name + "\x00" + cause.Error()
		switch {
		case list.Doc == nil && trust.Failed(cause):
			r.warnOnce(key, fmt.Sprintf("%v; the packages installed from it are checked at their authors' sources", cause))
			return nil, false
		case list.Doc == nil:
			r.warnOnce(key, fmt.Sprintf("%v; nothing of it is cached: the packages installed from it are checked at their authors' sources", cause))
			return nil, false
		case list.Age(r.Client.now()) > limit:
			r.warnOnce(key, fmt.Sprintf("%v; its copy is %s old, more than %d × repo_max_age (%s): the packages installed from it are checked at their authors' sources",
				cause, Ago(list.Age(r.Client.now())), StaleFactor, Ago(limit)))
			return nil, false
		}
		r.warnOnce(key, list.Err.Error())
	}
	switch {
	case !found:
		r.warn(fmt.Sprintf("%s: repository %s does not list it any more: checked at its author's source", p.Name, rp.Name))
		return nil, false
	case sum.UpdateURL != p.Manifest.UpdateURL:
		r.warn(fmt.Sprintf("%s: repository %s lists it from %s, but its manifest says update_url %s: checked at its own", p.Name, rp.Name, sum.UpdateURL, p.Manifest.UpdateURL))
		return nil, false
	}
	return r.Client.Source(rp), true
}

// repoOf is the repository p's install record names ("" for none): as
// the scan noted it, else from the root's records.
func (r *Router) repoOf(p pkgdir.Package) string {
	if n, ok := p.Noted(); ok {
		return n.Repo
	}
	r.mu.Lock()
	if r.roots == nil {
		r.roots = map[string]*rootRecords{}
	}
	rr, ok := r.roots[p.Root]
	if !ok {
		rr = &rootRecords{}
		r.roots[p.Root] = rr
	}
	r.mu.Unlock()

	rr.loading.Lock()
	defer rr.loading.Unlock()
	now := time.Now()
	if rr.byName == nil || now.Sub(rr.looked) >= recordsRecheck {
		l := pkgdir.Layout{Root: p.Root}
		stamp := l.RecordsStamp()
		if rr.byName == nil || stamp != rr.stamp {
			recs, err := l.Records()
			byName := map[string]string{}
			if err == nil {
				for n, rec := range recs {
					if rec.Repo != "" {
						byName[n] = rec.Repo
					}
				}
			}
			rr.byName, rr.stamp = byName, stamp
		}
		rr.looked = now
	}
	return rr.byName[p.Name]
}

// warn tells Warn msg, once.
func (r *Router) warn(msg string) { r.warnOnce(msg, msg) }

// warnOnce tells Warn msg, once for key.
func (r *Router) warnOnce(key, msg string) {
	r.mu.Lock()
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	seen := r.warned[key]
	r.warned[key] = true
	r.mu.Unlock()
	if !seen && r.Warn != nil {
		r.Warn(msg)
	}
}
