package pkgdir

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Backup is an earlier version of a package kept in
// .modup/backups/<name>/<version>/.
type Backup struct {
	Name    string
	Version string // from the backup's a2modsource.json, else its folder name
	Dir     string // absolute
	Time    time.Time
}

// Backups lists the backups of package name, newest first; name "" lists
// those of every package. Time is the modification time of the backup
// folder, which modup sets when it makes the backup.
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
	sortBackups(all)
	return all, nil
}

// backedUpNames lists the packages with a folder in backups/.
func (l Layout) backedUpNames() ([]string, error) {
	entries, err := os.ReadDir(l.BackupsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && CheckName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (l Layout) listBackups(name string) ([]Backup, error) {
	dir := filepath.Join(l.BackupsDir(), name)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", name, err)
	}
	var out []Backup
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // pruned meanwhile
			}
			return nil, fmt.Errorf("list backups of %s: %w", name, err)
		}
		path, err := l.absPath(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		version, _, _ := strings.Cut(e.Name(), "~")
		if m, err := ReadManifest(path); err == nil && m.Version != "" {
			version = m.Version
		}
		out = append(out, Backup{Name: name, Version: version, Dir: path, Time: info.ModTime()})
	}
	sortBackups(out)
	return out, nil
}

// sortBackups orders newest first; equal times fall back to the folder
// name, so ~3 comes before ~2.
func sortBackups(bs []Backup) {
	slices.SortStableFunc(bs, func(a, b Backup) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Dir, a.Dir)
	})
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
		os.Remove(filepath.Join(l.BackupsDir(), n)) // only if empty now
	}
	return removed, errors.Join(errs...)
}

func (l Layout) deleteBackup(b Backup) error {
	parent := filepath.Join(l.TmpDir(), b.Name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	trash, err := os.MkdirTemp(parent, "prune-*")
	if err != nil {
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	if err := moveTo(b.Dir, filepath.Join(trash, filepath.Base(b.Dir)), false); err != nil {
		os.Remove(trash)
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("delete backup %s: %w", b.Dir, err)
	}
	removeEmptyParents(trash, l.TmpDir())
	return nil
}

// Rollback puts a backup of package name back in place: the one of
// toVersion, or the newest when toVersion is "". It is a journaled swap
// like an update, so a crash leaves the package wholly as it was or wholly
// restored; the version it replaces becomes a backup, and the install
// record then describes the restored version. The caller holds the lock.
func (l Layout) Rollback(ctx context.Context, name, toVersion string) (SwapResult, Backup, error) {
	return l.rollback(ctx, name, toVersion, nil, false)
}

func (l Layout) rollback(ctx context.Context, name, toVersion string, inject func(string) error, noExchange bool) (SwapResult, Backup, error) {
	if err := CheckName(name); err != nil {
		return SwapResult{}, Backup{}, err
	}
	if err := l.checkLocked(name); err != nil {
		return SwapResult{}, Backup{}, err
	}
	bs, err := l.listBackups(name)
	if err != nil {
		return SwapResult{}, Backup{}, err
	}
	if len(bs) == 0 {
		return SwapResult{}, Backup{}, fmt.Errorf("no backups of %s: nothing to roll back to; `modup backups` lists them", name)
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
			return SwapResult{}, Backup{}, fmt.Errorf("no backup of %s at version %s (there are: %s); `modup backups` lists them", name, toVersion, strings.Join(have, ", "))
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
		rec.UpdateURL = m.UpdateURL
	}
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
	if purge {
		j.Op = opPurge
		parent := filepath.Join(l.TmpDir(), name)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		if trashDir, err = os.MkdirTemp(parent, "purge-*"); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		target = filepath.Join(trashDir, name)
		if j.Trash, err = l.relPath(target); err != nil {
			return "", err
		}
	} else {
		j.Op = opRemove
		if target, err = l.newBackupPath(name, j.OldVersion); err != nil {
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
			return "", fmt.Errorf("%s: %w; the change could not be settled (%v): modup settles it on its next start", what, err, serr)
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
		_ = removeSynced(l.JournalPath(name))
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
	if err := inject(StepUnrecord); err != nil {
		return "", err
	}
	if err := l.removeRecord(name); err != nil {
		return fail(err)
	}
	if err := inject(StepUnjournal); err != nil {
		return "", err
	}
	if err := removeSynced(l.JournalPath(name)); err != nil {
		return fail(err)
	}
	if !purge {
		return target, nil
	}
	if err := inject(StepDelete); err != nil {
		return "", err
	}
	if err := os.RemoveAll(trashDir); err != nil {
		return "", fmt.Errorf("%s: removed, but deleting %s: %w (modup deletes it on its next start)", what, trashDir, err)
	}
	removeEmptyParents(trashDir, l.TmpDir())
	return "", nil
}
