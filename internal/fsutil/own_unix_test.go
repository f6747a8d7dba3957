//go:build unix

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readUmask tells the umask the process has. (It is process-wide: no test
// of this package runs in parallel.)
func TestReadUmask(t *testing.T) {
	for _, mask := range []int{0o027, 0o002, 0o077} {
		old := syscall.Umask(mask)
		got := readUmask()
		syscall.Umask(old)
		if got != fs.FileMode(mask) {
			t.Errorf("readUmask under %#o = %#o", mask, got)
		}
	}
}

// The one reader of files that someone else may have replaced: never
// blocks, never reads without end, and (In) never follows a link.
func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.json", "{}")
	write("big.json", strings.Repeat("x", 100))
	write("empty", "")
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"zero": "/dev/zero", "link": "ok.json", "out": "/etc/hostname"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	tests := []struct {
		name       string
		want       string
		wantErr    error // of ReadRegular, which follows links
		wantInErr  error // of ReadRegularIn
		inMessage  string
		skipFollow bool
	}{
		{name: "ok.json", want: "{}"},
		{name: "empty", want: ""},
		{name: "big.json", wantErr: ErrTooLarge, wantInErr: ErrTooLarge, inMessage: "is 100 bytes, more than the 10"},
		{name: "pipe", wantErr: ErrNotRegular, wantInErr: ErrNotRegular, inMessage: "is a named pipe (FIFO)"},
		{name: "zero", wantErr: ErrNotRegular, wantInErr: ErrNotRegular, inMessage: "is a symbolic link"},
		{name: "link", want: "{}", wantInErr: ErrNotRegular, inMessage: "is a symbolic link"},
		{name: "out", wantInErr: ErrNotRegular, inMessage: "is a symbolic link", skipFollow: true},
		{name: "folder", wantErr: ErrNotRegular, wantInErr: ErrNotRegular, inMessage: "is a folder"},
		{name: "missing", wantErr: fs.ErrNotExist, wantInErr: fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timer := time.AfterFunc(10*time.Second, func() { panic(tc.name + ": a read hung") })
			defer timer.Stop()
			if !tc.skipFollow {
				got, err := ReadRegular(filepath.Join(dir, tc.name), 10)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && (err != nil || string(got) != tc.want)) {
					t.Errorf("ReadRegular = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
				}
			}
			got, err := ReadRegularIn(r, tc.name, 10)
			if !errors.Is(err, tc.wantInErr) || (tc.wantInErr == nil && (err != nil || string(got) != tc.want)) {
				t.Errorf("ReadRegularIn = %q, %v; want %q, %v", got, err, tc.want, tc.wantInErr)
			}
			if tc.inMessage != "" && (err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tc.name)+" "+tc.inMessage)) {
				t.Errorf("ReadRegularIn error %v: want the path and %q", err, tc.inMessage)
			}
		})
	}
}

// MakeWritableIn opens up the folders below a tree, not the ones its
// links point to.
func TestMakeWritableIn(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"trash/a/b", "trash/c"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "trash", "a", "link")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"trash/a/b", "trash/a", "trash/c", "trash"} {
		if err := os.Chmod(filepath.Join(dir, d), 0o555); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(outside, 0o555); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	MakeWritableIn(r, "trash")
	for _, d := range []string{"trash", "trash/a", "trash/a/b", "trash/c"} {
		if fi, err := os.Lstat(filepath.Join(dir, d)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v, want 0755", d, fi.Mode(), err)
		}
	}
	if fi, err := os.Lstat(outside); err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("the folder a link points to: %v %v, want it untouched (0555)", fi.Mode(), err)
	}
	if err := RemoveAllIn(r, "trash"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(outside); err != nil {
		t.Errorf("the folder a link pointed to: %v", err)
	}
}

// Files written through a Root get perm less the umask, as any new file.
func TestWriteFileAtomicInMode(t *testing.T) {
	r, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := WriteFileAtomicIn(r, "f.json", []byte("{}"), 0o666); err != nil {
		t.Fatal(err)
	}
	fi, err := r.Lstat("f.json")
	if err != nil || fi.Mode().Perm() != Perm(0o666) {
		t.Errorf("mode %v (%v), want %v", fi.Mode(), err, Perm(0o666))
	}
	ents, _ := os.ReadDir(r.Name())
	if len(ents) != 1 {
		t.Errorf("left %d entries, want the file only", len(ents))
	}
}

func TestIsTempName(t *testing.T) {
	for name, want := range map[string]bool{
		"download-123.zip": true, "download-.zip": false, "download-12a.zip": false,
		"download-1.zip.x": false, "xdownload-1.zip": false, "download-1": false,
	} {
		if got := IsTempName(name, "download-", ".zip"); got != want {
			t.Errorf("IsTempName(%q) = %v, want %v", name, got, want)
		}
	}
}
