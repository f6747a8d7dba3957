package pkgdir

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gofrs/flock"

	"github.com/modup/modup/internal/fsutil"
)

// History is an append-only log of every change modup made (or tried to
// make) to the packages of a root, CLI and daemon alike:
// <root>/.modup/history.jsonl, one JSON object per line. It is rotated at
// HistoryMaxSize into history.jsonl.1 and history.jsonl.2 (the two before
// it are kept, older ones dropped).
//
// A line is written whole, in one write to a file opened with O_APPEND,
// and synced; the reader skips a line that does not parse, so a writer
// killed mid-line (or a power loss that leaves a torn tail) never breaks
// reading, and the next writer starts on a fresh line.

// HistoryFile is the live history file in .modup.
const HistoryFile = "history.jsonl"

// HistoryMaxSize is the size at which the history is rotated.
const HistoryMaxSize = 10 << 20

// historyKeep is how many rotated files are kept.
const historyKeep = 2

// maxHistoryLine bounds one entry: a longer error is cut to fit, and a
// longer line found when reading is skipped.
const maxHistoryLine = 16 << 10

// historyLockFile serialises writers of a root's history (appends and the
// rotation). Hidden, so it can never be a package's lock.
const historyLockFile = ".history.lock"

// historyLockWait bounds the wait for another writer.
const historyLockWait = 5 * time.Second

// HistoryAction is what a history entry records.
type HistoryAction string

// History actions. Disable and enable are for packages switched off
// without being removed.
const (
	HistoryInstall  HistoryAction = "install"
	HistoryUpdate   HistoryAction = "update"
	HistoryRollback HistoryAction = "rollback"
	HistoryRemove   HistoryAction = "remove"
	HistoryDisable  HistoryAction = "disable"
	HistoryEnable   HistoryAction = "enable"
	// HistoryHold and HistoryUnhold: a package was held at its version,
	// or released.
	HistoryHold   HistoryAction = "hold"
	HistoryUnhold HistoryAction = "unhold"
)

// History results.
const (
	HistoryOK     = "ok"
	HistoryFailed = "failed"
)

// HistoryEntry is one line of the history: `modup history --json`, the
// API's /v1/history and the daemon's log show this shape.
type HistoryEntry struct {
	Time    time.Time     `json:"time"`
	Package string        `json:"package"`
	Action  HistoryAction `json:"action"`
	From    string        `json:"from,omitempty"`
	To      string        `json:"to,omitempty"`
	Result  string        `json:"result"`
	Error   string        `json:"error,omitempty"`
	// By is who made the change: "cli", "daemon", "api".
	By string `json:"by,omitempty"`
	// Root is the root whose history holds the entry; set when read.
	Root string `json:"root,omitempty"`
}

// historyWrite writes one line to the history file; tests replace it to
// stop a writer halfway through a line.
type historyWrite func(f *os.File, line []byte) error

func writeWhole(f *os.File, line []byte) error {
	_, err := f.Write(line)
	return err
}

// AppendHistory appends e to the root's history, rotating it first when it
// has reached HistoryMaxSize. The line is durable when it returns.
func (l Layout) AppendHistory(ctx context.Context, e HistoryEntry) error {
	return l.appendHistory(ctx, e, writeWhole)
}

