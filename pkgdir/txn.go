package pkgdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// A transaction changes several packages of one root at once (a package
// and the dependencies it needs, a package and the one it replaces), under
// one journal: after a crash at any instant, Recover leaves every one of
// them old or every one of them new.
//
// Its journal, journal/txn/<first member>~<digits>.json, lists every
// member with the places a single change's journal names. The members are
// then changed one after the other, in the order given (dependencies
// first), each by renames only: the live folder to its backup, the staged
// folder into place. Once every member is in place the change is
// decided: records are written and the journal removed. Recovery looks at
// what is on disk: when every member is in its new state it finishes the
// transaction, otherwise it puts every member back, last first.

// Operations of a transaction's members.
const (
	TxnInstall = opInstall // a new package: the staged folder goes into place
	TxnUpdate  = opUpdate  // the live folder goes to its backup, the staged one into place
	TxnRemove  = opRemove  // the live folder goes to its backup (replaced, or removed)
)

// Steps of a transaction's recovery that tests crash.
const (
	recStepUnplace = "unplace" // move a member's new folder back to its staged path
)

// TxnMember is one package of a transaction.
type TxnMember struct {
	Name string
	// Op is TxnInstall, TxnUpdate or TxnRemove.
	Op string
	// Staged is the new package folder, under the layout's staging folder
	// of Name (TxnInstall, TxnUpdate); StagedHash its tree hash when the
	// caller has it.
	Staged      string
	StagedHash  string
	StagedFiles []FileEntry // with StagedHash, as SwapRequest's
	OldVersion  string
	NewVersion  string
	// Record is written once the transaction is decided, as Swap writes
	// it (TxnInstall, TxnUpdate); a removed member's record is deleted.
	Record *Record
}

// txnJournal is the journal of a transaction.
type txnJournal struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	// Members are single-change journals, in the order they are applied.
	Members []*journal `json:"members"`
}

// txnDir is journal/txn, relative to .modup.
const txnFolder = "txn"

// TxnJournalDir holds the journals of transactions in progress.
func (l Layout) TxnJournalDir() string { return filepath.Join(l.JournalDir(), txnFolder) }

// Transact applies members as one transaction and returns where each
// replaced or removed version went (by package name). The caller holds the
// lock of every member; see Lock and LockAll.
//
// inject is a test hook called before each step with the member it is
// about ("" for the journal steps): StepJournal, then for each member
// StepBackupLive and StepPlaceNew as they apply, then StepRecord for
// each, then StepUnjournal. An error stops the transaction right there, as
// if the process had died.
//
// When a step fails for a real reason, Transact settles the transaction
// as Recover would (undoing it, unless every member is in place already)
// and says which.
func (l Layout) Transact(ctx context.Context, members []TxnMember, inject func(name, step string) error) (map[string]string, error) {
	if inject == nil {
		inject = func(string, string) error { return nil }
	}
	tj, err := l.prepareTxn(members)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", tj.describe(), err)
	}
	backups := map[string]string{}
	for _, j := range tj.Members {
		if j.Backup != "" {
			b, err := l.fromRel(j.Backup)
			if err != nil {
				return nil, err
			}
			backups[j.Name] = b
		}
	}
	fail := func(err error) (map[string]string, error) {
		r, serr := l.settleTxn(tj, nil)
		switch {
		case serr != nil:
			return nil, fmt.Errorf("%s: %w; the change could not be settled (%v): its journal %s stays, and the next modup command tries again", tj.describe(), err, serr, l.txnPath(tj.ID))
		case r.Action == ActionFinished:
			return backups, fmt.Errorf("%s: %w; every package is in its new version nonetheless", tj.describe(), err)
		}
		return nil, fmt.Errorf("%s: %w; nothing was changed", tj.describe(), err)
	}

	if err := inject("", StepJournal); err != nil {
		return nil, err
	}
	if err := l.writeTxn(tj); err != nil {
		_ = l.removeTxn(tj.ID)
		for _, j := range tj.Members {
			l.dropPending(j.Name, j.FileList)
		}
		return nil, fmt.Errorf("%s: %w", tj.describe(), err)
	}
	for _, j := range tj.Members {
		live, err := l.fromRel(j.Live)
		if err != nil {
			return fail(err)
		}
		if j.Backup != "" {
			if err := inject(j.Name, StepBackupLive); err != nil {
				return nil, err
			}
			if err := moveTo(live, backups[j.Name], true); err != nil {
				return fail(err)
			}
		}
		if j.Op == opRemove {
			continue
		}
		staged, err := l.fromRel(j.Staged)
		if err != nil {
			return fail(err)
		}
		if err := inject(j.Name, StepPlaceNew); err != nil {
			return nil, err
		}
		if err := moveTo(staged, live, false); err != nil {
			return fail(err)
		}
	}
	if _, err := l.finishTxn(tj, inject); err != nil {
		var he *hookError
		if errors.As(err, &he) {
			return nil, he.err
		}
		return fail(err)
	}
	return backups, nil
}

