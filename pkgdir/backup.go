package pkgdir

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/redact"
)

// Backup is an earlier version of a package kept in
// .modup/backups/<name>/<version>/.
type Backup struct {
	Name    string
	Version string // from the backup's a2modsource.json, else its folder name
	Dir     string // absolute
	// Time is when modup made the backup, as it recorded then; for a
	// backup made by a modup that kept no record, its folder's
	// modification time.
	Time time.Time
	// Seq orders the backups of a package (higher is newer); 0 for a
	// backup without a record.
	Seq int64
}

// backupRecord is what modup writes beside each backup it makes, as
// backups/<name>/.<folder>.json: when it made it, and its place among the
// package's backups. Backups are ordered by that place, never by file
// times: a folder dated in the future (a clock that was ahead, a copy)
// must not pass for the newest backup, for pruning or for rollback.
type backupRecord struct {
	Version string    `json:"version"`
	Seq     int64     `json:"seq"`
	MadeAt  time.Time `json:"made_at"`
}

// maxBackupRecord bounds what is read of a backup record.
const maxBackupRecord = 4 << 10

func backupRecordName(dir string) string { return "." + dir + ".json" }

// isBackupRecordName reports whether a hidden file of backups/<name>/ is
// a backup record, and of which folder.
func isBackupRecordName(file string) (string, bool) {
	rest, ok := strings.CutPrefix(file, ".")
	if !ok {
		return "", false
	}
	dir, ok := strings.CutSuffix(rest, ".json")
	return dir, ok && dir != "" && !strings.HasPrefix(dir, ".") && !strings.Contains(dir, ".tmp-")
}

// Backups lists the backups of package name, newest first; name "" lists
// those of every package, package by package.
func (l Layout) Backups(name string) ([]Backup, error) {
	var names []string
	if name != "" {
		if err := CheckName(name); err != nil {
			return nil, err
		}
		names = []string{name}
	} else {
		var err error
		if names, err = l.backedUpNames(); err != nil {
			return nil, err
		}
	}
	var all []Backup
	for _, n := range names {
		bs, err := l.listBackups(n)
		if err != nil {
			return nil, err
		}
		all = append(all, bs...)
	}
	return all, nil
}

// backedUpNames lists the packages with a folder in backups/, sorted.
func (l Layout) backedUpNames() ([]string, error) {
	r, err := l.OpenOwn(false, FolderBackups)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	defer r.Close()
	entries, err := readDirIn(r, ".")
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && CheckName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// listBackups lists package name's backups, newest first.
func (l Layout) listBackups(name string) ([]Backup, error) {
	r, err := l.OpenOwn(false, FolderBackups, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", name, err)
	}
	defer r.Close()
	entries, err := readDirIn(r, ".")
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", name, err)
	}
	var out []Backup
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path, err := l.absPath(filepath.Join(r.Name(), e.Name()))
		if err != nil {
			return nil, err
		}
		version, _, _ := strings.Cut(e.Name(), "~")
		if m, err := ReadManifest(path); err == nil && m.Version != "" {
			version = m.Version
		}
		b := Backup{Name: name, Version: version, Dir: path}
		if rec, ok := readBackupRecord(r, e.Name()); ok {
			b.Time, b.Seq = rec.MadeAt, rec.Seq
		} else {
			info, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // pruned meanwhile
				}
				return nil, fmt.Errorf("list backups of %s: %w", name, err)
			}
			b.Time = info.ModTime()
		}
		out = append(out, b)
	}
	sortBackups(out)
	return out, nil
}

// readBackupRecord reads the record of backup folder dir in r (a package's
// backups folder); ok is false when there is none or it is unusable.
func readBackupRecord(r *os.Root, dir string) (backupRecord, bool) {
	data, err := fsutil.ReadRegularIn(r, backupRecordName(dir), maxBackupRecord)
	if err != nil {
		return backupRecord{}, false
	}
	var rec backupRecord
	if json.Unmarshal(data, &rec) != nil || rec.Seq <= 0 {
		return backupRecord{}, false
	}
	return rec, true
}