func (l Layout) appendHistory(ctx context.Context, e HistoryEntry, write historyWrite) error {
	line, err := historyLine(e)
	if err != nil {
		return err
	}
	own, err := l.openOwn(true)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer own.Close()
	unlock, err := l.lockHistory(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	path := filepath.Join(l.Dir(), HistoryFile)
	if fi, err := own.Lstat(HistoryFile); err == nil && !fi.Mode().IsRegular() {
		// Something else in its place would stop the history for ever:
		// kept for inspection, and a new history begins.
		if _, err := setAside(own, HistoryFile); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	} else if err == nil && fi.Size() >= HistoryMaxSize {
		if err := rotateHistory(own); err != nil {
			return fmt.Errorf("history: rotate %s: %w", path, err)
		}
	}
	f, err := fsutil.AppendRegularIn(own, HistoryFile, 0o666)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if fi.Size() > 0 {
		// A writer killed mid-line left a torn tail: end it, so that this
		// entry is a line of its own.
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if err := write(f, line); err != nil {
		return fmt.Errorf("history: append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("history: sync %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return fsutil.SyncRoot(own) // a new file: its entry must last too
	}
	return nil
}

// historyLine encodes e as one line, cutting a very long error to fit.
func historyLine(e HistoryEntry) ([]byte, error) {
	e.Root = ""
	for {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		if len(b) < maxHistoryLine || len(e.Error) < 64 {
			return append(b, '\n'), nil
		}
		e.Error = e.Error[:len(e.Error)/2] + "…"
	}
}

// lockHistory takes the root's history lock, waiting for another writer
// at most historyLockWait.
func (l Layout) lockHistory(ctx context.Context) (unlock func(), err error) {
	dir, err := l.OpenOwn(true, FolderLocks)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	dir.Close()
	path := filepath.Join(l.LocksDir(), historyLockFile)
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDONLY|fsutil.ONofollow|fsutil.ONonblock), flock.SetPermissions(0o666))
	ctx, cancel := context.WithTimeout(ctx, historyLockWait)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil && !ok {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			e := l.unsafe(path, fi.Mode())
			e.file = true
			return nil, fmt.Errorf("history: %w", e)
		}
		return nil, fmt.Errorf("history: lock %s: %w", path, err)
	}
	return func() { fl.Unlock() }, nil
}

// rotateHistory moves history.jsonl to history.jsonl.1, that to .2, and
// so on, dropping the oldest. The caller holds the history lock.
func rotateHistory(own *os.Root) error {
	for i := historyKeep; i >= 1; i-- {
		from := HistoryFile
		if i > 1 {
			from = rotatedHistory(i - 1)
		}
		err := own.Rename(from, rotatedHistory(i))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return unwrapPath(err)
		}
	}
	return fsutil.SyncRoot(own)
}

func rotatedHistory(i int) string { return fmt.Sprintf("%s.%d", HistoryFile, i) }

// History reads the root's history, oldest first: every entry, those of
// package name when name is set, and only the last limit when limit > 0.
// Lines that do not parse (a torn last line, anything foreign) are
// skipped. Each file is read through modup's own folder without following
// links (a link, named pipe or device in its place is an error, never
// followed or waited on), and no more than HistoryMaxSize plus one line of
// it. A root without history has an empty one.
func (l Layout) History(name string, limit int) ([]HistoryEntry, error) {
	own, err := l.openOwn(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer own.Close()
	var out []HistoryEntry
	for i := historyKeep; i >= 0; i-- {
		file := HistoryFile
		if i > 0 {
			file = rotatedHistory(i)
		}
		f, err := fsutil.OpenRegularIn(own, file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		out, err = readHistory(f, name, out)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("history: read %s: %w", filepath.Join(l.Dir(), file), err)
		}
	}
	for i := range out {
		out[i].Root = l.Root
	}
	if limit > 0 && len(out) > limit {
		out = slices.Clip(out[len(out)-limit:])
	}
	return out, nil
}

// readHistory appends the entries of r (for name, when set) to out.
func readHistory(r io.Reader, name string, out []HistoryEntry) ([]HistoryEntry, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, HistoryMaxSize+maxHistoryLine), 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			var e HistoryEntry
			if json.Unmarshal(line, &e) == nil && e.Package != "" && (name == "" || e.Package == name) {
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// readLine reads one line, without its newline; a line longer than
// maxHistoryLine is skipped (returned empty).
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		part, err := br.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, part...)
			if len(buf) > maxHistoryLine {
				tooLong, buf = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, err
		}
		return bytes.TrimSpace(buf), err
	}
}

// ReadHistory reads the history of every root (see Layout.History) and
// merges it by time, oldest first.
func ReadHistory(roots []string, name string, limit int) ([]HistoryEntry, error) {
	var all []HistoryEntry
	var errs []error
	for _, root := range roots {
		h, err := Layout{Root: root}.History(name, limit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, h...)
	}
	slices.SortStableFunc(all, func(a, b HistoryEntry) int { return a.Time.Compare(b.Time) })
	if limit > 0 && len(all) > limit {
		all = all[len(all)-limit:]
	}
	if all == nil {
		all = []HistoryEntry{}
	}
	return all, errors.Join(errs...)
}