// hookError is an error a test hook returned: the process "died" there.
type hookError struct{ err error }

func (e *hookError) Error() string { return e.err.Error() }
func (e *hookError) Unwrap() error { return e.err }

// prepareTxn checks members and builds the journal: every member's lock
// is held, no change of it is pending, its folders are where they should
// be, and its backup has a place.
func (l Layout) prepareTxn(members []TxnMember) (*txnJournal, error) {
	if len(members) == 0 {
		return nil, errors.New("a transaction of no package")
	}
	if err := l.Check(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	started := time.Now().UTC()
	tj := &txnJournal{Started: started}
	for _, m := range members {
		if err := CheckName(m.Name); err != nil {
			return nil, err
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("%s is twice in one transaction", m.Name)
		}
		seen[m.Name] = true
		if err := l.checkLocked(m.Name); err != nil {
			return nil, err
		}
		if err := l.checkNoJournal(m.Name); err != nil {
			return nil, err
		}
		j := &journal{Op: m.Op, Name: m.Name, Live: m.Name, OldVersion: m.OldVersion, NewVersion: m.NewVersion, Started: started}
		live := filepath.Join(l.Root, m.Name)
		hasOld, err := isDir(live)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		switch {
		case m.Op == opInstall && hasOld:
			return nil, fmt.Errorf("install %s: a folder %s is already there; update it instead, or move it away", m.Name, live)
		case m.Op != opInstall && !hasOld:
			return nil, fmt.Errorf("%s %s: %s is gone (was %s)", m.Op, m.Name, live, m.OldVersion)
		case m.Op != opInstall && m.Op != opUpdate && m.Op != opRemove:
			return nil, fmt.Errorf("%s: unknown operation %q", m.Name, m.Op)
		}
		if hasOld {
			backup, seq, err := l.newBackupPath(m.Name, m.OldVersion)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
			if j.Backup, err = l.relPath(backup); err != nil {
				return nil, err
			}
			j.BackupSeq = seq
		}
		if m.Op != opRemove {
			staged, err := l.absPath(m.Staged)
			if err != nil {
				return nil, err
			}
			if j.Staged, err = l.relPath(staged); err != nil || !within(j.Staged, stagingRel+"/"+m.Name) {
				return nil, fmt.Errorf("%s: staged folder %s is not inside %s", m.Name, m.Staged, filepath.Join(l.StagingDir(), m.Name))
			}
			if ok, err := isDir(staged); err != nil || !ok {
				return nil, fmt.Errorf("%s: staged folder %s is missing or not a folder (%v)", m.Name, staged, err)
			}
			j.NewHash = m.StagedHash
			files := m.StagedFiles
			if j.NewHash == "" || files == nil {
				if j.NewHash, files, err = TreeFiles(staged, nil); err != nil {
					return nil, fmt.Errorf("%s: %w", m.Name, err)
				}
			}
			if j.FileList, err = l.writePendingList(m.Name, FileList{Version: m.NewVersion, TreeHash: j.NewHash, Files: files}); err != nil {
				return nil, err
			}
			rec := Record{}
			if m.Record != nil {
				rec = *m.Record
			}
			if rec.TreeHash == "" {
				rec.TreeHash = j.NewHash
			}
			if rec.Version == "" {
				rec.Version = m.NewVersion
			}
			if rec.InstalledAt.IsZero() {
				rec.InstalledAt = started
			}
			if hasOld {
				l.keepHold(m.Name, &rec)
			}
			j.Record = &rec
		}
		if err := l.checkJournal(j); err != nil {
			return nil, err
		}
		tj.Members = append(tj.Members, j)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range seen {
			if !yield(n) {
				return
			}
		}
	})
	tj.ID = names[0] + "~" + strconv.FormatInt(started.UnixNano(), 10)
	return tj, nil
}

