package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeBackups creates backups/<pkg>/<dir> folders holding pkgTree(version),
// the first one oldest.
func makeBackups(t *testing.T, l Layout, pkg string, dirs ...[2]string) {
	t.Helper()
	for i, d := range dirs {
		path := filepath.Join(l.BackupsDir(), pkg, d[0])
		writeTree(t, path, pkgTree(d[1]))
		when := time.Now().Add(time.Duration(i-len(dirs)) * time.Hour)
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
}

func backupList(bs []Backup) string {
	var s []string
	for _, b := range bs {
		s = append(s, b.Name+"/"+filepath.Base(b.Dir)+"="+b.Version)
	}
	return strings.Join(s, " ")
}

func TestBackups(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	makeBackups(t, l, "a", [2]string{"1.0.0", "1.0.0"}, [2]string{"weird_name", "1.1.0"}, [2]string{"1.2.0", "1.2.0"})
	makeBackups(t, l, "b", [2]string{"0.1", "0.1"})
	mid := time.Now().Add(-90 * time.Minute)
	os.Chtimes(filepath.Join(l.BackupsDir(), "b", "0.1"), mid, mid)
	// A backup whose manifest is broken keeps the version of its folder name.
	writeTree(t, filepath.Join(l.BackupsDir(), "b", "0.2~2"), map[string]string{ManifestFile: "{"})
	old := time.Now().Add(-10 * time.Hour)
	os.Chtimes(filepath.Join(l.BackupsDir(), "b", "0.2~2"), old, old)
	writeTree(t, l.BackupsDir(), map[string]string{"b/stray-file": "x", ".hidden/x/y": "z"})

	tests := []struct {
		name string
		pkg  string
		want string
	}{
		{name: "one package, newest first", pkg: "a", want: "a/1.2.0=1.2.0 a/weird_name=1.1.0 a/1.0.0=1.0.0"},
		// Without records (made by an older modup), by version: 0.2~2 is
		// older than 0.1 by its time, newer by its version.
		{name: "version from the folder name", pkg: "b", want: "b/0.2~2=0.2 b/0.1=0.1"},
		{name: "all packages", pkg: "", want: "a/1.2.0=1.2.0 a/weird_name=1.1.0 a/1.0.0=1.0.0 b/0.2~2=0.2 b/0.1=0.1"},
		{name: "none", pkg: "c", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bs, err := l.Backups(tc.pkg)
			if err != nil {
				t.Fatal(err)
			}
			if got := backupList(bs); got != tc.want {
				t.Errorf("Backups(%q) = %s, want %s", tc.pkg, got, tc.want)
			}
			for _, b := range bs {
				if !filepath.IsAbs(b.Dir) || b.Time.IsZero() {
					t.Errorf("backup %+v: want an absolute Dir and a Time", b)
				}
			}
		})
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name        string
		pkg         string
		keep        int
		wantRemoved string
		wantLeft    string
	}{
		{name: "keep newest two", pkg: "a", keep: 2, wantRemoved: "a/1.0.0=1.0.0", wantLeft: "a/1.2.0=1.2.0 a/1.1.0=1.1.0 b/0.1=0.1"},
		{name: "keep more than there are", pkg: "a", keep: 5, wantRemoved: "", wantLeft: "a/1.2.0=1.2.0 a/1.1.0=1.1.0 a/1.0.0=1.0.0 b/0.1=0.1"},
		{name: "all packages keep one", pkg: "", keep: 1, wantRemoved: "a/1.1.0=1.1.0 a/1.0.0=1.0.0", wantLeft: "a/1.2.0=1.2.0 b/0.1=0.1"},
		{name: "all packages keep none", pkg: "", keep: 0, wantRemoved: "a/1.2.0=1.2.0 a/1.1.0=1.1.0 a/1.0.0=1.0.0 b/0.1=0.1", wantLeft: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			makeBackups(t, l, "a", [2]string{"1.0.0", "1.0.0"}, [2]string{"1.1.0", "1.1.0"}, [2]string{"1.2.0", "1.2.0"})
			makeBackups(t, l, "b", [2]string{"0.1", "0.1"})
			os.Chtimes(filepath.Join(l.BackupsDir(), "b", "0.1"), time.Now().Add(-150*time.Minute), time.Now().Add(-150*time.Minute))
			removed, err := l.Prune(tc.pkg, tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			if got := backupList(removed); got != tc.wantRemoved {
				t.Errorf("removed %s, want %s", got, tc.wantRemoved)
			}
			left, err := l.Backups("")
			if err != nil {
				t.Fatal(err)
			}
			if got := backupList(left); got != tc.wantLeft {
				t.Errorf("left %s, want %s", got, tc.wantLeft)
			}
			for _, b := range removed {
				if _, err := os.Stat(b.Dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("pruned %s still there: %v", b.Dir, err)
				}
			}
			checkNoLeftovers(t, l)
		})
	}
	if _, err := (Layout{Root: t.TempDir()}).Prune("a", -1); err == nil {
		t.Error("Prune(keep -1) = nil, want an error")
	}
}

