package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
)

// DefaultMaxAge is how old a repository's copy of a document may be before
// a command asks the repository again (repo_max_age).
const DefaultMaxAge = time.Hour

// StaleFactor: a copy older than StaleFactor × MaxAge that could not be
// refreshed is not used to check packages; their authors' sources are
// asked instead.
const StaleFactor = 24

// Client reads repositories' documents through the cache. One Client
// serves a whole run (the daemon's too); it is safe for concurrent use.
type Client struct {
	// HTTP fetches documents and payloads.
	HTTP *httpx.Client
	// Dir is the cache: one folder per repository ("": none; documents
	// are then kept for the run alone).
	Dir string
	// MaxAge is how old a copy may be before the repository is asked again
	// (DefaultMaxAge when 0; negative: always ask).
	MaxAge time.Duration
	// Origins are the authors' sources (the updater's registry), for what
	// only the author's kind of source knows (a gist's payload layout).
	Origins *sources.Registry
	Logger  *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	repos map[string]*state
}

// state is what the Client holds of one repository.
type state struct {
	mu       sync.Mutex
	repo     Repo
	dir      string
	root     *cached[doc.Root]
	packages *cached[doc.PackageList]
	modules  *cached[doc.ModuleList]
	infos    map[string]*cached[doc.PackageInfo]
	// byName indexes packages.Doc.Packages.
	byName map[string]int
	// asked is when this Client last asked for each document (by path)
	// and how that went.
	asked map[string]asked
}

// asked is one request's time and outcome.
type asked struct {
	at  time.Time
	err error
}

