package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestRenameNoReplace(t *testing.T) {
	tests := []struct {
		name    string
		target  string // "" none, "file", "emptydir", "dir"
		wantErr error
	}{
		{name: "absent target", target: ""},
		{name: "existing file", target: "file", wantErr: fs.ErrExist},
		{name: "existing empty folder", target: "emptydir", wantErr: fs.ErrExist},
		{name: "existing folder", target: "dir", wantErr: fs.ErrExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			dst := filepath.Join(dir, "dst")
			mustWrite(t, filepath.Join(src, "a.txt"), "source")
			switch tc.target {
			case "file":
				mustWrite(t, dst, "target")
			case "emptydir":
				if err := os.Mkdir(dst, 0o755); err != nil {
					t.Fatal(err)
				}
			case "dir":
				mustWrite(t, filepath.Join(dst, "b.txt"), "target")
			}
			err := RenameNoReplace(src, dst)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("RenameNoReplace = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if _, err := os.Stat(filepath.Join(src, "a.txt")); err != nil {
					t.Errorf("source changed after a refused rename: %v", err)
				}
				return
			}
			if got := mustRead(t, filepath.Join(dst, "a.txt")); got != "source" {
				t.Errorf("dst/a.txt = %q, want %q", got, "source")
			}
			if _, err := os.Lstat(src); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("source still there: %v", err)
			}
		})
	}
}

func TestExchange(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	mustWrite(t, filepath.Join(a, "f"), "A")
	mustWrite(t, filepath.Join(b, "f"), "B")
	err := Exchange(a, b)
	if runtime.GOOS != "linux" {
		if !errors.Is(err, ErrExchangeUnsupported) {
			t.Fatalf("Exchange on %s = %v, want ErrExchangeUnsupported", runtime.GOOS, err)
		}
		return
	}
	if errors.Is(err, ErrExchangeUnsupported) {
		t.Skipf("file system of %s cannot exchange: %v", dir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(a, "f")); got != "B" {
		t.Errorf("a/f = %q after exchange, want B", got)
	}
	if got := mustRead(t, filepath.Join(b, "f")); got != "A" {
		t.Errorf("b/f = %q after exchange, want A", got)
	}
	// Exchanging with a missing path changes nothing and is not "unsupported".
	err = Exchange(a, filepath.Join(dir, "missing"))
	if err == nil || errors.Is(err, ErrExchangeUnsupported) {
		t.Errorf("Exchange with a missing path = %v, want a not-exist error", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Exchange with a missing path = %v, want fs.ErrNotExist", err)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