// sortBackups orders one package's backups newest first: those modup
// recorded by their sequence number, then those of a modup that kept no
// record (all made before any recorded one), by version, then folder
// time, then folder name (~3 before ~2).
func sortBackups(bs []Backup) {
	slices.SortStableFunc(bs, func(a, b Backup) int {
		if a.Seq != 0 || b.Seq != 0 {
			return cmp.Compare(b.Seq, a.Seq)
		}
		va, ea := semver.NewVersion(strings.TrimSpace(a.Version))
		vb, eb := semver.NewVersion(strings.TrimSpace(b.Version))
		switch {
		case ea == nil && eb == nil:
			if c := vb.Compare(va); c != 0 {
				return c
			}
		case ea == nil:
			return -1 // a version that parses above one that does not
		case eb == nil:
			return 1
		}
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Dir, a.Dir)
	})
}

// recordBackup writes the record of the backup a journaled change made
// (j.Backup), with the sequence number the journal holds, or the next one
// when an older journal holds none.
func (l Layout) recordBackup(j *journal) error {
	if j.Backup == "" {
		return nil
	}
	r, err := l.OpenOwn(true, FolderBackups, j.Name)
	if err != nil {
		return fmt.Errorf("record backup of %s: %w", j.Name, err)
	}
	defer r.Close()
	seq := j.BackupSeq
	if seq <= 0 {
		if seq, err = nextBackupSeq(r); err != nil {
			return fmt.Errorf("record backup of %s: %w", j.Name, err)
		}
	}
	data, err := json.Marshal(backupRecord{Version: j.OldVersion, Seq: seq, MadeAt: j.Started})
	if err != nil {
		return err
	}
	dir := path.Base(j.Backup)
	if err := fsutil.WriteFileAtomicIn(r, backupRecordName(dir), append(data, '\n'), 0o666); err != nil {
		return fmt.Errorf("record backup of %s: %w", j.Name, err)
	}
	return nil
}

// forgetBackup removes the record of a backup folder that is no longer
// one (restored by a rollback, pruned); a leftover record is ignored, so
// this is best effort.
func (l Layout) forgetBackup(name, dir string) {
	r, err := l.OpenOwn(false, FolderBackups, name)
	if err != nil {
		return
	}
	defer r.Close()
	_ = r.Remove(backupRecordName(dir))
}

// nextBackupSeq is one more than the highest sequence number recorded in
// r, a package's backups folder.
func nextBackupSeq(r *os.Root) (int64, error) {
	ents, err := readDirIn(r, ".")
	if err != nil {
		return 0, err
	}
	var top int64
	for _, e := range ents {
		if _, ok := isBackupRecordName(e.Name()); !ok || !e.Type().IsRegular() {
			continue
		}
		data, err := fsutil.ReadRegularIn(r, e.Name(), maxBackupRecord)
		if err != nil {
			continue
		}
		var rec backupRecord
		if json.Unmarshal(data, &rec) == nil {
			top = max(top, rec.Seq)
		}
	}
	return top + 1, nil
}

