package pkgdir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/modup/modup/internal/fsutil"
)

// What modup installed, file by file, is kept beside the install record
// as installed/<name>.files, so that `modup verify` can say which files
// changed since, as rpm -V does. The list is written into tmp/<name>/
// before a change is journaled (the journal names it) and moved into
// installed/ with the record, so it always describes the version in
// place.

// File kinds in a FileList.
const (
	KindFile  = "file"
	KindDir   = "dir"
	KindLink  = "link"
	KindOther = "other" // a named pipe, socket or device
)

// FileEntry is one entry below a package folder.
type FileEntry struct {
	Path string `json:"path"` // relative, with / separators
	Kind string `json:"kind"`
	Exec bool   `json:"exec,omitempty"`
	// SHA256 is the content's (a file) or the target's (a link), hex.
	SHA256 string `json:"sha256,omitempty"`
}

// FileList is what modup installed of a package.
type FileList struct {
	Version  string      `json:"version"`
	TreeHash string      `json:"tree_hash"`
	Files    []FileEntry `json:"files"`
}

// maxFileList bounds what is read of a file list (a 20,000-file package
// makes about 3 MB).
const maxFileList = 64 << 20

// tmpFiles names the file lists waiting in tmp/<name>/ for their change.
var tmpFiles = tempPattern{"files-", ".json"}

// TreeFiles is TreeHashKnown that also lists the entries, for the file
// list written with the install record.
func TreeFiles(dir string, known map[string][sha256.Size]byte) (string, []FileEntry, error) {
	h, entries, err := treeWalk(dir, known)
	if err != nil {
		return "", nil, err
	}
	return h, fileEntries(entries), nil
}

func fileEntries(entries []treeEntry) []FileEntry {
	out := make([]FileEntry, len(entries))
	for i, e := range entries {
		f := FileEntry{Path: e.rel, Exec: e.exec}
		switch e.kind {
		case 'd':
			f.Kind = KindDir
		case 'f':
			f.Kind = KindFile
			f.SHA256 = hex.EncodeToString(e.sum[:])
		case 'l':
			f.Kind = KindLink
			f.SHA256 = hex.EncodeToString(e.sum[:])
		default:
			f.Kind = KindOther
		}
		out[i] = f
	}
	return out
}

// writePendingList writes list into tmp/<name>/files-<digits>.json, to be
// placed by placeList once the change it belongs to is done, and returns
// its root-relative slash path. The caller holds the package's lock.
func (l Layout) writePendingList(name string, list FileList) (string, error) {
	data, err := json.Marshal(list)
	if err != nil {
		return "", err
	}
	r, err := l.OpenOwn(true, FolderTmp, name)
	if err != nil {
		return "", fmt.Errorf("file list of %s: %w", name, err)
	}
	defer r.Close()
	f, file, err := fsutil.CreateTempIn(r, tmpFiles.prefix, tmpFiles.suffix, 0o666)
	if err != nil {
		return "", fmt.Errorf("file list of %s: %w", name, err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = r.Remove(file)
		return "", fmt.Errorf("file list of %s: %w", name, err)
	}
	return tmpRel + "/" + name + "/" + file, nil
}

// placeList moves a change's pending file list (journal path rel, "" for
// none) to installed/<name>.files, replacing the list of the version
// replaced. A list already moved is fine: placing is idempotent.
func (l Layout) placeList(name, rel string) error {
	if rel == "" {
		return nil
	}
	own, err := l.openOwn(false)
	if err != nil {
		return err
	}
	defer own.Close()
	inst, err := l.OpenOwn(true, FolderInstalled)
	if err != nil {
		return err
	}
	inst.Close()
	from := FolderTmp + "/" + name + "/" + path.Base(rel)
	if _, err := own.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := own.Rename(from, FolderInstalled+"/"+name+".files"); err != nil {
		return fmt.Errorf("file list of %s: %w", name, unwrapPath(err))
	}
	l.removeEmptyTmp(name)
	return nil
}

// dropList deletes a package's file list (a removal).
func (l Layout) dropList(name string) error {
	return l.removeOwn(FolderInstalled, name+".files")
}

// ReadFileList reads what modup installed of package name. No list wraps
// fs.ErrNotExist; one modup cannot use wraps ErrBadRecord.
func (l Layout) ReadFileList(name string) (FileList, error) {
	if err := CheckName(name); err != nil {
		return FileList{}, err
	}
	data, err := l.readOwn(maxFileList, FolderInstalled, name+".files")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return FileList{}, fmt.Errorf("no file list of %s: %w", name, err)
	case errors.Is(err, fsutil.ErrNotRegular), errors.Is(err, fsutil.ErrTooLarge):
		return FileList{}, fmt.Errorf("file list of %s: %w: %w", name, ErrBadRecord, err)
	case err != nil:
		return FileList{}, err
	}
	var list FileList
	if err := json.Unmarshal(data, &list); err != nil || list.TreeHash == "" {
		return FileList{}, fmt.Errorf("file list of %s is not one modup writes: %w", name, ErrBadRecord)
	}
	return list, nil
}

// Diff is how a package folder differs from its file list.
type Diff struct {
	Modified []string `json:"modified,omitempty"` // content, type or executable bit changed
	Missing  []string `json:"missing,omitempty"`
	Added    []string `json:"added,omitempty"`
}

// Empty reports whether nothing differs.
func (d Diff) Empty() bool { return len(d.Modified)+len(d.Missing)+len(d.Added) == 0 }

// Compare reads the folder dir and says how it differs from list.
func Compare(dir string, list FileList) (Diff, error) {
	_, entries, err := treeWalk(dir, nil)
	if err != nil {
		return Diff{}, err
	}
	now := fileEntries(entries)
	want := map[string]FileEntry{}
	for _, f := range list.Files {
		want[f.Path] = f
	}
	var d Diff
	seen := map[string]bool{}
	for _, f := range now {
		seen[f.Path] = true
		w, ok := want[f.Path]
		switch {
		case !ok:
			d.Added = append(d.Added, f.Path)
		case w != f:
			d.Modified = append(d.Modified, f.Path)
		}
	}
	for _, f := range list.Files {
		if !seen[f.Path] {
			d.Missing = append(d.Missing, f.Path)
		}
	}
	slices.Sort(d.Missing)
	return d, nil
}

// dropPending deletes a change's pending file list, if it is still in
// tmp/ (an undone change).
func (l Layout) dropPending(name, rel string) {
	if rel == "" {
		return
	}
	if r, err := l.OpenOwn(false, FolderTmp, name); err == nil {
		_ = r.Remove(path.Base(rel))
		r.Close()
		l.removeEmptyTmp(name)
	}
}
