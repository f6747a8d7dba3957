package updater

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
)

// installedSet is what is installed in the roots as the solver sees it:
// every package with a comparable version, its requirements, and whether
// it may change (held, development checkouts and local packages may not).
// A name in two roots counts once, in the first root.
type installedSet struct {
	host     resolve.Host
	platform resolve.Platform
	byName   map[string]resolve.Installed
	pkgs     map[string]pkgdir.Package
	// mentionedBy maps a name to the installed packages whose requirement
	// fields name it (or that provide it).
	mentionedBy map[string][]string
}

// loadInstalled reads the roots (u.Roots, else the given ones).
func (u *Updater) loadInstalled(fallback []string) (*installedSet, error) {
	roots := u.Roots
	if len(roots) == 0 {
		roots = fallback
	}
	// A root that does not exist holds nothing (install makes it).
	roots = slices.DeleteFunc(slices.Clone(roots), func(r string) bool {
		_, err := os.Stat(r)
		return errors.Is(err, fs.ErrNotExist)
	})
	pkgs, err := pkgdir.Scan(roots)
	if err != nil {
		return nil, err
	}
	return u.installedOf(pkgs), nil
}

// installedOf builds the set from scanned packages.
func (u *Updater) installedOf(pkgs []pkgdir.Package) *installedSet {
	s := &installedSet{host: u.Host, platform: u.Platform, byName: map[string]resolve.Installed{},
		pkgs: map[string]pkgdir.Package{}, mentionedBy: map[string][]string{}}
	held := pkgdir.HoldsOf(pkgs)
	for _, p := range pkgs {
		if _, dup := s.byName[p.Name]; dup || p.Manifest == nil {
			continue
		}
		v, err := ParseVersion(p.Version())
		if err != nil {
			continue // not comparable: nothing can be said of it
		}
		in := resolve.Installed{Package: resolve.Package{Name: p.Name, Version: v}}
		if p.Manifest.Supported() == nil {
			in.Requirements = p.Manifest.Requirements
		}
		in.Held = held[p.Dir] != nil || p.Dev
		s.byName[p.Name] = in
		s.pkgs[p.Name] = p
		for _, n := range mentions(in.Requirements) {
			s.mentionedBy[n] = append(s.mentionedBy[n], p.Name)
		}
	}
	return s
}

// mentions lists the names r's fields name, and those it provides.
func mentions(r resolve.Requirements) []string {
	var out []string
	for _, m := range []map[string]resolve.Constraint{r.Packages, r.Conflicts, r.Breaks, r.Replaces} {
		for n := range m {
			out = append(out, n)
		}
	}
	return append(out, r.Provides...)
}

// system is what the solver needs to judge changes to the named packages
// with candidates: the host, the machine, the candidates, and the
// installed packages connected to them through requirement fields (the
// others cannot matter, and thousands of them would only cost time).
func (s *installedSet) system(names []string, candidates []resolve.Package) resolve.System {
	seen := map[string]bool{}
	queue := slices.Clone(names)
	for _, c := range candidates {
		queue = append(queue, c.Name)
		queue = append(queue, mentions(c.Requirements)...)
	}
	var inst []resolve.Installed
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		if in, ok := s.byName[n]; ok {
			inst = append(inst, in)
			queue = append(queue, mentions(in.Requirements)...)
		}
		queue = append(queue, s.mentionedBy[n]...)
	}
	slices.SortFunc(inst, func(a, b resolve.Installed) int { return strings.Compare(a.Name, b.Name) })
	return resolve.System{Host: s.host, Platform: s.platform, Installed: inst, Available: candidates}
}

// lazyInstalled loads the installed set once, when first needed: a check
// of thousands of up-to-date packages never needs it. holds, when set, are
// the holds of a batch's packages by folder, read at once.
type lazyInstalled struct {
	once  sync.Once
	load  func() (*installedSet, error)
	set   *installedSet
	err   error
	holds map[string]*pkgdir.Hold
}

