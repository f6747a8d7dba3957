package pkgdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// The steps of a journaled change, in the order they run. SwapRequest.Inject
// is called with each name before the step runs.
const (
	StepJournal    = "journal"     // write the journal
	StepExchange   = "exchange"    // Linux: swap staged and live in one rename
	StepBackupOld  = "backup-old"  // after the exchange: move the old folder from the staged path to its backup
	StepBackupLive = "backup-live" // fallback, remove: move the live folder to its backup
	StepPlaceNew   = "place-new"   // fallback, new install: rename the staged folder into place
	StepTrashLive  = "trash-live"  // purge: move the live folder into tmp/
	StepRecord     = "record"      // write the install record
	StepUnrecord   = "unrecord"    // remove, purge: delete the install record
	StepUnjournal  = "unjournal"   // remove the journal: the change is complete
	StepDelete     = "delete"      // purge: delete the trashed folder
)

// Journal operations.
const (
	opInstall  = "install"
	opUpdate   = "update"
	opRollback = "rollback" // like update, but the staged folder is a backup
	opRemove   = "remove"
	opPurge    = "purge"
	opDisable  = "disable" // the live folder moves to disabled/<name>
	opEnable   = "enable"  // disabled/<name> moves back into place
)

// SwapRequest asks Swap to put a staged folder in place of a package.
type SwapRequest struct {
	Name       string // package folder name
	Staged     string // the new package folder, somewhere under the layout's StagingDir
	OldVersion string // "" when installing a new package (no live folder yet)
	NewVersion string
	// Record is written once the new folder is in place. Empty TreeHash,
	// Version and InstalledAt are filled in; a nil Record writes one with
	// just those, so the record never describes the replaced version.
	Record *Record
	// Inject is a test hook called before each step (Step* constants). An
	// error stops the swap right there, as if the process had died: nothing
	// is cleaned up and the error is returned.
	Inject func(step string) error
	// StagedHash is TreeHash(Staged) when the caller has it already (from
	// TreeHashKnown, without reading the files again); empty, Swap
	// computes it.
	StagedHash string
	// StagedFiles are Staged's entries (TreeFiles), with StagedHash; they
	// become the package's file list (`modup verify`). Without them Swap
	// lists the staged folder as it hashes it.
	StagedFiles []FileEntry

	noExchange bool // tests: use the two-rename path even where exchange works
}

// SwapResult tells where the replaced version went.
type SwapResult struct {
	Backup string // absolute path of the old version's backup ("" for a new install)
}

// journal is the record of a change in progress, written before anything
// is moved. Paths are relative to the root with '/' separators. Recovery
// reads what is on disk and uses the journal only to name the places to
// look; NewHash tells the new folder from the old one where both exist.
type journal struct {
	Op         string `json:"op"`
	Name       string `json:"name"`
	Live       string `json:"live"`
	Staged     string `json:"staged,omitempty"`
	Backup     string `json:"backup,omitempty"`
	Trash      string `json:"trash,omitempty"`
	OldVersion string `json:"old_version"`
	NewVersion string `json:"new_version"`
	NewHash    string `json:"new_hash,omitempty"`
	// BackupSeq places the backup this change makes among the package's
	// backups (see backupRecord); 0 in journals of older versions.
	BackupSeq int64 `json:"backup_seq,omitempty"`
	// FileList is the new version's file list waiting in tmp/<name>/ for
	// the change to be done (root-relative, / separators).
	FileList string    `json:"file_list,omitempty"`
	Record   *Record   `json:"record,omitempty"`
	Started  time.Time `json:"started"`
}

