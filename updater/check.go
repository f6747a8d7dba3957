// Package updater decides and carries out updates: it compares installed
// and released versions, downloads and verifies payloads, and hands staged
// packages to pkgdir for the swap. It neither prints nor parses flags.
package updater

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
)

// Updater checks and updates packages. The zero value is not usable: set
// Sources.
type Updater struct {
	Sources *Sources
	Logger  *slog.Logger
	// Concurrency bounds parallel checks (default 16).
	Concurrency int
	// MaxSize caps a download (default 512 MiB).
	MaxSize int64
	// KeepBackups is how many backups per package survive an update
	// (0: DefaultKeepBackups; NoBackups keeps none).
	KeepBackups int
	// LockTimeout is how long to wait for another process's lock (default 30s).
	LockTimeout time.Duration
	// RetryWait is the pause before a broken download is tried again
	// (default 1s; it grows with each attempt).
	RetryWait time.Duration
	// Progress, when set, is told how a download advances (total -1 when unknown).
	Progress func(name string, done, total int64)
	// Actor names who changes packages through this Updater, for the
	// history: "cli", "daemon" (UpdateOptions.By overrides it per call).
	Actor string

	// Host is the application that loads the packages, with its version
	// (nil: host requirements are reported, not enforced).
	Host resolve.Host
	// Platform is the machine's (runtime.GOOS and GOARCH); a zero field
	// is not enforced.
	Platform resolve.Platform
	// Roots are every root: the installed set that requirements are
	// judged against. Empty, a package's own root is.
	Roots []string

	cachesMu sync.Mutex
	caches   map[string]sources.Cache
}

func (u *Updater) logger() *slog.Logger {
	if u.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return u.Logger
}

// cache returns the conditional-request cache of a root (one per root,
// under <root>/.modup/cache).
func (u *Updater) cache(root string) sources.Cache {
	u.cachesMu.Lock()
	defer u.cachesMu.Unlock()
	if u.caches == nil {
		u.caches = map[string]sources.Cache{}
	}
	c, ok := u.caches[root]
	if !ok {
		l := pkgdir.Layout{Root: root}
		c = httpx.NewLogCacheIn(l.CacheDir(), func(create bool) (*os.Root, error) {
			return l.OpenOwn(create, pkgdir.FolderCache)
		})
		u.caches[root] = c
	}
	return c
}

// Query builds the source query of an installed package.
func (u *Updater) Query(p pkgdir.Package) sources.Query {
	q := sources.Query{Package: p.Name, Dir: p.Dir, Cache: u.cache(p.Root)}
	if p.Manifest != nil {
		q.UpdateURL = p.Manifest.UpdateURL
		q.MainBranch = p.Manifest.MainBranch
	}
	return q
}

// Check checks every package, at most Concurrency at a time, and returns
// the results in the packages' order.
func (u *Updater) Check(ctx context.Context, pkgs []pkgdir.Package) []Result {
	out := make([]Result, len(pkgs))
	n := u.Concurrency
	if n <= 0 {
		n = 16
	}
	var roots []string
	for _, p := range pkgs {
		if !slices.Contains(roots, p.Root) {
			roots = append(roots, p.Root)
		}
	}
	set := &lazyInstalled{load: func() (*installedSet, error) { return u.loadInstalled(roots) }, holds: pkgdir.HoldsOf(pkgs)}
	// A fixed pool of workers taking the next package: 10,000 packages
	// cost n goroutines, not 10,000, and each keeps the stack it grew
	// through the HTTP client instead of growing a new one per package.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, len(pkgs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pkgs) {
					return
				}
				u.checkInto(ctx, &pkgs[i], set, &out[i])
			}
		})
	}
	wg.Wait()
	return out
}

// Describe fills a Result with what is known locally about p, without
// asking any source.
func Describe(p pkgdir.Package) Result {
	var r Result
	describeInto(p, &r)
	return r
}

// describeInto is Describe into *r (which must be zero).
func describeInto(p pkgdir.Package, r *Result) {
	r.Name, r.Path, r.Package, r.Installed = p.Name, p.Dir, p, p.Version()
	b := DescribeBrief(p)
	r.Status, r.UpdateURL = b.Status, b.UpdateURL
	if b.Err != nil {
		r.Err, r.Error = b.Err, b.Err.Error()
	}
	if p.Manifest != nil {
		if req := p.Manifest.Requirements; !req.IsZero() {
			r.Requirements = &req
		}
	}
}

// Brief is what Describe says of a package in the fields a listing shows.
type Brief struct {
	// Status is error, dev, local, or "" for a package a check would ask.
	Status Status
	// UpdateURL is the manifest's, redacted.
	UpdateURL string
	// Err is the package's error, redacted (status error).
	Err error
}

