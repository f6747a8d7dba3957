package fsutil

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// ReadRegular returns a file whole, in one buffer sized from the file
// (a scan cache of a few MB is not read into twice its size), and a file
// at the limit is still read.
func TestReadRegularSizes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		size    int
		max     int64
		wantErr error
	}{
		{name: "at the limit", size: 10, max: 10},
		{name: "one past the limit", size: 11, max: 10, wantErr: ErrTooLarge},
		{name: "a few MB", size: 3 << 20, max: 256 << 20},
		{name: "not a multiple of a page", size: 70001, max: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := bytes.Repeat([]byte("0123456789abcdef"), tt.size/16+1)[:tt.size]
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadRegular(path, tt.max)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadRegular = %d bytes, %v; want %v", len(got), err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ReadRegular = %d bytes, %v; want the file's %d bytes", len(got), err, len(want))
			}
			if cap(got) > len(want)+1 {
				t.Errorf("read into a buffer of %d bytes for a file of %d: one buffer of the file's size was expected", cap(got), len(want))
			}
		})
	}
}
