// Package crawl refreshes an index: it asks each source, through the same
// registry `modup check` uses, for the version its author points to
// (Latest) and, where the source can list them, every published version
// (sources.Lister); it downloads each version it has not seen once, checks
// it as `modup release check` does, and records what it learned in the
// store, one transaction per source.
//
// A source that fails (an HTML page, a broken manifest, a rate limit, a
// timeout) records its error and keeps what was recorded before; it never
// stops the crawl of the others. A refresh where nothing changed costs one
// conditional request per source (two for GitHub: the manifest and the
// release list), all answered 304, and downloads nothing.
package crawl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/fs"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/updater"
)

// Defaults of Crawler's zero fields.
const (
	DefaultConcurrency = 8
	DefaultTimeout     = 5 * time.Minute
)

// Crawler refreshes the sources of an index. Set Registry and Store.
type Crawler struct {
	Registry *sources.Registry
	Store    *store.Store
	// Mirror, when set, is the folder that keeps every installable
	// version's zip as NAME/VERSION.zip.
	Mirror string
	// TempDir is where downloads are checked ("" = the system's); when
	// mirroring, a folder inside Mirror is used instead, so that a checked
	// zip moves into place by rename.
	TempDir string
	// Concurrency is how many sources are crawled at once.
	Concurrency int
	// Timeout bounds the refresh of one source (its downloads included).
	Timeout time.Duration
	// MaxSize caps one download (default updater.DefaultMaxSize).
	MaxSize int64
	Logger  *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Result is what the refresh of one source did.
type Result struct {
	UpdateURL string `json:"update_url"`
	Name      string `json:"name,omitempty"`
	Kind      string `json:"source,omitempty"`
	// Versions is how many versions are recorded now; Added how many of
	// them this refresh learned.
	Versions int `json:"versions"`
	Added    int `json:"added"`
	// Downloads counts the zips downloaded.
	Downloads int `json:"downloads"`
	// Changed: the source's data changed.
	Changed bool `json:"changed"`
	// Err is the refresh's error, "" when it went well.
	Err string `json:"error,omitempty"`
}

// Report is a whole crawl.
type Report struct {
	Results []Result
	Changed bool
	Took    time.Duration
}

// Failed counts the sources whose refresh recorded an error.
func (r Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if res.Err != "" {
			n++
		}
	}
	return n
}

func (c *Crawler) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Crawler) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Run refreshes every source of urls, Concurrency at a time, and then
// records when the crawl ended. Results are in the order of urls. A
// cancelled ctx stops the crawl; what was committed stays.
func (c *Crawler) Run(ctx context.Context, urls []string) (Report, error) {
	start := c.now()
	if c.Mirror != "" {
		if err := c.prepareMirror(); err != nil {
			return Report{}, err
		}
	}
	n := c.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	results := make([]Result, len(urls))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, len(urls)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(urls) || ctx.Err() != nil {
					return
				}
				results[i] = c.refresh(ctx, urls[i])
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Report{Results: results}, fmt.Errorf("crawl: %w", err)
	}
	rep := Report{Results: results, Took: c.now().Sub(start)}
	for _, r := range results {
		rep.Changed = rep.Changed || r.Changed
	}
	if err := c.Store.SetRefreshed(ctx, c.now()); err != nil {
		return rep, err
	}
	return rep, nil
}

// mirrorTmp is the mirror's folder for downloads being checked: inside the
// mirror, so a checked zip moves into place by rename; never served.
const mirrorTmp = ".tmp"

// prepareMirror makes the mirror folder and empties its temporary folder
// of what a killed crawl left.
func (c *Crawler) prepareMirror() error {
	tmp := c.tempDir()
	if err := os.MkdirAll(c.Mirror, 0o755); err != nil {
		return fmt.Errorf("mirror %s: %w", c.Mirror, err)
	}
	if st, err := os.Lstat(tmp); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("mirror %s: %s is a symbolic link; remove it", c.Mirror, tmp)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("mirror %s: %w", c.Mirror, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fmt.Errorf("mirror %s: %w", c.Mirror, err)
	}
	return nil
}

// tempDir is where downloads are checked: inside the mirror when
// mirroring (a checked zip then moves into place by rename), else TempDir.
func (c *Crawler) tempDir() string {
	if c.Mirror != "" {
		return filepath.Join(c.Mirror, mirrorTmp)
	}
	return c.TempDir
}

// candidate is one version to download and check.
type candidate struct {
	key  string          // the version as recorded
	want sources.Release // as the manifest names it (declared sha256 and size when the pointer names it)
	rel  sources.Release // resolved
}

