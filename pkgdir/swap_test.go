package pkgdir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const pkgName = "a2.pkg"

// pkgTree is a package folder of a version. Trees of different versions
// differ in content and in shape.
func pkgTree(version string) map[string]string {
	return map[string]string{
		"a2modsource.json":               fmt.Sprintf(`{"name":%q,"version":%q,"update_url":"https://example.com/%s"}`, pkgName, version, version),
		"mod/a2module.json":              `{}`,
		"mod/code.py":                    "# version " + version + "\n",
		"mod/only-" + version + "/x.txt": version,
		"assets/":                        "",
	}
}

// refHashes caches refHash: the hash of a tree depends only on the tree.
var refHashes sync.Map

// refHash is the tree hash of pkgTree(version).
func refHash(t *testing.T, version string) string {
	t.Helper()
	if h, ok := refHashes.Load(version); ok {
		return h.(string)
	}
	dir := t.TempDir()
	writeTree(t, dir, pkgTree(version))
	h := mustTreeHash(t, dir)
	refHashes.Store(version, h)
	return h
}

// pkgState is what a root holds for the package: the live version, the
// backups (folder name → version) and the install record's version ("" =
// none).
type pkgState struct {
	live    string
	backups map[string]string
	record  string
}

// setUp builds st in l's root and returns the staged folder holding
// stagedVersion ("" = none).
func setUp(t *testing.T, l Layout, st pkgState, stagedVersion string) string {
	t.Helper()
	if st.live != "" {
		writeTree(t, filepath.Join(l.Root, pkgName), pkgTree(st.live))
	}
	names := make([]string, 0, len(st.backups))
	for dir := range st.backups {
		names = append(names, dir)
	}
	slices.Sort(names)
	for i, dir := range names {
		path := filepath.Join(l.BackupsDir(), pkgName, dir)
		writeTree(t, path, pkgTree(st.backups[dir]))
		when := time.Now().Add(time.Duration(i-len(names)) * time.Hour) // older in name order
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
	if st.record != "" {
		if err := l.WriteRecord(pkgName, Record{Version: st.record, TreeHash: refHash(t, st.record), Source: "setup"}); err != nil {
			t.Fatal(err)
		}
	}
	if stagedVersion == "" {
		return ""
	}
	staged, err := l.NewStaging(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, staged, pkgTree(stagedVersion))
	return staged
}

// checkState asserts that the root holds exactly st, and nothing of an
// unfinished change: no journal, nothing in staging/ or tmp/, no stray
// temporary files, no lock holders.
func checkState(t *testing.T, l Layout, st pkgState) {
	t.Helper()
	live := filepath.Join(l.Root, pkgName)
	if st.live == "" {
		if _, err := os.Lstat(live); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("live folder exists (%v), want none", err)
		}
	} else if h, err := TreeHash(live); err != nil {
		t.Errorf("live folder: %v, want version %s", err, st.live)
	} else if h != refHash(t, st.live) {
		t.Errorf("live folder is not wholly version %s", st.live)
	}

	got := map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(l.BackupsDir(), pkgName))
	for _, e := range entries {
		if _, ok := isBackupRecordName(e.Name()); ok {
			continue // checked by checkNoLeftovers
		}
		got[e.Name()] = "?"
		h, err := TreeHash(filepath.Join(l.BackupsDir(), pkgName, e.Name()))
		if err != nil {
			t.Errorf("backup %s: %v", e.Name(), err)
			continue
		}
		for _, v := range []string{"0.1", "0.9.0", "1.0.0", "1.1.0", "1.2.0", "1.5.0", "2.0.0"} {
			if h == refHash(t, v) {
				got[e.Name()] = v
			}
		}
	}
	want := st.backups
	if want == nil {
		want = map[string]string{}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backups = %v, want %v (\"?\" = not a whole version)", got, want)
	}

	rec, err := l.ReadRecord(pkgName)
	switch {
	case st.record == "" && !errors.Is(err, os.ErrNotExist):
		t.Errorf("install record %+v (%v), want none", rec, err)
	case st.record != "" && err != nil:
		t.Errorf("install record: %v, want version %s", err, st.record)
	case st.record != "" && (rec.Version != st.record || rec.TreeHash != refHash(t, st.record)):
		t.Errorf("install record says %s %s, want version %s with its tree hash", rec.Version, rec.TreeHash, st.record)
	}

	// The file list describes the recorded version, when modup made one.
	list, err := l.ReadFileList(pkgName)
	switch {
	case st.record == "" && !errors.Is(err, os.ErrNotExist):
		t.Errorf("file list %s (%v), want none", list.Version, err)
	case st.record != "" && err == nil && (list.Version != st.record || list.TreeHash != refHash(t, st.record)):
		t.Errorf("file list of %s, want %s", list.Version, st.record)
	}

	checkNoLeftovers(t, l)
}

