package pkgdir

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRecoverEmptyRoot(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{name: "no .modup", setup: func(*testing.T, string) {}},
		{name: "empty .modup", setup: func(t *testing.T, root string) { writeTree(t, root, map[string]string{".modup/": ""}) }},
		{name: "packages, nothing pending", setup: func(t *testing.T, root string) {
			writeTree(t, filepath.Join(root, pkgName), pkgTree("1.0.0"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.setup(t, root)
			before := mustTreeHash(t, root)
			_, statErr := os.Stat(filepath.Join(root, ".modup"))
			rs, err := Layout{Root: root}.Recover(t.Context())
			if err != nil || len(rs) > 0 {
				t.Errorf("Recover = %v, %v; want nothing", rs, err)
			}
			if _, err := os.Stat(filepath.Join(root, ".modup")); (err == nil) != (statErr == nil) {
				t.Errorf("Recover created or removed .modup")
			}
			if mustTreeHash(t, root) != before {
				t.Errorf("Recover changed the root")
			}
		})
	}
}

// crashSwap leaves package pkgName mid-swap (old folder in its backup, new
// one not placed) as a dead process would, and returns the staged folder.
func crashSwap(t *testing.T, l Layout) string {
	t.Helper()
	staged := setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "2.0.0")
	req := update(staged)
	req.noExchange = true
	req.Inject = func(step string) error {
		if step == StepPlaceNew {
			return errCrash
		}
		return nil
	}
	var err error
	locked(t, l, pkgName, func() { _, err = l.Swap(t.Context(), req) })
	if !errors.Is(err, errCrash) {
		t.Fatalf("Swap = %v, want the injected crash", err)
	}
	return staged
}

func TestRecoverLeavesLockedPackagesAlone(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	staged := crashSwap(t, l)
	// A live process holds pkgName's lock (here: another Lock in this
	// process, which flock treats alike): its journal, staging and
	// temporary files are work in progress.
	held, err := l.Lock(t.Context(), pkgName, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.CreateTemp(pkgName, "download-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Leftovers of other packages nobody holds are fair game.
	otherStaging, err := l.NewStaging("other")
	if err != nil {
		t.Fatal(err)
	}
	otherTmp, err := l.CreateTemp("other", "download-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	otherTmp.Close()
	// Names modup does not give are not its own: they stay.
	writeTree(t, l.TmpDir(), map[string]string{".stray": "x", "other/notes.txt": "x", "other/download-x.zip": "x"})

	rs, err := l.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Package+" "+r.Action)
	}
	slices.Sort(got)
	want := []string{"other swept", "other swept"}
	if !slices.Equal(got, want) {
		t.Errorf("Recover did %v, want %v", got, want)
	}
	for _, p := range []string{l.JournalPath(pkgName), staged, f.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s of the locked package was touched: %v", p, err)
		}
	}
	for _, p := range []string{otherStaging, otherTmp.Name()} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s not swept: %v", p, err)
		}
	}
	for _, p := range []string{".stray", "other/notes.txt", "other/download-x.zip"} {
		if _, err := os.Stat(filepath.Join(l.TmpDir(), p)); err != nil {
			t.Errorf("%s, not modup's, was removed: %v", p, err)
		}
	}
	if err := os.RemoveAll(l.TmpDir()); err != nil {
		t.Fatal(err)
	}
	f, err = l.CreateTemp(pkgName, "download-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	held.Unlock()
	rs, err = l.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Action != ActionRolledBack || rs[1].Action != ActionSwept {
		t.Errorf("Recover once unlocked = %v, want the swap rolled back and the download swept", rs)
	}
	checkState(t, l, pkgState{live: "1.0.0", record: "1.0.0"})
}

