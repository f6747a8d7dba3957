//go:build unix

package pkgdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// placeFile puts kind at path: a named pipe nobody writes to, or a link
// to /dev/zero (endless) — what made status, the daemon and lock waits
// hang or grow without limit.
func placeFile(t *testing.T, path, kind string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case "zero":
		err = os.Symlink("/dev/zero", path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// inTime runs f and fails the test when it takes longer than limit.
func inTime[T any](t *testing.T, limit time.Duration, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("%s hung", what)
		panic("unreachable")
	}
}

// TestSpecialFilesInModup: a named pipe or a link to /dev/zero in place
// of a file modup reads from .modup is refused at once, never waited on
// or read without end.
func TestSpecialFilesInModup(t *testing.T) {
	for _, kind := range []string{"fifo", "zero"} {
		t.Run(kind+"/lock holder", func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			held, err := l.Lock(t.Context(), pkgName, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Unlock()
			if err := os.Remove(l.HolderPath(pkgName)); err != nil {
				t.Fatal(err)
			}
			placeFile(t, l.HolderPath(pkgName), kind)
			// A lock wait that times out names nobody.
			err = inTime(t, 10*time.Second, "a lock wait", func() error {
				_, err := l.Lock(t.Context(), pkgName, 200*time.Millisecond)
				return err
			})
			var le *LockedError
			if !errors.As(err, &le) || le.PID != 0 {
				t.Errorf("Lock = %v, want a LockedError naming nobody", err)
			}
			// One cut short by its context (SIGINT) ends at once.
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			err = inTime(t, 10*time.Second, "a cancelled lock wait", func() error {
				_, err := l.Lock(ctx, pkgName, time.Hour)
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Lock = %v, want context.Canceled", err)
			}
		})
		t.Run(kind+"/journal", func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("1.0.0"))
			placeFile(t, l.JournalPath(pkgName), kind)
			type recovered struct {
				rs  []Recovery
				err error
			}
			got := inTime(t, 10*time.Second, "recovery", func() recovered {
				rs, err := l.Recover(t.Context())
				return recovered{rs, err}
			})
			if got.err != nil || len(got.rs) != 1 || got.rs[0].Action != ActionSetAside {
				t.Fatalf("Recover = %+v, %v; want the journal set aside", got.rs, got.err)
			}
			if _, err := os.Lstat(l.JournalPath(pkgName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal still there: %v", err)
			}
		})
		t.Run(kind+"/install record", func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			placeFile(t, l.RecordPath(pkgName), kind)
			err := inTime(t, 10*time.Second, "reading the record", func() error {
				_, err := l.ReadRecord(pkgName)
				return err
			})
			if !errors.Is(err, ErrBadRecord) || !errors.Is(err, fsutil.ErrNotRegular) {
				t.Errorf("ReadRecord = %v, want ErrBadRecord (not a regular file)", err)
			}
			// Writing the record sets the thing aside and goes on.
			if err := l.WriteRecord(pkgName, Record{Version: "1.0.0"}); err != nil {
				t.Fatal(err)
			}
			if r, err := l.ReadRecord(pkgName); err != nil || r.Version != "1.0.0" {
				t.Errorf("ReadRecord after WriteRecord = %+v, %v", r, err)
			}
			aside, _ := filepath.Glob(l.RecordPath(pkgName) + ".broken-*")
			if len(aside) != 1 {
				t.Errorf("set aside: %v, want one", aside)
			}
		})
		t.Run(kind+"/lock file", func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			placeFile(t, l.LockPath(pkgName), kind)
			err := inTime(t, 10*time.Second, "locking", func() error {
				_, err := l.Lock(t.Context(), pkgName, 0)
				return err
			})
			if !errors.Is(err, ErrUnsafeLayout) || !strings.Contains(err.Error(), l.LockPath(pkgName)) {
				t.Errorf("Lock = %v, want ErrUnsafeLayout naming the lock file", err)
			}
		})
	}
}