// Swap replaces package req.Name by the staged folder, keeping the old
// version as a backup, so that a crash at any point leaves a journal from
// which Recover makes the package wholly old or wholly new. The caller
// holds the package's lock.
//
// The journal is written (and synced) before the live folder is touched.
// On Linux the staged and live folders are then exchanged in one atomic
// rename and the old one moved on to its backup; elsewhere, or where the
// file system cannot exchange, the live folder is moved to its backup and
// the staged one renamed into place. Every rename is followed by a sync of
// the folders involved. Then the install record is written and the journal
// removed.
//
// ctx is only checked before the journal is written: once the live folder
// is being moved, stopping halfway would be worse than finishing. When a
// step fails, Swap settles the change the way Recover would (undoing it,
// unless the new folder is already in place) and returns the error.
func (l Layout) Swap(ctx context.Context, req SwapRequest) (SwapResult, error) {
	if err := CheckName(req.Name); err != nil {
		return SwapResult{}, err
	}
	staged, err := l.absPath(req.Staged)
	if err != nil {
		return SwapResult{}, err
	}
	rel, err := l.relPath(staged)
	if err != nil || !within(rel, stagingRel) {
		return SwapResult{}, fmt.Errorf("swap %s: staged folder %s is not inside %s", req.Name, req.Staged, l.StagingDir())
	}
	live := filepath.Join(l.Root, req.Name)
	hasOld, err := isDir(live)
	if err != nil {
		return SwapResult{}, fmt.Errorf("swap %s: %w", req.Name, err)
	}
	switch {
	case req.OldVersion == "" && hasOld:
		return SwapResult{}, fmt.Errorf("install %s: a folder %s is already there; update it instead, or move it away", req.Name, live)
	case req.OldVersion != "" && !hasOld:
		return SwapResult{}, fmt.Errorf("update %s: %s is gone (was %s); install it anew", req.Name, live, req.OldVersion)
	}
	op := opUpdate
	if !hasOld {
		op = opInstall
	}
	return l.swap(ctx, swapParams{
		op: op, name: req.Name, staged: staged, hasOld: hasOld,
		oldVersion: req.OldVersion, newVersion: req.NewVersion,
		record: req.Record, inject: req.Inject, noExchange: req.noExchange,
		stagedHash: req.StagedHash, files: req.StagedFiles,
	})
}

// stagingRel, backupsRel and tmpRel are the root-relative slash forms of
// the layout's folders, for checking journal paths.
var (
	stagingRel = StateDirName + "/staging"
	backupsRel = StateDirName + "/backups"
	tmpRel     = StateDirName + "/tmp"
)

type swapParams struct {
	op         string
	name       string
	staged     string // absolute
	hasOld     bool
	oldVersion string
	newVersion string
	record     *Record
	inject     func(string) error
	noExchange bool
	stagedHash string // TreeHash(staged) if known
	files      []FileEntry
}

