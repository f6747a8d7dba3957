package updater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/fs"
)

// ErrModified: the user changed files in the package since modup installed
// it; an update would destroy the edit.
var ErrModified = errors.New("package changed since modup installed it")

// DefaultKeepBackups is how many backups per package survive an update.
const DefaultKeepBackups = 3

// NoBackups as Updater.KeepBackups keeps none: the replaced version is
// deleted once the swap is durable.
const NoBackups = -1

// UpdateOptions tune one update.
type UpdateOptions struct {
	// To installs exactly this version (the only way down).
	To string
	// DryRun decides and reports, downloading nothing.
	DryRun bool
	// Force replaces a package the user edited, and reinstalls the same version with To.
	Force bool
	// Resolved installs this release, already found by a check (the
	// daemon), instead of asking the source again; it is still compared
	// with the installed version once the lock is held.
	Resolved *sources.Release
	// Inject is a test hook handed to the swap (see pkgdir.SwapRequest).
	Inject func(step string) error
	// NoWait fails at once, with a *pkgdir.LockedError naming the holder,
	// when another process holds the package's lock (instead of waiting
	// up to LockTimeout).
	NoWait bool
	// By names who asks, for the history (default: Updater.Actor).
	By string

	// installed is the installed set a batch (UpdateSet) keeps current, so
	// that each update need not read the roots again; nil: read them.
	installed *installedSet
}

// RollbackOptions tune one rollback.
type RollbackOptions struct {
	// To is the backed-up version to restore (default: the newest).
	To string
	// NoWait and By are as in UpdateOptions.
	NoWait bool
	By     string
}

// Change is the outcome of install, update, rollback or remove of one
// package: `update --json`'s shape.
type Change struct {
	Name     string   `json:"name"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
	Status   Status   `json:"status"`
	Backup   string   `json:"backup,omitempty"`
	Error    string   `json:"error,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Path     string   `json:"path,omitempty"`
	News     string   `json:"news,omitempty"`
	// ReleaseNotes is the release's own text when it says more than News.
	ReleaseNotes string `json:"release_notes,omitempty"`
	// Trust says how the release's signature was verified and whether a
	// key was pinned by it; empty for an unsigned release.
	Trust string `json:"trust,omitempty"`
	// Newest is the newest release when it was held back (status held-back,
	// or updated to an older release that fits); Reason says why.
	Newest string `json:"newest,omitempty"`
	// Hints are what the packages installed recommend or suggest and
	// were not installed ("recommends a2.modlab *").
	Hints []string `json:"hints,omitempty"`

	Err error `json:"-"`
}

func (c *Change) failed(err error) Change {
	c.Status = StatusFailed
	c.Err = redact.Error(err) // its text is shown, logged and kept in state files
	c.Error = c.Err.Error()
	return *c
}

func (c *Change) skipped(reason string) Change {
	c.Status = StatusSkipped
	c.Reason = reason
	return *c
}

func (u *Updater) keepBackups() int {
	switch {
	case u.KeepBackups > 0:
		return u.KeepBackups
	case u.KeepBackups == NoBackups:
		return 0
	}
	return DefaultKeepBackups
}

func (u *Updater) lockTimeout() time.Duration {
	if u.LockTimeout > 0 {
		return u.LockTimeout
	}
	return 30 * time.Second
}

// Update brings p to its newest release, or to opts.To. It holds p's lock
// from the decision to the swap, so two processes never change one package
// at once, and re-reads p once it has the lock.
func (u *Updater) Update(ctx context.Context, p pkgdir.Package, opts UpdateOptions) Change {
	start := time.Now()
	c := u.update(ctx, p, opts)
	u.record(ctx, p.Root, pkgdir.HistoryUpdate, &c, opts.By)
	attrs := []any{"package", c.Name, "status", string(c.Status), "from", c.From, "to", c.To, "duration", time.Since(start).Round(time.Millisecond)}
	if c.Err != nil {
		attrs = append(attrs, "error", c.Error)
	}
	u.logger().Debug("update finished", attrs...)
	return c
}