func (tj *txnJournal) names() []string {
	var out []string
	for _, j := range tj.Members {
		out = append(out, j.Name)
	}
	return out
}

func (tj *txnJournal) describe() string {
	var parts []string
	for _, j := range tj.Members {
		switch j.Op {
		case opRemove:
			parts = append(parts, "remove "+j.Name)
		case opInstall:
			parts = append(parts, fmt.Sprintf("install %s %s", j.Name, j.NewVersion))
		default:
			parts = append(parts, fmt.Sprintf("update %s to %s", j.Name, j.NewVersion))
		}
	}
	return strings.Join(parts, ", ")
}

func (l Layout) txnPath(id string) string { return filepath.Join(l.TxnJournalDir(), id+".json") }

func (l Layout) writeTxn(tj *txnJournal) error {
	return l.writeJournalFile(tj, tj.ID+".json", txnFolder)
}

func (l Layout) removeTxn(id string) error {
	tr, err := l.OpenOwn(false, FolderJournal, txnFolder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = tr.Remove(id + ".json")
	if err == nil {
		err = fsutil.SyncRoot(tr)
	} else if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	tr.Close()
	if err != nil {
		return fmt.Errorf("remove %s: %w", l.txnPath(id), unwrapPath(err))
	}
	l.removeEmptyTxnDir()
	return nil
}

// removeEmptyTxnDir removes journal/txn when nothing is in it (a killed
// process may have made it, or left only a temporary file swept since).
func (l Layout) removeEmptyTxnDir() {
	if r, err := l.OpenOwn(false, FolderJournal); err == nil {
		removeIfEmpty(r, txnFolder)
		r.Close()
	}
}

// txnEntries opens journal/txn and lists it; the Root is nil (and the
// error nil) when there is no such folder. The caller closes the Root.
func (l Layout) txnEntries() (*os.Root, []fs.DirEntry, error) {
	r, err := l.OpenOwn(false, FolderJournal, txnFolder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	ents, err := readDirIn(r, ".")
	if err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("%s: %w", l.TxnJournalDir(), err)
	}
	return r, ents, nil
}

// txnIDs lists the transaction journals of the root, sorted.
func (l Layout) txnIDs() ([]string, error) {
	r, ents, err := l.txnEntries()
	if r == nil {
		return nil, err
	}
	defer r.Close()
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && isTxnID(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// isTxnID recognises <package name>~<digits>.
func isTxnID(id string) bool {
	i := strings.LastIndex(id, "~")
	return i > 0 && CheckName(id[:i]) == nil && fsutil.IsTempName(id[i:], "~", "")
}

// readTxn reads a transaction's journal; one modup cannot use wraps
// errUnusableJournal.
func (l Layout) readTxn(id string) (*txnJournal, error) {
	r, err := l.OpenOwn(false, FolderJournal, txnFolder)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	path := l.txnPath(id)
	data, err := fsutil.ReadRegularIn(r, id+".json", maxJournal)
	if errors.Is(err, fsutil.ErrNotRegular) || errors.Is(err, fsutil.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", err, errUnusableJournal)
	}
	if err != nil {
		return nil, err
	}
	var tj txnJournal
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("journal %s is not valid JSON (%v): %w", path, err, errUnusableJournal)
	}
	if tj.ID != id || len(tj.Members) == 0 {
		return nil, fmt.Errorf("journal %s is not the transaction %s: %w", path, id, errUnusableJournal)
	}
	seen := map[string]bool{}
	for _, j := range tj.Members {
		if j == nil {
			return nil, fmt.Errorf("journal %s lists an empty member: %w", path, errUnusableJournal)
		}
		if err := l.checkJournal(j); err != nil || seen[j.Name] || (j.Op != opInstall && j.Op != opUpdate && j.Op != opRemove) {
			return nil, fmt.Errorf("journal %s: member %s is not one modup writes (%v): %w", path, j.Name, err, errUnusableJournal)
		}
		seen[j.Name] = true
	}
	return &tj, nil
}

// txnsNaming lists the transactions pending whose members include name.
func (l Layout) txnsNaming(name string) ([]*txnJournal, error) {
	ids, err := l.txnIDs()
	if err != nil {
		return nil, err
	}
	var out []*txnJournal
	for _, id := range ids {
		tj, err := l.readTxn(id)
		if err != nil {
			if errors.Is(err, errUnusableJournal) || errors.Is(err, fs.ErrNotExist) {
				continue // Recover sets it aside
			}
			return nil, err
		}
		if slices.Contains(tj.names(), name) {
			out = append(out, tj)
		}
	}
	return out, nil
}

// memberNew reports whether a member stands in its new state on disk: its
// staged folder in place (and the old one in its backup), or, removed, its
// folder gone.
func (l Layout) memberNew(j *journal) (bool, error) {
	live, err := l.fromRel(j.Live)
	if err != nil {
		return false, err
	}
	le, err := exists(live)
	if err != nil {
		return false, err
	}
	if j.Op == opRemove {
		return !le, nil
	}
	staged, err := l.fromRel(j.Staged)
	if err != nil {
		return false, err
	}
	se, err := exists(staged)
	if err != nil || !le || se {
		return false, err
	}
	if j.Op == opInstall {
		return true, nil
	}
	backup, err := l.fromRel(j.Backup)
	if err != nil {
		return false, err
	}
	if be, err := exists(backup); err != nil || be {
		return be, err
	}
	// The backup is gone: only the tree hash can tell what is live.
	h, err := TreeHash(live)
	return err == nil && h == j.NewHash, err
}

// settleTxn brings a transaction to an end: finished when every member is
// in its new state, else undone. The caller holds every member's lock.
// hook is recovery's test hook (nil: none).
func (l Layout) settleTxn(tj *txnJournal, hook func(string) error) (Recovery, error) {
	if hook == nil {
		hook = func(string) error { return nil }
	}
	all := true
	for _, j := range tj.Members {
		isNew, err := l.memberNew(j)
		if err != nil {
			return Recovery{}, fmt.Errorf("%s: %w", j.Name, err)
		}
		all = all && isNew
	}
	if all {
		return l.finishTxn(tj, func(_, step string) error { return hook(step) })
	}
	return l.undoTxn(tj, hook)
}

// finishTxn writes what a transaction whose members are all in place
// leaves besides them (backup records, install records), then removes its
// journal. Each write is idempotent, so a crash here is finished by the
// next run. hook is told StepRecord before each member's records, then
// StepUnjournal; its error is returned as a *hookError.
func (l Layout) finishTxn(tj *txnJournal, hook func(name, step string) error) (Recovery, error) {
	for _, j := range tj.Members {
		if err := hook(j.Name, StepRecord); err != nil {
			return Recovery{}, &hookError{err}
		}
		if err := l.recordBackup(j); err != nil {
			return Recovery{}, err
		}
		if j.Op == opRemove {
			if err := l.removeRecord(j.Name); err != nil {
				return Recovery{}, err
			}
			if err := l.dropList(j.Name); err != nil {
				return Recovery{}, err
			}
			continue
		}
		if j.Record != nil {
			if err := l.WriteRecord(j.Name, *j.Record); err != nil {
				return Recovery{}, err
			}
		}
		if err := l.placeList(j.Name, j.FileList); err != nil {
			return Recovery{}, err
		}
	}
	if err := hook("", StepUnjournal); err != nil {
		return Recovery{}, &hookError{err}
	}
	if err := l.removeTxn(tj.ID); err != nil {
		return Recovery{}, err
	}
	for _, j := range tj.Members {
		if j.Op != opRemove {
			if staged, err := l.fromRel(j.Staged); err == nil {
				l.cleanStagedParents(j.Op, staged)
			}
		}
	}
	return Recovery{Package: strings.Join(tj.names(), ", "), Action: ActionFinished,
		Detail: "finished the interrupted " + tj.describe()}, nil
}

// undoTxn puts every member back in its old state, last first, then
// removes the journal and the staged folders. Each move is one rename
// whose outcome memberNew and this function recognise, so a crash here is
// undone by the next run.
func (l Layout) undoTxn(tj *txnJournal, hook func(string) error) (Recovery, error) {
	for i := len(tj.Members) - 1; i >= 0; i-- {
		if err := l.undoMember(tj.Members[i], hook); err != nil {
			return Recovery{}, fmt.Errorf("undo %s: %w", tj.Members[i].Name, err)
		}
	}
	if err := hook(StepUnjournal); err != nil {
		return Recovery{}, err
	}
	if err := l.removeTxn(tj.ID); err != nil {
		return Recovery{}, err
	}
	for _, j := range tj.Members {
		if j.Op == opRemove {
			continue
		}
		l.dropPending(j.Name, j.FileList)
		if err := hook(recStepRemoveStaged); err != nil {
			return Recovery{}, err
		}
		staged, err := l.fromRel(j.Staged)
		if err != nil {
			return Recovery{}, err
		}
		if err := l.removeTree(staged); err != nil {
			return Recovery{}, err
		}
		l.cleanStagedParents(j.Op, staged)
	}
	return Recovery{Package: strings.Join(tj.names(), ", "), Action: ActionRolledBack,
		Detail: "undid the interrupted " + tj.describe() + "; every package is as it was"}, nil
}

// undoMember brings one member to its old state:
//
//	install: live, staged gone  → move live back to staged
//	update:  live, staged gone, backup → live to staged, then backup to live
//	         no live, backup    → backup to live
//	remove:  no live, backup    → backup to live
//
// Anything else is old already (nothing moved, or undone).
func (l Layout) undoMember(j *journal, hook func(string) error) error {
	live, err := l.fromRel(j.Live)
	if err != nil {
		return err
	}
	le, err := exists(live)
	if err != nil {
		return err
	}
	var staged, backup string
	var se, be bool
	if j.Op != opRemove {
		if staged, err = l.fromRel(j.Staged); err != nil {
			return err
		}
		if se, err = exists(staged); err != nil {
			return err
		}
	}
	if j.Backup != "" {
		if backup, err = l.fromRel(j.Backup); err != nil {
			return err
		}
		if be, err = exists(backup); err != nil {
			return err
		}
	}
	if le && !se && j.Op != opRemove {
		if j.Op == opUpdate && !be {
			if h, err := TreeHash(live); err != nil || h != j.NewHash {
				return err // the old version is live already
			}
			return fmt.Errorf("%s is the new version and its backup %s is gone: modup cannot put the old one back; check the folder and remove %s", live, backup, l.TxnJournalDir())
		}
		if err := hook(recStepUnplace); err != nil {
			return err
		}
		if err := moveTo(live, staged, false); err != nil {
			return err
		}
		le = false
	}
	if !le && be {
		if err := hook(recStepRestore); err != nil {
			return err
		}
		return moveTo(backup, live, false)
	}
	return nil
}

// recoverTxns settles the transactions whose members nobody holds: each
// member's lock is tried in name order, and a transaction with a member
// locked is in progress. A journal modup cannot use is set aside.
func (l Layout) recoverTxns(ctx context.Context, hook func(string) error) ([]Recovery, error) {
	ids, err := l.txnIDs()
	if err != nil {
		return nil, err
	}
	var done []Recovery
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return done, errors.Join(append(errs, err)...)
		}
		r, err := l.recoverTxn(ctx, id, "", hook)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Action != "" {
			done = append(done, r)
		}
	}
	return done, errors.Join(errs...)
}

