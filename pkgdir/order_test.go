package pkgdir

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// swapTo replaces the live package by version, as an update does.
func swapTo(t *testing.T, l Layout, from, to string) SwapResult {
	t.Helper()
	staged, err := l.NewStaging(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, staged, pkgTree(to))
	var res SwapResult
	locked(t, l, pkgName, func() {
		res, err = l.Swap(t.Context(), SwapRequest{Name: pkgName, Staged: staged, OldVersion: from, NewVersion: to})
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestBackupOrderIgnoresFileTimes: backups are ordered by what modup
// recorded when it made them, not by their folders' times. A backup dated
// in the future (a clock that was ahead) used to count as the newest:
// pruning deleted the backup just made, and rollback restored the wrong
// version.
func TestBackupOrderIgnoresFileTimes(t *testing.T) {
	for _, dated := range []string{"future", "past"} {
		t.Run(dated, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("1.0.0"))
			swapTo(t, l, "1.0.0", "1.1.0")
			swapTo(t, l, "1.1.0", "1.2.0")
			when := time.Now().AddDate(50, 0, 0)
			if dated == "past" {
				when = time.Now().AddDate(-50, 0, 0)
			}
			for _, v := range []string{"1.0.0", "1.1.0"} {
				if err := os.Chtimes(filepath.Join(l.BackupsDir(), pkgName, v), when, when); err != nil {
					t.Fatal(err)
				}
			}
			res := swapTo(t, l, "1.2.0", "1.5.0")
			// The newest backup made last, whatever the times say.
			if err := os.Chtimes(res.Backup, when.AddDate(-1, 0, 0), when.AddDate(-1, 0, 0)); err != nil {
				t.Fatal(err)
			}
			bs, err := l.Backups(pkgName)
			if err != nil {
				t.Fatal(err)
			}
			if got := backupList(bs); got != pkgName+"/1.2.0=1.2.0 "+pkgName+"/1.1.0=1.1.0 "+pkgName+"/1.0.0=1.0.0" {
				t.Errorf("Backups = %s, want the order they were made in, newest first", got)
			}
			if bs[0].Time.After(time.Now()) {
				t.Errorf("the newest backup's time %v is its folder's, not the one recorded", bs[0].Time)
			}
			removed, err := l.Prune(pkgName, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := backupList(removed); got != pkgName+"/1.1.0=1.1.0 "+pkgName+"/1.0.0=1.0.0" {
				t.Errorf("pruned %s, want the two older backups", got)
			}
			if _, err := os.Stat(res.Backup); err != nil {
				t.Errorf("the backup just made was pruned: %v", err)
			}
			var b Backup
			locked(t, l, pkgName, func() { _, b, err = l.Rollback(t.Context(), pkgName, "") })
			if err != nil || b.Version != "1.2.0" {
				t.Errorf("rollback restored %q (%v), want 1.2.0", b.Version, err)
			}
			checkState(t, l, pkgState{live: "1.2.0", backups: map[string]string{"1.5.0": "1.5.0"}, record: "1.2.0"})
		})
	}
}

// TestLegacyBackupOrder: backups of a modup that kept no record are
// ordered by version, then time, then name; any recorded backup is newer
// than all of them (records began after they were made).
func TestLegacyBackupOrder(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	future := time.Now().AddDate(30, 0, 0)
	for _, b := range []struct {
		dir, version string
		when         time.Time
	}{
		{"1.0.0", "1.0.0", future}, // dated in the future: still the oldest version
		{"1.2.0", "1.2.0", time.Now().Add(-3 * time.Hour)},
		{"1.1.0", "1.1.0", time.Now().Add(-2 * time.Hour)},
		{"1.1.0~2", "1.1.0", time.Now().Add(-time.Hour)},
		{"odd", "not-a-version", time.Now()},
	} {
		path := filepath.Join(l.BackupsDir(), pkgName, b.dir)
		writeTree(t, path, pkgTree(b.version))
		if err := os.Chtimes(path, b.when, b.when); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := l.Backups(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	p := pkgName + "/"
	if got, want := backupList(bs), p+"1.2.0=1.2.0 "+p+"1.1.0~2=1.1.0 "+p+"1.1.0=1.1.0 "+p+"1.0.0=1.0.0 "+p+"odd=not-a-version"; got != want {
		t.Errorf("Backups =\n%s, want\n%s", got, want)
	}

	// A backup made now, of a lower version, is the newest all the same.
	writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("0.9.0"))
	res := swapTo(t, l, "0.9.0", "2.0.0")
	bs, err = l.Backups(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	if bs[0].Dir != res.Backup || bs[0].Seq != 1 {
		t.Errorf("newest backup %+v, want the one just made (%s), first in sequence", bs[0], res.Backup)
	}
}

// Pruning also drops the records of backups that are gone and what killed
// record writes left, and nothing else of the backups folder.
func TestPruneForgetsOrphanRecords(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("1.0.0"))
	swapTo(t, l, "1.0.0", "1.1.0")
	dir := filepath.Join(l.BackupsDir(), pkgName)
	writeTree(t, dir, map[string]string{
		".0.5.0.json":          `{"version": "0.5.0", "seq": 7}`, // its backup was deleted by hand
		".1.0.0.json.tmp-4242": "partial",
		".DS_Store":            "a file manager's",
	})
	if _, err := l.Prune(pkgName, 3); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{".0.5.0.json": false, ".1.0.0.json.tmp-4242": false, ".DS_Store": true, ".1.0.0.json": true, "1.0.0": true} {
		if _, err := os.Lstat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
}