func (u *Updater) update(ctx context.Context, p pkgdir.Package, opts UpdateOptions) Change {
	c := Change{Name: p.Name, From: p.Version(), Path: p.Dir}
	if reason, ok := u.untouchable(p, opts.To != ""); !ok {
		if p.Err != nil {
			return c.failed(p.Err)
		}
		return c.skipped(reason)
	}
	if opts.To != "" {
		if _, err := ParseVersion(opts.To); err != nil {
			return c.failed(fmt.Errorf("--to %w", err))
		}
	}
	l := p.Layout()
	if !opts.DryRun {
		lk, err := l.Lock(ctx, p.Name, u.lockWait(opts.NoWait))
		if err != nil {
			return c.failed(err)
		}
		defer lk.Unlock()
		if err := settle(l, p.Name, &c); err != nil {
			return c.failed(err)
		}
		// Another process may have changed it while we waited.
		fresh, ok := pkgdir.Load(p.Root, p.Dir)
		if !ok {
			return c.failed(fmt.Errorf("%s: %s disappeared while waiting for its lock", p.Name, p.Dir))
		}
		p = fresh
		c.From = p.Version()
		if reason, ok := u.untouchable(p, opts.To != ""); !ok {
			if p.Err != nil {
				return c.failed(p.Err)
			}
			return c.skipped(reason)
		}
	}
	if h := l.HoldOf(p.Name); h != nil && opts.To == "" {
		c.Status = StatusHeld
		c.Reason = heldReason(p.Name, h)
		return c
	}
	src, err := u.Sources.SourceOf(ctx, p)
	if err != nil {
		return c.failed(fmt.Errorf("%s: %w", p.Name, err))
	}
	pin, err := ReadPin(l, p.Name)
	if err != nil {
		return c.failed(err)
	}
	q := u.Query(p)
	var rel sources.Release
	if opts.Resolved != nil && opts.To == "" {
		rel = *opts.Resolved
		c.To = rel.Version
		cmp, err := CompareVersions(rel.Version, c.From)
		if err != nil {
			return c.failed(err)
		}
		if cmp <= 0 {
			c.Status = StatusUpToDate // someone else installed it meanwhile
			return c
		}
	} else if opts.To != "" {
		rel, err = u.resolveTo(ctx, src, q, opts.To)
		if err != nil {
			return c.failed(err)
		}
		if cmp, err := CompareVersions(rel.Version, c.From); err == nil && cmp == 0 && !opts.Force {
			c.To = rel.Version
			c.Status = StatusUpToDate
			return c
		}
	} else {
		latest, err := src.Latest(ctx, q)
		if err != nil {
			return c.failed(err)
		}
		r := Result{Name: p.Name, Installed: c.From, Package: p}
		u.decide(ctx, src, q, &r, latest)
		if r.Status == StatusUpdateAvailable {
			set, err := u.loadInstalled([]string{p.Root})
			if err != nil {
				return c.failed(err)
			}
			u.judge(ctx, src, q, &r, set)
		}
		c.To = latest.Version
		switch r.Status {
		case StatusHeldBack:
			c.Newest, c.Reason = r.Newest, r.Reason
			c.Warnings = append(c.Warnings, r.Warnings...)
			if r.Available == "" {
				c.Status, c.To = StatusHeldBack, ""
				return c
			}
		case StatusUpToDate:
			c.Status = StatusUpToDate
			return c
		case StatusRemoteOlder:
			return c.skipped(fmt.Sprintf("installed %s is newer than the release %s (use --to %s to go down)", c.From, latest.Version, latest.Version))
		case StatusUnreleased:
			return c.skipped(fmt.Sprintf("%s is not released yet: %s", latest.Version, Detail(p.Name, r.Err.Error())))
		case StatusError, StatusSignatureInvalid:
			return c.failed(r.Err)
		default:
			c.Warnings = append(c.Warnings, r.Warnings...)
		}
		rel = r.Release
	}
	c.To = rel.Version
	c.News = rel.News
	c.ReleaseNotes = releaseNotes(rel, rel.News)
	signed, err := u.verifySignature(ctx, src, p.Name, pin, &rel, opts.To != "")
	if err != nil {
		return c.failed(err)
	}
	if opts.DryRun {
		c.Status = StatusWouldUpdate
		return c
	}
	backup, warnings, err := u.install(ctx, l, p.Name, src, rel, installTarget{
		oldVersion: c.From, updateURL: p.Manifest.UpdateURL, force: opts.Force, inject: opts.Inject,
		signed: signed, pin: pin, set: opts.installed, repo: keptRepo(l, p.Name, rel),
	})
	c.Warnings = append(c.Warnings, warnings...)
	if err != nil {
		return c.failed(err)
	}
	c.Status = StatusUpdated
	c.Backup = backup
	c.Trust = trustNote(p.Name, pin, signed)
	return c
}