// askEvery is how often one Client asks a repository for one document at
// most, whatever MaxAge says: once per command, and once a minute in the
// daemon, even with repo_max_age 0 (a check of 10,000 packages asks once,
// not 10,000 times, also when the repository does not answer).
const askEvery = time.Minute

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) maxAge() time.Duration {
	switch {
	case c.MaxAge < 0:
		return 0
	case c.MaxAge == 0:
		return DefaultMaxAge
	}
	return c.MaxAge
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// state returns the Client's state of r; a repository changed under the
// same name (another URL, --mirror) starts over. A state's repo never
// changes once made (readers hold only the state's own lock).
func (c *Client) state(r Repo) *state {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.repos == nil {
		c.repos = map[string]*state{}
	}
	s, ok := c.repos[r.Name]
	if !ok || s.repo != r {
		s = &state{repo: r, infos: map[string]*cached[doc.PackageInfo]{}, asked: map[string]asked{}}
		if c.Dir != "" {
			s.dir = filepath.Join(c.Dir, r.Name)
		}
		c.repos[r.Name] = s
	}
	return s
}

// Copy is a document of a repository as this modup has it.
type Copy[T any] struct {
	Repo Repo
	Doc  *T
	// Checked is when the repository last confirmed it.
	Checked time.Time
	// Err, when set, is why the repository could not be asked now: the
	// copy (if any) is older than MaxAge. It wraps ErrStale.
	Err error
}

// Age is how old the copy is at now.
func (c Copy[T]) Age(now time.Time) time.Duration { return now.Sub(c.Checked) }

// ErrStale: a repository could not be asked; what modup has of it is
// older than it should be (or there is nothing).
var ErrStale = errors.New("repository could not be refreshed")

// StaleError says why a repository could not be asked, and how old the
// copy used instead is.
type StaleError struct {
	Repo string
	Err  error
	// Checked is when the copy was last confirmed; zero when there is no
	// copy.
	Checked time.Time
	Now     time.Time
}

// Error words it after the cause, which names the repository and the
// document.
func (e *StaleError) Error() string {
	if trust.Failed(e.Err) {
		return e.Err.Error() // says itself why nothing is used
	}
	if e.Checked.IsZero() {
		return fmt.Sprintf("%v; nothing of repository %s is cached yet", e.Err, e.Repo)
	}
	return fmt.Sprintf("%v; its copy from %s ago is used", e.Err, Ago(e.Now.Sub(e.Checked)))
}

func (e *StaleError) Unwrap() []error { return []error{ErrStale, e.Err} }

// Ago writes a duration as people read one: "3h", "2d", "45s".
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Document paths, relative to a repository's base.
var (
	rootDoc     = doc.FileName(doc.RootPath)
	packagesDoc = doc.FileName(doc.PackageListPath)
	modulesDoc  = doc.FileName(doc.ModuleListPath)
)

func infoDoc(name string) string { return doc.FileName(doc.PackageInfoPath(name)) }

// fetch brings *mem up to date: from the cache when it is younger than
// maxAge, else with one request (a conditional GET; for a folder, a look
// at the file) whose answer is decoded with doc.Decode. A document this
// Client asked for less than askEvery ago is not asked for again (its
// outcome stands) unless force. It is the one place a document of a
// repository is read: a signed index (its .minisig published beside each
// document) is to be verified here, before a new copy replaces the old.
//
// On failure *mem keeps what it had; the error names the repository and
// the document. asked reports whether the repository was asked now.
func fetch[T any, PT interface {
	*T
	doc.Document
}](ctx context.Context, c *Client, s *state, path string, mem **cached[T], maxAge time.Duration, force bool) (bool, error) {
	loadCached(s, path, mem)
	now := c.now()
	if old := *mem; old != nil && now.Sub(old.Checked) < maxAge && !old.Checked.After(now) && usable(s.repo, path, old, now) == nil {
		return false, nil
	}
	if last, ok := s.asked[path]; ok && !force && now.Sub(last.at) < askEvery && !last.at.After(now) {
		return false, last.err
	}
	err := ask[T, PT](ctx, c, s, path, mem, now)
	s.asked[path] = asked{at: now, err: err}
	return true, err
}

// ask asks the repository for the document at path now (see fetch).
func ask[T any, PT interface {
	*T
	doc.Document
}](ctx context.Context, c *Client, s *state, path string, mem **cached[T], now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	file := cacheFile(s.dir, path)
	where := s.repo.docURL(path)
	pinned := s.repo.pinned(path)
	named := fmt.Sprintf("repository %s: %s", s.repo.Name, redact.URL(where))
	var data []byte
	next := &cached[T]{URL: where, Checked: now}
	if s.repo.Folder() {
		fi, err := os.Stat(where)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: %w (is the folder an exported index?)", named, sources.ErrNotFound)
			}
			return fmt.Errorf("%s: %w", named, err)
		}
		next.Size, next.ModTime = fi.Size(), fi.ModTime()
		if old := *mem; old != nil && old.Size == next.Size && old.ModTime.Equal(next.ModTime) && (!pinned || old.Raw != nil) {
			if !pinned {
				old.Checked = now
				return c.confirmed(s, path, now)
			}
			data = old.Raw // unchanged: its signature may be new
		} else if data, err = fsutil.ReadRegular(where, doc.MaxSize); err != nil {
			return fmt.Errorf("%s: %w", named, err)
		}
	} else {
		v := &validators{}
		if old := *mem; old != nil && (!pinned || old.Raw != nil) {
			v.etag, v.lastModified = old.ETag, old.LastModified
		}
		body, notModified, err := c.HTTP.Fetch(ctx, where, v, doc.MaxSize)
		if err != nil {
			return fmt.Errorf("repository %s: %w", s.repo.Name, err)
		}
		switch {
		case notModified && *mem != nil && !pinned:
			(*mem).Checked = now
			return c.confirmed(s, path, now)
		case notModified && *mem != nil:
			data = (*mem).Raw // unchanged: its signature may be new
			next.ETag, next.LastModified = (*mem).ETag, (*mem).LastModified
		default:
			data = body
			if v.fresh != nil {
				next.ETag, next.LastModified = v.fresh.ETag, v.fresh.LastModified
			}
		}
	}
	if pinned {
		sig, err := c.signature(ctx, s.repo, path)
		if err != nil {
			return err
		}
		old := *mem
		if old != nil && old.Key == s.repo.Key && bytes.Equal(old.Sig, sig) && bytes.Equal(old.Raw, data) {
			// Nothing new: whether it is still good to use is usable's
			// to say (it may have expired).
			old.Checked = now
			return c.confirmed(s, path, now)
		}
		if err := verify(s.repo, path, data, sig, old, next, now); err != nil {
			return err
		}
	}
	if err := doc.Decode(data, named, PT(&next.Doc)); err != nil {
		return err
	}
	*mem = next
	return store(c, file, next)
}

// loadCached fills *mem from the cache when it is empty.
func loadCached[T any](s *state, path string, mem **cached[T]) {
	if *mem == nil {
		if old := readCached[T](cacheFile(s.dir, path)); old != nil && old.URL == s.repo.docURL(path) && (!s.repo.pinned(path) || old.Key == s.repo.Key) {
			// A later confirmation (a 304) is kept in state.json, not by
			// writing the document again.
			if st := readState(s.dir); st.URL == s.repo.URL && st.Confirmed[path].After(old.Checked) {
				old.Checked = st.Confirmed[path]
			}
			*mem = old
		}
	}
}

