//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modup/modup/bench/internal/workload"
)

// indexRows measure the package index:
//
//   - `modup index build` of N web sources from the bench server (each: the
//     manifest, a HEAD, the small zip and a look for its signature, checked
//     and recorded);
//   - the same build again, nothing changed (one conditional request per
//     source, all 304, no download), against `modup check` of a root of the
//     same N packages, warm, which asks the same N conditional requests;
//   - GET /list/packages.json from `modup index serve` of an index of M
//     packages, full and conditional (304), sequentially over one kept-alive
//     connection, against the same file exported and served by the bench's
//     static file server;
//   - the database's size per 1,000 versions.
func (b *bench) indexRows() error {
	n, m := b.cfg.indexN, b.cfg.indexListN
	dir := filepath.Join(b.cfg.work, "index")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sourcesFor := func(k int) (string, error) {
		p := filepath.Join(dir, fmt.Sprintf("sources-%d.txt", k))
		var s strings.Builder
		for i := range k {
			fmt.Fprintf(&s, "%s/p/%s/\n", b.srv.URL, workload.PackageName(i))
		}
		return p, os.WriteFile(p, []byte(s.String()), 0o644)
	}
	list, err := sourcesFor(n)
	if err != nil {
		return err
	}

	// Build, cold: a new database each run.
	var build, refresh, check series
	var buildC, refreshC, checkC []string
	refreshAll304 := true
	db := filepath.Join(dir, "build.db")
	root := filepath.Join(b.cfg.work, "check", fmt.Sprint(n))
	if err := b.writeRoot(root, n); err != nil {
		return err
	}
	if _, err := b.modup("index-check-prime", []int{0, 100}, "check", "--root", root); err != nil {
		return err
	}
	for i := range b.cfg.reps {
		b.progress("index build of %d sources %d/%d", n, i+1, b.cfg.reps)
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			os.Remove(p)
		}
		settle()
		b.srv.Reset()
		s, err := b.modup(fmt.Sprintf("index-build-%d-%d", n, i), nil, "index", "build", "--sources", list, "--db", db)
		if err != nil {
			return err
		}
		c := b.srv.Counts()
		build, buildC = append(build, s), append(buildC, fmt.Sprintf("%d req: %d×200, %d×304, %d other", c.Requests, c.OK, c.NotMod, c.Other))

		b.progress("index refresh of %d unchanged sources %d/%d", n, i+1, b.cfg.reps)
		settle()
		b.srv.Reset()
		s, err = b.modup(fmt.Sprintf("index-refresh-%d-%d", n, i), nil, "index", "build", "--sources", list, "--db", db)
		if err != nil {
			return err
		}
		c = b.srv.Counts()
		refresh = append(refresh, s)
		refreshC = append(refreshC, fmt.Sprintf("%d req: %d×304, %d body bytes", c.Requests, c.NotMod, c.BodyBytes))
		refreshAll304 = refreshAll304 && c.Requests == int64(n) && c.NotMod == int64(n) && c.BodyBytes == 0

		settle()
		b.srv.Reset()
		s, err = b.modup(fmt.Sprintf("index-check-%d-%d", n, i), []int{0, 100}, "check", "--root", root)
		if err != nil {
			return err
		}
		c = b.srv.Counts()
		check, checkC = append(check, s), append(checkC, fmt.Sprintf("%d req: %d×304", c.Requests, c.NotMod))
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`index build` of %d web sources from loopback (new database: manifest, HEAD, zip and signature look-up of each, checked and recorded)", n),
		baseline: "—",
		modup:    fmt.Sprintf("%s (%s)", secs(build.wallMedian()), buildC[len(buildC)-1]),
		ratio:    "—",
		goal:     "—",
		met:      "—",
	})
	goal, met := "≤ 5 s; 1 request per source, all 304", fmt.Sprintf("%s; requests %s", yes(refresh.wallMedian() <= 5*time.Second), yes(refreshAll304))
	if n < 1000 {
		goal, met = "(≤ 5 s for 1,000); all 304", "requests "+yes(refreshAll304)
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("`index build` again, %d sources unchanged (a refresh)", n),
		baseline: fmt.Sprintf("`check` of %d up-to-date packages, warm: %s (%s)", n, secs(check.wallMedian()), checkC[len(checkC)-1]),
		modup:    fmt.Sprintf("%s (%s)", secs(refresh.wallMedian()), refreshC[len(refreshC)-1]),
		ratio:    fmt.Sprintf("%.2f×", float64(refresh.wallMedian())/float64(check.wallMedian())),
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes,
		fmt.Sprintf("index build %d runs: [%s], CPU %s, peak RSS %s", n, build.walls(), secs(build.cpuMedian()), mbKB(build.rssMax())),
		fmt.Sprintf("index refresh %d runs: [%s], CPU %s, peak RSS %s; check runs [%s]", n, refresh.walls(), secs(refresh.cpuMedian()), mbKB(refresh.rssMax()), check.walls()))

	// The index of M packages: built once, measured by size and served.
	bigList, err := sourcesFor(m)
	if err != nil {
		return err
	}
	bigDB := filepath.Join(dir, fmt.Sprintf("index-%d.db", m))
	b.progress("index build of %d sources (for the serve row)", m)
	settle()
	bigBuild, err := b.modup(fmt.Sprintf("index-build-%d", m), nil, "index", "build", "--sources", bigList, "--db", bigDB)
	if err != nil {
		return err
	}
	var size int64
	for _, p := range []string{bigDB, bigDB + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			size += st.Size()
		}
	}
	perK := float64(size) / float64(m) * 1000
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("index database size, %d packages of one version each (one module, the zip's manifest kept whole)", m),
		baseline: "—",
		modup:    fmt.Sprintf("%.1f MB in all; %.2f MB per 1,000 versions (build took %s)", float64(size)/(1<<20), perK/(1<<20), secs(bigBuild.wall)),
		ratio:    "—",
		goal:     "—",
		met:      "—",
	})

	export := filepath.Join(b.static, "index-export")
	if _, err := b.modup("index-export", nil, "index", "export", "--db", bigDB, export); err != nil {
		return err
	}
	full, cond, err := b.serveLatency(bigDB, 300)
	if err != nil {
		return err
	}
	staticFull, staticCond, err := latency(b.srv.URL+"/static/index-export/list/packages.json", 300)
	if err != nil {
		return err
	}
	goal, met = "p50 ≤ 20 ms; 304 ≤ 2 ms", fmt.Sprintf("%s; %s", yes(full.p50 <= 20*time.Millisecond), yes(cond.p50 <= 2*time.Millisecond))
	if m < 10000 {
		goal, met = "(p50 ≤ 20 ms, 304 ≤ 2 ms for 10,000)", "—"
	}
	b.rows = append(b.rows, row{
		workload: fmt.Sprintf("GET /list/packages.json of a %d-package index (`index serve`), %d sequential requests, one connection", m, full.n),
		baseline: fmt.Sprintf("the exported file from a Go static file server: p50 %s, 304 p50 %s", ms(staticFull.p50), ms(staticCond.p50)),
		modup:    fmt.Sprintf("p50 %s (p90 %s) for %.1f MB; 304: p50 %s (p90 %s)", ms(full.p50), ms(full.p90), float64(full.bytes)/(1<<20), ms(cond.p50), ms(cond.p90)),
		ratio:    fmt.Sprintf("%.2f×; 304 %.2f×", float64(full.p50)/float64(staticFull.p50), float64(cond.p50)/float64(staticCond.p50)),
		goal:     goal,
		met:      met,
	})
	b.notes = append(b.notes, fmt.Sprintf("index serve: the first GET of /list/packages.json (renders the document) took %s", ms(full.first)))
	return nil
}