// untouchable says why p is never changed: a dev checkout, no update_url,
// an unreadable manifest, a version that is not comparable.
func (u *Updater) untouchable(p pkgdir.Package, explicitTo bool) (string, bool) {
	switch {
	case p.Err != nil:
		return p.Err.Error(), false
	case p.Dev:
		return "a development checkout (.git): never updated", false
	case p.Manifest.UpdateURL == "":
		return "no update_url: a local package", false
	}
	if _, err := ParseVersion(p.Version()); err != nil && !explicitTo {
		// --to names the version the user wants: the way out of this state.
		return fmt.Sprintf("installed version %v; modup never replaces a package whose version it cannot compare on its own: `modup update %s --to VERSION` installs a release over it", err, p.Name), false
	}
	return "", true
}

// resolveTo finds the release of exactly version. Every source looks for
// both spellings of a version ("1.2.0" and "v1.2.0"), so the error names
// both.
func (u *Updater) resolveTo(ctx context.Context, src sources.Source, q sources.Query, version string) (sources.Release, error) {
	rel, err := src.Resolve(ctx, q, sources.Release{Version: version, Origin: "request"})
	if errors.Is(err, sources.ErrUnreleased) {
		return sources.Release{}, fmt.Errorf("%s: no release %s (nor %s) to install: %w", q.Package, version, sources.VersionSpellings(version)[1], err)
	}
	// "v1.2.0" asks for 1.2.0: it is shown, and written into a stale
	// manifest, as versions are installed, without the tag's "v".
	rel.Version = sources.TrimV(rel.Version)
	return rel, err
}

type installTarget struct {
	oldVersion string // "" for a new package
	updateURL  string // kept in the installed manifest
	force      bool
	inject     func(string) error
	signed     *signedRelease // the release's verified signature, nil when unsigned
	pin        *pkgdir.Pin    // the package's pin before the install
	set        *installedSet  // what is installed, when the caller has it current
	repo       string         // the repository the install record names ("" for none)
}

// keptRepo is the repository the record of package name names after rel
// replaces it: rel's, else the one the record names now (an update that
// asked the author's source, with --direct or because the repository
// could not answer, leaves later checks to the repository).
func keptRepo(l pkgdir.Layout, name string, rel sources.Release) string {
	if rel.Repository != "" {
		return rel.Repository
	}
	rec, err := l.ReadRecord(name)
	if err != nil {
		return ""
	}
	return rec.Repo
}