// DescribeBrief is Describe without the rest of a Result (over a kilobyte):
// a listing of thousands of packages builds none.
func DescribeBrief(p pkgdir.Package) Brief {
	var b Brief
	switch {
	case p.Err != nil:
		b.Status, b.Err = StatusError, redact.Error(p.Err)
	case p.Dev:
		b.Status = StatusDev
	case p.Manifest.UpdateURL == "":
		b.Status = StatusLocal
	}
	if p.Manifest != nil {
		b.UpdateURL = redact.URL(p.Manifest.UpdateURL)
	}
	return b
}

// CheckOne asks p's source what is released and decides p's status. A
// release is only looked up (Resolve) when the pointed-to version is newer
// than the installed one, so an up-to-date package costs one conditional
// request.
func (u *Updater) CheckOne(ctx context.Context, p pkgdir.Package) Result {
	return u.checkOne(ctx, p, &lazyInstalled{load: func() (*installedSet, error) { return u.loadInstalled([]string{p.Root}) }})
}

// checkOne is CheckOne with the installed set shared by a batch.
func (u *Updater) checkOne(ctx context.Context, p pkgdir.Package, set *lazyInstalled) Result {
	var r Result
	u.checkInto(ctx, &p, set, &r)
	return r
}

// checkInto is checkOne writing into *out (a Result is over a kilobyte:
// a check of 10,000 packages copied each one twice into its slot).
func (u *Updater) checkInto(ctx context.Context, pp *pkgdir.Package, set *lazyInstalled, out *Result) {
	start := time.Now()
	p := *pp
	r := out
	describeInto(p, r)
	if r.Status != "" {
		return
	}
	src, err := u.Sources.SourceOf(ctx, p)
	if err != nil {
		r.fail(StatusError, fmt.Errorf("%s: %w", p.Name, err))
		return
	}
	r.Source = src.Kind()
	q := u.Query(p)
	latest, err := src.Latest(ctx, q)
	if err != nil {
		r.fail(StatusError, err)
		u.logCheck(ctx, r, start)
		return
	}
	r.Available = latest.Version
	r.News = latest.News
	r.Release = latest
	r.Repository = latest.Repository
	u.decide(ctx, src, q, r, latest)
	if !latest.Requirements.IsZero() {
		req := latest.Requirements
		r.NewestRequirements = &req
	}
	switch h := set.holdOf(p); {
	case h != nil && r.Status != StatusError:
		// What is available is still shown: `doctor` reports held
		// packages that are behind.
		r.Status, r.Hold = StatusHeld, h
	case r.Status == StatusUpdateAvailable:
		if s, err := set.get(); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("requirements not checked: %v", err))
		} else {
			u.judge(ctx, src, q, r, s)
		}
	}
	u.logCheck(ctx, r, start)
}

// decide compares versions and, when the remote is newer, resolves the
// release.
func (u *Updater) decide(ctx context.Context, src sources.Source, q sources.Query, r *Result, latest sources.Release) {
	cmp, err := CompareVersions(latest.Version, r.Installed)
	if err != nil {
		r.fail(StatusError, fmt.Errorf("%s: installed %s, released %s: %w; modup will not guess which is newer (fix the version in %s)",
			r.Name, orNone(r.Installed), latest.Version, err, pkgdir.ManifestFile))
		return
	}
	switch {
	case cmp == 0:
		r.Status = StatusUpToDate
		return
	case cmp < 0:
		r.Status = StatusRemoteOlder
		return
	}
	rel, err := src.Resolve(ctx, q, latest)
	switch {
	case errors.Is(err, sources.ErrUnreleased):
		r.Status = StatusUnreleased
		r.Err = redact.Error(err)
		return
	case err != nil:
		r.fail(StatusError, err)
		return
	}
	r.Status = StatusUpdateAvailable
	r.Release = rel
	if rel.News != "" {
		r.News = rel.News
	}
	r.ReleaseNotes = releaseNotes(rel, r.News)
	u.checkSignature(ctx, src, r, &r.Release)
	if rel.NotesUnavailable {
		r.Warnings = append(r.Warnings, "release notes unavailable (the API is rate-limited or unreachable); the manifest's news is shown")
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (u *Updater) logCheck(ctx context.Context, r *Result, start time.Time) {
	if !u.logger().Enabled(ctx, slog.LevelDebug) {
		return // a check of 10,000 packages builds no 10,000 unused records
	}
	attrs := []any{"package", r.Name, "status", string(r.Status), "installed", r.Installed,
		"available", r.Available, "source", r.Source, "duration", time.Since(start).Round(time.Millisecond)}
	if r.Err != nil {
		attrs = append(attrs, "error", r.Err.Error())
	}
	u.logger().Debug("check decided", attrs...)
}
