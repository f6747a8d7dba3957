package pkgdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// txnPkg is what one package of the transaction test is before and after.
type txnPkg struct {
	op           string
	before       string // live version before, "" none
	after        string // live version after, "" none
	recordBefore string
	recordAfter  string
}

// txnCase is one package installed (b), one updated (a) and one removed
// (c), applied b, a, c: a dependency installed before its dependent, a
// replaced package removed last.
var txnCase = map[string]txnPkg{
	"a": {op: TxnUpdate, before: "1.0.0", after: "2.0.0", recordBefore: "1.0.0", recordAfter: "2.0.0"},
	"b": {op: TxnInstall, after: "2.0.0", recordAfter: "2.0.0"},
	"c": {op: TxnRemove, before: "1.0.0", recordBefore: "1.0.0"},
}

var txnOrder = []string{"b", "a", "c"}

// setUpTxn builds the "before" state and stages the new versions.
func setUpTxn(t *testing.T, l Layout) []TxnMember {
	t.Helper()
	var members []TxnMember
	for _, name := range txnOrder {
		p := txnCase[name]
		if p.before != "" {
			writeTree(t, filepath.Join(l.Root, name), pkgTree(p.before))
		}
		if p.recordBefore != "" {
			if err := l.WriteRecord(name, Record{Version: p.recordBefore, TreeHash: refHash(t, p.recordBefore), Source: "setup"}); err != nil {
				t.Fatal(err)
			}
		}
		m := TxnMember{Name: name, Op: p.op, OldVersion: p.before, NewVersion: p.after, Record: &Record{Source: "test"}}
		if p.op != TxnRemove {
			staged, err := l.NewStaging(name)
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, staged, pkgTree(p.after))
			m.Staged = staged
		}
		members = append(members, m)
	}
	return members
}

// checkTxnState asserts that every package of txnCase is wholly in its
// old state (new false) or wholly in its new one, and that nothing of the
// transaction is left.
func checkTxnState(t *testing.T, l Layout, isNew bool) {
	t.Helper()
	for _, name := range txnOrder {
		p := txnCase[name]
		live, rec, backups := p.before, p.recordBefore, map[string]string{}
		if isNew {
			live, rec = p.after, p.recordAfter
			if p.before != "" {
				backups[p.before] = p.before
			}
		}
		dir := filepath.Join(l.Root, name)
		if live == "" {
			if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: live folder exists (%v), want none", name, err)
			}
		} else if h, err := TreeHash(dir); err != nil || h != refHash(t, live) {
			t.Errorf("%s: live folder is not wholly %s (%v)", name, live, err)
		}
		got := map[string]string{}
		ents, _ := os.ReadDir(filepath.Join(l.BackupsDir(), name))
		for _, e := range ents {
			if _, ok := isBackupRecordName(e.Name()); ok {
				continue
			}
			got[e.Name()] = "?"
			if h, err := TreeHash(filepath.Join(l.BackupsDir(), name, e.Name())); err == nil && h == refHash(t, e.Name()) {
				got[e.Name()] = e.Name()
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(backups) {
			t.Errorf("%s: backups %v, want %v", name, got, backups)
		}
		r, err := l.ReadRecord(name)
		switch {
		case rec == "" && !errors.Is(err, os.ErrNotExist):
			t.Errorf("%s: record %+v (%v), want none", name, r, err)
		case rec != "" && (err != nil || r.Version != rec || r.TreeHash != refHash(t, rec)):
			t.Errorf("%s: record %+v (%v), want version %s with its tree hash", name, r, err, rec)
		}
		if list, err := l.ReadFileList(name); rec != "" && isNew && (err != nil || list.Version != rec) {
			t.Errorf("%s: file list %s (%v), want %s", name, list.Version, err, rec)
		} else if rec == "" && err == nil {
			t.Errorf("%s: file list %s, want none", name, list.Version)
		}
		if bs, err := l.Backups(name); err != nil || (isNew && p.before != "" && (len(bs) != 1 || bs[0].Seq == 0)) {
			t.Errorf("%s: backups %+v (%v): want the one made, with its record", name, bs, err)
		}
	}
	for _, dir := range []string{l.JournalDir(), l.StagingDir(), l.TmpDir()} {
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			t.Errorf("leftovers in %s: %v", dir, names(ents))
		}
	}
}

// lockAll holds every member's lock while f runs, then lets go as the
// kernel does for a process that dies.
func lockAll(t *testing.T, l Layout, f func()) {
	t.Helper()
	locks, err := l.LockAll(t.Context(), txnOrder, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, lk := range locks {
			lk.Unlock()
		}
	}()
	f()
}

