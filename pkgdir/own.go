package pkgdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// modup owns <root>/.modup and everything below it. It never follows a
// link there, never deletes an entry it cannot recognise as its own, and
// refuses to work in a root where .modup, one of its folders or a
// per-package folder of tmp/, staging/ or backups/ is anything but a
// folder: a link there once pointed modup's sweep at a user's files.
//
// The folders are reached one at a time from the root through os.Root:
// each is looked at with Lstat (a link is refused, not followed), opened,
// and checked to be the folder looked at. What modup then reads, writes or
// deletes in a folder goes through that folder's descriptor, so nothing
// can redirect it elsewhere.

// The folders of .modup.
const (
	FolderCache     = "cache"     // validators of conditional requests
	FolderState     = "state"     // the daemon's view of each package
	FolderTmp       = "tmp"       // downloads and trash: tmp/<name>/...
	FolderStaging   = "staging"   // extracted releases: staging/<name>/new-*
	FolderBackups   = "backups"   // earlier versions: backups/<name>/<version>
	FolderLocks     = "locks"     // one lock (and holder) per package
	FolderJournal   = "journal"   // changes in progress
	FolderInstalled = "installed" // install records
	FolderDisabled  = "disabled"  // disabled packages: disabled/<name>, as they were in the root
)

// ownFolders lists them all; perPackageFolders those holding one folder
// per package.
var (
	ownFolders        = []string{FolderCache, FolderState, FolderTmp, FolderStaging, FolderBackups, FolderLocks, FolderJournal, FolderInstalled, FolderDisabled}
	perPackageFolders = []string{FolderTmp, FolderStaging, FolderBackups, FolderDisabled}
)

// The names modup gives what it creates in a package's tmp/ and staging/
// folders (prefix, then digits, then suffix); the sweep removes these and
// nothing else.
var (
	tmpDownload = tempPattern{"download-", ".zip"}
	tmpPrune    = tempPattern{"prune-", ""}
	tmpPurge    = tempPattern{"purge-", ""}
	stagingNew  = tempPattern{"new-", ""}
)

type tempPattern struct{ prefix, suffix string }

func (p tempPattern) match(name string) bool { return fsutil.IsTempName(name, p.prefix, p.suffix) }

// ownTemps are the names the sweep may remove from each folder.
var ownTemps = map[string][]tempPattern{
	FolderTmp:     {tmpDownload, tmpPrune, tmpPurge, tmpFiles},
	FolderStaging: {stagingNew},
}

// ErrUnsafeLayout: part of a root's .modup folder is a link, a file, a
// named pipe or anything but the folder modup keeps there. modup refuses
// to work in that root until it is moved away.
var ErrUnsafeLayout = errors.New("modup's folder in this root is not as modup made it")

// UnsafeError names what is wrong in .modup and what to do. It matches
// ErrUnsafeLayout.
type UnsafeError struct {
	Path  string // what is wrong
	What  string // what it is: "a symbolic link", "a named pipe (FIFO)"...
	Own   string // the root's .modup folder
	link  bool
	file  bool // modup keeps a file there, not a folder
	raced bool // replaced between modup's look and its open
}

func (e *UnsafeError) Error() string {
	if e.raced {
		return fmt.Sprintf("%s was replaced while modup opened it: check what is there; modup keeps its files in %s and does not follow links there", e.Path, e.Own)
	}
	todo := "move it out of the way"
	if e.link {
		todo = "remove the link"
	}
	want := "a folder"
	if e.file {
		want = "a file"
	}
	return fmt.Sprintf("%s is %s where modup keeps %s of its own: %s; modup keeps its files in %s and does not follow links there", e.Path, e.What, want, todo, e.Own)
}

// Is makes errors.Is(err, ErrUnsafeLayout) true.
func (e *UnsafeError) Is(target error) bool { return target == ErrUnsafeLayout }