// holdOf is p's hold: from the batch's, else from its record.
func (l *lazyInstalled) holdOf(p pkgdir.Package) *pkgdir.Hold {
	if l.holds != nil {
		return l.holds[p.Dir]
	}
	return p.Layout().HoldOf(p.Name)
}

// replace puts p, as it is now on disk, in place of what the set held of
// it (after a change of p), so that one set serves a whole batch of
// changes.
func (s *installedSet) replace(p pkgdir.Package) {
	fresh, ok := pkgdir.Load(p.Root, p.Dir)
	if !ok {
		delete(s.byName, p.Name)
		delete(s.pkgs, p.Name)
		return
	}
	one := (&Updater{Host: s.host, Platform: s.platform}).installedOf([]pkgdir.Package{fresh})
	in, ok := one.byName[p.Name]
	if !ok {
		delete(s.byName, p.Name)
		delete(s.pkgs, p.Name)
		return
	}
	in.Held = s.byName[p.Name].Held || in.Held
	s.byName[p.Name] = in
	s.pkgs[p.Name] = fresh
	for n, by := range one.mentionedBy {
		if !slices.Contains(s.mentionedBy[n], p.Name) {
			s.mentionedBy[n] = append(s.mentionedBy[n], by...)
		}
	}
}

func (l *lazyInstalled) get() (*installedSet, error) {
	l.once.Do(func() { l.set, l.err = l.load() })
	return l.set, l.err
}

// candidate is rel of package name as the solver sees it. A release
// written for a newer modup cannot be installed, and says so.
func candidate(name string, rel sources.Release) (resolve.Package, error) {
	v, err := ParseVersion(rel.Version)
	if err != nil {
		return resolve.Package{}, fmt.Errorf("%s: release version %w", name, err)
	}
	p := resolve.Package{Name: name, Version: v, Requirements: rel.Requirements, Prerelease: rel.Prerelease}
	if rel.ManifestVersion > manifest.SupportedVersion {
		p.Requirements = resolve.Requirements{}
		p.Unavailable = fmt.Sprintf("needs a newer modup (manifest_version %d; this one reads up to %d)", rel.ManifestVersion, manifest.SupportedVersion)
	}
	return p, nil
}

// maxOlderLookups bounds how many older releases' manifests a check reads
// when looking for one that fits.
const maxOlderLookups = 10

// judge decides whether the newest release in r (update-available) can be
// installed beside what is installed. When it cannot, r becomes held-back
// with the reason, and the newest older release that fits, when the source
// can list releases and say what they need, becomes r's Available and
// Release.
func (u *Updater) judge(ctx context.Context, src sources.Source, q sources.Query, r *Result, set *installedSet) {
	newest, err := candidate(r.Name, r.Release)
	if err != nil {
		r.fail(StatusError, err)
		return
	}
	a, err := resolve.Assess(set.system([]string{r.Name}, []resolve.Package{newest}), r.Name)
	if err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("requirements not checked: %v", err))
		return
	}
	if a.Fits {
		if a.Plan != nil {
			r.Warnings = append(r.Warnings, hostHints(a.Plan.Warnings)...)
		}
		return
	}
	r.Status = StatusHeldBack
	r.newest = r.Release
	r.Newest = r.Release.Version
	r.Reason = a.Reason
	r.Available = ""
	best, ok := u.olderFit(ctx, src, q, r, set, newest)
	if ok {
		r.Available = best.Version
		r.Release = best
		if best.News != "" {
			r.News = best.News
		}
	}
}

// hostHints adds to the solver's warning about an unknown host version
// how to tell modup the version.
func hostHints(warnings []string) []string {
	out := slices.Clone(warnings)
	for i, w := range out {
		if strings.Contains(w, "version is not known") {
			out[i] = w + " (set host_version in the configuration file, MODUP_HOST_VERSION or --host-version)"
		}
	}
	return out
}

