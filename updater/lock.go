package updater

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	sourcefs "github.com/modup/modup/sources/fs"
)

// LockVersion is the version of the lock file format modup writes and
// reads.
const LockVersion = 1

// LockFile is what `modup lock` writes: the installed set, each package
// with where it comes from and the hashes that make it that release, so
// that `modup restore` installs exactly it elsewhere (a team, a fleet).
type LockFile struct {
	LockVersion int         `json:"lock_version"`
	Host        string      `json:"host,omitempty"`
	HostVersion string      `json:"host_version,omitempty"`
	Packages    []LockEntry `json:"packages"`
}

// LockEntry is one package of a lock file.
type LockEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Source is the source kind of UpdateURL ("github", "web", "fs", ...).
	Source string `json:"source"`
	// UpdateURL is the package's update_url as its manifest says (a
	// password in it is not kept).
	UpdateURL string `json:"update_url"`
	// FetchURL, when set, is where restore downloads from instead: a
	// folder update_url relative to the package, made absolute.
	FetchURL string `json:"fetch_url,omitempty"`
	// ZipSHA256 is the sha256 of the release's zip; empty when modup did
	// not record it (the package was installed by an older modup, or
	// restored from a backup).
	ZipSHA256 string `json:"zip_sha256,omitempty"`
	// TreeHash is the package folder's tree hash as installed.
	TreeHash string `json:"tree_hash"`
}

// maxLockFile bounds what is read of a lock file.
const maxLockFile = 16 << 20

// Lock describes the installed packages for a lock file, in name order,
// and says what it leaves out or cannot vouch for: local packages and
// development checkouts (no release to restore), manifests it cannot read,
// folders changed since they were installed (the lock holds the installed
// release), hashes it does not have.
func (u *Updater) Lock(pkgs []pkgdir.Package) (LockFile, []string) {
	lf := LockFile{LockVersion: LockVersion, Host: u.Host.Name}
	if u.Host.Version != nil {
		lf.HostVersion = u.Host.Version.Original()
	}
	var warnings []string
	warn := func(name, format string, args ...any) {
		warnings = append(warnings, name+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]string{}
	for _, p := range pkgs {
		switch {
		case p.Err != nil:
			warn(p.Name, "left out: %s", Detail(p.Name, p.Err.Error()))
			continue
		case p.Dev:
			warn(p.Name, "left out: a development checkout (.git)")
			continue
		case p.Manifest.UpdateURL == "":
			warn(p.Name, "left out: a local package (no update_url), which restore could not fetch")
			continue
		}
		if root, dup := seen[p.Name]; dup {
			warn(p.Name, "left out of %s: the lock holds the one in %s", p.Root, root)
			continue
		}
		seen[p.Name] = p.Root
		e := LockEntry{Name: p.Name, Version: p.Version(), UpdateURL: redact.URL(p.Manifest.UpdateURL)}
		if src, err := u.Sources.Registry.For(p.Manifest.UpdateURL); err == nil {
			e.Source = src.Kind()
			if e.Source == sourcefs.Kind {
				if abs, err := sourcefs.Folder(p.Manifest.UpdateURL, p.Dir); err == nil && abs != p.Manifest.UpdateURL {
					e.FetchURL = abs
				}
			}
		}
		l := p.Layout()
		rec, err := l.ReadRecord(p.Name)
		if err == nil && rec.TreeHash != "" && sameVersion(rec.Version, p.Version()) {
			e.TreeHash, e.ZipSHA256 = rec.TreeHash, rec.ZipSHA256
			if v := Verify(p); v.Differs() {
				warn(p.Name, "its files changed since modup installed it; the lock holds the release as installed (`modup verify %s`)", p.Name)
			}
		} else {
			h, err := pkgdir.TreeHash(p.Dir)
			if err != nil {
				warn(p.Name, "left out: %v", err)
				continue
			}
			e.TreeHash = h
			warn(p.Name, "modup did not install it: the lock holds its folder as it is, which restore can match only if the release holds the same files")
		}
		if e.ZipSHA256 == "" {
			warn(p.Name, "no sha256 of its zip is recorded (installed by an older modup, or restored from a backup): restore checks the tree hash alone")
		}
		lf.Packages = append(lf.Packages, e)
	}
	slices.SortFunc(lf.Packages, func(a, b LockEntry) int { return strings.Compare(a.Name, b.Name) })
	if lf.Packages == nil {
		lf.Packages = []LockEntry{}
	}
	return lf, warnings
}

// ReadLock decodes a lock file strictly: unknown fields, a lock version
// this modup does not read and entries without a name, version,
// update_url or tree hash are errors naming file.
func ReadLock(data []byte, file string) (LockFile, error) {
	if len(data) > maxLockFile {
		return LockFile{}, fmt.Errorf("%s: larger than %d bytes: not a lock file", file, maxLockFile)
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})))
	dec.DisallowUnknownFields()
	var lf LockFile
	if err := dec.Decode(&lf); err != nil {
		return LockFile{}, fmt.Errorf("%s: not a lock file modup wrote: %v", file, err)
	}
	if lf.LockVersion != LockVersion {
		return LockFile{}, fmt.Errorf("%s: lock_version %d: this modup reads version %d (update modup)", file, lf.LockVersion, LockVersion)
	}
	names := map[string]bool{}
	for i, e := range lf.Packages {
		switch {
		case pkgdir.CheckName(e.Name) != nil:
			return LockFile{}, fmt.Errorf("%s: package %d: %v", file, i+1, pkgdir.CheckName(e.Name))
		case names[e.Name]:
			return LockFile{}, fmt.Errorf("%s: %s is listed twice", file, e.Name)
		case e.Version == "" || e.UpdateURL == "" || e.TreeHash == "":
			return LockFile{}, fmt.Errorf("%s: %s: version, update_url and tree_hash are needed", file, e.Name)
		case e.ZipSHA256 != "" && !isHexDigest(e.ZipSHA256):
			return LockFile{}, fmt.Errorf("%s: %s: zip_sha256 %q is not a sha256", file, e.Name, e.ZipSHA256)
		}
		if _, err := ParseVersion(e.Version); err != nil {
			return LockFile{}, fmt.Errorf("%s: %s: %w", file, e.Name, err)
		}
		names[e.Name] = true
	}
	return lf, nil
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ErrLockMismatch: a release restore fetched is not the one the lock
// file names (another zip, or another tree).
var ErrLockMismatch = errors.New("not the release the lock file names")

