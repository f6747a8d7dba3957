package pkgdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
}

// ReadRecord reads package name's install record. When there is none the
// error wraps os.ErrNotExist.
func (l Layout) ReadRecord(name string) (Record, error) {
	if err := CheckName(name); err != nil {
		return Record{}, err
	}
	path := l.RecordPath(name)
	data, err := readLimited(path, 1<<20)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Record{}, fmt.Errorf("no install record of %s: %w", name, err)
		}
		return Record{}, fmt.Errorf("read install record of %s: %w", name, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("read install record of %s: %s: %w", name, path, err)
	}
	return r, nil
}

// WriteRecord replaces package name's install record atomically.
func (l Layout) WriteRecord(name string, r Record) error {
	if err := CheckName(name); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write install record of %s: %w", name, err)
	}
	if err := os.MkdirAll(l.InstalledDir(), 0o755); err != nil {
		return fmt.Errorf("write install record of %s: %w", name, err)
	}
	if err := fsutil.WriteFileAtomic(l.RecordPath(name), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write install record of %s: %w", name, err)
	}
	return nil
}

// removeRecord deletes package name's install record, if any.
func (l Layout) removeRecord(name string) error {
	return removeSynced(l.RecordPath(name))
}

// removeSynced removes a file (absent is fine) and syncs its folder.
func removeSynced(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return fsutil.SyncDir(filepath.Dir(path))
}