// confirmed records that the repository confirmed the document at path
// (a 304, an unchanged file) at when: in state.json, beside the last
// refresh's outcome, so that a 304 writes a few bytes, not the document.
func (c *Client) confirmed(s *state, path string, when time.Time) error {
	st := readState(s.dir)
	if st.URL != s.repo.URL {
		st = repoState{URL: s.repo.URL}
	}
	if st.Confirmed == nil {
		st.Confirmed = map[string]time.Time{}
	}
	st.Confirmed[path] = when.UTC()
	if err := writeState(s.dir, st); err != nil {
		c.logger().Warn("repository state not written", "repo", s.repo.Name, "error", err.Error())
	}
	return nil
}

// store writes a cached document; a cache that cannot be written costs
// requests later, nothing now.
func store[T any](c *Client, file string, v *cached[T]) error {
	if err := writeCached(file, v); err != nil {
		c.logger().Warn("repository cache not written", "file", file, "error", err.Error())
	}
	return nil
}

// validators is the sources.Cache httpx.Fetch asks conditionally with:
// the validators of the copy held, and the new ones once it answers.
type validators struct {
	etag, lastModified string
	fresh              *sources.CacheEntry
}

func (v *validators) Get(string) (sources.CacheEntry, bool) {
	if v.etag == "" && v.lastModified == "" {
		return sources.CacheEntry{}, false
	}
	return sources.CacheEntry{ETag: v.etag, LastModified: v.lastModified}, true
}

func (v *validators) Put(_ string, e sources.CacheEntry) error {
	v.fresh = &e
	return nil
}

// copyOf is the Copy of a fetched document.
func copyOf[T any](c *Client, s *state, path string, mem *cached[T], err error) Copy[T] {
	out := Copy[T]{Repo: s.repo}
	if uerr := usable(s.repo, path, mem, c.now()); uerr != nil {
		// A pinned repository's copy that no longer verifies is never
		// used; why is the error (with the reason it could not be asked
		// again, if that is another).
		mem = nil
		if err == nil || !trust.Failed(err) {
			if err != nil {
				uerr = fmt.Errorf("%w (asking it again: %w)", uerr, err)
			}
			err = uerr
		}
	}
	if mem != nil {
		out.Doc, out.Checked = &mem.Doc, mem.Checked
	}
	if err != nil {
		out.Err = &StaleError{Repo: s.repo.Name, Err: err, Checked: out.Checked, Now: c.now()}
	}
	return out
}

// Packages is r's list/packages.json: every package's newest installable
// version. A repository that cannot be asked gives what was cached, with
// Err set (Doc nil when nothing was).
func (c *Client) Packages(ctx context.Context, r Repo) Copy[doc.PackageList] {
	return c.packages(ctx, r, c.maxAge())
}

func (c *Client) packages(ctx context.Context, r Repo, maxAge time.Duration) Copy[doc.PackageList] {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.packagesLocked(ctx, s, maxAge)
}

// packagesLocked is packages with s.mu held.
func (c *Client) packagesLocked(ctx context.Context, s *state, maxAge time.Duration) Copy[doc.PackageList] {
	before := s.packages
	asked, err := fetch(ctx, c, s, packagesDoc, &s.packages, maxAge, false)
	if s.packages != before || s.byName == nil {
		s.index()
	}
	if asked {
		c.noteRefresh(s, err)
	}
	return copyOf(c, s, packagesDoc, s.packages, err)
}

// LoadCached reads r's cached package list into memory, without asking
// the repository: a caller that will route many packages (check) loads
// it while it does other work. Whether the copy is asked again is still
// decided when it is used.
func (c *Client) LoadCached(r Repo) {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	loadCached(s, packagesDoc, &s.packages)
	if s.packages != nil && s.byName == nil {
		s.index()
	}
}

// index indexes the package list by name.
func (s *state) index() {
	s.byName = map[string]int{}
	if s.packages == nil {
		return
	}
	for i, p := range s.packages.Doc.Packages {
		s.byName[p.Name] = i
	}
}

// Package finds name in r's package list (as Packages has it).
func (c *Client) Package(ctx context.Context, r Repo, name string) (doc.PackageSummary, Copy[doc.PackageList], bool) {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := c.packagesLocked(ctx, s, c.maxAge())
	if list.Doc == nil {
		return doc.PackageSummary{}, list, false
	}
	i, ok := s.byName[name]
	if !ok {
		return doc.PackageSummary{}, list, false
	}
	return list.Doc.Packages[i], list, true
}

// Modules is r's list/modules.json (search reads module descriptions and
// tags from it).
func (c *Client) Modules(ctx context.Context, r Repo) Copy[doc.ModuleList] {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := fetch(ctx, c, s, modulesDoc, &s.modules, c.maxAge(), false)
	return copyOf(c, s, modulesDoc, s.modules, err)
}