// install downloads, verifies, extracts and swaps in rel as package name.
// The caller holds name's lock.
func (u *Updater) install(ctx context.Context, l pkgdir.Layout, name string, src sources.Source, rel sources.Release, t installTarget) (backup string, warnings []string, err error) {
	st, warnings, err := u.stage(ctx, l, name, src, rel, t)
	if err != nil {
		return "", warnings, err
	}
	keepStaging := false
	defer func() {
		if !keepStaging {
			l.RemoveTemp(st.folder)
		}
	}()
	// What is installed may have changed since the check: the release's
	// own manifest must fit beside it now.
	set := t.set
	if set == nil {
		if set, err = u.loadInstalled([]string{l.Root}); err != nil {
			return "", warnings, err
		}
	}
	hints, err := u.gate(set, name, st.manifest)
	warnings = append(warnings, hints...)
	if err != nil {
		return "", warnings, err
	}
	sw, err := l.Swap(ctx, pkgdir.SwapRequest{
		Name: name, Staged: st.root, OldVersion: t.oldVersion, NewVersion: rel.Version,
		Record: st.record(), Inject: t.inject, StagedHash: st.hash, StagedFiles: st.files,
	})
	if err != nil {
		// A journal this swap wrote and left means it stopped halfway;
		// the journal names the staged folder, which after an exchange
		// holds the old version: it is Recover's to settle, not ours to
		// delete. (The caller settled any earlier journal before.)
		if l.Pending(name) {
			keepStaging = true
		}
		return "", warnings, err
	}
	backup, pruneWarnings := u.prune(l, name, sw.Backup)
	return backup, append(warnings, pruneWarnings...), nil
}

// prune keeps the newest backups of name, and returns backup ("" when it
// was pruned at once: --keep-backups 0) and what went wrong.
func (u *Updater) prune(l pkgdir.Layout, name, backup string) (string, []string) {
	var warnings []string
	removed, err := l.Prune(name, u.keepBackups())
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("pruning old backups: %v", err))
	}
	for _, b := range removed {
		if b.Dir == backup {
			backup = "" // kept none
		}
	}
	return backup, warnings
}

// staged is a release downloaded, verified and extracted into staging,
// its manifest fixed, ready to be swapped in.
type staged struct {
	name     string
	folder   string // the staging folder made for it: removed afterwards
	root     string // the package folder inside it
	hash     string // its tree hash
	files    []pkgdir.FileEntry
	manifest *manifest.Manifest
	rel      sources.Release
	zipSHA   string // sha256 of the zip it came from
	source   string
	url      string      // the update_url it keeps (redacted for the record)
	pin      *pkgdir.Pin // what the record pins once it is in place
	repo     string      // the repository the record names
}

// record is the install record the swap writes for st.
func (st *staged) record() *pkgdir.Record {
	return &pkgdir.Record{Source: st.source, UpdateURL: redact.URL(st.url), ZipSHA256: st.zipSHA, Pin: st.pin, Repo: st.repo}
}

// stage downloads rel, verifies and extracts it into the staging folder
// of name, makes the staged manifest tell the truth (fixManifest), makes
// the staged files durable, fingerprints them and, for an update, checks
// that the live folder was not edited. On error nothing of it is left.
// The caller holds name's lock and removes st.folder once done.
func (u *Updater) stage(ctx context.Context, l pkgdir.Layout, name string, src sources.Source, rel sources.Release, t installTarget) (*staged, []string, error) {
	zipPath, digest, err := u.download(ctx, l, name, src, rel)
	if err != nil {
		return nil, nil, err
	}
	defer l.RemoveTemp(zipPath)
	if err := verifyZip(name, rel, t.signed, zipPath); err != nil {
		return nil, nil, err
	}
	staging, err := l.NewStaging(name)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			l.RemoveTemp(staging)
		}
	}()
	// Where one syncfs makes the staged tree durable, extraction does not
	// sync file by file; the sync comes below, once the zip is deleted
	// (its pages are then dropped instead of written back) and while the
	// trees are hashed. Elsewhere extraction fsyncs each file it writes.
	syncLater := fsutil.SyncFSUsable()
	res, err := extract(ctx, zipPath, staging, !syncLater, sources.RenameFor(src, rel))
	if err != nil {
		if errors.Is(err, archive.ErrCorrupt) && isHTMLFile(zipPath) {
			err = fmt.Errorf("got an HTML page instead of a zip (a login page or captive portal?): %w", err)
		}
		return nil, nil, fmt.Errorf("%s %s: %s: %w", name, rel.Version, redact.URL(rel.PayloadURL), err)
	}
	l.RemoveTemp(zipPath)
	m, warnings, err := fixManifest(res.Root, name, rel, t.updateURL)
	if err != nil {
		return nil, warnings, err
	}
	// All at once: the staged files become durable, the staged tree is
	// fingerprinted (its files were hashed as they were written; only the
	// manifest, which fixManifest may have rewritten, is read again), and
	// the live folder is checked for edits.
	delete(res.Digests, pkgdir.ManifestFile)
	var stagedHash string
	var syncErr, hashErr, modErr error
	var modWarning string
	var wg sync.WaitGroup
	if syncLater {
		wg.Go(func() { syncErr = fsutil.SyncTree(staging) })
	}
	var files []pkgdir.FileEntry
	wg.Go(func() { stagedHash, files, hashErr = pkgdir.TreeFiles(res.Root, res.Digests) })
	if t.oldVersion != "" && !t.force {
		wg.Go(func() { modWarning, modErr = checkUnmodified(l, name) })
	}
	wg.Wait()
	if modWarning != "" {
		warnings = append(warnings, modWarning)
	}
	switch {
	case syncErr != nil:
		return nil, warnings, fmt.Errorf("%s: %w", name, syncErr)
	case hashErr != nil:
		return nil, warnings, fmt.Errorf("%s: %w", name, hashErr)
	case modErr != nil:
		return nil, warnings, modErr
	}
	ok = true
	return &staged{name: name, folder: staging, root: res.Root, hash: stagedHash, files: files, manifest: m, rel: rel,
		zipSHA: digest, source: rel.Kind, url: t.updateURL, pin: pinAfter(t.pin, t.signed), repo: t.repo}, warnings, nil
}