func TestTransactCleanRun(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	members := setUpTxn(t, l)
	var steps []string
	var backups map[string]string
	lockAll(t, l, func() {
		var err error
		backups, err = l.Transact(t.Context(), members, func(name, step string) error {
			steps = append(steps, strings.TrimPrefix(name+" "+step, " "))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	want := []string{StepJournal, "b " + StepPlaceNew, "a " + StepBackupLive, "a " + StepPlaceNew, "c " + StepBackupLive,
		"b " + StepRecord, "a " + StepRecord, "c " + StepRecord, StepUnjournal}
	if !slices.Equal(steps, want) {
		t.Errorf("steps\n%q\nwant\n%q", steps, want)
	}
	checkTxnState(t, l, true)
	if backups["a"] != filepath.Join(l.BackupsDir(), "a", "1.0.0") || backups["c"] != filepath.Join(l.BackupsDir(), "c", "1.0.0") || len(backups) != 2 {
		t.Errorf("backups %v", backups)
	}
	if rs, err := l.Recover(t.Context()); err != nil || len(rs) > 0 {
		t.Errorf("Recover after a clean run: %v, %v", rs, err)
	}
}

// TestTransactCrashAtEveryStep crashes the transaction before each of its
// steps, and recovery before each of its own, and requires every package
// wholly old (crashed before the last member was in place) or wholly new.
func TestTransactCrashAtEveryStep(t *testing.T) {
	type at struct{ name, step string }
	steps := []at{{"", StepJournal}, {"b", StepPlaceNew}, {"a", StepBackupLive}, {"a", StepPlaceNew}, {"c", StepBackupLive},
		{"b", StepRecord}, {"a", StepRecord}, {"c", StepRecord}, {"", StepUnjournal}}
	recoverySteps := []string{"", recStepUnplace, recStepRestore, StepRecord, StepUnjournal, recStepRemoveStaged}
	for i, crash := range steps {
		finished := crash.step == StepRecord || crash.step == StepUnjournal
		for _, recCrash := range recoverySteps {
			name := fmt.Sprintf("crash before %s %s", crash.name, crash.step)
			if recCrash != "" {
				name += "/recovery crash before " + recCrash
			}
			t.Run(name, func(t *testing.T) {
				l := Layout{Root: t.TempDir()}
				members := setUpTxn(t, l)
				lockAll(t, l, func() {
					_, err := l.Transact(t.Context(), members, func(n, s string) error {
						if n == crash.name && s == crash.step {
							return errCrash
						}
						return nil
					})
					if !errors.Is(err, errCrash) {
						t.Fatalf("Transact = %v, want the injected crash", err)
					}
				})
				// While the journal is pending, single changes of its
				// members are refused and their staging is not swept.
				if i > 0 {
					lockAll(t, l, func() {
						if err := l.checkNoJournal("a"); err == nil || !strings.Contains(err.Error(), "several packages") {
							t.Errorf("checkNoJournal(a) with a transaction pending = %v", err)
						}
					})
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
				}
				rs, err := l.Recover(t.Context())
				if err != nil {
					t.Fatalf("Recover: %v", err)
				}
				if recCrash == "" && i > 0 {
					want := ActionRolledBack
					if finished {
						want = ActionFinished
					}
					if len(rs) == 0 || rs[0].Action != want || rs[0].Package != "b, a, c" {
						t.Errorf("Recover did %+v, want %s of b, a, c", rs, want)
					}
				}
				checkTxnState(t, l, finished)
				if rs, err := l.Recover(t.Context()); err != nil || len(rs) > 0 {
					t.Errorf("second Recover = %v, %v; want nothing to do", rs, err)
				}
			})
		}
	}
}

// A transaction in progress (its members locked) is left alone by
// Recover; Settle of one member settles it, trying the others' locks and
// naming a holder it cannot wait for.
func TestTransactPendingAndSettle(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	members := setUpTxn(t, l)
	lockAll(t, l, func() {
		if _, err := l.Transact(t.Context(), members, func(n, s string) error {
			if n == "a" && s == StepPlaceNew {
				return errCrash
			}
			return nil
		}); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if rs, err := l.Recover(t.Context()); err != nil || len(rs) > 0 {
			t.Errorf("Recover while the members are locked = %+v, %v; want nothing done", rs, err)
		}
		if _, err := os.Stat(filepath.Join(l.StagingDir(), "a")); err != nil {
			t.Errorf("the staged folder of a transaction in progress was swept: %v", err)
		}
	})

	// Settle of a with c locked by someone else: refused, naming c.
	la, err := l.Lock(t.Context(), "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := l.Lock(t.Context(), "c", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Settle("a"); err == nil || !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "c is being changed") {
		t.Errorf("Settle(a) with c locked = %v", err)
	}
	lc.Unlock()
	r, err := l.Settle("a")
	la.Unlock()
	if err != nil || r.Action != ActionRolledBack {
		t.Fatalf("Settle(a) = %+v, %v", r, err)
	}
	checkTxnState(t, l, false)
}

// Transact refuses what it cannot do before it writes anything.
func TestTransactRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(l Layout, ms []TxnMember) []TxnMember
		lock   bool
		want   string
	}{
		{name: "not locked", change: func(_ Layout, ms []TxnMember) []TxnMember { return ms }, want: "not locked"},
		{name: "twice", lock: true, change: func(_ Layout, ms []TxnMember) []TxnMember { return append(ms, ms[0]) }, want: "b is twice in one transaction"},
		{name: "install over a folder", lock: true, change: func(l Layout, ms []TxnMember) []TxnMember {
			_ = os.MkdirAll(filepath.Join(l.Root, "b"), 0o755)
			return ms
		}, want: "a folder " + "%ROOT%/b is already there"},
		{name: "update of nothing", lock: true, change: func(l Layout, ms []TxnMember) []TxnMember {
			_ = os.RemoveAll(filepath.Join(l.Root, "a"))
			return ms
		}, want: "update a: %ROOT%/a is gone"},
		{name: "staged elsewhere", lock: true, change: func(l Layout, ms []TxnMember) []TxnMember {
			ms[1].Staged = ms[0].Staged // b's staging folder for a
			return ms
		}, want: "a: staged folder"},
		{name: "empty", lock: true, change: func(Layout, []TxnMember) []TxnMember { return nil }, want: "a transaction of no package"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			ms := tc.change(l, setUpTxn(t, l))
			run := func() {
				_, err := l.Transact(t.Context(), ms, nil)
				want := strings.ReplaceAll(tc.want, "%ROOT%", l.Root)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Transact = %v, want %q", err, want)
				}
			}
			if tc.lock {
				lockAll(t, l, run)
			} else {
				run()
			}
			if ents, _ := os.ReadDir(l.JournalDir()); len(ents) > 0 {
				t.Errorf("a journal was written: %v", names(ents))
			}
		})
	}
}
