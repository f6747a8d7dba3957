//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modup/modup/bench/internal/server"
	"github.com/modup/modup/bench/internal/workload"
)

// reposRows measure repositories (the client side of the index):
//
//   - `check` of N packages installed from one repository (their install
//     records name it), warm: one conditional request answers all of
//     them, side by side with `check --direct` of the same root (one
//     request per package to the authors' host, all 304);
//   - `list` of the same N packages with the scan cache, warm, against
//     the same list with the cache file deleted before each run;
//   - `search` over the repository's N-package index;
//   - the fleet: C clients of P packages each, one check cycle through the
//     exported index behind a static server against one cycle directly:
//     the requests reaching the authors' host and the static host.
//
// The index is built by `modup index build` from the bench server's
// synthetic packages and exported; a second bench server (its own
// counters) serves the export, as a static host would.
func (b *bench) reposRows() error {
	n := b.cfg.indexListN
	clients, perClient, fleetIndex := 1000, 200, 1000
	if b.cfg.quick {
		clients, perClient, fleetIndex = 100, 100, 200
	}
	dir := filepath.Join(b.cfg.work, "repos")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	static := filepath.Join(dir, "static")
	host, err := server.Start(static)
	if err != nil {
		return err
	}
	defer host.Close()
	export := func(k int) (string, error) {
		name := fmt.Sprintf("index-%d", k)
		out := filepath.Join(static, name)
		if _, err := os.Stat(filepath.Join(out, "list", "packages.json")); err == nil {
			return host.URL + "/static/" + name + "/", nil
		}
		sources := filepath.Join(dir, name+".txt")
		var s strings.Builder
		for i := range k {
			fmt.Fprintf(&s, "%s/p/%s/\n", b.srv.URL, workload.PackageName(i))
		}
		if err := os.WriteFile(sources, []byte(s.String()), 0o644); err != nil {
			return "", err
		}
		db := filepath.Join(dir, name+".db")
		b.progress("index build of %d sources (for the repository rows)", k)
		if _, err := b.modup("repos-build-"+name, nil, "index", "build", "--sources", sources, "--db", db); err != nil {
			return "", err
		}
		if _, err := b.modup("repos-export-"+name, nil, "index", "export", "--db", db, out); err != nil {
			return "", err
		}
		return host.URL + "/static/" + name + "/", nil
	}
	base, err := export(n)
	if err != nil {
		return err
	}

	// A root of n packages installed from the repository "bench".
	root := filepath.Join(dir, fmt.Sprintf("root-%d", n))
	if err := b.repoRoot(root, n); err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	env := []string{"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache")}
	run := func(tag string, okExit []int, extra []string, args ...string) (sample, error) {
		r := *b.r
		r.env = append(append(append([]string{}, r.env...), env...), extra...)
		return r.run(b.ctx, nil, okExit, b.cfg.modup, args...)
	}
	os.RemoveAll(home)
	if _, err := run("repos-add", nil, nil, "repo", "add", "bench", base); err != nil {
		return err
	}
	// Prime both sides: the root's request cache, the repository's copy,
	// the scan cache (the manifests are older than its 2 s window).
	for _, args := range [][]string{{"check", "--root", root, "--direct"}, {"check", "--root", root}} {
		if _, err := run("repos-prime", nil, nil, args...); err != nil {
			return err
		}
	}

	var viaRepo, direct series
	var repoC, directC []server.Counts
	always := []string{"MODUP_REPO_MAX_AGE=0"} // ask the repository every run: the one request
	for i := range b.cfg.reps {
		b.progress("check %d packages from a repository, and directly, %d/%d", n, i+1, b.cfg.reps)
		settle()
		host.Reset()
		b.srv.Reset()
		s, err := run(fmt.Sprintf("repos-check-%d", i), nil, always, "check", "--root", root)
		if err != nil {
			return err
		}
		viaRepo, repoC = append(viaRepo, s), append(repoC, addCounts(host.Counts(), b.srv.Counts()))
		if c := b.srv.Counts(); c.Requests != 0 {
			return fmt.Errorf("check through the repository asked the authors' host %d times", c.Requests)
		}
		settle()
		host.Reset()
		b.srv.Reset()
		if s, err = run(fmt.Sprintf("repos-direct-%d", i), nil, nil, "check", "--root", root, "--direct"); err != nil {
			return err
		}
		direct, directC = append(direct, s), append(directC, b.srv.Counts())
	}
	rc, dc := repoC[len(repoC)-1], directC[len(directC)-1]
	oneRequest := true
	for _, c := range repoC {
		oneRequest = oneRequest && c.Requests == 1
	}
	goal, met := "1 request; ≤ 0.3 s warm", fmt.Sprintf("%s; requests %s", yes(viaRepo.wallMedian() <= 300*time.Millisecond), yes(oneRequest))
	if n < 10000 {
		goal, met = "1 request (≤ 0.3 s for 10,000)", "requests "+yes(oneRequest)
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`check` of %d up-to-date packages installed from one repository (an exported index on a static host; its copy asked again every run)", n),
		baseline: fmt.Sprintf("`check --direct` (each author's manifest), warm: %s (%d req: %d×304)", secs(direct.wallMedian()), dc.Requests, dc.NotMod),
		modup:    fmt.Sprintf("%s (%d req: %d×304, %d body bytes; 0 to the authors)", secs(viaRepo.wallMedian()), rc.Requests, rc.NotMod, rc.BodyBytes),
		ratio:    fmt.Sprintf("%.2f×", float64(viaRepo.wallMedian())/float64(direct.wallMedian())),
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes, fmt.Sprintf("repository check %d runs: [%s], CPU %s, peak RSS %s; direct [%s], CPU %s",
		n, viaRepo.walls(), secs(viaRepo.cpuMedian()), mbKB(viaRepo.rssMax()), direct.walls(), secs(direct.cpuMedian())))

	// list, with the scan cache and without it.
	cacheFile := filepath.Join(root, ".modup", "cache", "scan")
	var warm, cold series
	for i := range b.cfg.reps {
		b.progress("list %d packages with and without the scan cache %d/%d", n, i+1, b.cfg.reps)
		settle()
		s, err := run(fmt.Sprintf("repos-list-%d", i), nil, nil, "list", "--root", root)
		if err != nil {
			return err
		}
		warm = append(warm, s)
		if _, err := os.Stat(cacheFile); err != nil {
			return fmt.Errorf("no scan cache after list: %w", err)
		}
		saved, err := os.ReadFile(cacheFile)
		if err != nil {
			return err
		}
		os.Remove(cacheFile)
		settle()
		if s, err = run(fmt.Sprintf("repos-list-nocache-%d", i), nil, nil, "list", "--root", root); err != nil {
			return err
		}
		cold = append(cold, s)
		if err := os.WriteFile(cacheFile, saved, 0o600); err != nil {
			return err
		}
	}
	goal, met = "≤ 60 ms warm", yes(warm.wallMedian() <= 60*time.Millisecond)
	if n < 10000 {
		goal, met = "(≤ 60 ms for 10,000)", "—"
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`list` of %d packages with the scan cache (`.modup/cache/scan`)", n),
		baseline: fmt.Sprintf("the same without the cache file: %s", secs(cold.wallMedian())),
		modup:    secs(warm.wallMedian()),
		ratio:    fmt.Sprintf("%.2f×", float64(warm.wallMedian())/float64(cold.wallMedian())),
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes, fmt.Sprintf("list with the scan cache runs: [%s], CPU %s, peak RSS %s; without [%s], CPU %s",
		warm.walls(), secs(warm.cpuMedian()), mbKB(warm.rssMax()), cold.walls(), secs(cold.cpuMedian())))

	// search over the n-package index (the copy is young: no request).
	var one, many series
	last := workload.PackageName(n - 1)
	for i := range b.cfg.reps {
		b.progress("search a %d-package index %d/%d", n, i+1, b.cfg.reps)
		s, err := run(fmt.Sprintf("repos-search-%d", i), nil, nil, "search", last)
		if err != nil {
			return err
		}
		one = append(one, s)
		if s, err = run(fmt.Sprintf("repos-search-all-%d", i), nil, nil, "search", "generated", "benchmarks", "--json"); err != nil {
			return err
		}
		many = append(many, s)
	}
	goal, met = "≤ 100 ms", yes(one.wallMedian() <= 100*time.Millisecond)
	if n < 10000 {
		goal, met = "(≤ 100 ms for 10,000)", "—"
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`search` over a %d-package index (one hit: `search %s`)", n, last),
		baseline: "—",
		modup:    fmt.Sprintf("%s; every package a hit (`search generated benchmarks --json`, %d hits): %s", secs(one.wallMedian()), n, secs(many.wallMedian())),
		ratio:    "—",
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes, fmt.Sprintf("search runs: one hit [%s], CPU %s, peak RSS %s; %d hits [%s]",
		one.walls(), secs(one.cpuMedian()), mbKB(one.rssMax()), n, many.walls()))

	return b.fleetRow(dir, host, export, clients, perClient, fleetIndex)
}

