package pkgdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/modup/modup/internal/fsutil"
)

// Recovery actions.
const (
	ActionFinished   = "finished"    // an interrupted change was completed: the new version is in place
	ActionRolledBack = "rolled-back" // an interrupted change was undone: the old version is in place
	ActionSwept      = "swept"       // a leftover temporary or staging file was removed
)

// Recovery is one thing Recover did.
type Recovery struct {
	Package string
	Action  string // ActionFinished, ActionRolledBack or ActionSwept
	Detail  string
}

// Steps of recovery itself, for tests that crash it halfway.
const (
	recStepRestore      = "restore"       // move the backup back into place
	recStepRemoveStaged = "remove-staged" // delete the staged folder of an undone change
)

// Recover settles what crashed modup processes left behind in this root,
// and is meant to run at the start of every command. For each journal whose
// package nobody holds the lock of (a held lock means the change is still
// in progress), it looks at what is on disk: if the new folder is in place
// it finishes the change (backup, record, journal), otherwise it puts the
// old folder back, so that each package is wholly its old or wholly its
// new version. Then it removes everything under tmp/ and staging/ (and
// stray temporary files of atomic writes) that belongs to no package whose
// lock is held.
//
// Recover is idempotent: if it is itself interrupted, the next run still
// reaches the same end. Problems with one package are returned joined and
// do not stop the others.
func (l Layout) Recover(ctx context.Context) ([]Recovery, error) {
	return l.recover(ctx, nil)
}

func (l Layout) recover(ctx context.Context, hook func(string) error) ([]Recovery, error) {
	var done []Recovery
	var errs []error

	entries, err := os.ReadDir(l.JournalDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recover %s: %w", l.Root, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return done, errors.Join(append(errs, err)...)
		}
		r, err := l.recoverJournal(ctx, name, hook)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Action != "" {
			done = append(done, r)
		}
	}

	for _, dir := range []string{l.TmpDir(), l.StagingDir()} {
		swept, err := l.sweepDir(ctx, dir)
		done = append(done, swept...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, dir := range []string{l.JournalDir(), l.InstalledDir(), l.LocksDir()} {
		swept, err := l.sweepAtomicTemps(ctx, dir)
		done = append(done, swept...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	swept, err := l.sweepHolders(ctx)
	done = append(done, swept...)
	if err != nil {
		errs = append(errs, err)
	}
	return done, errors.Join(errs...)
}

// sweepHolders removes the holder descriptions (locks/<name>.holder) that
// processes killed while holding a lock leave behind, when nobody holds
// that lock now: a stale one would name a dead process to whoever next
// finds the lock taken before the new holder has written itself down.
func (l Layout) sweepHolders(ctx context.Context) ([]Recovery, error) {
	dir := l.LocksDir()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	var done []Recovery
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".holder")
		if !ok || strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() || CheckName(name) != nil {
			continue
		}
		lk, err := l.Lock(ctx, name, 0)
		if errors.Is(err, ErrLocked) {
			continue
		}
		if err == nil {
			err = lk.Unlock() // removes the holder file, stale or just written
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", filepath.Join(dir, e.Name()), err))
			continue
		}
		done = append(done, Recovery{Package: name, Action: ActionSwept, Detail: "removed the stale lock holder " + filepath.Join(dir, e.Name())})
	}
	return done, errors.Join(errs...)
}

// recoverJournal settles package name's journal, unless its lock is held.
// A zero Recovery means there was nothing to do.
func (l Layout) recoverJournal(ctx context.Context, name string, hook func(string) error) (Recovery, error) {
	if err := CheckName(name); err != nil {
		return Recovery{}, fmt.Errorf("recover: journal %s: %w", l.JournalPath(name), err)
	}
	lk, err := l.Lock(ctx, name, 0)
	if errors.Is(err, ErrLocked) {
		return Recovery{}, nil // in progress
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", name, err)
	}
	defer lk.Unlock()
	j, err := l.readJournal(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Recovery{}, nil // settled by its owner meanwhile
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", name, err)
	}
	r, err := l.settle(j, hook)
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", name, err)
	}
	return r, nil
}

