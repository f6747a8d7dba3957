package testpkg

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// ModupFolders are the folders of a root's .modup, relative to the root,
// including package name's own folders of tmp/, staging/ and backups/:
// each must be a real folder, never a link followed.
func ModupFolders(name string) []string {
	return []string{
		".modup",
		".modup/cache", ".modup/state", ".modup/tmp", ".modup/staging", ".modup/backups",
		".modup/locks", ".modup/journal", ".modup/installed", ".modup/disabled",
		".modup/tmp/" + name, ".modup/staging/" + name, ".modup/backups/" + name, ".modup/disabled/" + name,
		".modup/journal/txn",
	}
}

// Hazards put in place of a folder of .modup.
const (
	HazardLink = "link" // a symbolic link to a folder of the user's
	HazardFile = "file" // a regular file
	HazardFIFO = "fifo" // a named pipe nobody writes to
)

// Victim fills dir, outside any root, with a user's files named like what
// modup makes in its folders (downloads, staging folders, journals,
// records, lock files), and returns dir: a modup that followed a link
// there would delete or overwrite them.
func Victim(t testing.TB, dir, name string) string {
	t.Helper()
	WriteTree(t, dir, map[string]string{
		"user-file.txt":                "the user's",
		name + "/download-1.zip":       "the user's",
		name + "/new-1/keep.txt":       "the user's",
		name + "/purge-1/keep.txt":     "the user's",
		name + "/1.0.0/keep.txt":       "the user's",
		"download-1.zip":               "the user's",
		"new-1/keep.txt":               "the user's",
		"prune-1/keep.txt":             "the user's",
		name + ".json":                 "the user's",
		name + ".lock":                 "the user's",
		"." + name + ".json.tmp-1":     "the user's",
		"tmp/" + name + "/new-1/x.txt": "the user's",
	})
	return dir
}

// Snapshot is every path below dir with its content (regular files) or
// type (anything else), to compare before and after.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
			return nil
		}
		out[rel] = d.Type().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameSnapshot fails t unless dir is as before.
func SameSnapshot(t testing.TB, dir string, before map[string]string) {
	t.Helper()
	after := Snapshot(t, dir)
	for p, v := range before {
		if w, ok := after[p]; !ok {
			t.Errorf("%s was deleted", filepath.Join(dir, p))
		} else if w != v {
			t.Errorf("%s was changed", filepath.Join(dir, p))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s was created", filepath.Join(dir, p))
		}
	}
}
