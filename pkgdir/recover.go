package pkgdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/internal/fsutil"
)

// Recovery actions.
const (
	ActionFinished   = "finished"    // an interrupted change was completed: the new version is in place
	ActionRolledBack = "rolled-back" // an interrupted change was undone: the old version is in place
	ActionSwept      = "swept"       // a leftover temporary or staging file was removed
	ActionSetAside   = "set-aside"   // a journal modup cannot use was moved aside, kept for inspection
)

// Recovery is one thing Recover did.
type Recovery struct {
	Package string
	Action  string // ActionFinished, ActionRolledBack, ActionSwept or ActionSetAside
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
// new version; a journal it cannot use is set aside (see Settle). Then it
// removes what modup left under tmp/ and staging/ (downloads, staging
// folders, trash: names it recognises as its own, nothing else) and stray
// temporary files of atomic writes, of every package whose lock is free.
//
// First of all it checks the layout (Check): in a root whose .modup holds
// a link, a file or a named pipe where modup keeps a folder, it does
// nothing and returns an error matching ErrUnsafeLayout.
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

	if err := l.Check(); err != nil {
		return nil, err
	}
	// Transactions first: a member's own journal cannot be pending beside
	// one (a change of a package checks that none is).
	txns, err := l.recoverTxns(ctx, hook)
	done = append(done, txns...)
	if err != nil {
		errs = append(errs, err)
	}
	entries, err := os.ReadDir(l.JournalDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recover %s: %w", l.Root, err)
	}
	for _, e := range entries {
		// Whatever its type: a folder or a named pipe in a journal's place
		// is set aside, not left to block the package.
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || CheckName(name) != nil {
			continue // not a journal modup writes: left alone
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

	for _, folder := range []string{FolderTmp, FolderStaging} {
		swept, err := l.sweepDir(ctx, folder)
		done = append(done, swept...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	swept, err := l.sweepTxnTemps(ctx)
	done = append(done, swept...)
	if err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct{ folder, ext string }{{FolderJournal, ".json"}, {FolderInstalled, ".json"}, {FolderLocks, ".holder"}} {
		swept, err := l.sweepAtomicTemps(ctx, f.folder, f.ext)
		done = append(done, swept...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	swept, err = l.sweepHolders(ctx)
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
	lk, err := l.Lock(ctx, name, 0)
	if errors.Is(err, ErrLocked) {
		return Recovery{}, nil // in progress
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", name, err)
	}
	defer lk.Unlock()
	return l.settleHeld(name, hook)
}

// Settle settles an interrupted change of package name, if its journal is
// pending; the caller holds the package's lock. A change is finished or
// undone as Recover does. A journal modup cannot use (empty, not JSON, a
// folder or a named pipe in its place, paths modup never uses) is moved
// aside to journal/<name>.json.broken-<time>, kept for inspection, and the
// package is left as it is on disk: the Recovery (ActionSetAside) says
// so, for the caller to warn. A zero Recovery means there was nothing to
// do.
func (l Layout) Settle(name string) (Recovery, error) {
	if err := CheckName(name); err != nil {
		return Recovery{}, err
	}
	// A transaction naming the package is settled with it: the locks of
	// its other members are tried, never waited for (the caller holds
	// this one; waiting could deadlock).
	txns, err := l.settleTxnsOf(context.Background(), name)
	if err != nil {
		return Recovery{}, err
	}
	r, err := l.settleHeld(name, nil)
	if r.Action == "" && len(txns) > 0 {
		r = txns[0]
	}
	return r, err
}

func (l Layout) settleHeld(name string, hook func(string) error) (Recovery, error) {
	j, err := l.readJournal(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Recovery{}, nil // settled by its owner meanwhile, or none
	}
	if errors.Is(err, errUnusableJournal) {
		return l.setAsideJournal(name, err)
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

// hasSetAsideJournal reports whether a journal of package name was set
// aside: what it may name in staging/ and tmp/ (after an interrupted swap,
// one of the package's versions) is kept as long as it is.
func (l Layout) hasSetAsideJournal(name string) bool {
	ents, _ := os.ReadDir(l.JournalDir())
	return slices.ContainsFunc(ents, func(e fs.DirEntry) bool {
		return strings.HasPrefix(e.Name(), name+".json.broken-")
	})
}

// setAsideJournal moves package name's unusable journal aside.
func (l Layout) setAsideJournal(name string, why error) (Recovery, error) {
	path := l.JournalPath(name)
	r, err := l.OpenOwn(false, FolderJournal)
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", name, err)
	}
	defer r.Close()
	aside, err := setAside(r, name+".json")
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %v, and it cannot be moved aside: %w; move %s away by hand", name, why, err, path)
	}
	return Recovery{Package: name, Action: ActionSetAside, Detail: fmt.Sprintf(
		"%v; it is kept as %s (and so are the package's files in %s and %s until you delete it); %s is taken as it is on disk",
		why, aside, l.StagingDir(), l.TmpDir(), name)}, nil
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
	case opDisable, opEnable:
		return l.settleMove(j, hook)
	default:
		return l.settleSwap(j, hook)
	}
}

// checkJournal refuses a journal whose paths are not where modup puts
// them, so that a damaged or forged journal cannot make recovery move
// folders elsewhere.
func (l Layout) checkJournal(j *journal) error {
	bad := func(why string) error {
		return fmt.Errorf("journal %s: %s", l.JournalPath(j.Name), why)
	}
	if err := CheckName(j.Name); err != nil {
		return bad(err.Error())
	}
	if j.FileList != "" && (!within(j.FileList, tmpRel+"/"+j.Name) || strings.Count(j.FileList, "/") != 3) {
		return bad(fmt.Sprintf("file list %q is not in %s/%s", j.FileList, tmpRel, j.Name))
	}
	if j.Live != j.Name {
		return bad(fmt.Sprintf("live folder %q is not the package folder", j.Live))
	}
	backups := backupsRel + "/" + j.Name
	switch j.Op {
	case opDisable, opEnable:
		if j.Staged != disabledRel+"/"+j.Name || j.Backup != "" || j.Trash != "" {
			return bad(fmt.Sprintf("%s moves %q, not %s/%s", j.Op, j.Staged, disabledRel, j.Name))
		}
		return nil
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
	if err := hook(StepRecord); err != nil {
		return Recovery{}, err
	}
	if err := l.recordBackup(j); err != nil {
		return Recovery{}, err
	}
	if j.Op == opRollback {
		l.forgetBackup(j.Name, path.Base(j.Staged))
	}
	if j.Record != nil {
		if err := l.WriteRecord(j.Name, *j.Record); err != nil {
			return Recovery{}, err
		}
	}
	if err := l.placeList(j.Name, j.FileList); err != nil {
		return Recovery{}, err
	}
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := l.removeJournal(j.Name); err != nil {
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
	if err := l.removeJournal(j.Name); err != nil {
		return Recovery{}, err
	}
	l.dropPending(j.Name, j.FileList)
	if j.Op != opRollback {
		if err := hook(recStepRemoveStaged); err != nil {
			return Recovery{}, err
		}
		if err := l.removeTree(staged); err != nil {
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
		if err := l.removeJournal(j.Name); err != nil {
			return Recovery{}, err
		}
		return Recovery{Package: j.Name, Action: ActionRolledBack, Detail: fmt.Sprintf("undid the interrupted %s of %s; it stays installed", j.Op, j.Name)}, nil
	}
	if j.Op == opRemove {
		if err := l.recordBackup(j); err != nil {
			return Recovery{}, err
		}
	}
	if err := hook(StepUnrecord); err != nil {
		return Recovery{}, err
	}
	if err := l.removeRecord(j.Name); err != nil {
		return Recovery{}, err
	}
	if err := l.dropList(j.Name); err != nil {
		return Recovery{}, err
	}
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := l.removeJournal(j.Name); err != nil {
		return Recovery{}, err
	}
	detail := fmt.Sprintf("finished the interrupted removal of %s; it is kept in %s", j.Name, movedPath)
	if j.Op == opPurge {
		if err := hook(StepDelete); err != nil {
			return Recovery{}, err
		}
		if err := l.removeTree(filepath.Dir(movedPath)); err != nil {
			return Recovery{}, err
		}
		l.removeEmptyTmp(j.Name)
		detail = fmt.Sprintf("finished the interrupted deletion of %s", j.Name)
	}
	return Recovery{Package: j.Name, Action: ActionFinished, Detail: detail}, nil
}

// sweepDir removes, from each package's folder of tmp/ or staging/, what
// modup left there (the names in ownTemps: downloads, staging folders,
// trash), unless the package is locked by someone or has a journal
// pending, then that package's folder once it is empty. Anything else is
// not modup's and stays.
func (l Layout) sweepDir(ctx context.Context, folder string) ([]Recovery, error) {
	r, err := l.OpenOwn(false, folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer r.Close()
	entries, err := readDirIn(r, ".")
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", r.Name(), err)
	}
	var done []Recovery
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if CheckName(name) != nil || !e.IsDir() {
			continue // not a package's folder: not modup's (Check refused links)
		}
		path := filepath.Join(r.Name(), name)
		pr, err := l.openChild(r, name, path, false, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: %w", err))
			continue
		}
		var ours []string
		items, err := readDirIn(pr, ".")
		for _, it := range items {
			if slices.ContainsFunc(ownTemps[folder], func(p tempPattern) bool { return p.match(it.Name()) }) {
				ours = append(ours, it.Name())
			}
		}
		if err == nil && (len(ours) > 0 || len(items) == 0) {
			var removed []string
			_, err = l.sweepOwned(ctx, name, func() error {
				var errs []error
				for _, it := range ours {
					if err := fsutil.RemoveAllIn(pr, it); err != nil {
						errs = append(errs, err)
						continue
					}
					removed = append(removed, filepath.Join(path, it))
				}
				removeIfEmpty(r, name)
				return errors.Join(errs...)
			})
			for _, p := range removed {
				done = append(done, Recovery{Package: name, Action: ActionSwept, Detail: "removed leftover " + p})
			}
		}
		pr.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", path, err))
		}
	}
	return done, errors.Join(errs...)
}

// sweepOwned runs remove unless package name is locked by someone or has
// a journal pending.
func (l Layout) sweepOwned(ctx context.Context, name string, remove func() error) (bool, error) {
	if pending, err := exists(l.JournalPath(name)); err != nil || pending {
		return false, err
	}
	if l.inTxn(name) {
		return false, nil // a transaction's journal names its staged folder
	}
	if l.hasSetAsideJournal(name) {
		return false, nil // kept with it, for inspection
	}
	lk, err := l.Lock(ctx, name, 0)
	if errors.Is(err, ErrLocked) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer lk.Unlock()
	if err := remove(); err != nil {
		return false, err
	}
	return true, nil
}

// sweepAtomicTemps removes the temporary files fsutil.WriteFileAtomicIn
// leaves when killed (".<name>.json.tmp-123", ".<name>.holder.tmp-123"),
// unless their package is locked: its holder may be writing them right
// now. Other names are not modup's and stay.
//
// installed/ holds a record for every package: it is not listed again
// while its stamp (see dirStamp) is the one it had at a sweep that left
// nothing behind, since any file created in it since would have moved it.
func (l Layout) sweepAtomicTemps(ctx context.Context, folder, ext string) ([]Recovery, error) {
	r, err := l.OpenOwn(false, folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer r.Close()
	var st stamp
	remember := false
	if folder == FolderInstalled {
		if st, remember = openDirStamp(r); remember && l.swept(folder) == st {
			return nil, nil
		}
		// Past here the remembered stamp is not st: a clean sweep keeps it.
	}
	entries, err := sweepList(r, ".")
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", r.Name(), err)
	}
	var done []Recovery
	var errs []error
	for _, e := range entries {
		file := e.Name()
		i := strings.LastIndex(file, ext+".tmp-")
		if i < 0 || !e.Type().IsRegular() || !fsutil.IsTempName(file[i:], ext+".tmp-", "") {
			continue
		}
		name, ok := strings.CutPrefix(file[:i], ".")
		if !ok || CheckName(name) != nil {
			continue // not one of ours: leave it
		}
		remember = false
		path := filepath.Join(r.Name(), file)
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
		err = r.Remove(file)
		lk.Unlock()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sweep %s: %w", path, unwrapPath(err)))
			continue
		}
		done = append(done, Recovery{Package: name, Action: ActionSwept, Detail: "removed leftover " + path})
	}
	if len(done) > 0 {
		if err := fsutil.SyncRoot(r); err != nil {
			errs = append(errs, err)
		}
	}
	if remember && !st.racy(dirClock()) {
		l.rememberSwept(folder, st)
	}
	return done, errors.Join(errs...)
}

// sweepList lists a folder for sweepAtomicTemps (tests count the calls).
var sweepList = readDirIn

// openDirStamp is the stamp of r's folder (see dirStamp).
func openDirStamp(r *os.Root) (stamp, bool) {
	d, err := r.Open(".")
	if err != nil {
		return stamp{}, false
	}
	defer d.Close()
	return dirStamp(d)
}

// sweptMagic starts .modup/cache/swept-<folder>, which holds the stamp
// folder had when a sweep last found nothing in it; its last byte is the
// format's version.
var sweptMagic = []byte("modup-swept\x00\x01")

// swept is the stamp remembered for folder (a zero stamp when none).
func (l Layout) swept(folder string) stamp {
	data, err := l.readOwn(64, FolderCache, "swept-"+folder)
	if err != nil || !bytes.HasPrefix(data, sweptMagic) {
		return stamp{}
	}
	d := scanDecoder{text: string(data[len(sweptMagic):])}
	st := d.stamp()
	if d.err != nil || d.off != len(d.text) {
		return stamp{}
	}
	return st
}

// rememberSwept keeps st as folder's stamp at a sweep that found nothing.
// Not synced: a stamp lost to a power cut costs one listing.
func (l Layout) rememberSwept(folder string, st stamp) {
	r, err := l.OpenOwn(true, FolderCache)
	if err != nil {
		return
	}
	defer r.Close()
	_ = fsutil.ReplaceFileIn(r, "swept-"+folder, appendStamp(bytes.Clone(sweptMagic), st), 0o600)
}
