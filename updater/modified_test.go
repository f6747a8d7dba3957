package updater_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// TestUserEditsAreNotDestroyed edits a package modup installed; an update
// refuses to replace it unless forced, and then keeps the edited folder as
// the backup.
func TestUserEditsAreNotDestroyed(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, dir string, files map[string]string)
	}{
		{name: "file changed", edit: func(t *testing.T, dir string, files map[string]string) {
			files["greet/greet.ahk"] = "MsgBox my own greeting\n"
			testpkg.WriteTree(t, dir, files)
		}},
		{name: "file added", edit: func(t *testing.T, dir string, files map[string]string) {
			files["greet/notes.txt"] = "mine\n"
			testpkg.WriteTree(t, dir, files)
		}},
		{name: "file deleted", edit: func(t *testing.T, dir string, files map[string]string) {
			delete(files, "only-1.0.0.txt")
			if err := os.Remove(filepath.Join(dir, "only-1.0.0.txt")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "executable bit set", edit: func(t *testing.T, dir string, files map[string]string) {
			if err := os.Chmod(filepath.Join(dir, "greet", "greet.ahk"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			r := newFSRemote(t)
			u := newUpdater(t)
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			v1 := pkgFiles("hello", "1.0.0", r.dir)
			v2 := pkgFiles("hello", "1.1.0", r.dir)
			r.release(t, "1.0.0", v1)
			wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
			edited := maps.Clone(v1)
			tc.edit(t, dir, edited)
			editedHash := treeHash(t, dir)
			r.release(t, "1.1.0", v2)

			c := u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, updater.ErrModified) {
				t.Fatalf("error %v is not ErrModified", c.Err)
			}
			if treeHash(t, dir) != editedHash {
				t.Fatal("the refused update changed the edited package")
			}
			wantTree(t, dir, edited)
			wantBackups(t, root, "hello")
			checkClean(t, root)

			c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{Force: true})
			wantStatus(t, c, updater.StatusUpdated)
			wantTree(t, dir, v2)
			if treeHash(t, c.Backup) != editedHash {
				t.Errorf("the backup %s is not the edited folder", c.Backup)
			}
			wantTree(t, c.Backup, edited)
			wantBackups(t, root, "hello", "1.0.0")
			checkRecord(t, root, "hello", "1.1.0", "fs", r.dir)
			checkClean(t, root)
		})
	}
}

// TestNoRecordNoEditCheck: a package that a2 or the user installed (no
// install record) is updated without an edit check: there is nothing to
// compare it with.
func TestNoRecordNoEditCheck(t *testing.T) {
	r := newFSRemote(t)
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	v1 := pkgFiles("hello", "1.0.0", r.dir)
	v1["greet/mine.txt"] = "mine\n"
	testpkg.WriteTree(t, dir, v1)
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
	if _, err := (pkgdir.Layout{Root: root}).ReadRecord("hello"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record: %v", err)
	}

	c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusUpdated)
	wantTree(t, c.Backup, v1)
}

// TestEditsFoundWhateverTheVersionSpelling: the release is "v1.0.0" while
// its zipped manifest says "1.0.0" (or the reverse); the same version, so
// the install record still describes the package and an edit is found.
func TestEditsFoundWhateverTheVersionSpelling(t *testing.T) {
	tests := []struct {
		name    string
		release string // the version the remote manifest names (and the zip's name)
		zipped  string // the version inside the zip
	}{
		{name: "release with v", release: "v1.0.0", zipped: "1.0.0"},
		{name: "zip with v", release: "1.0.0", zipped: "v1.0.0"},
		{name: "short release", release: "1.0", zipped: "1.0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			r := newFSRemote(t)
			u := newUpdater(t)
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			r.release(t, tc.release, pkgFiles("hello", tc.zipped, r.dir))
			c := u.Install(ctx, root, r.dir, updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusInstalled)
			if len(c.Warnings) != 0 {
				t.Errorf("warnings %q for the same version spelled differently", c.Warnings)
			}
			testpkg.WriteTree(t, dir, map[string]string{"greet/greet.ahk": "MsgBox my own\n"})
			edited := treeHash(t, dir)
			r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))

			c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, updater.ErrModified) {
				t.Errorf("error %v is not ErrModified", c.Err)
			}
			if treeHash(t, dir) != edited {
				t.Error("the edited package was replaced")
			}
		})
	}
}
