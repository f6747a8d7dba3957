package updater_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/updater"
)

// Lock and Restore round-trip a package set; a lock entry whose tree hash
// the release does not make is refused with nothing installed; ReadLock
// refuses what modup did not write.
func TestLockRestore(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	u := hostUpdater(t, "0.5.7")
	a, b := newRelDir(t, base, "a"), newRelDir(t, base, "b")
	a.release(t, "1.0.0", nil)
	b.release(t, "2.0.0", requires(map[string]any{"a": "^1"}))
	if got := u.InstallSet(ctx, root, []string{b.dir, a.dir}, updater.SetOptions{}); statuses(got) != "b installed 2.0.0; a installed 1.0.0" {
		t.Fatalf("install: %s", statuses(got))
	}
	lf, warnings := u.Lock(scanRoot(t, root))
	if len(warnings) > 0 || len(lf.Packages) != 2 || lf.HostVersion != "0.5.7" || lf.Packages[0].Name != "a" || lf.Packages[0].ZipSHA256 == "" {
		t.Fatalf("lock %+v, warnings %q", lf, warnings)
	}
	data, err := json.Marshal(lf)
	if err != nil {
		t.Fatal(err)
	}
	read, err := updater.ReadLock(data, "x.lock")
	if err != nil {
		t.Fatal(err)
	}

	fresh := filepath.Join(base, "fresh")
	var steps []string
	got := u.Restore(ctx, fresh, read, updater.SetOptions{Inject: func(name, step string) error {
		steps = append(steps, strings.TrimSpace(name+" "+step))
		return nil
	}})
	if statuses(got) != "a installed 1.0.0; b installed 2.0.0" || len(steps) == 0 || steps[0] != "journal" {
		t.Fatalf("restore: %s, steps %q (want one transaction)", statuses(got), steps)
	}
	for _, n := range []string{"a", "b"} {
		if treeHash(t, filepath.Join(fresh, n)) != treeHash(t, filepath.Join(root, n)) {
			t.Errorf("%s restored is not the locked tree", n)
		}
	}
	checkClean(t, fresh)

	bad := read
	bad.Packages = append([]updater.LockEntry(nil), read.Packages...)
	bad.Packages[1].TreeHash = "sha256:" + strings.Repeat("0", 64)
	other := filepath.Join(base, "other")
	got = u.Restore(ctx, other, bad, updater.SetOptions{})
	if statuses(got) != "a skipped 1.0.0; b failed 2.0.0" || !errors.Is(got[1].Err, updater.ErrLockMismatch) {
		t.Fatalf("restore with a wrong tree hash: %s (%v)", statuses(got), got[1].Err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := os.Lstat(filepath.Join(other, n)); err == nil {
			t.Errorf("%s was installed from a lock that did not verify", n)
		}
	}
	checkClean(t, other)

	for _, tc := range []struct{ name, data, want string }{
		{"not JSON", "hello", "not a lock file modup wrote"},
		{"unknown field", `{"lock_version": 1, "packages": [], "extra": 1}`, "unknown field"},
		{"newer", `{"lock_version": 2, "packages": []}`, "lock_version 2: this modup reads version 1"},
		{"a path for a name", `{"lock_version": 1, "packages": [{"name": "../x", "version": "1.0.0", "update_url": "u", "tree_hash": "h"}]}`, "package 1:"},
		{"no tree hash", `{"lock_version": 1, "packages": [{"name": "x", "version": "1.0.0", "update_url": "u"}]}`, "x: version, update_url and tree_hash are needed"},
		{"bad digest", `{"lock_version": 1, "packages": [{"name": "x", "version": "1.0.0", "update_url": "u", "tree_hash": "h", "zip_sha256": "zz"}]}`, `zip_sha256 "zz" is not a sha256`},
	} {
		if _, err := updater.ReadLock([]byte(tc.data), "x.lock"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
