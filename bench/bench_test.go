// Package bench holds modup's benchmarks: Go benchmarks of the hot paths,
// run in-process for profiling (go test ./bench -bench . -cpuprofile
// cpu.out), and the end-to-end harness in cmd/modupbench that run.sh
// drives, which compares modup with curl, unzip and Python.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/modup/modup/bench/internal/server"
	"github.com/modup/modup/bench/internal/workload"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// envInt reads a size from the environment, for bigger runs by hand:
// MODUP_BENCH_MB=200 MODUP_BENCH_FILES=20000 go test ./bench -bench Update.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// fixture is a bench server publishing bigpkg 1.0.0 and 2.0.0 (2.0.0 with
// sha256 and zip_size), shared by the benchmarks of one run.
type fixture struct {
	dir string
	srv *server.Server
	url string // bigpkg's update_url
	raw int64  // unpacked bytes of 2.0.0
}

var (
	fixtureOnce sync.Once
	fix         *fixture
	fixErr      error
)

func getFixture(b *testing.B) *fixture {
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "modup-gobench-")
		if err != nil {
			fixErr = err
			return
		}
		static := filepath.Join(dir, "static")
		pkg := filepath.Join(static, "bigpkg")
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			fixErr = err
			return
		}
		mb, files := int64(envInt("MODUP_BENCH_MB", 50)), envInt("MODUP_BENCH_FILES", 5000)
		if _, err := workload.WriteZip(filepath.Join(pkg, "1.0.0.zip"), workload.ZipSpec{Name: "bigpkg", Version: "1.0.0", Files: files, Bytes: mb << 20, Seed: 1}); err != nil {
			fixErr = err
			return
		}
		z2, err := workload.WriteZip(filepath.Join(pkg, "2.0.0.zip"), workload.ZipSpec{Name: "bigpkg", Version: "2.0.0", Files: files, Bytes: mb << 20, Seed: 2})
		if err != nil {
			fixErr = err
			return
		}
		m := workload.ManifestJSON("bigpkg", "2.0.0", "", map[string]any{"sha256": z2.SHA256, "zip_size": z2.ZipBytes})
		if err := os.WriteFile(filepath.Join(pkg, "a2modsource.json"), m, 0o644); err != nil {
			fixErr = err
			return
		}
		srv, err := server.Start(static)
		if err != nil {
			fixErr = err
			return
		}
		fix = &fixture{dir: dir, srv: srv, url: srv.URL + "/static/bigpkg/", raw: z2.RawBytes}
	})
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return fix
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.srv.Close()
		os.RemoveAll(fix.dir)
	}
	os.Exit(code)
}

func newUpdater() *updater.Updater {
	return &updater.Updater{Sources: updater.NewSources(updater.Config{UserAgent: "modup-bench"})}
}

// BenchmarkUpdate is `modup update` of a package installed at 1.0.0 to
// 2.0.0 (download, verify, extract durably, check the installed tree,
// swap, keep a backup), in-process.
func BenchmarkUpdate(b *testing.B) {
	f := getFixture(b)
	u := newUpdater()
	trash := b.TempDir()
	i := 0
	for b.Loop() {
		b.StopTimer()
		root := filepath.Join(f.dir, fmt.Sprintf("root%d", i))
		i++
		if ch := u.Install(b.Context(), root, f.url, updater.UpdateOptions{To: "1.0.0"}); ch.Err != nil {
			b.Fatal(ch.Err)
		}
		pkgs, err := pkgdir.Scan([]string{root})
		if err != nil {
			b.Fatal(err)
		}
		flushAll()
		b.StartTimer()
		ch := u.Update(b.Context(), pkgs[0], updater.UpdateOptions{})
		b.StopTimer()
		if ch.Status != updater.StatusUpdated {
			b.Fatalf("update: %s %v", ch.Status, ch.Err)
		}
		// Not deleted now: see discard in cmd/modupbench.
		os.Rename(root, filepath.Join(trash, filepath.Base(root)))
		b.StartTimer()
	}
	b.SetBytes(f.raw)
}

// BenchmarkCheck is `modup check` of N up-to-date packages against the
// bench server, warm (every answer a 304).
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{100, 1000, envInt("MODUP_BENCH_PACKAGES", 10000)} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv, err := server.Start(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			root := filepath.Join(b.TempDir(), "root")
			if err := workload.WriteRoot(root, n, srv.URL); err != nil {
				b.Fatal(err)
			}
			pkgs, err := pkgdir.Scan([]string{root})
			if err != nil {
				b.Fatal(err)
			}
			u := newUpdater()
			u.Check(b.Context(), pkgs) // fill the cache
			srv.Reset()
			for b.Loop() {
				for _, r := range u.Check(b.Context(), pkgs) {
					if r.Status != updater.StatusUpToDate {
						b.Fatalf("%s: %s %v", r.Name, r.Status, r.Err)
					}
				}
			}
			c := srv.Counts()
			b.ReportMetric(float64(c.Requests)/float64(b.N)/float64(n), "req/pkg")
			b.ReportMetric(float64(c.NotMod)/float64(max(c.Requests, 1)), "304/req")
		})
	}
}

// BenchmarkScan is the listing behind `modup list`.
func BenchmarkScan(b *testing.B) {
	n := envInt("MODUP_BENCH_PACKAGES", 10000)
	root := filepath.Join(b.TempDir(), "root")
	if err := workload.WriteRoot(root, n, "http://127.0.0.1:1"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		pkgs, err := pkgdir.Scan([]string{root})
		if err != nil || len(pkgs) != n {
			b.Fatalf("Scan = %d packages, %v", len(pkgs), err)
		}
	}
}

// BenchmarkTreeHash is the fingerprint of an installed package that an
// update compares with its install record.
func BenchmarkTreeHash(b *testing.B) {
	f := getFixture(b)
	root := filepath.Join(b.TempDir(), "root")
	if ch := newUpdater().Install(b.Context(), root, f.url, updater.UpdateOptions{}); ch.Err != nil {
		b.Fatal(ch.Err)
	}
	for b.Loop() {
		if _, err := pkgdir.TreeHash(filepath.Join(root, "bigpkg")); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(f.raw)
}
