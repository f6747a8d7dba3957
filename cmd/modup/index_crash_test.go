package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/indextest"
)

// TestIndexRefreshKilled kills `modup index build` (a refresh of an
// existing index) with SIGKILL at random instants and requires, after
// each kill:
//
//   - the database opens and reads (PRAGMA integrity_check says ok);
//   - every package still has every version the last good build recorded,
//     each with the published zip's sha256: a source's refresh is
//     committed whole or not at all;
//   - a reader in this process, reading snapshots all through the refresh,
//     was never refused or blocked for long.
//
// Then an uncut build records the newest version. MODUP_INDEX_CRASH_ITERATIONS
// sets the number of kills (default 12; 4 with -short).
func TestIndexRefreshKilled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	iterations := advIterations(t, "MODUP_INDEX_CRASH_ITERATIONS", 12, 4)
	const packages = 24
	web := indextest.NewWeb(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "index.db")
	sourcesFile := filepath.Join(dir, "sources.txt")
	var list strings.Builder
	sums := map[string]string{} // "name version" → sha256
	publish := func(version string) {
		for i := range packages {
			name := fmt.Sprintf("pkg%02d", i)
			noise := make([]byte, 96<<10) // incompressible: the download and the hash take time
			rand.Read(noise)
			z := indextest.Zip(t, name, version, []indextest.Module{{Name: "m", Description: "A module."}},
				map[string]string{"data.bin": string(noise)})
			web.Put("/"+name+"/"+version+".zip", z)
			web.Put("/"+name+"/a2modsource.json", indextest.Pointer(t, name, version, z))
			sums[name+" "+version] = indextest.SHA256(z)
		}
	}
	for i := range packages {
		fmt.Fprintf(&list, "%s/pkg%02d\n", web.URL, i)
	}
	if err := os.WriteFile(sourcesFile, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	build := []string{"index", "build", "--sources", sourcesFile, "--db", db, "--concurrency", "2"}

	publish("1.0.0")
	p := advStart(t, build...)
	p.wait(t, time.Minute)
	if p.code != 0 {
		t.Fatalf("first build: %v", p)
	}
	window := p.end.Sub(p.start)
	t.Logf("a build of %d packages took %s", packages, window.Round(time.Millisecond))

	good := map[string][]string{} // name → versions the last good build recorded
	for i := range packages {
		good[fmt.Sprintf("pkg%02d", i)] = []string{"1.0.0"}
	}
	killed := 0
	for it := range iterations {
		version := fmt.Sprintf("1.%d.0", it+1)
		publish(version)

		st, err := store.Open(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stopReading := context.WithCancel(t.Context())
		var readErr error
		var slowest time.Duration
		var wg sync.WaitGroup
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				_, err := st.Snapshot(ctx)
				if err != nil && ctx.Err() == nil {
					readErr = err
					return
				}
				slowest = max(slowest, time.Since(start))
				time.Sleep(2 * time.Millisecond)
			}
		})

		p := advStart(t, build...)
		time.Sleep(time.Duration(mrand.Int64N(int64(window)*6/5 + 1)))
		p.cmd.Process.Kill()
		p.wait(t, time.Minute)
		if p.killed {
			killed++
		}
		stopReading()
		wg.Wait()
		if readErr != nil {
			t.Fatalf("iteration %d: a reader failed during the refresh: %v", it, readErr)
		}
		if slowest > 5*time.Second {
			t.Errorf("iteration %d: a snapshot took %s during the refresh: readers were blocked", it, slowest)
		}
		st.Close()

		st, err = store.Open(t.Context(), db)
		if err != nil {
			t.Fatalf("iteration %d: the database does not open after the kill: %v", it, err)
		}
		var ok string
		if err := openRaw(t, db).QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("iteration %d: integrity_check = %q, %v", it, ok, err)
		}
		snap, err := st.Snapshot(t.Context())
		if err != nil {
			t.Fatalf("iteration %d: read after the kill: %v", it, err)
		}
		for _, src := range snap.Sources {
			have := map[string]string{}
			for _, v := range src.Versions {
				have[v.Version] = v.SHA256
				if want := sums[src.Name+" "+v.Version]; v.SHA256 != want {
					t.Errorf("iteration %d: %s %s recorded with sha256 %s, want %s", it, src.Name, v.Version, v.SHA256, want)
				}
			}
			for _, v := range good[src.Name] {
				if _, ok := have[v]; !ok {
					t.Errorf("iteration %d: %s lost version %s", it, src.Name, v)
				}
			}
			good[src.Name] = good[src.Name][:0]
			for v := range have {
				good[src.Name] = append(good[src.Name], v)
			}
		}
		st.Close()
	}
	t.Logf("%d iterations, %d killed mid-refresh", iterations, killed)

	p = advStart(t, build...)
	p.wait(t, time.Minute)
	if p.code != 0 {
		t.Fatalf("build after the kills: %v", p)
	}
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snap, err := st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A web source is known through its pointer: a version the pointer
	// named only while a refresh was being killed is not recorded, but
	// the newest and every one recorded before are.
	newest := fmt.Sprintf("1.%d.0", iterations)
	for _, src := range snap.Sources {
		have := map[string]bool{}
		for _, v := range src.Versions {
			have[v.Version] = true
		}
		if !have[newest] || !have["1.0.0"] || len(have) < len(good[src.Name]) {
			t.Errorf("%s after an uncut build: %v, want %s and the %d recorded before", src.Name, have, newest, len(good[src.Name]))
		}
	}
}

// openRaw opens the database for a PRAGMA of the test's own.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestIndexServeStopsOnSignal: SIGTERM is how `index serve` ends: it says
// "stopped" and exits 0, as serve and the daemon do.
func TestIndexServeStopsOnSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM")
	}
	web := indextest.NewWeb(t)
	web.Publish(t, "/hello", "hello", "1.0.0", nil)
	dir := t.TempDir()
	list, db := filepath.Join(dir, "sources.txt"), filepath.Join(dir, "index.db")
	if err := os.WriteFile(list, []byte(web.URL+"/hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := advRun(t.Context(), nil, "index", "build", "--sources", list, "--db", db); code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	p := advStart(t, "index", "serve", "--db", db, "--addr", "127.0.0.1:0", "--refresh", "0")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stdout.String(), "url: http://127.0.0.1:") {
		if time.Now().After(deadline) || p.exited() {
			p.cmd.Process.Kill()
			t.Fatalf("no url printed: %v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 20*time.Second)
	if p.code != 0 || !strings.Contains(p.stdout.String(), "stopped") {
		t.Errorf("after SIGTERM: %v", p)
	}
}
