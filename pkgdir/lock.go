package pkgdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/modup/modup/internal/fsutil"
)

// ErrLocked: another modup process (or another Lock in this one) is
// changing the package.
var ErrLocked = errors.New("package is locked by another modup process")

// LockedError names who holds a package's lock. It matches ErrLocked.
type LockedError struct {
	Package string
	// PID, Command and Since describe the holder as it wrote itself down;
	// PID is 0 when that is unknown (it is still writing, or the file was
	// unreadable).
	PID     int
	Command string
	Since   time.Time
	// Waited is how long Lock waited before giving up (0: tried once).
	Waited time.Duration
}

func (e *LockedError) Error() string {
	var b strings.Builder
	if e.PID == 0 {
		fmt.Fprintf(&b, "%s is being changed by another modup process", e.Package)
	} else {
		since := e.Since.Local().Format("15:04:05")
		if y, m, d := e.Since.Local().Date(); !sameDay(y, m, d, time.Now()) {
			since = e.Since.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(&b, "%s is being changed by modup (pid %d, `%s`, since %s)", e.Package, e.PID, e.Command, since)
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, "; waited %s", e.Waited.Round(time.Millisecond))
	}
	return b.String()
}

func sameDay(y int, m time.Month, d int, t time.Time) bool {
	ty, tm, td := t.Local().Date()
	return y == ty && m == tm && d == td
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockPoll is how often Lock retries while it waits.
const lockPoll = 75 * time.Millisecond

// holderGrace is how long Lock, once its timeout is over, goes on looking
// when the lock is held by a process that has not written itself down (or
// has just removed its description to let go).
const holderGrace = 100 * time.Millisecond

// holderInfo is what a lock holder writes into <name>.holder.
type holderInfo struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// Lock is a held package lock. It is an advisory lock on
// locks/<name>.lock (flock on Unix, LockFileEx on Windows), which the kernel
// drops when the holder dies, so a crashed modup never leaves a package
// locked. The lock belongs to the open file, not the process: two Locks of
// the same package in one process exclude each other too.
type Lock struct {
	name string
	dir  *os.Root // locks/, for the holder file

	mu sync.Mutex
	fl *flock.Flock // nil once unlocked
}

// LockPath is the file locked for package name. It stays an empty file:
// on Windows a locked file cannot be read, so the holder's description goes
// into HolderPath.
func (l Layout) LockPath(name string) string {
	return filepath.Join(l.LocksDir(), name+".lock")
}

// HolderPath describes the current holder of package name's lock.
func (l Layout) HolderPath(name string) string {
	return filepath.Join(l.LocksDir(), name+".holder")
}

// maxHolder bounds what is read of a holder description.
const maxHolder = 4 << 10

// newFlock is the lock of package name: its file is opened without
// following a link and without waiting on a named pipe, and made with
// 0666 less the umask.
func (l Layout) newFlock(name string) *flock.Flock {
	return flock.New(l.LockPath(name), flock.SetFlag(os.O_CREATE|os.O_RDONLY|fsutil.ONofollow|fsutil.ONonblock), flock.SetPermissions(0o666))
}

// lockFileError explains why the lock file of name could not be used:
// something other than a regular file (a link, a folder, a named pipe) is
// refused, naming it.
func (l Layout) lockFileError(name string, err error) error {
	if fi, lerr := os.Lstat(l.LockPath(name)); lerr == nil && !fi.Mode().IsRegular() {
		e := l.unsafe(l.LockPath(name), fi.Mode())
		e.file = true
		return fmt.Errorf("lock %s: %w", name, e)
	}
	return fmt.Errorf("lock %s: %w", name, err)
}

// Lock takes package name's lock, retrying until timeout has passed (0:
// try once) or ctx is done. When another holder keeps it, the error is a
// *LockedError naming that holder.
func (l Layout) Lock(ctx context.Context, name string, timeout time.Duration) (*Lock, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	dir, err := l.OpenOwn(true, FolderLocks)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	lk, err := l.lock(ctx, dir, name, timeout)
	if err != nil {
		dir.Close()
		return nil, err
	}
	return lk, nil
}

func (l Layout) lock(ctx context.Context, dir *os.Root, name string, timeout time.Duration) (*Lock, error) {
	fl := l.newFlock(name)
	start := time.Now()
	var timer *time.Timer
	var graceEnd time.Time
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, l.lockFileError(name, err)
		}
		if ok {
			if fi, err := fl.Stat(); err != nil || !fi.Mode().IsRegular() {
				fl.Unlock()
				return nil, l.lockFileError(name, err)
			}
			lk := &Lock{name: name, dir: dir, fl: fl}
			if err := lk.writeHolder(); err != nil {
				fl.Unlock()
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			return lk, nil
		}
		waited := time.Since(start)
		var wait time.Duration
		if waited >= timeout {
			e := l.lockedError(dir, name, waited, timeout)
			if e.PID != 0 || timeout == 0 {
				return nil, e
			}
			// Caught between a holder taking the lock and writing itself
			// down, or between its removing that and letting go: look
			// again for a moment (trying the lock too) rather than name
			// nobody.
			if graceEnd.IsZero() {
				graceEnd = time.Now().Add(holderGrace)
			}
			if !time.Now().Before(graceEnd) {
				return nil, e
			}
			wait = holderGrace / 10
		} else {
			wait = min(lockPoll, timeout-waited)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w (%w)", name, ctx.Err(), l.lockedError(dir, name, time.Since(start), timeout))
		case <-timer.C:
		}
	}
}

