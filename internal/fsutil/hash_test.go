package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileSHA256(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "abc")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
		err              error
	}{
		{name: "file", path: p, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{name: "folder", path: dir, err: ErrNotRegular},
		{name: "missing", path: filepath.Join(dir, "none"), err: os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FileSHA256(tc.path)
			if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Errorf("FileSHA256 = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