// olderFit looks for the newest release older than the held-back one
// (newest) and newer than the installed one that fits: from the source's
// list of releases, with each one's requirements from the release itself
// or, read without downloading it, from its manifest (ManifestReader).
func (u *Updater) olderFit(ctx context.Context, src sources.Source, q sources.Query, r *Result, set *installedSet, newest resolve.Package) (sources.Release, bool) {
	lister, ok := src.(sources.Lister)
	if !ok {
		return sources.Release{}, false
	}
	list, err := lister.Versions(ctx, q)
	if err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("older releases could not be listed: %v", err))
		return sources.Release{}, false
	}
	installed, _ := ParseVersion(r.Installed)
	older := olderReleases(list, installed, newest.Version)
	reader, canRead := src.(sources.ManifestReader)
	unknown := 0
	for i, rel := range older {
		if i >= maxOlderLookups {
			break
		}
		if !rel.RequirementsKnown {
			if !canRead {
				unknown++
				continue
			}
			rel, err = reader.ReleaseManifest(ctx, q, rel)
			if err != nil {
				if !errors.Is(err, sources.ErrNotFound) {
					r.Warnings = append(r.Warnings, fmt.Sprintf("the requirements of %s are unknown: %v", older[i].Version, err))
				}
				unknown++
				continue
			}
		}
		c, err := candidate(r.Name, rel)
		if err != nil {
			continue
		}
		a, err := resolve.Assess(set.system([]string{r.Name}, []resolve.Package{newest, c}), r.Name)
		if err != nil || a.Best == nil || !a.Best.Equal(c.Version) {
			continue
		}
		if !rel.Resolved {
			if rel, err = src.Resolve(ctx, q, rel); err != nil {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s fits but could not be resolved: %v", c.Version, err))
				continue
			}
		}
		return rel, true
	}
	if unknown > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d older release(s) could not be judged: what they require is unknown until they are downloaded", unknown))
	}
	return sources.Release{}, false
}

// olderReleases are the releases of list newer than installed and older
// than newest, newest first: published, comparable, and no pre-release
// unless the installed version is one.
func olderReleases(list []sources.Release, installed, newest *semver.Version) []sources.Release {
	type entry struct {
		v   *semver.Version
		rel sources.Release
	}
	var es []entry
	pre := installed != nil && installed.Prerelease() != ""
	for _, rel := range list {
		v, err := ParseVersion(rel.Version)
		if err != nil || rel.Draft || (!pre && (rel.Prerelease || v.Prerelease() != "")) {
			continue
		}
		if !v.LessThan(newest) || (installed != nil && !installed.LessThan(v)) {
			continue
		}
		if slices.ContainsFunc(es, func(e entry) bool { return e.v.Equal(v) }) {
			continue
		}
		es = append(es, entry{v, rel})
	}
	slices.SortFunc(es, func(a, b entry) int { return b.v.Compare(a.v) })
	out := make([]sources.Release, len(es))
	for i, e := range es {
		out[i] = e.rel
	}
	return out
}

// gate is the last word on requirements before a swap: the release about
// to replace (or become) package name, as its own staged manifest
// declares, must fit beside everything installed, changing nothing else.
// It returns what the user should know (requirements not checked: an
// unknown host version, another host).
func (u *Updater) gate(set *installedSet, name string, m *manifest.Manifest) ([]string, error) {
	if err := m.Supported(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, m.Version, err)
	}
	v, err := ParseVersion(m.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := resolve.Package{Name: name, Version: v, Requirements: m.Requirements}
	plan, err := resolve.Solve(set.system([]string{name}, []resolve.Package{c}),
		resolve.Request{Install: []resolve.Want{{Name: name, Constraint: resolve.Exact(v)}}, Prereleases: true})
	if err != nil {
		return nil, fmt.Errorf("%s %s cannot be installed here: %w", name, v, err)
	}
	var others []string
	for _, st := range plan.Steps {
		if st.Name != name {
			others = append(others, st.String())
		}
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("%s %s needs other changes with it (%s): %w", name, v, strings.Join(others, "; "), ErrNeedsPlan)
	}
	return hostHints(plan.Warnings), nil
}

// ErrNeedsPlan: a release would change other packages too (it replaces
// one); a change of one package alone cannot make it.
var ErrNeedsPlan = errors.New("`modup update` or `modup install` plans such changes together")