// A journal naming paths modup never uses (damaged or forged) is set
// aside, never acted on: nothing moves, and what it may name stays.
func TestRecoverSetsAsideForgedJournals(t *testing.T) {
	tests := []struct {
		name    string
		journal func(j *journal)
		wantErr string
	}{
		{name: "live outside the root", journal: func(j *journal) { j.Live = "../" + pkgName }, wantErr: "not the package folder"},
		{name: "staged outside staging", journal: func(j *journal) { j.Staged = "elsewhere" }, wantErr: "not in .modup/staging"},
		{name: "staged escaping", journal: func(j *journal) { j.Staged = ".modup/staging/../../../x" }, wantErr: "not in .modup/staging"},
		{name: "backup of another package", journal: func(j *journal) { j.Backup = ".modup/backups/other/1.0.0" }, wantErr: "not in .modup/backups/" + pkgName},
		{name: "unknown operation", journal: func(j *journal) { j.Op = "format-disk" }, wantErr: "unknown operation"},
		{name: "no hash", journal: func(j *journal) { j.NewHash = "" }, wantErr: "no tree hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			staged := crashSwap(t, l)
			j, err := l.readJournal(pkgName)
			if err != nil {
				t.Fatal(err)
			}
			tc.journal(j)
			data, _ := json.Marshal(j)
			if err := os.WriteFile(l.JournalPath(pkgName), data, 0o644); err != nil {
				t.Fatal(err)
			}
			// Another package's interrupted change is still settled.
			l2 := Layout{Root: l.Root}
			other := filepath.Join(l.Root, "other")
			writeTree(t, other, pkgTree("1.0.0"))
			otherStaged, err := l2.NewStaging("other")
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, otherStaged, pkgTree("2.0.0"))
			locked(t, l2, "other", func() {
				_, err = l2.Swap(t.Context(), SwapRequest{Name: "other", Staged: otherStaged, OldVersion: "1.0.0", NewVersion: "2.0.0",
					Inject: func(s string) error {
						if s == StepRecord {
							return errCrash
						}
						return nil
					}})
			})
			if !errors.Is(err, errCrash) {
				t.Fatal(err)
			}

			before := mustTreeHash(t, filepath.Join(l.BackupsDir(), pkgName))
			rs, err := l.Recover(t.Context())
			if err != nil {
				t.Fatalf("Recover = %v, want the bad journal set aside", err)
			}
			i := slices.IndexFunc(rs, func(r Recovery) bool { return r.Package == pkgName })
			if i < 0 || rs[i].Action != ActionSetAside || !strings.Contains(rs[i].Detail, tc.wantErr) {
				t.Fatalf("Recover = %+v, want %s set aside because %q", rs, pkgName, tc.wantErr)
			}
			if _, err := os.Stat(l.JournalPath(pkgName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("bad journal still in place: %v", err)
			}
			aside, _ := filepath.Glob(l.JournalPath(pkgName) + ".broken-*")
			if len(aside) != 1 || !strings.Contains(rs[i].Detail, aside[0]) {
				t.Errorf("set aside as %v; the warning says %q", aside, rs[i].Detail)
			}
			if mustTreeHash(t, filepath.Join(l.BackupsDir(), pkgName)) != before {
				t.Error("recovery moved things for a bad journal")
			}
			// What the journal may name is kept with it.
			if _, err := os.Stat(staged); err != nil {
				t.Errorf("the staged folder a set-aside journal names was swept: %v", err)
			}
			if _, err := os.Stat(filepath.Join(l.Root, pkgName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("recovery put something at the live path for a bad journal: %v", err)
			}
			found := false
			for _, r := range rs {
				found = found || (r.Package == "other" && r.Action == ActionFinished)
			}
			if !found {
				t.Errorf("Recover = %v: the other package's change was not finished", rs)
			}
		})
	}
}

func TestRecoverSweepsAtomicWriteTemps(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeTree(t, l.Dir(), map[string]string{
		"journal/.gone.json.tmp-123":   "partial",
		"installed/.gone.json.tmp-456": "partial",
		"locks/.gone.holder.tmp-789":   "partial",
		"installed/.held.json.tmp-1":   "being written",
		"installed/held.json":          "{}",
		"installed/.unrelated":         "kept",
	})
	held, err := l.Lock(t.Context(), "held", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	rs, err := l.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Errorf("Recover = %v, want three temporary files swept", rs)
	}
	for path, want := range map[string]bool{
		"journal/.gone.json.tmp-123":   false,
		"installed/.gone.json.tmp-456": false,
		"locks/.gone.holder.tmp-789":   false,
		"installed/.held.json.tmp-1":   true,
		"installed/held.json":          true,
		"installed/.unrelated":         true,
	} {
		_, err := os.Stat(filepath.Join(l.Dir(), path))
		if (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", path, err == nil, want)
		}
	}
}