// serveLatency starts `modup index serve` on db and measures GET
// /list/packages.json, full and conditional.
func (b *bench) serveLatency(db string, reqs int) (full, cond lat, err error) {
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.cfg.modup, "index", "serve", "--db", db, "--addr", "127.0.0.1:0", "--refresh", "0")
	cmd.Env = b.r.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return full, cond, err
	}
	if err := cmd.Start(); err != nil {
		return full, cond, err
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	urlRE := regexp.MustCompile(`^url: (http://\S+/)$`)
	sc := bufio.NewScanner(out)
	base := ""
	for sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		return full, cond, fmt.Errorf("index serve printed no url")
	}
	go io.Copy(io.Discard, out)
	return latency(base+"list/packages.json", reqs)
}

// lat are the latencies of sequential GETs of one URL.
type lat struct {
	n             int
	first         time.Duration
	p50, p90      time.Duration
	bytes         int64
	notModifiedOK bool
}

// latency GETs u reqs times (the body read whole), then reqs times with
// If-None-Match, over one kept-alive connection, without compression.
func latency(u string, reqs int) (full, cond lat, err error) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	one := func(etag string) (time.Duration, string, int64, int, error) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", 0, 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start), resp.Header.Get("ETag"), n, resp.StatusCode, err
	}
	d, etag, size, code, err := one("")
	if err != nil || code != 200 {
		return full, cond, fmt.Errorf("GET %s: %d %v", u, code, err)
	}
	full.first, full.bytes = d, size
	var fd, cd []time.Duration
	for range reqs {
		d, _, _, code, err := one("")
		if err != nil || code != 200 {
			return full, cond, fmt.Errorf("GET %s: %d %v", u, code, err)
		}
		fd = append(fd, d)
	}
	cond.notModifiedOK = true
	for range reqs {
		d, _, _, code, err := one(etag)
		if err != nil {
			return full, cond, err
		}
		cond.notModifiedOK = cond.notModifiedOK && code == http.StatusNotModified
		cd = append(cd, d)
	}
	if !cond.notModifiedOK {
		return full, cond, fmt.Errorf("GET %s with If-None-Match: not 304", u)
	}
	full.n, cond.n = reqs, reqs
	full.p50, full.p90 = percentile(fd, 50), percentile(fd, 90)
	cond.p50, cond.p90 = percentile(cd, 50), percentile(cd, 90)
	return full, cond, nil
}

func percentile(d []time.Duration, p int) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return secs(d)
}