// lockedError describes the holder of name's lock.
// The holder's description is read through the bounded reader: a named
// pipe or a link to /dev/zero in its place is not waited on or read
// without end, it only leaves the holder unnamed.
func (l Layout) lockedError(dir *os.Root, name string, waited, timeout time.Duration) *LockedError {
	e := &LockedError{Package: name}
	if timeout > 0 {
		e.Waited = waited
	}
	data, err := fsutil.ReadRegularIn(dir, name+".holder", maxHolder)
	if err != nil {
		return e
	}
	var h holderInfo
	if json.Unmarshal(data, &h) == nil && h.PID > 0 {
		e.PID, e.Command, e.Since = h.PID, h.Command, h.Since
	}
	return e
}

func (lk *Lock) writeHolder() error {
	data, err := json.Marshal(holderInfo{PID: os.Getpid(), Command: commandLine(), Since: time.Now().Round(time.Second)})
	if err != nil {
		return err
	}
	file := lk.name + ".holder"
	if fi, err := lk.dir.Lstat(file); err == nil && !fi.Mode().IsRegular() {
		if _, err := setAside(lk.dir, file); err != nil {
			return err
		}
	}
	return fsutil.WriteFileAtomicIn(lk.dir, file, append(data, '\n'), 0o666)
}

// commandLine is this process's command line as a user would recognise
// it: the program's base name and its arguments, cut to a sane length.
func commandLine() string {
	if len(os.Args) == 0 {
		return "modup"
	}
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	s := strings.Join(args, " ")
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// checkLocked fails unless someone holds package name's lock: the changes
// that require the caller to hold it check that they are not run without.
// (A lock held by this process through another Lock counts: flock and
// LockFileEx locks belong to the open file.)
func (l Layout) checkLocked(name string) error {
	if _, err := l.ownDir(false, FolderLocks); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check the lock of %s: %w", name, err)
	}
	fl := l.newFlock(name)
	ok, err := fl.TryLock()
	if errors.Is(err, fs.ErrNotExist) {
		ok, err = true, nil // no locks folder: nobody holds it
	}
	if err != nil {
		return fmt.Errorf("check the lock of %s: %w", name, err)
	}
	if ok {
		fl.Unlock()
		return fmt.Errorf("%s: the package is not locked; take its lock (Layout.Lock) before changing it", name)
	}
	return nil
}

// Name is the locked package.
func (lk *Lock) Name() string { return lk.name }

// Unlock releases the lock. Unlocking twice is harmless.
func (lk *Lock) Unlock() error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.fl == nil {
		return nil
	}
	// The holder file goes first, while the lock is still ours: afterwards
	// it may already describe the next holder.
	rmErr := lk.dir.Remove(lk.name + ".holder")
	if errors.Is(rmErr, os.ErrNotExist) {
		rmErr = nil
	}
	if err := lk.fl.Unlock(); err != nil {
		return fmt.Errorf("unlock %s: %w", lk.name, err)
	}
	lk.fl = nil
	lk.dir.Close()
	if rmErr != nil {
		return fmt.Errorf("unlock %s: %w", lk.name, rmErr)
	}
	return nil
}

// daemonLockName names the lock a daemon holds on a root while it serves
// it; hidden, so no package can be called that.
const daemonLockName = ".daemon"

// LockDaemon takes the root's daemon lock, held as long as a daemon serves
// the root, so that a second daemon on the same root refuses to start.
// When another holds it, the error is a *LockedError naming that process.
func (l Layout) LockDaemon(ctx context.Context) (*Lock, error) {
	dir, err := l.OpenOwn(true, FolderLocks)
	if err != nil {
		return nil, fmt.Errorf("lock %s for the daemon: %w", l.Root, err)
	}
	lk, err := l.lock(ctx, dir, daemonLockName, 0)
	if err != nil {
		dir.Close()
		return nil, err
	}
	return lk, nil
}