// settle brings an interrupted change to an end, deciding from what is on
// disk. The caller holds the package's lock. Every action is a single
// rename or a removal whose outcome the next settle recognises, so a
// crash inside settle is settled by the next one.
func (l Layout) settle(j *journal, hook func(string) error) (Recovery, error) {
	if hook == nil {
		hook = func(string) error { return nil }
	}
	if err := l.checkJournal(j); err != nil {
		return Recovery{}, err
	}
	switch j.Op {
	case opRemove, opPurge:
		return l.settleRemove(j, hook)
	default:
		return l.settleSwap(j, hook)
	}
}

// checkJournal refuses a journal whose paths are not where modup puts
// them, so that a damaged or forged journal cannot make recovery move
// folders elsewhere.
func (l Layout) checkJournal(j *journal) error {
	bad := func(why string) error {
		return fmt.Errorf("journal %s: %s; move it away if you settled the change by hand", l.JournalPath(j.Name), why)
	}
	if err := CheckName(j.Name); err != nil {
		return bad(err.Error())
	}
	if j.Live != j.Name {
		return bad(fmt.Sprintf("live folder %q is not the package folder", j.Live))
	}
	backups := backupsRel + "/" + j.Name
	switch j.Op {
	case opInstall, opUpdate:
		if !within(j.Staged, stagingRel) {
			return bad(fmt.Sprintf("staged folder %q is not in %s", j.Staged, stagingRel))
		}
	case opRollback:
		if !within(j.Staged, backups) {
			return bad(fmt.Sprintf("restored backup %q is not in %s", j.Staged, backups))
		}
	case opRemove:
		if j.Backup == "" || j.Staged != "" {
			return bad("a removal names a backup and nothing staged")
		}
	case opPurge:
		if !within(j.Trash, tmpRel+"/"+j.Name) || j.Staged != "" || j.Backup != "" {
			return bad(fmt.Sprintf("trash %q is not in %s/%s", j.Trash, tmpRel, j.Name))
		}
		return nil
	default:
		return bad(fmt.Sprintf("unknown operation %q", j.Op))
	}
	if j.Op == opInstall && j.Backup != "" {
		return bad("a new install names a backup")
	}
	if j.Op == opUpdate && j.Backup == "" {
		return bad("an update names no backup")
	}
	if j.Backup != "" && !within(j.Backup, backups) {
		return bad(fmt.Sprintf("backup %q is not in %s", j.Backup, backups))
	}
	if j.Op != opRemove && j.NewHash == "" {
		return bad("no tree hash of the new version")
	}
	return nil
}