// fleetRow runs clients `modup check` processes, each with its own cache
// (its copy of the index) and perClient packages installed from the
// repository, for one cycle through the index and one directly, two at a
// time (the machine's cores), after a cycle that warms every cache.
func (b *bench) fleetRow(dir string, host *server.Server, export func(int) (string, error), clients, perClient, indexSize int) error {
	base, err := export(indexSize)
	if err != nil {
		return err
	}
	root := filepath.Join(dir, fmt.Sprintf("fleet-root-%d", perClient))
	if err := b.repoRoot(root, perClient); err != nil {
		return err
	}
	fleet := filepath.Join(dir, "fleet")
	os.RemoveAll(fleet)
	config := filepath.Join(fleet, "config")
	if err := os.MkdirAll(filepath.Join(config, "modup"), 0o755); err != nil {
		return err
	}
	repos, _ := json.Marshal(map[string]any{"version": 1, "repos": []map[string]any{{"name": "bench", "url": base, "enabled": true}}})
	if err := os.WriteFile(filepath.Join(config, "modup", "repos.json"), repos, 0o644); err != nil {
		return err
	}
	cycle := func(label string, extra ...string) (server.Counts, server.Counts, time.Duration, error) {
		host.Reset()
		b.srv.Reset()
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= clients || b.ctx.Err() != nil {
						return
					}
					r := *b.r
					r.env = append(append([]string{}, r.env...), "XDG_CONFIG_HOME="+config,
						"XDG_CACHE_HOME="+filepath.Join(fleet, "cache", fmt.Sprint(i)), "MODUP_REPO_MAX_AGE=0")
					if _, err := r.run(context.WithoutCancel(b.ctx), nil, nil, b.cfg.modup, append([]string{"check", "--root", root}, extra...)...); err != nil {
						errs <- fmt.Errorf("fleet %s client %d: %w", label, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return server.Counts{}, server.Counts{}, 0, err
		}
		return b.srv.Counts(), host.Counts(), time.Since(start), nil
	}
	b.progress("fleet: %d clients of %d packages, warming every cache", clients, perClient)
	if _, _, _, err := cycle("warm-up"); err != nil {
		return err
	}
	if _, _, _, err := cycle("warm-up direct", "--direct"); err != nil {
		return err
	}
	b.progress("fleet: one cycle through the index")
	authorsIdx, hostIdx, tookIdx, err := cycle("index")
	if err != nil {
		return err
	}
	b.progress("fleet: one cycle directly")
	authorsDirect, hostDirect, tookDirect, err := cycle("direct", "--direct")
	if err != nil {
		return err
	}
	want := int64(clients * perClient)
	met := yes(authorsIdx.Requests == 0 && authorsDirect.Requests == want && hostIdx.Requests == int64(clients))
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("fleet: %d clients of %d packages each, one check cycle (warm caches), through one exported %d-package index on a static host", clients, perClient, indexSize),
		baseline: fmt.Sprintf("directly: %d requests to the authors' host (%d×304), %d to the static host; %s for the cycle", authorsDirect.Requests, authorsDirect.NotMod, hostDirect.Requests, secs(tookDirect)),
		modup:    fmt.Sprintf("%d requests to the authors' host; %d to the static host (%d×304, %d body bytes); %s for the cycle", authorsIdx.Requests, hostIdx.Requests, hostIdx.NotMod, hostIdx.BodyBytes, secs(tookIdx)),
		ratio:    fmt.Sprintf("%d× fewer requests", max(1, authorsDirect.Requests)/max(1, hostIdx.Requests+authorsIdx.Requests)),
		goal:     fmt.Sprintf("0 vs %d to the authors; %d to the static host, 304s", want, clients),
		met:      met,
	})
	return nil
}