// Prune deletes all but the newest keep backups of package name (of every
// package when name is ""), and returns those it deleted. Each goes to
// tmp/ in one rename before being deleted, so a crash never leaves half a
// backup among the backups. Nothing else may change the package's backups
// meanwhile: hold its lock, or run where no rollback can.
func (l Layout) Prune(name string, keep int) ([]Backup, error) {
	if keep < 0 {
		return nil, fmt.Errorf("prune: keep %d backups? want 0 or more", keep)
	}
	if err := l.Check(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	names := []string{name}
	if name == "" {
		var err error
		if names, err = l.backedUpNames(); err != nil {
			return nil, err
		}
	} else if err := CheckName(name); err != nil {
		return nil, err
	}
	var removed []Backup
	var errs []error
	for _, n := range names {
		if err := l.checkNoJournal(n); err != nil {
			errs = append(errs, fmt.Errorf("prune: %w", err))
			continue
		}
		bs, err := l.listBackups(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, b := range bs[min(keep, len(bs)):] {
			if err := l.deleteBackup(b); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, b)
		}
		l.forgetOrphans(n)
	}
	return removed, errors.Join(errs...)
}

// forgetOrphans removes the backup records of package name whose folder
// is gone and the temporary files of record writes a killed process left
// (".<folder>.json.tmp-123"), then backups/<name>/ if that is left empty.
// The caller holds the package's lock.
func (l Layout) forgetOrphans(name string) {
	r, err := l.OpenOwn(false, FolderBackups)
	if err != nil {
		return
	}
	defer r.Close()
	if pr, err := l.openChild(r, name, filepath.Join(r.Name(), name), false, 0); err == nil {
		ents, _ := readDirIn(pr, ".")
		for _, e := range ents {
			if i := strings.LastIndex(e.Name(), ".json.tmp-"); i > 0 && e.Type().IsRegular() && strings.HasPrefix(e.Name(), ".") &&
				fsutil.IsTempName(e.Name()[i:], ".json.tmp-", "") {
				_ = pr.Remove(e.Name())
				continue
			}
			dir, ok := isBackupRecordName(e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			if _, err := pr.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
				_ = pr.Remove(e.Name())
			}
		}
		pr.Close()
	}
	removeIfEmpty(r, name)
}

// deleteBackup moves backup b into a new trash folder tmp/<name>/prune-*
// in one rename, then deletes it from there (writable where it must be).
func (l Layout) deleteBackup(b Backup) error {
	trash, dir, err := l.newTrash(b.Name, tmpPrune)
	if err != nil {
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	defer trash.Close()
	if err := moveTo(b.Dir, filepath.Join(trash.Name(), dir, filepath.Base(b.Dir)), false); err != nil {
		trash.Remove(dir)
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	l.forgetBackup(b.Name, filepath.Base(b.Dir))
	if err := fsutil.RemoveAllIn(trash, dir); err != nil {
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	l.removeEmptyTmp(b.Name)
	return nil
}

// newTrash makes a new folder in tmp/<name>/ named after p, and returns
// tmp/<name>/ (to close) and the new folder's name in it.
func (l Layout) newTrash(name string, p tempPattern) (*os.Root, string, error) {
	r, err := l.OpenOwn(true, FolderTmp, name)
	if err != nil {
		return nil, "", err
	}
	dir, err := fsutil.MkdirTempIn(r, p.prefix, 0o700)
	if err != nil {
		r.Close()
		return nil, "", err
	}
	return r, dir, nil
}

// removeEmptyTmp removes tmp/<name>/ if it is empty.
func (l Layout) removeEmptyTmp(name string) {
	if r, err := l.OpenOwn(false, FolderTmp); err == nil {
		removeIfEmpty(r, name)
		r.Close()
	}
}

// Rollback puts a backup of package name back in place: the one of
// toVersion, or the newest when toVersion is "". It is a journaled swap
// like an update, so a crash leaves the package wholly as it was or wholly
// restored; the version it replaces becomes a backup, and the install
// record then describes the restored version. The caller holds the lock.
func (l Layout) Rollback(ctx context.Context, name, toVersion string) (SwapResult, Backup, error) {
	return l.rollback(ctx, name, toVersion, nil, false)
}

// ErrNoBackup: a rollback found no backup (of the version asked for).
var ErrNoBackup = errors.New("no such backup")

// noBackupError says which backup is missing; it matches ErrNoBackup.
type noBackupError string

func (e noBackupError) Error() string        { return string(e) }
func (e noBackupError) Is(target error) bool { return target == ErrNoBackup }

func (l Layout) rollback(ctx context.Context, name, toVersion string, inject func(string) error, noExchange bool) (SwapResult, Backup, error) {
	if err := CheckName(name); err != nil {
		return SwapResult{}, Backup{}, err
	}
	if err := l.checkLocked(name); err != nil {
		return SwapResult{}, Backup{}, err
	}
	if err := l.Check(); err != nil {
		return SwapResult{}, Backup{}, fmt.Errorf("roll back %s: %w", name, err)
	}
	bs, err := l.listBackups(name)
	if err != nil {
		return SwapResult{}, Backup{}, err
	}
	if len(bs) == 0 {
		return SwapResult{}, Backup{}, noBackupError(fmt.Sprintf("no backups of %s: nothing to roll back to; `modup backups` lists them", name))
	}
	b := bs[0]
	if toVersion != "" {
		i := slices.IndexFunc(bs, func(b Backup) bool {
			return b.Version == toVersion || filepath.Base(b.Dir) == toVersion
		})
		if i < 0 {
			var have []string
			for _, b := range bs {
				have = append(have, b.Version)
			}
			return SwapResult{}, Backup{}, noBackupError(fmt.Sprintf("no backup of %s at version %s (there are: %s); `modup backups` lists them", name, toVersion, strings.Join(have, ", ")))
		}
		b = bs[i]
	}
	live := filepath.Join(l.Root, name)
	hasOld, err := isDir(live)
	if err != nil {
		return SwapResult{}, b, fmt.Errorf("roll back %s: %w", name, err)
	}
	oldVersion := ""
	if hasOld {
		oldVersion = liveVersion(live)
	}
	rec := Record{Version: b.Version, Source: "rollback"}
	if m, err := ReadManifest(b.Dir); err == nil {
		rec.UpdateURL = redact.URL(m.UpdateURL) // the record is shown; a password in it is not
	}
	if err := l.keepPin(name, &rec); err != nil {
		return SwapResult{}, b, fmt.Errorf("roll back %s: %w", name, err)
	}
	l.keepRepo(name, &rec)
	res, err := l.swap(ctx, swapParams{
		op: opRollback, name: name, staged: b.Dir, hasOld: hasOld,
		oldVersion: oldVersion, newVersion: b.Version,
		record: &rec, inject: inject, noExchange: noExchange,
	})
	return res, b, err
}

// liveVersion is the version in dir's manifest, or "unknown" when it has
// none or it does not parse: a broken package can still be backed up.
func liveVersion(dir string) string {
	m, err := ReadManifest(dir)
	if err != nil || m.Version == "" {
		return "unknown"
	}
	return m.Version
}

// Remove takes package name out of the root. Unless purge, it becomes a
// backup (journaled like a swap) and its path is returned; with purge it is
// moved into tmp/ in one rename and deleted from there, so a crash never
// leaves half a package in the root. The install record goes too. The
// caller holds the lock.
func (l Layout) Remove(ctx context.Context, name string, purge bool) (backupDir string, err error) {
	return l.remove(ctx, name, purge, nil)
}

func (l Layout) remove(ctx context.Context, name string, purge bool, inject func(string) error) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	what := "remove " + name
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkLocked(name); err != nil {
		return "", err
	}
	if err := l.Check(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkNoJournal(name); err != nil {
		return "", err
	}
	live := filepath.Join(l.Root, name)
	ok, err := isDir(live)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return "", fmt.Errorf("%s: %w in %s (modup list shows the installed packages)", what, ErrNoPackage, l.Root)
	}
	if inject == nil {
		inject = func(string) error { return nil }
	}
	j := &journal{Name: name, Live: name, OldVersion: liveVersion(live), Started: time.Now().UTC()}
	var target, trashDir string
	var trash *os.Root // tmp/<name>/, holding trashDir
	if purge {
		j.Op = opPurge
		if trash, trashDir, err = l.newTrash(name, tmpPurge); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		defer trash.Close()
		target = filepath.Join(trash.Name(), trashDir, name)
		if j.Trash, err = l.relPath(target); err != nil {
			return "", err
		}
	} else {
		j.Op = opRemove
		if target, j.BackupSeq, err = l.newBackupPath(name, j.OldVersion); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		if j.Backup, err = l.relPath(target); err != nil {
			return "", err
		}
	}
	fail := func(err error) (string, error) {
		r, serr := l.settle(j, nil)
		switch {
		case serr != nil:
			return "", fmt.Errorf("%s: %w; the change could not be settled (%v): its journal %s stays, and the next modup command tries again", what, err, serr, l.JournalPath(name))
		case r.Action == ActionFinished && !purge:
			return target, fmt.Errorf("%s: %w; it was removed nonetheless", what, err)
		case r.Action == ActionFinished:
			return "", fmt.Errorf("%s: %w; it was removed nonetheless", what, err)
		}
		return "", fmt.Errorf("%s: %w; nothing was changed", what, err)
	}

	if err := inject(StepJournal); err != nil {
		return "", err
	}
	if err := l.writeJournal(j); err != nil {
		_ = l.removeJournal(name)
		return "", fmt.Errorf("%s: %w", what, err)
	}
	step := StepBackupLive
	if purge {
		step = StepTrashLive
	}
	if err := inject(step); err != nil {
		return "", err
	}
	if err := moveTo(live, target, !purge); err != nil {
		return fail(err)
	}
	if err := l.recordBackup(j); err != nil {
		return fail(err)
	}
	if err := inject(StepUnrecord); err != nil {
		return "", err
	}
	if err := l.removeRecord(name); err != nil {
		return fail(err)
	}
	if err := l.dropList(name); err != nil {
		return fail(err)
	}
	if err := inject(StepUnjournal); err != nil {
		return "", err
	}
	if err := l.removeJournal(name); err != nil {
		return fail(err)
	}
	if !purge {
		return target, nil
	}
	if err := inject(StepDelete); err != nil {
		return "", err
	}
	if err := fsutil.RemoveAllIn(trash, trashDir); err != nil {
		return "", fmt.Errorf("%s: removed, but deleting its files: %w (the next modup command deletes them)", what, err)
	}
	l.removeEmptyTmp(name)
	return "", nil
}