func (l Layout) swap(ctx context.Context, p swapParams) (SwapResult, error) {
	what := fmt.Sprintf("%s %s", p.op, p.name)
	if p.newVersion != "" {
		what += " to " + p.newVersion
	}
	if err := ctx.Err(); err != nil {
		return SwapResult{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkLocked(p.name); err != nil {
		return SwapResult{}, err
	}
	if err := l.Check(); err != nil {
		return SwapResult{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := l.checkNoJournal(p.name); err != nil {
		return SwapResult{}, err
	}
	if ok, err := isDir(p.staged); err != nil || !ok {
		return SwapResult{}, fmt.Errorf("%s: staged folder %s is missing or not a folder (%v)", what, p.staged, err)
	}
	newHash, files := p.stagedHash, p.files
	var err error
	if newHash == "" || files == nil {
		if newHash, files, err = TreeFiles(p.staged, nil); err != nil {
			return SwapResult{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	live := filepath.Join(l.Root, p.name)
	var backup string
	var backupSeq int64
	if p.hasOld {
		if backup, backupSeq, err = l.newBackupPath(p.name, p.oldVersion); err != nil {
			return SwapResult{}, fmt.Errorf("%s: %w", what, err)
		}
	}

	started := time.Now().UTC()
	rec := Record{}
	if p.record != nil {
		rec = *p.record
	}
	if rec.TreeHash == "" {
		rec.TreeHash = newHash
	}
	if rec.Version == "" {
		rec.Version = p.newVersion
	}
	if rec.InstalledAt.IsZero() {
		rec.InstalledAt = started
	}
	if p.hasOld {
		l.keepHold(p.name, &rec)
	}
	j := &journal{
		Op: p.op, Name: p.name,
		OldVersion: p.oldVersion, NewVersion: p.newVersion,
		NewHash: newHash, Record: &rec, Started: started, BackupSeq: backupSeq,
	}
	if j.Live, err = l.relPath(live); err != nil {
		return SwapResult{}, err
	}
	if j.Staged, err = l.relPath(p.staged); err != nil {
		return SwapResult{}, err
	}
	if backup != "" {
		if j.Backup, err = l.relPath(backup); err != nil {
			return SwapResult{}, err
		}
	}
	if j.FileList, err = l.writePendingList(p.name, FileList{Version: p.newVersion, TreeHash: newHash, Files: files}); err != nil {
		return SwapResult{}, fmt.Errorf("%s: %w", what, err)
	}

	inject := p.inject
	if inject == nil {
		inject = func(string) error { return nil }
	}
	// fail settles a change that went wrong for a reason other than an
	// injected crash, the way the next Recover would.
	fail := func(err error) (SwapResult, error) {
		r, serr := l.settle(j, nil)
		if serr != nil {
			return SwapResult{}, fmt.Errorf("%s: %w; the change could not be settled (%v): its journal %s stays, and the next modup command tries again", what, err, serr, l.JournalPath(p.name))
		}
		if r.Action == ActionFinished {
			return SwapResult{Backup: backup}, fmt.Errorf("%s: %w; the new version is in place nonetheless", what, err)
		}
		return SwapResult{}, fmt.Errorf("%s: %w; nothing was changed", what, err)
	}

	if err := inject(StepJournal); err != nil {
		return SwapResult{}, err
	}
	if err := l.writeJournal(j); err != nil {
		// Nothing has moved; a journal that got written all the same would
		// only block the next attempt.
		_ = l.removeJournal(j.Name)
		l.dropPending(j.Name, j.FileList)
		return SwapResult{}, fmt.Errorf("%s: %w", what, err)
	}

	exchanged := false
	if p.hasOld && !p.noExchange {
		if err := inject(StepExchange); err != nil {
			return SwapResult{}, err
		}
		err := fsutil.Exchange(p.staged, live)
		switch {
		case err == nil:
			exchanged = true
			if err := syncDirs(l.Root, filepath.Dir(p.staged)); err != nil {
				return fail(err)
			}
		case errors.Is(err, fsutil.ErrExchangeUnsupported):
			// Nothing moved: take the two-rename path below.
		default:
			return fail(err)
		}
	}
	switch {
	case exchanged:
		if err := inject(StepBackupOld); err != nil {
			return SwapResult{}, err
		}
		if err := moveTo(p.staged, backup, true); err != nil {
			return fail(err)
		}
	case p.hasOld:
		if err := inject(StepBackupLive); err != nil {
			return SwapResult{}, err
		}
		if err := moveTo(live, backup, true); err != nil {
			return fail(err)
		}
		fallthrough
	default:
		if err := inject(StepPlaceNew); err != nil {
			return SwapResult{}, err
		}
		if err := moveTo(p.staged, live, false); err != nil {
			return fail(err)
		}
	}

	if err := inject(StepRecord); err != nil {
		return SwapResult{}, err
	}
	if err := l.recordBackup(j); err != nil {
		return fail(err)
	}
	if j.Op == opRollback {
		l.forgetBackup(p.name, filepath.Base(p.staged))
	}
	if err := l.WriteRecord(p.name, rec); err != nil {
		return fail(err)
	}
	if err := l.placeList(p.name, j.FileList); err != nil {
		return fail(err)
	}
	if err := inject(StepUnjournal); err != nil {
		return SwapResult{}, err
	}
	if err := l.removeJournal(p.name); err != nil {
		return fail(err)
	}
	l.cleanStagedParents(j.Op, p.staged)
	return SwapResult{Backup: backup}, nil
}

// moveTo renames from to to, which must not exist, and syncs both folders.
// A backup gets the current time as its modification time: a rename keeps
// the old one, and Backups sorts by it.
func moveTo(from, to string, isBackup bool) error {
	if err := fsutil.RenameNoReplace(from, to); err != nil {
		return err
	}
	if isBackup {
		now := time.Now()
		_ = os.Chtimes(to, now, now) // best effort: only the order of backups depends on it
	}
	return syncDirs(filepath.Dir(from), filepath.Dir(to))
}

// syncDirs syncs each distinct folder.
func syncDirs(dirs ...string) error {
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := fsutil.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// newBackupPath picks backups/<name>/<version>/, or <version>~2, ~3...
// when that exists, creating backups/<name>/, and the sequence number of
// the backup to be made there.
func (l Layout) newBackupPath(name, version string) (string, int64, error) {
	r, err := l.OpenOwn(true, FolderBackups, name)
	if err != nil {
		return "", 0, fmt.Errorf("create backup folder: %w", err)
	}
	defer r.Close()
	seq, err := nextBackupSeq(r)
	if err != nil {
		return "", 0, fmt.Errorf("backups of %s: %w", name, err)
	}
	base := versionDirName(version)
	for i := 1; i < 10000; i++ {
		dir := base
		if i > 1 {
			dir += "~" + strconv.Itoa(i)
		}
		if _, err := r.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			path, err := l.absPath(filepath.Join(r.Name(), dir))
			return path, seq, err
		} else if err != nil {
			return "", 0, err
		}
	}
	return "", 0, fmt.Errorf("too many backups of %s %s in %s: prune them", name, version, r.Name())
}

// checkNoJournal refuses to start a change of package name while a journal
// of an earlier one is pending. Settle (which every modup command runs
// first, through Recover or the updater) settles such a journal, or sets
// it aside when it cannot be read.
func (l Layout) checkNoJournal(name string) error {
	_, err := os.Lstat(l.JournalPath(name))
	switch {
	case err == nil:
		return fmt.Errorf("%s: an interrupted change is pending (%s) and was not settled: run `modup list`, which settles it or says why it cannot", name, l.JournalPath(name))
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("%s: %w", name, err)
	}
	if tjs, err := l.txnsNaming(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	} else if len(tjs) > 0 {
		return fmt.Errorf("%s: an interrupted change of several packages is pending (%s: %s) and was not settled: run `modup list`, which settles it or says why it cannot", name, l.txnPath(tjs[0].ID), tjs[0].describe())
	}
	return nil
}

// maxJournal bounds what is read of a journal (they are about a kilobyte).
const maxJournal = 1 << 20

func (l Layout) writeJournal(j *journal) error {
	return l.writeJournalFile(j, j.Name+".json")
}

// writeJournalFile writes v as .modup/journal/<parts...>/file, durably:
// OpenOwn makes .modup and the folders durable when it creates them;
// WriteFileAtomicIn syncs the file and then its folder.
func (l Layout) writeJournalFile(v any, file string, parts ...string) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	r, err := l.OpenOwn(true, FolderJournal, parts...)
	if err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	defer r.Close()
	if err := fsutil.WriteFileAtomicIn(r, file, append(data, '\n'), 0o666); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// errUnusableJournal marks a journal that is there but cannot be used:
// not a regular file, too large, not JSON, about another package, or
// naming paths modup never uses. Settle sets it aside.
var errUnusableJournal = errors.New("modup cannot use it")

func (l Layout) readJournal(name string) (*journal, error) {
	data, err := l.readOwn(maxJournal, FolderJournal, name+".json")
	if errors.Is(err, fsutil.ErrNotRegular) || errors.Is(err, fsutil.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", err, errUnusableJournal)
	}
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		if len(data) == 0 {
			return nil, fmt.Errorf("journal %s is empty: %w", l.JournalPath(name), errUnusableJournal)
		}
		return nil, fmt.Errorf("journal %s is not valid JSON (%v): %w", l.JournalPath(name), err, errUnusableJournal)
	}
	if j.Name != name {
		return nil, fmt.Errorf("journal %s is about %q, not %q: %w", l.JournalPath(name), j.Name, name, errUnusableJournal)
	}
	if err := l.checkJournal(&j); err != nil {
		return nil, fmt.Errorf("%w: %w", err, errUnusableJournal)
	}
	return &j, nil
}

// removeJournal removes package name's journal and syncs its folder.
func (l Layout) removeJournal(name string) error {
	return l.removeOwn(FolderJournal, name+".json")
}

// isDir reports whether path is a folder (not a symlink to one); a missing
// path is false without error, anything else there is an error.
func isDir(path string) (bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !fi.IsDir():
		return false, fmt.Errorf("%s is not a folder", path)
	}
	return true, nil
}

// exists reports whether anything is at path.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// cleanStagedParents removes the folders left empty above a staged folder
// once it is gone: staging/<name>/ after an update, backups/<name>/ after a
// rollback to the last backup.
func (l Layout) cleanStagedParents(op, staged string) {
	stop := l.StagingDir()
	if op == opRollback {
		stop = l.BackupsDir()
	}
	stop, err := l.absPath(stop)
	if err != nil {
		return
	}
	removeEmptyParents(staged, stop)
}

// removeEmptyParents removes the empty folders above path, up to but not
// including stop, stopping at the first that is not empty.
func removeEmptyParents(path, stop string) {
	prefix := filepath.Clean(stop) + string(filepath.Separator)
	for dir := filepath.Dir(path); strings.HasPrefix(dir, prefix); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			return
		}
	}
}
