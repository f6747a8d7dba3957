package pkgdir

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSwapResultAndRecord(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	staged := setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "2.0.0")
	start := time.Now().Add(-time.Second)
	var res SwapResult
	var err error
	locked(t, l, pkgName, func() {
		res, err = l.Swap(t.Context(), SwapRequest{
			Name: pkgName, Staged: staged, OldVersion: "1.0.0", NewVersion: "2.0.0",
			Record: &Record{Source: "github", UpdateURL: "https://github.com/o/r"},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantBackup := filepath.Join(l.BackupsDir(), pkgName, "1.0.0")
	if res.Backup != wantBackup {
		t.Errorf("SwapResult.Backup = %s, want %s", res.Backup, wantBackup)
	}
	if h := mustTreeHash(t, res.Backup); h != refHash(t, "1.0.0") {
		t.Error("backup is not the old version")
	}
	if fi, err := os.Stat(res.Backup); err != nil || fi.ModTime().Before(start) {
		t.Errorf("backup mtime %v (%v), want the time of the swap", fi.ModTime(), err)
	}
	rec, err := l.ReadRecord(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != "2.0.0" || rec.TreeHash != refHash(t, "2.0.0") || rec.Source != "github" ||
		rec.UpdateURL != "https://github.com/o/r" || rec.InstalledAt.Before(start) {
		t.Errorf("record = %+v, want version 2.0.0, the new tree hash, the caller's source and URL, and a fresh time", rec)
	}
	checkNoLeftovers(t, l)
}

func TestSwapRefuses(t *testing.T) {
	tests := []struct {
		name    string
		req     func(l Layout, staged string) SwapRequest
		prepare func(t *testing.T, l Layout)
		ctx     func() context.Context
		noLock  bool
		wantErr string
	}{
		{
			name:    "lock not held",
			req:     func(l Layout, staged string) SwapRequest { return update(staged) },
			noLock:  true,
			wantErr: "not locked; take its lock",
		},
		{
			name:    "staged outside staging",
			req:     func(l Layout, _ string) SwapRequest { return update(filepath.Join(l.Root, "elsewhere")) },
			prepare: func(t *testing.T, l Layout) { writeTree(t, filepath.Join(l.Root, "elsewhere"), pkgTree("2.0.0")) },
			wantErr: "is not inside",
		},
		{
			name:    "staged is the staging folder itself",
			req:     func(l Layout, _ string) SwapRequest { return update(l.StagingDir()) },
			wantErr: "is not inside",
		},
		{
			name:    "staged missing",
			req:     func(l Layout, _ string) SwapRequest { return update(filepath.Join(l.StagingDir(), "nothing")) },
			wantErr: "missing",
		},
		{
			name: "install over an existing folder",
			req: func(l Layout, staged string) SwapRequest {
				r := update(staged)
				r.OldVersion = ""
				return r
			},
			wantErr: "already there",
		},
		{
			name:    "update of a vanished folder",
			req:     func(l Layout, staged string) SwapRequest { return update(staged) },
			prepare: func(t *testing.T, l Layout) { os.RemoveAll(filepath.Join(l.Root, pkgName)) },
			wantErr: "is gone",
		},
		{
			name: "pending journal",
			req:  func(l Layout, staged string) SwapRequest { return update(staged) },
			prepare: func(t *testing.T, l Layout) {
				writeTree(t, l.JournalDir(), map[string]string{pkgName + ".json": "{}"})
			},
			wantErr: "interrupted change is pending",
		},
		{
			name: "hidden name",
			req: func(l Layout, staged string) SwapRequest {
				r := update(staged)
				r.Name = ".modup"
				return r
			},
			wantErr: "hidden",
		},
		{
			name: "path as name",
			req: func(l Layout, staged string) SwapRequest {
				r := update(staged)
				r.Name = "a/../../x"
				return r
			},
			wantErr: "single folder name",
		},
		{
			name: "cancelled",
			req:  func(l Layout, staged string) SwapRequest { return update(staged) },
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantErr: "context canceled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			staged := setUp(t, l, pkgState{live: "1.0.0"}, "2.0.0")
			if tc.prepare != nil {
				tc.prepare(t, l)
			}
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			liveBefore, _ := TreeHash(filepath.Join(l.Root, pkgName))
			req := tc.req(l, staged)
			var err error
			if tc.noLock || CheckName(req.Name) != nil {
				_, err = l.Swap(ctx, req)
			} else {
				locked(t, l, req.Name, func() { _, err = l.Swap(ctx, req) })
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Swap = %v, want an error containing %q", err, tc.wantErr)
			}
			liveAfter, _ := TreeHash(filepath.Join(l.Root, pkgName))
			if liveAfter != liveBefore {
				t.Error("the live folder changed")
			}
			if entries, _ := os.ReadDir(filepath.Join(l.BackupsDir(), pkgName)); len(entries) > 0 {
				t.Errorf("backups made: %v", names(entries))
			}
		})
	}
}

func update(staged string) SwapRequest {
	return SwapRequest{Name: pkgName, Staged: staged, OldVersion: "1.0.0", NewVersion: "2.0.0"}
}

// TestSwapStepFails: a step failing for real (not a crash) is settled on
// the spot, the way Recover would.
func TestSwapStepFails(t *testing.T) {
	t.Run("backup rename fails: undone", func(t *testing.T) {
		l := Layout{Root: t.TempDir()}
		staged := setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "2.0.0")
		blocker := filepath.Join(l.BackupsDir(), pkgName, "1.0.0")
		req := update(staged)
		req.noExchange = true
		req.Inject = func(step string) error {
			if step == StepBackupLive { // something appears where the backup goes
				writeTree(t, blocker, map[string]string{"x": "x"})
			}
			return nil
		}
		var err error
		locked(t, l, pkgName, func() { _, err = l.Swap(t.Context(), req) })
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("Swap = %v, want an error saying nothing was changed", err)
		}
		os.RemoveAll(blocker)
		checkState(t, l, pkgState{live: "1.0.0", record: "1.0.0"})
	})
	t.Run("record write fails: journal kept, Recover finishes", func(t *testing.T) {
		l := Layout{Root: t.TempDir()}
		staged := setUp(t, l, pkgState{live: "1.0.0"}, "2.0.0")
		req := update(staged)
		req.Inject = func(step string) error {
			if step == StepRecord { // installed/ cannot be created
				writeTree(t, l.Dir(), map[string]string{"installed": "not a folder"})
			}
			return nil
		}
		var err error
		locked(t, l, pkgName, func() { _, err = l.Swap(t.Context(), req) })
		if err == nil || !strings.Contains(err.Error(), "could not be settled") {
			t.Fatalf("Swap = %v, want an error saying the change is not settled", err)
		}
		if _, err := os.Stat(l.JournalPath(pkgName)); err != nil {
			t.Fatalf("journal gone (%v) although the record is missing", err)
		}
		if h := mustTreeHash(t, filepath.Join(l.Root, pkgName)); h != refHash(t, "2.0.0") {
			t.Error("the new version is not in place")
		}
		os.Remove(l.InstalledDir())
		rs, err := l.Recover(t.Context())
		if err != nil || len(rs) != 1 || rs[0].Action != ActionFinished {
			t.Fatalf("Recover = %v, %v; want one finished change", rs, err)
		}
		checkState(t, l, pkgState{live: "2.0.0", backups: map[string]string{"1.0.0": "1.0.0"}, record: "2.0.0"})
	})
}

func TestVersionDirName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3", "1.2.3"},
		{"v1.2.3-beta.1+build.5", "v1.2.3-beta.1+build.5"},
		{"", "unknown"},
		{".", "_"},
		{"..", "__"},
		{"../../etc", "_._.._etc"},
		{"1.0.", "1.0_"},
		{".hidden", "_hidden"},
		{`a/b\c:d`, "a_b_c_d"},
		{"1.0~2", "1.0_2"},
		{"con", "_con"},
		{"COM1.txt", "_COM1.txt"},
		{"ünï", "_n_"},
		{"a\x00b\nc", "a_b_c"},
		{strings.Repeat("9", 100), strings.Repeat("9", 64)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := versionDirName(tc.in)
			if got != tc.want {
				t.Errorf("versionDirName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !filepath.IsLocal(got) || strings.ContainsAny(got, `/\~`) || strings.HasPrefix(got, ".") {
				t.Errorf("versionDirName(%q) = %q is not a safe single component", tc.in, got)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a2.modules", true},
		{"My Package", true},
		{"", false},
		{".", false},
		{"..", false},
		{".modup", false},
		{"a/b", false},
		{`a\b`, false},
		{"c:", false},
		{"a\nb", false},
		{"trailing ", false},
	}
	for _, tc := range tests {
		if err := CheckName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestSwapBackupNames(t *testing.T) {
	// The same version backed up three times gets ~2 and ~3; an odd
	// version string becomes a safe folder name.
	l := Layout{Root: t.TempDir()}
	setUp(t, l, pkgState{live: "1.0.0"}, "")
	var got []string
	for i, v := range []string{"1.0.0", "1.0.0", "1.0.0", "../evil"} {
		staged, err := l.NewStaging(pkgName)
		if err != nil {
			t.Fatal(err)
		}
		writeTree(t, staged, pkgTree("1.0.0"))
		writeTree(t, staged, map[string]string{"n.txt": string(rune('a' + i))})
		var res SwapResult
		locked(t, l, pkgName, func() {
			res, err = l.Swap(t.Context(), SwapRequest{Name: pkgName, Staged: staged, OldVersion: v, NewVersion: "1.0.0"})
		})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.Base(res.Backup))
		if filepath.Dir(res.Backup) != filepath.Join(l.BackupsDir(), pkgName) {
			t.Errorf("backup %s is not in backups/%s", res.Backup, pkgName)
		}
	}
	want := []string{"1.0.0", "1.0.0~2", "1.0.0~3", "_._evil"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("backup folders %v, want %v", got, want)
	}
	checkNoLeftovers(t, l)
}
