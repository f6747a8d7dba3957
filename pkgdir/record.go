package pkgdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// Record is what modup knows about how a package got installed, kept in
// .modup/installed/<name>.json. TreeHash lets a later update notice that
// the user edited the package since.
type Record struct {
	Version     string    `json:"version"`
	TreeHash    string    `json:"tree_hash"`
	InstalledAt time.Time `json:"installed_at"`
	// Source is where the installed release came from (as the updater
	// names it), "rollback" for a version restored from a backup.
	Source    string `json:"source"`
	UpdateURL string `json:"update_url"`
	// Pin is the package's trusted signing keys; nil when none is pinned
	// (see pin.go).
	Pin *Pin `json:"pin,omitempty"`
	// ZipSHA256 is the sha256 of the zip the package was installed from
	// (hex); "" for a rollback or an older record.
	ZipSHA256 string `json:"zip_sha256,omitempty"`
	// Hold, when set, keeps the package at its version: `update --all` and
	// the daemon pass it by (see hold.go). It survives updates and
	// rollbacks; removing the package forgets it.
	Hold *Hold `json:"hold,omitempty"`
	// Repo is the repository (package index) the package was installed
	// from by name: its checks and updates ask that repository's index.
	// "" for a package installed from its update_url.
	Repo string `json:"repo,omitempty"`
}

// ErrBadRecord: an install record is there but cannot be used (not JSON,
// not a regular file, too large). Callers treat the package as having no
// record, and say so.
var ErrBadRecord = errors.New("unusable install record")

// maxRecordSize bounds what is read of an install record (they are a few
// hundred bytes).
const maxRecordSize = 64 << 10

// ReadRecord reads package name's install record. When there is none the
// error wraps fs.ErrNotExist; when it cannot be used, ErrBadRecord.
func (l Layout) ReadRecord(name string) (Record, error) {
	if err := CheckName(name); err != nil {
		return Record{}, err
	}
	data, err := l.readOwn(maxRecordSize, FolderInstalled, name+".json")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Record{}, fmt.Errorf("no install record of %s: %w", name, err)
	case errors.Is(err, fsutil.ErrNotRegular), errors.Is(err, fsutil.ErrTooLarge):
		return Record{}, fmt.Errorf("install record of %s: %w: %w", name, ErrBadRecord, err)
	case err != nil:
		return Record{}, fmt.Errorf("read install record of %s: %w", name, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("install record %s: %w: not valid JSON: %v", l.RecordPath(name), ErrBadRecord, err)
	}
	return r, nil
}

// WriteRecord replaces package name's install record atomically (whatever
// unusable thing is in its place is set aside).
func (l Layout) WriteRecord(name string, r Record) error {
	if err := CheckName(name); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write install record of %s: %w", name, err)
	}
	if err := l.writeOwn(FolderInstalled, name+".json", append(data, '\n')); err != nil {
		return fmt.Errorf("write install record of %s: %w", name, err)
	}
	return nil
}

// Records reads every install record of the root through one opening of
// installed/, by package name; records that cannot be used are left out
// (each reader of a single record says why). A root without records has
// none. For callers that need the records of thousands of packages (a
// check routes each package by its record's Repo).
func (l Layout) Records() (map[string]Record, error) {
	out := map[string]Record{}
	r, err := l.OpenOwn(false, FolderInstalled)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ents, err := readDirIn(r, ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.InstalledDir(), err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() || CheckName(name) != nil {
			continue
		}
		data, err := fsutil.ReadRegularIn(r, e.Name(), maxRecordSize)
		if err != nil {
			continue
		}
		var rec Record
		if json.Unmarshal(data, &rec) == nil {
			out[name] = rec
		}
	}
	return out, nil
}

// RecordsStamp changes when an install record of the root is written or
// removed (the modification time of installed/); "" when there is no
// installed/. For callers that keep Records between uses (the daemon).
func (l Layout) RecordsStamp() string {
	r, err := l.OpenOwn(false, FolderInstalled)
	if err != nil {
		return ""
	}
	defer r.Close()
	fi, err := r.Stat(".")
	if err != nil {
		return ""
	}
	return fi.ModTime().UTC().Format(time.RFC3339Nano)
}

// keepRepo keeps the repository the current record names in rec (a
// rollback restores a version, not the way the package is checked).
func (l Layout) keepRepo(name string, rec *Record) {
	if cur, err := l.ReadRecord(name); err == nil && rec.Repo == "" {
		rec.Repo = cur.Repo
	}
}

// removeRecord deletes package name's install record, if any.
func (l Layout) removeRecord(name string) error {
	return l.removeOwn(FolderInstalled, name+".json")
}

// changeRecord rewrites package name's install record through change,
// keeping the rest of it. A package installed without modup, or whose
// record is unusable (ErrBadRecord), gets a record holding only its
// version (from version); with none and nothing to record (create false),
// nothing is written. The caller holds the package's lock.
func (l Layout) changeRecord(name, version string, create bool, change func(*Record)) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := l.checkLocked(name); err != nil {
		return err
	}
	rec, err := l.ReadRecord(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return nil
		}
		rec = Record{Version: version}
	case errors.Is(err, ErrBadRecord):
		rec = Record{Version: version}
	case err != nil:
		return err
	}
	change(&rec)
	return l.WriteRecord(name, rec)
}