// recoverTxn settles transaction id, taking the locks of its members
// except held (whose lock the caller has). A member locked by someone else
// means the transaction is in progress: with held "" it is left alone,
// otherwise (the caller needs it settled) that is an error naming the
// holder.
func (l Layout) recoverTxn(ctx context.Context, id, held string, hook func(string) error) (Recovery, error) {
	tj, err := l.readTxn(id)
	if errors.Is(err, fs.ErrNotExist) {
		return Recovery{}, nil
	}
	if errors.Is(err, errUnusableJournal) {
		return l.setAsideTxn(id, err)
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", l.txnPath(id), err)
	}
	names := slices.Sorted(slices.Values(tj.names()))
	var locks []*Lock
	defer func() {
		for _, lk := range locks {
			lk.Unlock()
		}
	}()
	for _, n := range names {
		if n == held {
			continue
		}
		lk, err := l.Lock(ctx, n, 0)
		if errors.Is(err, ErrLocked) && held == "" {
			return Recovery{}, nil // in progress
		}
		if err != nil {
			return Recovery{}, fmt.Errorf("%s is part of an interrupted change (%s) that cannot be settled now: %w", held, tj.describe(), err)
		}
		locks = append(locks, lk)
	}
	r, err := l.settleTxn(tj, hook)
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", l.txnPath(id), err)
	}
	return r, nil
}