// Info is r's document of the package name: every version it knows.
func (c *Client) Info(ctx context.Context, r Repo, name string) Copy[doc.PackageInfo] {
	return c.info(ctx, r, name, c.maxAge())
}

func (c *Client) info(ctx context.Context, r Repo, name string, maxAge time.Duration) Copy[doc.PackageInfo] {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !doc.ValidName(name) {
		return Copy[doc.PackageInfo]{Repo: r, Err: fmt.Errorf("%q cannot name a package in an index", name)}
	}
	mem := s.infos[name]
	_, err := fetch(ctx, c, s, infoDoc(name), &mem, maxAge, false)
	if mem != nil {
		s.infos[name] = mem
		if mem.Doc.Name != name {
			err = fmt.Errorf("repository %s: %s describes %q, not %q: %w", r.Name, r.docURL(infoDoc(name)), mem.Doc.Name, name, doc.ErrInvalid)
			mem = nil
		}
	}
	return copyOf(c, s, infoDoc(name), mem, err)
}

// Refreshed is what a refresh of one repository found.
type Refreshed struct {
	Repo     Repo
	Packages int
	// Changed: the package list is not the one held before.
	Changed bool
	// IndexKey is the key the root document says signs the index ("" for
	// an unsigned index). The root is not signed: it is a hint to pin,
	// never trusted as one.
	IndexKey string
	Err      error
}

// Refresh asks r for its root document and its package and module
// lists now, whatever the age of the copies (`modup repo refresh`, `repo
// add`). An index of a newer format than this modup reads is refused.
func (c *Client) Refresh(ctx context.Context, r Repo) Refreshed {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Refreshed{Repo: r}
	_, err := fetch(ctx, c, s, rootDoc, &s.root, 0, true)
	if err == nil && s.root.Doc.Version > doc.FormatVersion {
		err = fmt.Errorf("repository %s: %s: index format %d is newer than this modup reads (%d): update modup", r.Name, r.docURL(rootDoc), s.root.Doc.Version, doc.FormatVersion)
		s.root = nil
	}
	if err == nil {
		out.IndexKey = s.root.Doc.PublicKey
		loadCached(s, packagesDoc, &s.packages)
		var before time.Time
		if s.packages != nil {
			before = s.packages.Doc.Generated
		}
		_, err = fetch(ctx, c, s, packagesDoc, &s.packages, 0, true)
		if err == nil {
			err = usable(r, packagesDoc, s.packages, c.now())
		}
		out.Changed = s.packages != nil && (before.IsZero() || !s.packages.Doc.Generated.Equal(before))
		s.index()
	}
	if err == nil {
		_, err = fetch(ctx, c, s, modulesDoc, &s.modules, 0, true)
	}
	if s.packages != nil {
		out.Packages = len(s.packages.Doc.Packages)
	}
	c.noteRefresh(s, err)
	out.Err = err
	return out
}

// noteRefresh records the outcome of asking s's repository for its
// package list in state.json, for `repo list`.
func (c *Client) noteRefresh(s *state, err error) {
	st := readState(s.dir)
	want := repoState{URL: s.repo.URL}
	if st.URL == want.URL {
		want.Confirmed = st.Confirmed
	}
	if err != nil {
		want.Error, want.ErrorAt = redact.Text(err.Error()), c.now().UTC()
	}
	if st.URL == want.URL && st.Error == want.Error {
		return
	}
	if werr := writeState(s.dir, want); werr != nil {
		c.logger().Warn("repository state not written", "repo", s.repo.Name, "error", werr.Error())
	}
}

// Status is what `repo list` shows of a repository, from the cache alone.
type Status struct {
	Repo     Repo
	Packages int
	// Refreshed is when the repository last confirmed its package list;
	// zero when it never did.
	Refreshed time.Time
	// Error is the last refresh's error.
	Error string
}

// Status reads what the cache knows of r, without asking it.
func (c *Client) Status(r Repo) Status {
	s := c.state(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Status{Repo: r}
	if s.packages == nil {
		loadCached(s, packagesDoc, &s.packages)
		s.index()
	}
	if s.packages != nil {
		out.Packages, out.Refreshed = len(s.packages.Doc.Packages), s.packages.Checked
	}
	if st := readState(s.dir); st.URL == r.URL {
		out.Error = st.Error
	}
	return out
}

// Forget deletes r's cache (repo remove).
func (c *Client) Forget(r Repo) error {
	c.mu.Lock()
	delete(c.repos, r.Name)
	c.mu.Unlock()
	if err := CheckName(r.Name); err != nil || c.Dir == "" {
		return err
	}
	return removeCache(filepath.Join(c.Dir, r.Name))
}