// Restore installs into root exactly the packages of lf: each release
// fetched by version from its source, its zip's sha256 and the installed
// folder's tree hash checked against the lock, and all of them put in
// place in one transaction, so that either every package is restored or
// none is. A package already in root at the locked version and tree is
// left as it is; one of another version or tree is refused.
func (u *Updater) Restore(ctx context.Context, root string, lf LockFile, opts SetOptions) []Change {
	changes := u.restore(ctx, root, lf, opts)
	for i := range changes {
		u.record(ctx, root, pkgdir.HistoryInstall, &changes[i], opts.By)
	}
	return changes
}

func (u *Updater) restore(ctx context.Context, root string, lf LockFile, opts SetOptions) []Change {
	changes := make([]Change, len(lf.Packages))
	var todo []int
	var problems []error
	for i, e := range lf.Packages {
		dir := filepath.Join(root, e.Name)
		changes[i] = Change{Name: e.Name, To: e.Version, Path: dir}
		p, ok := pkgdir.Load(root, dir)
		if _, err := os.Lstat(dir); err == nil && !ok {
			problems = append(problems, fmt.Errorf("%s: %s is in the way (not a package): move it away", e.Name, dir))
			changes[i] = changes[i].failed(problems[len(problems)-1])
			continue
		}
		if ok {
			changes[i].From = p.Version()
			if h, err := pkgdir.TreeHash(dir); err == nil && h == e.TreeHash && sameVersion(p.Version(), e.Version) {
				changes[i].Status = StatusUpToDate
				continue
			}
			problems = append(problems, fmt.Errorf("%s is installed at %s already (%s, not the locked %s as locked): restore into an empty root, or remove it first", e.Name, dir, p.Version(), e.Version))
			changes[i] = changes[i].failed(problems[len(problems)-1])
			continue
		}
		todo = append(todo, i)
	}
	if len(problems) > 0 {
		return skipRest(changes, "not restored: another package of the lock file failed")
	}
	if len(todo) == 0 {
		return changes
	}
	if opts.DryRun {
		for _, i := range todo {
			changes[i].Status = StatusWouldInstall
		}
		return changes
	}
	if err := makeRoot(root); err != nil {
		changes[todo[0]] = changes[todo[0]].failed(err)
		return skipRest(changes, "not restored: another package of the lock file failed")
	}
	l := pkgdir.Layout{Root: root}
	var names []string
	for _, i := range todo {
		names = append(names, lf.Packages[i].Name)
	}
	locks, err := l.LockAll(ctx, names, u.lockTimeout())
	if err != nil {
		changes[todo[0]] = changes[todo[0]].failed(err)
		return skipRest(changes, "not restored: another package of the lock file failed")
	}
	defer func() {
		for _, lk := range locks {
			lk.Unlock()
		}
	}()
	var stages []*staged
	defer func() {
		for _, st := range stages {
			l.RemoveTemp(st.folder)
		}
	}()
	var members []pkgdir.TxnMember
	for _, i := range todo {
		e := lf.Packages[i]
		c := &changes[i]
		if err := settle(l, e.Name, c); err != nil {
			*c = c.failed(err)
			return skipRest(changes, "not restored: another package of the lock file failed")
		}
		st, err := u.stageLocked(ctx, l, e, c)
		if err != nil {
			*c = c.failed(err)
			return skipRest(changes, "not restored: another package of the lock file failed")
		}
		stages = append(stages, st)
		members = append(members, pkgdir.TxnMember{Name: e.Name, Op: pkgdir.TxnInstall, Staged: st.root, StagedHash: st.hash,
			StagedFiles: st.files, NewVersion: st.rel.Version, Record: st.record()})
	}
	if _, err := l.Transact(ctx, members, opts.Inject); err != nil {
		if u.txnPending(l, names) {
			stages = nil
		}
		changes[todo[0]] = changes[todo[0]].failed(err)
		return skipRest(changes, "not restored: another package of the lock file failed")
	}
	for _, i := range todo {
		changes[i].Status = StatusInstalled
	}
	return changes
}