// setAsideTxn moves an unusable transaction journal aside.
func (l Layout) setAsideTxn(id string, why error) (Recovery, error) {
	r, err := l.OpenOwn(false, FolderJournal, txnFolder)
	if err != nil {
		return Recovery{}, err
	}
	defer r.Close()
	aside, err := setAside(r, id+".json")
	if err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %v, and it cannot be moved aside: %w; move it away by hand", l.txnPath(id), why, err)
	}
	name, _, _ := strings.Cut(id, "~")
	return Recovery{Package: name, Action: ActionSetAside, Detail: fmt.Sprintf(
		"%v; it is kept as %s; the packages are taken as they are on disk", why, aside)}, nil
}

// settleTxnsOf settles the transactions naming package name, whose lock
// the caller holds (see Settle).
func (l Layout) settleTxnsOf(ctx context.Context, name string) ([]Recovery, error) {
	tjs, err := l.txnsNaming(name)
	if err != nil {
		return nil, err
	}
	var done []Recovery
	for _, tj := range tjs {
		r, err := l.recoverTxn(ctx, tj.ID, name, nil)
		if err != nil {
			return done, err
		}
		if r.Action != "" {
			done = append(done, r)
		}
	}
	return done, nil
}

// sweepTxnTemps removes the temporary files a killed journal write left
// in journal/txn/ (".<id>.json.tmp-123"), when the transaction's first
// member is not locked: its writer held that lock while writing.
func (l Layout) sweepTxnTemps(ctx context.Context) ([]Recovery, error) {
	r, ents, err := l.txnEntries()
	if r == nil {
		return nil, err
	}
	defer l.removeEmptyTxnDir()
	defer r.Close()
	var done []Recovery
	for _, e := range ents {
		file := e.Name()
		i := strings.LastIndex(file, ".json.tmp-")
		if i < 0 || !e.Type().IsRegular() || !fsutil.IsTempName(file[i:], ".json.tmp-", "") {
			continue
		}
		id, ok := strings.CutPrefix(file[:i], ".")
		if !ok || !isTxnID(id) {
			continue
		}
		first := id[:strings.LastIndex(id, "~")]
		lk, err := l.Lock(ctx, first, 0)
		if err != nil {
			continue // in progress, or not ours to judge now
		}
		err = r.Remove(file)
		lk.Unlock()
		if err == nil {
			done = append(done, Recovery{Package: first, Action: ActionSwept, Detail: "removed leftover " + filepath.Join(r.Name(), file)})
		}
	}
	return done, nil
}

// inTxn reports whether a pending transaction names package name: its
// staging folder is then not a leftover.
func (l Layout) inTxn(name string) bool {
	tjs, err := l.txnsNaming(name)
	return err != nil || len(tjs) > 0
}

// LockAll takes the locks of names in name order (so that two processes
// locking overlapping sets never wait for each other in a circle), each
// waiting up to timeout. On failure none is held.
func (l Layout) LockAll(ctx context.Context, names []string, timeout time.Duration) ([]*Lock, error) {
	sorted := slices.Sorted(slices.Values(names))
	sorted = slices.Compact(sorted)
	var locks []*Lock
	for _, n := range sorted {
		lk, err := l.Lock(ctx, n, timeout)
		if err != nil {
			for _, held := range locks {
				held.Unlock()
			}
			return nil, err
		}
		locks = append(locks, lk)
	}
	return locks, nil
}

// Pending reports whether a change of package name was journaled and not
// settled: its own journal, or a transaction naming it.
func (l Layout) Pending(name string) bool {
	if ok, err := exists(l.JournalPath(name)); err != nil || ok {
		return true
	}
	return l.inTxn(name)
}