// settleSwap settles an install, update or rollback. Where the live (L),
// staged (S) and backup (B) paths stand:
//
//	L S B
//	+ + ?  nothing moved (S is new), or exchanged (L is new, S is old):
//	       the tree hash tells; undo, or move S to B (absent) and finish
//	- + +  the old folder went to its backup, the new one is not placed: undo
//	+ - +  the new folder is in place: finish
//	+ - -  new install placed: finish; otherwise an undo already put the old
//	       folder back (and removed S): drop the journal (unless the tree
//	       hash shows L is new: finish)
//	- - +  the staged folder vanished: put the backup back
//	- + -  new install not placed: undo; otherwise the old folder vanished
//	- - -  nothing left: drop the journal
//
// Where the hashes leave a doubt, settleSwap changes nothing and says so.
func (l Layout) settleSwap(j *journal, hook func(string) error) (Recovery, error) {
	live, err := l.fromRel(j.Live)
	if err != nil {
		return Recovery{}, err
	}
	staged, err := l.fromRel(j.Staged)
	if err != nil {
		return Recovery{}, err
	}
	var backup string
	if j.Backup != "" {
		if backup, err = l.fromRel(j.Backup); err != nil {
			return Recovery{}, err
		}
	}
	le, err := exists(live)
	if err != nil {
		return Recovery{}, err
	}
	se, err := exists(staged)
	if err != nil {
		return Recovery{}, err
	}
	be := false
	if backup != "" {
		if be, err = exists(backup); err != nil {
			return Recovery{}, err
		}
	}
	old := j.OldVersion
	if old == "" {
		old = "the old version"
	}
	describe := fmt.Sprintf("%s of %s to %s", j.Op, j.Name, j.NewVersion)

	switch {
	case le && se:
		sh, err := TreeHash(staged)
		if err != nil {
			return Recovery{}, err
		}
		if sh == j.NewHash {
			// The staged folder still holds the new version: nothing was
			// placed. (Anything at the backup path is not ours to touch.)
			return l.undo(j, staged, hook, fmt.Sprintf("undid the interrupted %s before anything moved; %s stays", describe, old))
		}
		lh, err := TreeHash(live)
		if err != nil {
			return Recovery{}, err
		}
		if lh != j.NewHash || backup == "" || be {
			return Recovery{}, fmt.Errorf("%s was interrupted and modup cannot tell which of %s and %s is which version: check them, put the right one at %s and remove %s", describe, live, staged, live, l.JournalPath(j.Name))
		}
		// Exchanged: the new folder is live, the old one sits at the
		// staged path.
		if err := hook(StepBackupOld); err != nil {
			return Recovery{}, err
		}
		if err := moveTo(staged, backup, true); err != nil {
			return Recovery{}, err
		}
		return l.finish(j, staged, hook, fmt.Sprintf("finished the interrupted %s; %s kept in %s", describe, old, backup))

	case le && be, le && backup == "":
		return l.finish(j, staged, hook, fmt.Sprintf("finished the interrupted %s", describe))

	case le:
		// Modup only gets here after an undo that put the old folder back
		// and then crashed; but if the backup was deleted by hand after
		// the new folder was placed, the hash shows it.
		if lh, err := TreeHash(live); err == nil && lh == j.NewHash {
			return l.finish(j, staged, hook, fmt.Sprintf("finished the interrupted %s (its backup %s is missing)", describe, backup))
		}
		return l.undo(j, staged, hook, fmt.Sprintf("the interrupted %s was already undone; %s stays", describe, old))

	case be:
		if err := hook(recStepRestore); err != nil {
			return Recovery{}, err
		}
		if err := moveTo(backup, live, false); err != nil {
			return Recovery{}, err
		}
		return l.undo(j, staged, hook, fmt.Sprintf("undid the interrupted %s; %s is back in place", describe, old))

	case se && backup == "":
		return l.undo(j, staged, hook, fmt.Sprintf("undid the interrupted %s; %s stays uninstalled", describe, j.Name))

	default:
		return l.undo(j, staged, hook, fmt.Sprintf("undid the interrupted %s, but %s and its backup %s were gone: %s is not installed", describe, live, backup, j.Name))
	}
}

// finish writes the record and removes the journal: the new folder is in
// place and the old one in its backup.
func (l Layout) finish(j *journal, staged string, hook func(string) error, detail string) (Recovery, error) {
	if j.Record != nil {
		if err := hook(StepRecord); err != nil {
			return Recovery{}, err
		}
		if err := l.WriteRecord(j.Name, *j.Record); err != nil {
			return Recovery{}, err
		}
	}
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := removeSynced(l.JournalPath(j.Name)); err != nil {
		return Recovery{}, err
	}
	l.cleanStagedParents(j.Op, staged)
	return Recovery{Package: j.Name, Action: ActionFinished, Detail: detail}, nil
}

// undo removes the journal, then the staged folder (unless it is a backup
// being restored, which simply stays one). The old folder is in place. The
// journal goes first: a staged folder half deleted by a crash is then a
// leftover the sweep removes, never something a journal points at.
func (l Layout) undo(j *journal, staged string, hook func(string) error, detail string) (Recovery, error) {
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := removeSynced(l.JournalPath(j.Name)); err != nil {
		return Recovery{}, err
	}
	if j.Op != opRollback {
		if err := hook(recStepRemoveStaged); err != nil {
			return Recovery{}, err
		}
		if err := os.RemoveAll(staged); err != nil {
			return Recovery{}, err
		}
		l.cleanStagedParents(j.Op, staged)
	}
	return Recovery{Package: j.Name, Action: ActionRolledBack, Detail: detail}, nil
}