func TestRollback(t *testing.T) {
	tests := []struct {
		name      string
		live      string // "" none
		backups   [][2]string
		to        string
		wantErr   string
		wantLive  string
		wantFrom  string
		wantAfter map[string]string
	}{
		{
			name: "to the newest", live: "2.0.0", backups: [][2]string{{"1.0.0", "1.0.0"}, {"1.5.0", "1.5.0"}},
			wantLive: "1.5.0", wantFrom: "1.5.0", wantAfter: map[string]string{"1.0.0": "1.0.0", "2.0.0": "2.0.0"},
		},
		{
			name: "to a version", live: "2.0.0", backups: [][2]string{{"1.0.0", "1.0.0"}, {"1.5.0", "1.5.0"}}, to: "1.0.0",
			wantLive: "1.0.0", wantFrom: "1.0.0", wantAfter: map[string]string{"1.5.0": "1.5.0", "2.0.0": "2.0.0"},
		},
		{
			name: "to a backup folder name", live: "2.0.0", backups: [][2]string{{"1.0.0", "1.0.0"}, {"1.0.0~2", "1.0.0"}}, to: "1.0.0~2",
			wantLive: "1.0.0", wantFrom: "1.0.0", wantAfter: map[string]string{"1.0.0": "1.0.0", "2.0.0": "2.0.0"},
		},
		{
			name: "no live folder", backups: [][2]string{{"1.0.0", "1.0.0"}},
			wantLive: "1.0.0", wantFrom: "1.0.0", wantAfter: map[string]string{},
		},
		{
			name: "no backups", live: "2.0.0",
			wantErr: "no backups of " + pkgName + ": nothing to roll back to; `modup backups` lists them",
		},
		{
			name: "unknown version", live: "2.0.0", backups: [][2]string{{"1.0.0", "1.0.0"}}, to: "0.5",
			wantErr: "no backup of " + pkgName + " at version 0.5 (there are: 1.0.0); `modup backups` lists them",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			if tc.live != "" {
				writeTree(t, filepath.Join(l.Root, pkgName), pkgTree(tc.live))
			}
			makeBackups(t, l, pkgName, tc.backups...)
			var res SwapResult
			var from Backup
			var err error
			locked(t, l, pkgName, func() { res, from, err = l.Rollback(t.Context(), pkgName, tc.to) })
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Rollback = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from.Version != tc.wantFrom {
				t.Errorf("restored backup %+v, want version %s", from, tc.wantFrom)
			}
			if tc.live != "" && filepath.Base(res.Backup) != tc.live {
				t.Errorf("replaced version went to %s, want backups/%s/%s", res.Backup, pkgName, tc.live)
			}
			rec, err := l.ReadRecord(pkgName)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Version != tc.wantLive || rec.TreeHash != refHash(t, tc.wantLive) || rec.Source != "rollback" ||
				rec.UpdateURL != "https://example.com/"+tc.wantLive {
				t.Errorf("record = %+v, want the restored version %s", rec, tc.wantLive)
			}
			checkState(t, l, pkgState{live: tc.wantLive, backups: tc.wantAfter, record: tc.wantLive})
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name       string
		tree       map[string]string
		purge      bool
		wantBackup string // base name, "" none
	}{
		{name: "to backups", tree: pkgTree("1.0.0"), wantBackup: "1.0.0"},
		{name: "broken manifest", tree: map[string]string{ManifestFile: "{", "x": "y"}, wantBackup: "unknown"},
		{name: "purge", tree: pkgTree("1.0.0"), purge: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			live := filepath.Join(l.Root, pkgName)
			writeTree(t, live, tc.tree)
			hash := mustTreeHash(t, live)
			if err := l.WriteRecord(pkgName, Record{Version: "1.0.0"}); err != nil {
				t.Fatal(err)
			}
			var dir string
			var err error
			locked(t, l, pkgName, func() { dir, err = l.Remove(t.Context(), pkgName, tc.purge) })
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(live); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("live folder still there: %v", err)
			}
			if _, err := l.ReadRecord(pkgName); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("install record kept: %v", err)
			}
			if tc.wantBackup == "" {
				if dir != "" {
					t.Errorf("purge returned backup %q", dir)
				}
				if entries, _ := os.ReadDir(l.BackupsDir()); len(entries) > 0 {
					t.Errorf("purge left backups %v", names(entries))
				}
			} else {
				if filepath.Base(dir) != tc.wantBackup {
					t.Errorf("backup %s, want .../%s", dir, tc.wantBackup)
				}
				if mustTreeHash(t, dir) != hash {
					t.Error("backup differs from the removed folder")
				}
			}
			checkNoLeftovers(t, l)
		})
	}
	l := Layout{Root: t.TempDir()}
	var err error
	locked(t, l, pkgName, func() { _, err = l.Remove(t.Context(), pkgName, false) })
	if !errors.Is(err, ErrNoPackage) {
		t.Errorf("Remove of a missing package = %v, want ErrNoPackage", err)
	}
}

func TestChangesNeedTheLock(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("2.0.0"))
	makeBackups(t, l, pkgName, [2]string{"1.0.0", "1.0.0"})
	before := mustTreeHash(t, l.Root)
	tests := []struct {
		name string
		run  func() error
	}{
		{name: "rollback", run: func() error { _, _, err := l.Rollback(t.Context(), pkgName, ""); return err }},
		{name: "remove", run: func() error { _, err := l.Remove(t.Context(), pkgName, false); return err }},
		{name: "purge", run: func() error { _, err := l.Remove(t.Context(), pkgName, true); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err == nil || !strings.Contains(err.Error(), "not locked") {
				t.Errorf("%s without the lock = %v, want a not-locked error", tc.name, err)
			}
		})
	}
	if mustTreeHash(t, l.Root) != before { // .modup is not part of the hash
		t.Error("the package folder changed")
	}
	if bs, err := l.Backups(pkgName); err != nil || len(bs) != 1 {
		t.Errorf("backups = %v, %v; want the one backup untouched", bs, err)
	}
}
