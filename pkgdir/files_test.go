package pkgdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// Compare finds every kind of change, and nothing in an untouched copy.
func TestCompare(t *testing.T) {
	base := map[string]string{
		"a2modsource.json": `{"version":"1.0.0"}`,
		"mod/run.py":       "print('hi')\n",
		"mod/tool.sh*":     "#!/bin/sh\n",
		"mod/data/":        "",
		"keep.txt":         "keep",
	}
	dir := t.TempDir()
	writeTree(t, dir, base)
	h, files, err := TreeFiles(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h != mustTreeHash(t, dir) {
		t.Error("TreeFiles' hash is not TreeHash")
	}
	list := FileList{Version: "1.0.0", TreeHash: h, Files: files}
	if d, err := Compare(dir, list); err != nil || !d.Empty() {
		t.Fatalf("untouched: %+v, %v", d, err)
	}

	writeTree(t, dir, map[string]string{"mod/run.py": "print('changed')\n", "new/added.txt": "x"})
	if err := os.Remove(filepath.Join(dir, "keep.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "mod", "data")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"mod/data": "now a file"})
	modified := []string{"mod/data", "mod/run.py"}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(filepath.Join(dir, "mod", "tool.sh"), 0o644); err != nil {
			t.Fatal(err)
		}
		modified = []string{"mod/data", "mod/run.py", "mod/tool.sh"}
	}
	d, err := Compare(dir, list)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Modified, modified) || !slices.Equal(d.Missing, []string{"keep.txt"}) || !slices.Equal(d.Added, []string{"new", "new/added.txt"}) {
		t.Errorf("diff %+v", d)
	}
}

// A swap keeps the new version's file list beside its record; a rollback
// lists the restored version; a removal drops the list; an undone change
// leaves the old list and nothing in tmp.
func TestFileListFollowsTheVersion(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	staged := setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "2.0.0")
	listed := func(version string) {
		t.Helper()
		list, err := l.ReadFileList(pkgName)
		if err != nil || list.Version != version || list.TreeHash != refHash(t, version) {
			t.Fatalf("file list %s %s (%v), want version %s", list.Version, list.TreeHash, err, version)
		}
		if d, err := Compare(filepath.Join(l.Root, pkgName), list); err != nil || !d.Empty() {
			t.Errorf("the list does not describe the live folder: %+v, %v", d, err)
		}
	}
	locked(t, l, pkgName, func() {
		if _, err := l.Swap(t.Context(), SwapRequest{Name: pkgName, Staged: staged, OldVersion: "1.0.0", NewVersion: "2.0.0"}); err != nil {
			t.Fatal(err)
		}
	})
	listed("2.0.0")
	locked(t, l, pkgName, func() {
		if _, _, err := l.Rollback(t.Context(), pkgName, ""); err != nil {
			t.Fatal(err)
		}
	})
	listed("1.0.0")

	staged, err := l.NewStaging(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, staged, pkgTree("2.0.0"))
	locked(t, l, pkgName, func() {
		_, err := l.Swap(t.Context(), SwapRequest{Name: pkgName, Staged: staged, OldVersion: "1.0.0", NewVersion: "2.0.0",
			Inject: func(s string) error {
				if s == StepExchange || s == StepBackupLive {
					return errCrash
				}
				return nil
			}})
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
	})
	if _, err := l.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	listed("1.0.0")
	if ents, _ := os.ReadDir(l.TmpDir()); len(ents) > 0 {
		t.Errorf("left in tmp: %v", names(ents))
	}

	locked(t, l, pkgName, func() {
		if _, err := l.Remove(t.Context(), pkgName, false); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := l.ReadFileList(pkgName); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the list of a removed package stays (%v)", err)
	}
}
