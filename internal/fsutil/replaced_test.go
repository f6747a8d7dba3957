package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A file replaced by a rename between the look at it and its open (a
// writer's atomic replace) is read again, whole: the new content, no
// error. One replaced at every look is an error.
func TestReadRegularInReplaced(t *testing.T) {
	tests := []struct {
		name     string
		replaces int // how many looks are followed by a replace
		want     string
		wantErr  bool
	}{
		{name: "not replaced", replaces: 0, want: "v0"},
		{name: "replaced once", replaces: 1, want: "v1"},
		{name: "replaced twice", replaces: 2, want: "v2"},
		{name: "replaced at every look", replaces: replacedAttempts, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "s.json"), []byte("v0"), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n := 0
			testHookLooked = func(string) {
				if n >= tc.replaces {
					return
				}
				n++
				if err := ReplaceFileIn(r, "s.json", []byte("v"+string(rune('0'+n))), 0o644); err != nil {
					t.Error(err)
				}
			}
			defer func() { testHookLooked = nil }()
			data, err := ReadRegularIn(r, "s.json", 1<<10)
			switch {
			case tc.wantErr && (!errors.Is(err, ErrNotRegular) || !errors.Is(err, errReplaced)):
				t.Errorf("err %v, want replaced", err)
			case !tc.wantErr && (err != nil || string(data) != tc.want):
				t.Errorf("read %q, %v; want %q", data, err, tc.want)
			}
		})
	}
}