// settle settles an interrupted change of package name that a killed
// process left (the caller holds the lock), and adds what it did to c's
// warnings: the package is then as it is on disk, whatever the journal said.
func settle(l pkgdir.Layout, name string, c *Change) error {
	r, err := l.Settle(name)
	if err != nil {
		return err
	}
	switch r.Action {
	case "":
	case pkgdir.ActionSetAside:
		c.Warnings = append(c.Warnings, r.Detail)
	default:
		c.Warnings = append(c.Warnings, fmt.Sprintf("an interrupted change was settled first (%s): %s", r.Action, r.Detail))
	}
	return nil
}

// fixManifest makes the staged manifest tell the truth: the release's
// version (real a2 releases shipped stale ones) and the installed package's
// own update_url (an archive's is reported, not followed).
func fixManifest(dir, name string, rel sources.Release, updateURL string) (*manifest.Manifest, []string, error) {
	m, err := pkgdir.ReadManifest(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: the manifest in %s: %w", name, rel.Version, redact.URL(rel.PayloadURL), err)
	}
	var warnings []string
	changed := false
	if cmp, err := CompareVersions(m.Version, rel.Version); err != nil || cmp != 0 {
		warnings = append(warnings, fmt.Sprintf("the manifest inside release %s says version %q; installed as %s (the release version counts)", rel.Version, m.Version, rel.Version))
		if err := m.Set("version", rel.Version); err != nil {
			return nil, warnings, err
		}
		changed = true
	}
	if updateURL != "" && m.UpdateURL != updateURL {
		if m.UpdateURL != "" {
			warnings = append(warnings, fmt.Sprintf("the release's manifest points update_url to %q; keeping %q", redact.URL(m.UpdateURL), redact.URL(updateURL)))
		}
		if err := m.Set("update_url", updateURL); err != nil {
			return nil, warnings, err
		}
		changed = true
	}
	if m.Name != "" && m.Name != name {
		warnings = append(warnings, fmt.Sprintf("the release's manifest names the package %q; it stays installed as %q", m.Name, name))
	}
	if changed {
		if err := pkgdir.WriteManifest(dir, m); err != nil {
			return nil, warnings, err
		}
	}
	return m, warnings, nil
}