// repoRoot writes a root of n packages (the bench server's synthetic
// ones) whose install records name the repository "bench".
func (b *bench) repoRoot(root string, n int) error {
	if _, err := os.Stat(root); err == nil {
		return nil
	}
	if err := b.writeRoot(root, n); err != nil {
		return err
	}
	installed := filepath.Join(root, ".modup", "installed")
	if err := os.MkdirAll(installed, 0o755); err != nil {
		return err
	}
	for i := range n {
		name := workload.PackageName(i)
		rec, _ := json.Marshal(map[string]any{"version": "1.0.0", "source": "repo", "repo": "bench",
			"update_url": b.srv.URL + "/p/" + name + "/", "installed_at": time.Now().UTC()})
		if err := os.WriteFile(filepath.Join(installed, name+".json"), rec, 0o644); err != nil {
			return err
		}
	}
	settle()
	// The scan cache leaves out manifests changed in the last 2 s.
	time.Sleep(2100 * time.Millisecond)
	return nil
}

func addCounts(a, b server.Counts) server.Counts {
	return server.Counts{Requests: a.Requests + b.Requests, OK: a.OK + b.OK, NotMod: a.NotMod + b.NotMod,
		Other: a.Other + b.Other, BodyBytes: a.BodyBytes + b.BodyBytes}
}