// stageLocked fetches, verifies and stages the release a lock entry names.
func (u *Updater) stageLocked(ctx context.Context, l pkgdir.Layout, e LockEntry, c *Change) (*staged, error) {
	from := e.UpdateURL
	if e.FetchURL != "" {
		from = e.FetchURL
	}
	src, err := u.Sources.Registry.For(from)
	if err != nil {
		return nil, err
	}
	q := u.Query(pkgdir.Package{Name: e.Name, Root: l.Root, Dir: filepath.Join(l.Root, e.Name)})
	q.UpdateURL = from
	rel, err := u.resolveTo(ctx, src, q, e.Version)
	if err != nil {
		return nil, err
	}
	if e.ZipSHA256 != "" {
		if rel.SHA256 != "" && !strings.EqualFold(rel.SHA256, e.ZipSHA256) {
			return nil, fmt.Errorf("%s %s: the source declares sha256 %s, the lock file %s: %w", e.Name, e.Version, rel.SHA256, e.ZipSHA256, ErrLockMismatch)
		}
		rel.SHA256 = e.ZipSHA256 // the download is checked against it
	}
	signed, err := u.verifySignature(ctx, src, e.Name, nil, &rel, true)
	if err != nil {
		return nil, err
	}
	st, warnings, err := u.stage(ctx, l, e.Name, src, rel, installTarget{updateURL: e.UpdateURL, signed: signed})
	c.Warnings = append(c.Warnings, warnings...)
	if err != nil {
		if errors.Is(err, ErrChecksum) {
			err = fmt.Errorf("%w: %w", err, ErrLockMismatch)
		}
		return nil, err
	}
	if st.hash != e.TreeHash {
		l.RemoveTemp(st.folder)
		return nil, fmt.Errorf("%s %s: the release makes the tree %s, the lock file names %s: %w", e.Name, e.Version, st.hash, e.TreeHash, ErrLockMismatch)
	}
	return st, nil
}

// skipRest marks every change not failed or done as not attempted.
func skipRest(changes []Change, reason string) []Change {
	for i, c := range changes {
		if c.Status == "" {
			changes[i] = c.skipped(reason)
		}
	}
	return changes
}