// checkUnmodified compares the live folder with the tree hash recorded when
// modup installed it. Without a record (installed by a2 or by hand) there
// is nothing to compare; a record modup cannot use counts as none, with a
// warning.
func checkUnmodified(l pkgdir.Layout, name string) (warning string, err error) {
	rec, err := l.ReadRecord(name)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if errors.Is(err, pkgdir.ErrBadRecord) {
		return fmt.Sprintf("%v; taken as no record (changes made to the package since it was installed cannot be detected), and replaced by this install", err), nil
	}
	if err != nil {
		return "", err
	}
	live := filepath.Join(l.Root, name)
	m, err := pkgdir.ReadManifest(live)
	if err != nil || !sameVersion(m.Version, rec.Version) || rec.TreeHash == "" {
		return "", nil // the record is about another version; it says nothing now
	}
	h, err := pkgdir.TreeHash(live)
	if err != nil {
		return "", fmt.Errorf("%s: hash %s: %w", name, live, err)
	}
	if h != rec.TreeHash {
		return "", fmt.Errorf("%s: files in %s changed since modup installed %s; update with --force to replace them (the current folder is kept as a backup): %w", name, live, rec.Version, ErrModified)
	}
	return "", nil
}

// sameVersion reports whether a and b name one version: equal as versions
// ("v1.0" is "1.0.0": a release and its zipped manifest may spell it
// differently), else equal as written.
func sameVersion(a, b string) bool {
	if cmp, err := CompareVersions(a, b); err == nil {
		return cmp == 0
	}
	return a == b
}

// Install adds a new package to root from updateURL: a2's "add from URL".
// The folder is named after the remote manifest's name, else the repository
// or folder name; an existing folder of that name is refused.
func (u *Updater) Install(ctx context.Context, root, updateURL string, opts UpdateOptions) Change {
	c := u.installURL(ctx, root, updateURL, opts)
	u.record(ctx, root, pkgdir.HistoryInstall, &c, opts.By)
	return c
}

func (u *Updater) installURL(ctx context.Context, root, updateURL string, opts UpdateOptions) Change {
	cand, c := u.candidateAt(ctx, root, updateURL, opts.To)
	if c.Status == StatusFailed {
		return c
	}
	if opts.DryRun {
		c.Status = StatusWouldInstall
		return c
	}
	return u.installNew(ctx, root, cand, c, u.lockWait(opts.NoWait), opts.Inject)
}

// Candidate is a release of a package that a change may install, with the
// source it comes from: the package's own update_url (install URL,
// update) or, with repositories, an index. The planners (InstallSet,
// UpdateSet) take them from any source.
type Candidate struct {
	Name string
	// UpdateURL is what the installed package's manifest keeps.
	UpdateURL string
	Source    sources.Source
	Query     sources.Query
	// Release is resolved (its payload found) before it is installed; when
	// its RequirementsKnown is false, what it needs is judged from its own
	// manifest once downloaded.
	Release sources.Release

	signed *signedRelease // its verified signature, when the planner has it
}

// CandidateAt is what `install URL` would install into root from
// updateURL (its newest release, or version to), for callers that plan it
// with candidates of other sources (install NAME URL mixes a repository's
// with an update_url's). A Change with StatusFailed says why not.
func (u *Updater) CandidateAt(ctx context.Context, root, updateURL, to string) (Candidate, Change) {
	return u.candidateAt(ctx, root, updateURL, to)
}