// refresh crawls one source and records the outcome.
func (c *Crawler) refresh(parent context.Context, updateURL string) Result {
	start := c.now()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	res := Result{UpdateURL: updateURL}
	cache := &txCache{store: c.Store}
	u := store.Update{UpdateURL: updateURL, Checked: start}
	var errs []string

	src, err := c.Registry.For(updateURL)
	if err != nil {
		errs = append(errs, err.Error())
		return c.record(parent, u, cache, errs, res)
	}
	u.Kind, res.Kind = src.Kind(), src.Kind()
	known, err := c.Store.Known(ctx, updateURL)
	if err != nil {
		errs = append(errs, err.Error())
		return c.record(parent, u, cache, errs, res)
	}
	res.Name = known.Name
	q := sources.Query{Package: cmpOr(known.Name, updateURL), UpdateURL: updateURL, Cache: cache}
	latest, err := src.Latest(ctx, q)
	if err != nil {
		errs = append(errs, c.word(ctx, err))
		return c.record(parent, u, cache, errs, res)
	}
	name := latest.Name
	if name == "" {
		name = lastSegment(updateURL)
	}
	if !doc.ValidName(name) {
		errs = append(errs, fmt.Sprintf("%s names the package %q, which cannot be a name in an index (letters, digits and . _ + -, starting with a letter or digit)", latest.ManifestURL, name))
		return c.record(parent, u, cache, errs, res)
	}
	if name != known.Name {
		// Checked before anything is downloaded; Apply checks again.
		owner, err := c.Store.NameOwner(ctx, name)
		if err == nil && owner != "" && owner != updateURL {
			errs = append(errs, fmt.Sprintf("%v: %s already publishes %q (names are compared ignoring case)", store.ErrNameTaken, owner, name))
			return c.record(parent, u, cache, errs, res)
		}
	}
	q.Package = name
	res.Name = name
	u.Read, u.Name, u.Pointer, u.PointerVersion = true, name, latest.Pointer, latest.Version
	pointerKey := versionKey(latest.Version)

	var cands []candidate
	// listed is every version the source lists, nil when it cannot list
	// (or listing failed).
	var listed map[string]sources.Release
	seen := map[string]bool{}
	if lister, ok := src.(sources.Lister); ok {
		list, err := lister.Versions(ctx, q)
		if err != nil {
			errs = append(errs, c.word(ctx, err))
		} else {
			listed = make(map[string]sources.Release, len(list))
			for _, rel := range list {
				key := versionKey(rel.Version)
				if seen[key] {
					continue
				}
				seen[key] = true
				listed[key] = rel
				if _, ok := known.Versions[key]; ok {
					continue
				}
				want := sources.Release{Version: rel.Version, Name: latest.Name, PublicKey: rel.PublicKey, KeyRotation: rel.KeyRotation}
				if key == pointerKey {
					want = latest
				}
				cands = append(cands, candidate{key: key, want: want, rel: rel})
			}
			for v := range known.Versions {
				if !seen[v] {
					u.Drop = append(u.Drop, v)
				}
			}
		}
	}
	_, recorded := known.Versions[pointerKey]
	switch {
	case recorded || seen[pointerKey]:
	case listed != nil:
		// The complete list lacks it: unreleased, said as the source's
		// Resolve says it, without asking the API again.
		where := "among the published releases"
		if src.Kind() == github.Kind { // as the GitHub source words it
			where = "for tag " + strings.Join(sources.VersionSpellings(latest.Version), " or ")
		}
		errs = append(errs, fmt.Sprintf("%s %s: the manifest names %s but no release is published %s",
			name, latest.Version, latest.Version, where))
	default:
		// The source cannot list (or listing failed): resolve the
		// pointer, which also words an unreleased version as check does.
		want := latest
		want.SHA256, want.Size = "", 0 // compared by the checksum step
		rel, err := src.Resolve(ctx, q, want)
		switch {
		case err != nil:
			errs = append(errs, c.word(ctx, err))
		default:
			cands = append(cands, candidate{key: pointerKey, want: latest, rel: rel})
		}
	}
	if listed != nil {
		// A version recorded from the pointer stays while the pointer
		// names it, listed or not.
		u.Drop = slices.DeleteFunc(u.Drop, func(v string) bool { return v == pointerKey })
	}

	for _, cand := range cands {
		v, downloaded, err := c.check(ctx, src, name, cand)
		if downloaded {
			res.Downloads++
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		u.Add = append(u.Add, v)
	}
	if kv, ok := known.Versions[pointerKey]; ok && kv.PublicKey == "" {
		// Recorded before the index kept keys: the pointer's is its.
		if k := sourceKey(latest, sources.Release{}); k.PublicKey != "" {
			u.Keys = map[string]store.Key{pointerKey: k}
			kv.PublicKey = k.PublicKey
			known.Versions[pointerKey] = kv
		}
	}
	if c.Mirror != "" {
		for key, kv := range known.Versions {
			if kv.Blocking || kv.SHA256 == "" || slices.Contains(u.Drop, key) {
				continue
			}
			if !kv.Mirrored {
				ok, err := c.mirrorKnown(ctx, src, name, key, kv)
				if ok {
					res.Downloads++
				}
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				u.Mirrored = append(u.Mirrored, key)
			}
			if kv.Signature != "" || kv.PublicKey == "" {
				continue // looked for once already, or no key to check one with
			}
			sum, p, err := c.mirrorKnownSignature(ctx, src, name, key, knownRelease(src, key, kv, listed), kv)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if u.Signatures == nil {
				u.Signatures = map[string]string{}
			}
			u.Signatures[key] = sum
			if p != nil {
				if u.Problems == nil {
					u.Problems = map[string]doc.Problem{}
				}
				u.Problems[key] = *p
			}
		}
	}
	res.Added = len(u.Add)
	res.Versions = len(known.Versions) + len(u.Add) - len(u.Drop)
	return c.record(parent, u, cache, errs, res)
}

// knownRelease is a recorded version as its source knows it: as listed
// this refresh, else from what was recorded (its signature beside its
// zip).
func knownRelease(src sources.Source, version string, kv store.KnownVersion, listed map[string]sources.Release) sources.Release {
	if rel, ok := listed[version]; ok {
		return rel
	}
	return recordedRelease(src, version, kv)
}

// recordedRelease is a recorded version as a resolved release: its zip
// where it was recorded, its signature beside it.
func recordedRelease(src sources.Source, version string, kv store.KnownVersion) sources.Release {
	rel := sources.Release{Version: version, PayloadURL: kv.PayloadURL, Resolved: true}
	if src.Kind() == fs.Kind {
		rel.PayloadURL = filePath(kv.PayloadURL)
	}
	rel.SignatureURL = rel.PayloadURL + sources.SignatureSuffix
	return rel
}

// record applies u with the errors of the refresh; the parent context
// decides (a timeout of this source's own still records its error).
func (c *Crawler) record(parent context.Context, u store.Update, cache *txCache, errs []string, res Result) Result {
	if parent.Err() != nil {
		res.Err = parent.Err().Error()
		return res
	}
	// Worded as check shows an error beside its package: without the
	// package's own prefix, and with any secret in a URL redacted (the
	// index publishes its errors).
	for i, e := range errs {
		errs[i] = redact.Text(updater.Detail(res.Name, updater.Detail(u.UpdateURL, e)))
	}
	u.Err = strings.Join(errs, "; ")
	u.Cache = cache.pending()
	changed, err := c.Store.Apply(parent, u)
	if err != nil {
		if errors.Is(err, store.ErrNameTaken) {
			u.Err = err.Error()
		} else {
			u.Err = cmpOr(u.Err+"; ", "") + "record: " + err.Error()
		}
		changed = false
	}
	res.Err, res.Changed = u.Err, changed
	attrs := []any{"update_url", u.UpdateURL, "package", res.Name, "versions", res.Versions, "added", res.Added,
		"downloads", res.Downloads, "changed", res.Changed, "duration", c.now().Sub(u.Checked).Round(time.Millisecond)}
	if res.Err != "" {
		// Info, not Warn: build prints the errors itself; serve logs at info.
		c.logger().Info("refresh", append(attrs, "error", res.Err)...)
	} else {
		c.logger().Debug("refresh", attrs...)
	}
	return res
}

// word is a source error as `modup check` prints it; a timeout of this
// source says so.
func (c *Crawler) word(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err.Error() + " (the refresh of this source took longer than its timeout; see --timeout)"
	}
	return err.Error()
}

// versionKey is the version a release is recorded under: as the source
// names it, without a leading "v".
func versionKey(v string) string { return sources.TrimV(strings.TrimSpace(v)) }

// lastSegment names a package whose manifest names none: the last element
// of its update_url, as `modup install` does.
func lastSegment(u string) string {
	u = strings.TrimRight(strings.ReplaceAll(u, `\`, "/"), "/")
	if i := strings.Index(u, "/tree/"); i >= 0 && strings.Contains(u, "://") {
		u = u[:i]
	}
	return strings.TrimSuffix(path.Base(u), ".git")
}

// payloadURL is how documents name where a version's zip is: a folder
// source's path as a file:// URL.
func payloadURL(kind, p string) string {
	if kind != fs.Kind || strings.Contains(p, "://") {
		return p
	}
	s := filepath.ToSlash(p)
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return (&url.URL{Scheme: "file", Path: s}).String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxSize is the download cap.
func (c *Crawler) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return updater.DefaultMaxSize
}