func (l Layout) unsafe(path string, mode fs.FileMode) *UnsafeError {
	return &UnsafeError{Path: path, What: fsutil.Kind(mode), Own: l.Dir(), link: mode&fs.ModeSymlink != 0}
}

// folderPerm is the mode (before the umask) of a folder of .modup when
// modup creates it. The request cache may hold manifests of private
// repositories: only its owner reads it.
func folderPerm(name string) fs.FileMode {
	if name == FolderCache {
		return 0o700
	}
	return 0o777
}

// OpenOwn opens the folder .modup/<folder>/<sub...> as an os.Root, never
// following a link on the way (see the top of this file). With create,
// missing folders are made (0777 less the umask, the cache 0700) and made
// durable. Without it, a missing one is an error wrapping fs.ErrNotExist.
// The caller closes the Root.
func (l Layout) OpenOwn(create bool, folder string, sub ...string) (*os.Root, error) {
	return l.openOwn(create, append([]string{folder}, sub...)...)
}

// openOwn opens .modup/<parts...>; no parts is .modup itself.
func (l Layout) openOwn(create bool, parts ...string) (*os.Root, error) {
	cur, err := os.OpenRoot(l.Root)
	if err != nil {
		return nil, err
	}
	path := l.Root
	for i, name := range append([]string{StateDirName}, parts...) {
		path = filepath.Join(path, name)
		perm := fs.FileMode(0o777)
		if i == 1 {
			perm = folderPerm(name)
		}
		next, err := l.openChild(cur, name, path, create, perm)
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// openChild opens the folder name in parent (path names it in errors),
// refusing anything but a folder, and creating it with perm when create
// is set.
func (l Layout) openChild(parent *os.Root, name, path string, create bool, perm fs.FileMode) (*os.Root, error) {
	fi, err := parent.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) && create {
		err = parent.Mkdir(name, perm)
		if err == nil {
			// Its entry must be durable before anything in it is relied on.
			err = fsutil.SyncRoot(parent)
		} else if errors.Is(err, fs.ErrExist) {
			err = nil // made meanwhile, by another process: look again
		}
		if err == nil {
			fi, err = parent.Lstat(name)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if !fi.IsDir() {
		return nil, l.unsafe(path, fi.Mode())
	}
	r, err := parent.OpenRoot(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if st, err := r.Stat("."); err != nil || !os.SameFile(fi, st) {
		r.Close()
		return nil, &UnsafeError{Path: path, What: "a replaced folder", Own: l.Dir(), raced: true}
	}
	return r, nil
}

// unwrapPath drops an *fs.PathError's relative path: the caller names the
// full one.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ownDir checks (and with create, makes) .modup/<parts...> as OpenOwn does,
// and returns its path, for the callers that must use paths (renames
// between folders, extraction).
func (l Layout) ownDir(create bool, parts ...string) (string, error) {
	r, err := l.openOwn(create, parts...)
	if err != nil {
		return "", err
	}
	r.Close()
	return l.absPath(filepath.Join(append([]string{l.Dir()}, parts...)...))
}

// Check makes sure the root's .modup is as modup makes it: .modup, each of
// its folders and each per-package folder of tmp/, staging/ and backups/
// a real folder, never a link, a file or a named pipe. A missing .modup or
// folder is fine (modup makes them when it needs them). The error names
// what is wrong and what to do, and matches ErrUnsafeLayout. Every modup
// command checks this first (see Recover), and refuses to work in that root.
func (l Layout) Check() error {
	own, err := l.openOwn(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer own.Close()
	for _, folder := range ownFolders {
		path := filepath.Join(l.Dir(), folder)
		r, err := l.openChild(own, folder, path, false, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if isPerPackage(folder) {
			err = l.checkPerPackage(r, path)
		}
		if folder == FolderJournal {
			// journal/txn, when there is one, must be a folder too.
			var tr *os.Root
			if tr, err = l.openChild(r, txnFolder, filepath.Join(path, txnFolder), false, 0); err == nil {
				tr.Close()
			} else if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func isPerPackage(folder string) bool {
	for _, f := range perPackageFolders {
		if f == folder {
			return true
		}
	}
	return false
}

// checkPerPackage refuses an entry of tmp/, staging/ or backups/ named
// like a package that is not a folder. Hidden entries (a file manager's
// .DS_Store) cannot be packages' and are left alone.
func (l Layout) checkPerPackage(r *os.Root, path string) error {
	ents, err := readDirIn(r, ".")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range ents {
		if CheckName(e.Name()) != nil || e.IsDir() {
			continue
		}
		return l.unsafe(filepath.Join(path, e.Name()), e.Type())
	}
	return nil
}

// readOwn reads the regular file .modup/<folder>/<file> of at most max
// bytes through fsutil.ReadRegularIn: a link, named pipe, device or
// folder there is an error wrapping fsutil.ErrNotRegular, never followed,
// waited on or read without end. A missing file wraps fs.ErrNotExist.
func (l Layout) readOwn(max int64, folder, file string) ([]byte, error) {
	r, err := l.openOwn(false, folder)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := fsutil.ReadRegularIn(r, file, max)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: %w", filepath.Join(l.Dir(), folder, file), fs.ErrNotExist)
	}
	return data, err
}

// writeOwn replaces .modup/<folder>/<file> with data, durably, creating
// the folder when needed. Something other than a regular file in the
// file's place (a folder, a named pipe, a link) is set aside first, kept
// for inspection, so that it cannot block modup for ever.
func (l Layout) writeOwn(folder, file string, data []byte) error {
	r, err := l.openOwn(true, folder)
	if err != nil {
		return err
	}
	defer r.Close()
	if fi, err := r.Lstat(file); err == nil && !fi.Mode().IsRegular() {
		if _, err := setAside(r, file); err != nil {
			return err
		}
	}
	return fsutil.WriteFileAtomicIn(r, file, data, 0o666)
}

// removeOwn removes the file .modup/<folder>/<file> (absent is fine) and
// syncs its folder.
func (l Layout) removeOwn(folder, file string) error {
	r, err := l.openOwn(false, folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	err = r.Remove(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", filepath.Join(r.Name(), file), unwrapPath(err))
	}
	return fsutil.SyncRoot(r)
}

// setAside renames the entry name in r to name.broken-<UTC time>, kept for
// inspection, and returns the new path.
func setAside(r *os.Root, name string) (string, error) {
	base := name + ".broken-" + time.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		if _, err := r.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if i > 1000 {
			return "", fmt.Errorf("set aside %s: too many set aside already", filepath.Join(r.Name(), name))
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	if err := r.Rename(name, aside); err != nil {
		return "", fmt.Errorf("set aside %s: %w", filepath.Join(r.Name(), name), unwrapPath(err))
	}
	if err := fsutil.SyncRoot(r); err != nil {
		return "", err
	}
	return filepath.Join(r.Name(), aside), nil
}

// removeTree deletes the tree at path, which lies inside .modup (a staged
// folder, trash), making it writable where it must (fsutil.RemoveAllIn).
// Its folders above are reached as openOwn does; a missing one means
// there is nothing to delete.
func (l Layout) removeTree(path string) error {
	rel, err := l.relPath(path)
	if err != nil || !within(rel, StateDirName) {
		return fmt.Errorf("remove %s: not inside %s", path, l.Dir())
	}
	parts := strings.Split(rel, "/")[1:]
	r, err := l.openOwn(false, parts[:len(parts)-1]...)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	return fsutil.RemoveAllIn(r, parts[len(parts)-1])
}

// removeIfEmpty removes the folder name in r when it is an empty folder.
func removeIfEmpty(r *os.Root, name string) {
	if fi, err := r.Lstat(name); err == nil && fi.IsDir() {
		_ = r.Remove(name) // fails, as wanted, unless empty
	}
}