// candidateAt reads the remote manifest at updateURL and resolves its
// newest release (or version to): what `install URL` would install into
// root. The Change names the package and says why not (StatusFailed).
func (u *Updater) candidateAt(ctx context.Context, root, updateURL, to string) (Candidate, Change) {
	updateURL = strings.TrimSpace(updateURL)
	// Named by its URL until it has a name; a password in it is not shown.
	c := Change{Name: redact.URL(updateURL)}
	src, err := u.Sources.Registry.For(updateURL)
	if err != nil {
		return Candidate{}, c.failed(err)
	}
	if src.Kind() == fs.Kind {
		// A relative path means relative to here, now; the installed
		// package must find it again from its own folder.
		abs, err := fs.Folder(updateURL, "")
		if err != nil {
			return Candidate{}, c.failed(err)
		}
		updateURL = abs
	}
	q := sources.Query{Package: updateURL, UpdateURL: updateURL}
	if _, err := os.Stat(root); err == nil {
		// A root that does not exist yet gets no cache: its .modup is
		// made by the install, not by the first request.
		q.Cache = u.cache(root)
	}
	latest, err := src.Latest(ctx, q)
	if err != nil {
		return Candidate{}, c.failed(err)
	}
	name := latest.Name
	if name == "" {
		name = lastSegment(updateURL)
	}
	c.Name = name
	if err := pkgdir.CheckName(name); err != nil {
		if latest.Name == "" {
			return Candidate{}, c.failed(fmt.Errorf("the manifest at %s has no name, and %q from the update_url cannot be a folder name: %w", latest.ManifestURL, name, err))
		}
		return Candidate{}, c.failed(fmt.Errorf("the manifest at %s names the package %q, which cannot be a folder name: %w", latest.ManifestURL, name, err))
	}
	c.Path = filepath.Join(root, name)
	q.Package = name
	rel := latest
	if to != "" {
		rel, err = u.resolveTo(ctx, src, q, to)
		// The package's key is the one its manifest names.
		rel.PublicKey = latest.PublicKey
	} else {
		rel, err = src.Resolve(ctx, q, latest)
	}
	if err != nil {
		return Candidate{}, c.failed(err)
	}
	c.To = rel.Version
	c.News = rel.News
	c.ReleaseNotes = releaseNotes(rel, rel.News)
	if _, err := ParseVersion(rel.Version); err != nil {
		return Candidate{}, c.failed(fmt.Errorf("%s: release version %w", name, err))
	}
	if rel.ManifestVersion > manifest.SupportedVersion {
		return Candidate{}, c.failed(&manifest.VersionError{File: rel.ManifestURL, Version: rel.ManifestVersion})
	}
	signed, err := u.verifySignature(ctx, src, name, nil, &rel, to != "")
	if err != nil {
		return Candidate{}, c.failed(err)
	}
	if _, err := os.Lstat(c.Path); err == nil {
		return Candidate{}, c.failed(fmt.Errorf("%s is already installed at %s: use `modup update %s`", name, c.Path, name))
	}
	return Candidate{Name: name, UpdateURL: updateURL, Source: src, Query: q, Release: rel, signed: signed}, c
}

// installNew installs cand as a new package of root, alone (c is its
// change so far).
func (u *Updater) installNew(ctx context.Context, root string, cand Candidate, c Change, wait time.Duration, inject func(string) error) Change {
	// 0777 less the umask, as mkdir(1) makes it.
	if err := os.MkdirAll(root, 0o777); err != nil {
		return c.failed(fmt.Errorf("create root %s: %w", root, err))
	}
	l := pkgdir.Layout{Root: root}
	lk, err := l.Lock(ctx, cand.Name, wait)
	if err != nil {
		return c.failed(err)
	}
	defer lk.Unlock()
	if err := settle(l, cand.Name, &c); err != nil {
		return c.failed(err)
	}
	if _, err := os.Lstat(c.Path); err == nil {
		return c.failed(fmt.Errorf("%s is already installed at %s: use `modup update %s`", cand.Name, c.Path, cand.Name))
	}
	signed := cand.signed
	if signed == nil {
		// A candidate the planner did not check (a repository's): a
		// release that names a key is verified, and the key pinned, as
		// CandidateAt does for an update_url.
		if signed, err = u.verifySignature(ctx, cand.Source, cand.Name, nil, &cand.Release, false); err != nil {
			return c.failed(err)
		}
	}
	_, warnings, err := u.install(ctx, l, cand.Name, cand.Source, cand.Release, installTarget{updateURL: cand.UpdateURL, inject: inject, signed: signed, repo: cand.Release.Repository})
	c.Warnings = append(c.Warnings, warnings...)
	if err != nil {
		return c.failed(err)
	}
	c.Status = StatusInstalled
	c.Trust = trustNote(cand.Name, nil, signed)
	return c
}

