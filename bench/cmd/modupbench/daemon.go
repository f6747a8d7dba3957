//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/modup/modup/bench/internal/workload"
)

// daemonRow starts `modup daemon` on a root of many packages, waits until
// it has checked each once (it spreads the checks due at start over its
// first minute), then samples its CPU time and RSS from /proc while it
// idles, and finally drops new package folders into the root and times how
// long until the server sees the new package's manifest asked for.
func (b *bench) daemonRow() error {
	n := b.cfg.daemonN
	dir := filepath.Join(b.cfg.work, "daemon")
	root := filepath.Join(dir, "root")
	if err := b.writeRoot(root, n); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	b.srv.Reset()
	cmd := exec.CommandContext(b.ctx, b.cfg.modup, "daemon", "--root", root, "--policy", "notify", "--log-format", "json")
	cmd.Env = b.r.env
	cmd.Stderr = logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	}()

	b.progress("daemon: waiting for its first check of %d packages (spread over its first minute)", n)
	for b.srv.Counts().Requests < int64(n) {
		select {
		case err := <-exited:
			stopped = true
			return fmt.Errorf("daemon exited during its first checks: %v (log: %s)", err, logf.Name())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("daemon checked only %d of %d packages in 5 minutes", b.srv.Counts().Requests, n)
		}
	}
	catchUp := time.Since(start)
	catchCPU, _, _, err := procStat(pid)
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // the last results and state files

	b.progress("daemon: idle for %s", b.cfg.idle)
	req0 := b.srv.Counts().Requests
	cpu0, rss, _, err := procStat(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	rssMax := rss
	for time.Since(t0) < b.cfg.idle {
		time.Sleep(time.Second)
		_, rss, _, err := procStat(pid)
		if err != nil {
			return err
		}
		rssMax = max(rssMax, rss)
	}
	cpu1, rssEnd, hwm, err := procStat(pid)
	if err != nil {
		return err
	}
	idleFor := time.Since(t0)
	idleReq := b.srv.Counts().Requests - req0
	pct := 100 * float64(cpu1-cpu0) / float64(idleFor)

	b.progress("daemon: dropping %d new package folders in", b.cfg.drops)
	incoming := filepath.Join(dir, "incoming")
	var lat []time.Duration
	for i := range b.cfg.drops {
		name := fmt.Sprintf("new%05d", i)
		src := filepath.Join(incoming, name)
		if err := workload.WritePackage(src, name, "1.0.0", b.srv.URL+"/p/"+name+"/"); err != nil {
			return err
		}
		path := "/p/" + name + "/a2modsource.json"
		at := time.Now()
		if err := os.Rename(src, filepath.Join(root, name)); err != nil {
			return err
		}
		for {
			if t, ok := b.srv.FirstRequest(path); ok {
				lat = append(lat, t.Sub(at))
				break
			}
			if time.Since(at) > 15*time.Second {
				lat = append(lat, 15*time.Second)
				b.notes = append(b.notes, fmt.Sprintf("daemon: %s was not checked within 15 s", name))
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond)
	}
	_, _, hwm2, _ := procStat(pid)
	hwm = max(hwm, hwm2)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	stopped = true

	worstLat := slices.Max(lat)
	lats := ""
	for i, l := range lat {
		if i > 0 {
			lats += ", "
		}
		lats += secs(l)
	}
	b.rows = append(b.rows,
		row{
			workload: fmt.Sprintf("`daemon` idle for %s with %d packages in its root (after its first round of checks)", secs(idleFor), n),
			baseline: "—",
			modup:    fmt.Sprintf("CPU %.2f%% (%s in %s); RSS %s (max %s while idle); %d requests", pct, secs(cpu1-cpu0), secs(idleFor), mbKB(rssEnd), mbKB(rssMax), idleReq),
			ratio:    "—",
			goal:     "≈ 0% CPU, RSS ≤ 50 MB",
			met:      yes(pct < 0.5 && rssMax <= 50*1024),
		},
		row{
			workload: "a package folder dropped into that root",
			baseline: "—",
			modup:    fmt.Sprintf("checked after %s (%d drops, worst %s)", lats, len(lat), secs(worstLat)),
			ratio:    "—",
			goal:     "≤ 2 s",
			met:      yes(worstLat <= 2*time.Second),
		})
	b.notes = append(b.notes, fmt.Sprintf("daemon: its first check of all %d packages ended %s after start and cost %s of CPU; peak RSS over the whole run (VmHWM) %s",
		n, secs(catchUp), secs(catchCPU), mbKB(hwm)))
	return nil
}