// settleRemove settles a removal (live folder to backup) or a purge (live
// folder to tmp/, then deleted). Once the live folder has moved the
// removal counts as done.
func (l Layout) settleRemove(j *journal, hook func(string) error) (Recovery, error) {
	live, err := l.fromRel(j.Live)
	if err != nil {
		return Recovery{}, err
	}
	le, err := exists(live)
	if err != nil {
		return Recovery{}, err
	}
	moved := j.Backup
	if j.Op == opPurge {
		moved = j.Trash
	}
	movedPath, err := l.fromRel(moved)
	if err != nil {
		return Recovery{}, err
	}
	me, err := exists(movedPath)
	if err != nil {
		return Recovery{}, err
	}
	if le && !me {
		if err := hook(StepUnjournal); err != nil {
			return Recovery{}, err
		}
		if err := removeSynced(l.JournalPath(j.Name)); err != nil {
			return Recovery{}, err
		}
		return Recovery{Package: j.Name, Action: ActionRolledBack, Detail: fmt.Sprintf("undid the interrupted %s of %s; it stays installed", j.Op, j.Name)}, nil
	}
	if err := hook(StepUnrecord); err != nil {
		return Recovery{}, err
	}
	if err := l.removeRecord(j.Name); err != nil {
		return Recovery{}, err
	}
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := removeSynced(l.JournalPath(j.Name)); err != nil {
		return Recovery{}, err
	}
	detail := fmt.Sprintf("finished the interrupted removal of %s; it is kept in %s", j.Name, movedPath)
	if j.Op == opPurge {
		if err := hook(StepDelete); err != nil {
			return Recovery{}, err
		}
		if err := os.RemoveAll(filepath.Dir(movedPath)); err != nil {
			return Recovery{}, err
		}
		detail = fmt.Sprintf("finished the interrupted deletion of %s", j.Name)
	}
	return Recovery{Package: j.Name, Action: ActionFinished, Detail: detail}, nil
}

// sweepDir removes each entry of tmp/ or staging/ whose package (the
// entry's name, see NewStaging and CreateTemp) is not locked and has no
// journal pending.
func (l Layout) sweepDir(ctx context.Context, dir string) ([]Recovery, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	var done []Recovery
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		removed, err := l.sweepOwned(ctx, e.Name(), func() error { return os.RemoveAll(path) })
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", path, err))
		}
		if removed {
			done = append(done, Recovery{Package: e.Name(), Action: ActionSwept, Detail: "removed leftover " + path})
		}
	}
	return done, errors.Join(errs...)
}

// sweepOwned runs remove unless package name is locked by someone or has
// a journal pending. A name no package can have is nobody's.
func (l Layout) sweepOwned(ctx context.Context, name string, remove func() error) (bool, error) {
	if CheckName(name) == nil {
		if pending, err := exists(l.JournalPath(name)); err != nil || pending {
			return false, err
		}
		lk, err := l.Lock(ctx, name, 0)
		if errors.Is(err, ErrLocked) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		defer lk.Unlock()
	}
	if err := remove(); err != nil {
		return false, err
	}
	return true, nil
}

// sweepAtomicTemps removes the temporary files fsutil.WriteFileAtomic
// leaves when killed (".<name>.json.tmp-123"), unless their package is
// locked: its holder may be writing them right now.
func (l Layout) sweepAtomicTemps(ctx context.Context, dir string) ([]Recovery, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", dir, err)
	}
	var done []Recovery
	var errs []error
	for _, e := range entries {
		file := e.Name()
		rest, ok := strings.CutPrefix(file, ".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		i := strings.LastIndex(rest, ".tmp-")
		if i < 0 {
			continue
		}
		name := rest[:i]
		for _, ext := range []string{".json", ".holder"} {
			name = strings.TrimSuffix(name, ext)
		}
		if CheckName(name) != nil {
			continue // not one of ours: leave it
		}
		path := filepath.Join(dir, file)
		// A pending journal does not protect these: the journal itself is
		// complete (it was renamed into place) or it was never written.
		lk, err := l.Lock(ctx, name, 0)
		if errors.Is(err, ErrLocked) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", path, err))
			continue
		}
		err = os.Remove(path)
		lk.Unlock()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sweep %s: %w", path, err))
			continue
		}
		done = append(done, Recovery{Package: name, Action: ActionSwept, Detail: "removed leftover " + path})
	}
	if len(done) > 0 {
		if err := fsutil.SyncDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}