func checkNoLeftovers(t *testing.T, l Layout) {
	t.Helper()
	for _, dir := range []string{l.JournalDir(), l.StagingDir(), l.TmpDir()} {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("leftovers in %s: %v", dir, names(entries))
		}
	}
	for _, dir := range []string{l.InstalledDir(), l.LocksDir(), filepath.Join(l.BackupsDir(), pkgName)} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, ok := isBackupRecordName(e.Name()); ok && strings.HasPrefix(dir, l.BackupsDir()) {
				// A backup's record, which must not outlive it.
				if _, err := os.Lstat(filepath.Join(dir, b)); err != nil {
					t.Errorf("record %s of a backup that is gone (%v)", e.Name(), err)
				}
				continue
			}
			if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".holder") {
				t.Errorf("leftover %s in %s", e.Name(), dir)
			}
		}
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// locked runs f holding package name's lock, and releases it afterwards
// as the kernel does for a process that dies.
func locked(t *testing.T, l Layout, name string, f func()) {
	t.Helper()
	lk, err := l.Lock(t.Context(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	f()
}

// errCrash stands for the process dying.
var errCrash = errors.New("injected crash")

// changeCase is one journaled change, crashed at each of its steps.
type changeCase struct {
	name   string
	before pkgState
	staged string // version to stage, "" none
	after  pkgState
	run    func(ctx context.Context, l Layout, staged string, inject func(string) error) error
	steps  []string        // the steps a clean run goes through, in order
	done   map[string]bool // crash before these steps: recovery must finish (else undo)
	// noJournal: a crash before these steps leaves no journal to settle.
	noJournal map[string]bool
}

func changeCases() []changeCase {
	v1 := pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0"}, record: "1.0.0"}
	v2 := pkgState{live: "2.0.0", backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0", "1.0.0~2": "1.0.0"}, record: "2.0.0"}
	update := func(noExchange bool, old string) func(context.Context, Layout, string, func(string) error) error {
		return func(ctx context.Context, l Layout, staged string, inject func(string) error) error {
			_, err := l.Swap(ctx, SwapRequest{Name: pkgName, Staged: staged, OldVersion: old, NewVersion: "2.0.0",
				Record: &Record{Source: "test"}, Inject: inject, noExchange: noExchange})
			return err
		}
	}
	rollback := func(noExchange bool) func(context.Context, Layout, string, func(string) error) error {
		return func(ctx context.Context, l Layout, _ string, inject func(string) error) error {
			_, _, err := l.rollback(ctx, pkgName, "1.0.0", inject, noExchange)
			return err
		}
	}
	remove := func(purge bool) func(context.Context, Layout, string, func(string) error) error {
		return func(ctx context.Context, l Layout, _ string, inject func(string) error) error {
			_, err := l.remove(ctx, pkgName, purge, inject)
			return err
		}
	}
	set := func(steps ...string) map[string]bool {
		m := map[string]bool{}
		for _, s := range steps {
			m[s] = true
		}
		return m
	}
	rolledBack := pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0", "2.0.0": "2.0.0"}, record: "1.0.0"}
	onV2 := pkgState{live: "2.0.0", backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0"}, record: "2.0.0"}
	return []changeCase{
		{
			name: "update exchange", before: v1, staged: "2.0.0", after: v2, run: update(false, "1.0.0"),
			steps:     []string{StepJournal, StepExchange, StepBackupOld, StepRecord, StepUnjournal},
			done:      set(StepBackupOld, StepRecord, StepUnjournal),
			noJournal: set(StepJournal),
		},
		{
			name: "update fallback", before: v1, staged: "2.0.0", after: v2, run: update(true, "1.0.0"),
			steps:     []string{StepJournal, StepBackupLive, StepPlaceNew, StepRecord, StepUnjournal},
			done:      set(StepRecord, StepUnjournal),
			noJournal: set(StepJournal),
		},
		{
			name: "new install", before: pkgState{}, staged: "2.0.0", after: pkgState{live: "2.0.0", record: "2.0.0"}, run: update(false, ""),
			steps:     []string{StepJournal, StepPlaceNew, StepRecord, StepUnjournal},
			done:      set(StepRecord, StepUnjournal),
			noJournal: set(StepJournal),
		},
		{
			name: "rollback exchange", before: onV2, after: rolledBack, run: rollback(false),
			steps:     []string{StepJournal, StepExchange, StepBackupOld, StepRecord, StepUnjournal},
			done:      set(StepBackupOld, StepRecord, StepUnjournal),
			noJournal: set(StepJournal),
		},
		{
			name: "rollback fallback", before: onV2, after: rolledBack, run: rollback(true),
			steps:     []string{StepJournal, StepBackupLive, StepPlaceNew, StepRecord, StepUnjournal},
			done:      set(StepRecord, StepUnjournal),
			noJournal: set(StepJournal),
		},
		{
			name:   "remove",
			before: pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0"}, record: "1.0.0"},
			after:  pkgState{backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0"}},
			run:    remove(false),
			steps:  []string{StepJournal, StepBackupLive, StepUnrecord, StepUnjournal},
			done:   set(StepUnrecord, StepUnjournal), noJournal: set(StepJournal),
		},
		{
			name:   "purge",
			before: pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0"}, record: "1.0.0"},
			after:  pkgState{backups: map[string]string{"0.9.0": "0.9.0"}},
			run:    remove(true),
			steps:  []string{StepJournal, StepTrashLive, StepUnrecord, StepUnjournal, StepDelete},
			done:   set(StepUnrecord, StepUnjournal, StepDelete), noJournal: set(StepJournal, StepDelete),
		},
	}
}

// TestChangeCleanRun checks each change without crashes, and that it goes
// through the steps the crash tests expect (so the exchange cases really
// exchange).
func TestChangeCleanRun(t *testing.T) {
	for _, tc := range changeCases() {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			staged := setUp(t, l, tc.before, tc.staged)
			var steps []string
			var err error
			locked(t, l, pkgName, func() {
				err = tc.run(t.Context(), l, staged, func(s string) error { steps = append(steps, s); return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(steps, tc.steps) {
				t.Errorf("steps = %v, want %v", steps, tc.steps)
			}
			checkState(t, l, tc.after)
			if rs, err := l.Recover(t.Context()); err != nil || len(rs) > 0 {
				t.Errorf("Recover after a clean run = %v, %v; want nothing to do", rs, err)
			}
		})
	}
}

// TestChangeCrashAtEveryStep crashes each change before each of its steps,
// and recovery itself before each of its steps, and checks that Recover
// then leaves the package wholly old or wholly new, backups intact, and no
// leftovers.
func TestChangeCrashAtEveryStep(t *testing.T) {
	recoverySteps := []string{"", recStepRestore, StepBackupOld, StepRecord, StepUnrecord, StepUnjournal, recStepRemoveStaged, StepDelete}
	for _, tc := range changeCases() {
		for _, step := range tc.steps {
			for _, recCrash := range recoverySteps {
				name := tc.name + "/crash before " + step
				if recCrash != "" {
					name += "/recovery crash before " + recCrash
				}
				t.Run(name, func(t *testing.T) {
					l := Layout{Root: t.TempDir()}
					staged := setUp(t, l, tc.before, tc.staged)
					lk, err := l.Lock(t.Context(), pkgName, 0)
					if err != nil {
						t.Fatal(err)
					}
					err = tc.run(t.Context(), l, staged, func(s string) error {
						if s == step {
							return errCrash
						}
						return nil
					})
					if !errors.Is(err, errCrash) {
						t.Fatalf("change = %v, want the injected crash", err)
					}
					lk.Unlock() // the kernel does this for a dead process

					want, wantAction := tc.before, ActionRolledBack
					if tc.done[step] {
						want, wantAction = tc.after, ActionFinished
					}
					if tc.noJournal[step] {
						wantAction = ""
					}

					if recCrash != "" {
						crashed := false
						_, err := l.recover(t.Context(), func(s string) error {
							if s == recCrash {
								crashed = true
								return errCrash
							}
							return nil
						})
						if crashed != errors.Is(err, errCrash) {
							t.Fatalf("recovery crashed at %s = %v, but Recover returned %v", recCrash, crashed, err)
						}
						// When recovery never reaches recCrash it ran to the
						// end: the checks below then hold for its result.
					}

					rs, err := l.Recover(t.Context())
					if err != nil {
						t.Fatalf("Recover: %v", err)
					}
					if recCrash == "" {
						action := ""
						for _, r := range rs {
							if r.Package == pkgName && r.Action != ActionSwept {
								if action != "" {
									t.Errorf("two recoveries of %s: %v", pkgName, rs)
								}
								action = r.Action
							}
						}
						if action != wantAction {
							t.Errorf("Recover did %q for %s (%v), want %q", action, pkgName, rs, wantAction)
						}
					}
					checkState(t, l, want)
					if rs, err := l.Recover(t.Context()); err != nil || len(rs) > 0 {
						t.Errorf("second Recover = %v, %v; want nothing to do", rs, err)
					}
				})
			}
		}
	}
}