// lastSegment is the last path element of a URL or path, without ".git".
func lastSegment(u string) string {
	u = strings.TrimRight(strings.ReplaceAll(u, `\`, "/"), "/")
	if i := strings.Index(u, "/-/tree/"); i >= 0 && strings.Contains(u, "://") {
		u = u[:i] // GitLab's GROUP/PROJECT/-/tree/BRANCH
	} else if i := strings.Index(u, "/tree/"); i >= 0 && strings.Contains(u, "://") {
		u = u[:i]
	}
	return strings.TrimSuffix(path.Base(u), ".git")
}

// Rollback restores a backup of p (the newest, or toVersion); the version
// it replaces becomes a backup.
func (u *Updater) Rollback(ctx context.Context, p pkgdir.Package, toVersion string) Change {
	return u.RollbackWith(ctx, p, RollbackOptions{To: toVersion})
}

// RollbackWith is Rollback with options.
func (u *Updater) RollbackWith(ctx context.Context, p pkgdir.Package, opts RollbackOptions) Change {
	c := u.rollback(ctx, p, opts)
	u.record(ctx, p.Root, pkgdir.HistoryRollback, &c, opts.By)
	return c
}

func (u *Updater) rollback(ctx context.Context, p pkgdir.Package, opts RollbackOptions) Change {
	toVersion := opts.To
	c := Change{Name: p.Name, From: p.Version(), Path: p.Dir}
	var sw pkgdir.SwapResult
	var b pkgdir.Backup
	err := u.withLock(ctx, p, u.lockWait(opts.NoWait), &c, func(l pkgdir.Layout) (err error) {
		sw, b, err = l.Rollback(ctx, p.Name, toVersion)
		return err
	})
	if err != nil {
		return c.failed(err)
	}
	c.To = b.Version
	c.Backup = sw.Backup
	c.Status = StatusRolledBack
	if cmp, err := CompareVersions(b.Version, c.From); err == nil && cmp > 0 {
		c.Status = StatusRolledForward
	}
	return c
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Purge deletes the package instead of keeping it as a backup.
	Purge bool
	// Force removes a package other installed packages require.
	Force bool
	// NoWait and By are as in UpdateOptions.
	NoWait bool
	By     string
}

// Remove takes p out of its root: into the backups, or deleted with
// Purge. A package that other installed packages require is refused
// (ErrRequired, naming them) unless Force.
func (u *Updater) Remove(ctx context.Context, p pkgdir.Package, opts RemoveOptions) Change {
	c := u.remove(ctx, p, opts)
	u.record(ctx, p.Root, pkgdir.HistoryRemove, &c, opts.By)
	return c
}

func (u *Updater) remove(ctx context.Context, p pkgdir.Package, opts RemoveOptions) Change {
	c := Change{Name: p.Name, From: p.Version(), Path: p.Dir}
	var backup string
	err := u.withLock(ctx, p, u.lockWait(opts.NoWait), &c, func(l pkgdir.Layout) (err error) {
		if err := u.refuseRequired(p, "remove", opts.Force, &c); err != nil {
			return err
		}
		backup, err = l.Remove(ctx, p.Name, opts.Purge)
		return err
	})
	if err != nil {
		return c.failed(err)
	}
	c.Backup = backup
	c.Status = StatusRemoved
	return c
}

// withLock runs fn holding p's lock (waiting for it up to wait), once
// what a killed process left of p is settled (said in c's warnings).
func (u *Updater) withLock(ctx context.Context, p pkgdir.Package, wait time.Duration, c *Change, fn func(l pkgdir.Layout) error) error {
	l := p.Layout()
	lk, err := l.Lock(ctx, p.Name, wait)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	if err := settle(l, p.Name, c); err != nil {
		return err
	}
	return fn(l)
}

// extract unpacks the downloaded zip into staging, recording the digest of
// every file. Its errors name the entries, not the temporary file (gone by
// the time a user reads them).
func extract(ctx context.Context, zipPath, staging string, durable bool, rename func(string, bool) (string, error)) (archive.Result, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return archive.Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return archive.Result{}, err
	}
	return archive.Extract(ctx, f, fi.Size(), staging, archive.Options{Durable: durable, Digests: true, Rename: rename})
}
