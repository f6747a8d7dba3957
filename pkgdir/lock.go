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
	name   string
	holder string

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

// Lock takes package name's lock, retrying until timeout has passed (0:
// try once) or ctx is done. When another holder keeps it, the error is a
// *LockedError naming that holder.
func (l Layout) Lock(ctx context.Context, name string, timeout time.Duration) (*Lock, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.LocksDir(), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	fl := flock.New(l.LockPath(name), flock.SetPermissions(0o644))
	start := time.Now()
	var timer *time.Timer
	var graceEnd time.Time
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			lk := &Lock{name: name, holder: l.HolderPath(name), fl: fl}
			if err := lk.writeHolder(); err != nil {
				fl.Unlock()
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			return lk, nil
		}
		waited := time.Since(start)
		var wait time.Duration
		if waited >= timeout {
			e := l.lockedError(name, waited, timeout)
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
			return nil, fmt.Errorf("lock %s: %w (%w)", name, ctx.Err(), l.lockedError(name, time.Since(start), timeout))
		case <-timer.C:
		}
	}
}

// lockedError describes the holder of name's lock.
func (l Layout) lockedError(name string, waited, timeout time.Duration) *LockedError {
	e := &LockedError{Package: name}
	if timeout > 0 {
		e.Waited = waited
	}
	data, err := os.ReadFile(l.HolderPath(name))
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
	return fsutil.WriteFileAtomic(lk.holder, append(data, '\n'), 0o644)
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
	fl := flock.New(l.LockPath(name), flock.SetPermissions(0o644))
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
	rmErr := os.Remove(lk.holder)
	if errors.Is(rmErr, os.ErrNotExist) {
		rmErr = nil
	}
	if err := lk.fl.Unlock(); err != nil {
		return fmt.Errorf("unlock %s: %w", lk.name, err)
	}
	lk.fl = nil
	if rmErr != nil {
		return fmt.Errorf("unlock %s: %w", lk.name, rmErr)
	}
	return nil
}
