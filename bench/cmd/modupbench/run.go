//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/modup/modup/bench/internal/server"
	"github.com/modup/modup/bench/internal/workload"
)

// config is one run of the harness.
type config struct {
	modup   string
	work    string
	quick   bool
	reps    int
	rows    map[string]bool
	out     string
	keep    bool
	profile string // folder for modup CPU profiles (MODUP_CPUPROFILE), "" for none
	ab      string // a second modup build timed alongside (A/B of a change)

	zipMB    int64   // the update workload's zip size
	zipFiles int     // and file count
	rssMB    []int64 // zip sizes of the peak-RSS comparison (same file count)
	checkNs  []int
	listN    int
	daemonN  int
	idle     time.Duration
	drops    int
	// indexN sources are built and refreshed; the served index holds
	// indexListN packages.
	indexN, indexListN int
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&c.modup, "modup", "", "the modup binary to measure (required)")
	fs.StringVar(&c.work, "work", "", "scratch folder, on the file system to measure (default: a new folder under $TMPDIR)")
	fs.BoolVar(&c.quick, "quick", false, "small workloads (for CI): 20 MB zip, 2,000 files, 1,000 packages, 10 s idle")
	fs.IntVar(&c.reps, "reps", 5, "timed runs of each side")
	rows := fs.String("rows", "update,rss,check,list,daemon,index,repos", "rows to run")
	fs.StringVar(&c.out, "o", "", "also write the results (markdown) to this file")
	fs.BoolVar(&c.keep, "keep", false, "keep the scratch folder")
	fs.StringVar(&c.profile, "cpuprofile", "", "write a CPU profile of every modup run into this folder")
	fs.StringVar(&c.ab, "ab", "", "another modup binary to time alongside -modup in the update, check and list rows (reported in the notes)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.modup == "" {
		return c, errors.New("run: -modup is required")
	}
	abs, err := filepath.Abs(c.modup)
	if err != nil {
		return c, err
	}
	c.modup = abs
	if c.ab != "" {
		if c.ab, err = filepath.Abs(c.ab); err != nil {
			return c, err
		}
	}
	c.rows = map[string]bool{}
	for r := range strings.SplitSeq(*rows, ",") {
		c.rows[strings.TrimSpace(r)] = true
	}
	if c.quick {
		c.zipMB, c.zipFiles, c.rssMB = 20, 2000, []int64{10, 20}
		c.checkNs, c.listN, c.daemonN = []int{100, 1000}, 1000, 1000
		c.idle, c.drops = 10*time.Second, 2
		c.indexN, c.indexListN = 100, 1000
		if c.reps > 3 {
			c.reps = 3
		}
	} else {
		c.zipMB, c.zipFiles, c.rssMB = 200, 20000, []int64{100, 200}
		c.checkNs, c.listN, c.daemonN = []int{100, 1000, 10000}, 10000, 10000
		c.idle, c.drops = 60*time.Second, 3
		c.indexN, c.indexListN = 1000, 10000
	}
	return c, nil
}

// bench holds what the rows share.
type bench struct {
	cfg    config
	r      *runner
	srv    *server.Server
	static string
	rows   []row
	notes  []string
	log    io.Writer
	ctx    context.Context

	updateSeries series   // modup's update runs, reused by the RSS row
	updateRel    *release // and their release

	trash    string // where discard moves what a run left
	trashN   int
	eagerDel bool // too little disk for a trash: delete at once
}

// discard takes a run's output out of the way. It is moved into a trash
// folder emptied only at the end: on ext4 without a journal, inodes freed
// in the last minute are skipped, one by one, by every file creation, so
// deleting 20,000 files right before a timed run would slow that run's
// file creation tenfold, whichever tool it measures.
func (b *bench) discard(path string) {
	if _, err := os.Lstat(path); err != nil {
		return
	}
	if !b.eagerDel {
		b.trashN++
		if os.Rename(path, filepath.Join(b.trash, fmt.Sprint(b.trashN))) == nil {
			return
		}
	}
	os.RemoveAll(path)
}

// row is one line of the results table.
type row struct {
	workload, baseline, modup, ratio, goal, met string
}

func runBench(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args)
	if err != nil {
		return err
	}
	if cfg.work == "" {
		if cfg.work, err = os.MkdirTemp("", "modup-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return err
	}
	if cfg.work, err = filepath.Abs(cfg.work); err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(cfg.work)
	}
	if cfg.profile != "" {
		if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
			return err
		}
	}
	b := &bench{cfg: cfg, log: os.Stderr, ctx: ctx, static: filepath.Join(cfg.work, "static")}
	b.r = &runner{tmp: cfg.work, log: os.Stderr}
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		b.r.timeBin = "/usr/bin/time"
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MODUP_") {
			b.r.env = append(b.r.env, kv)
		}
	}
	if err := os.MkdirAll(b.static, 0o755); err != nil {
		return err
	}
	b.trash = filepath.Join(cfg.work, "trash")
	if err := os.MkdirAll(b.trash, 0o755); err != nil {
		return err
	}
	// The trash holds every run's output: about 4 unpacked copies per
	// repetition of the update row.
	need := uint64(cfg.reps+3) * 4 * uint64(cfg.zipMB) * (1 << 20) * 3 / 2
	var st syscall.Statfs_t
	if syscall.Statfs(cfg.work, &st) == nil && st.Bavail*uint64(st.Bsize) < need+(2<<30) {
		b.eagerDel = true
		b.notes = append(b.notes, fmt.Sprintf("less than %.0f GB free in %s: outputs were deleted between runs, which slows file creation on ext4 without a journal", float64(need+(2<<30))/(1<<30), cfg.work))
	}
	if b.srv, err = server.Start(b.static); err != nil {
		return err
	}
	defer b.srv.Close()

	machine := describeMachine(cfg)
	fmt.Fprintln(os.Stderr, machine)
	steps := []struct {
		name string
		f    func() error
	}{
		{"update", b.updateRows},
		{"rss", b.rssRow},
		{"check", b.checkRows},
		{"list", b.listRow},
		{"daemon", b.daemonRow},
		{"index", b.indexRows},
		{"repos", b.reposRows},
	}
	for _, s := range steps {
		if !cfg.rows[s.name] {
			continue
		}
		if err := s.f(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	report := b.report(machine)
	fmt.Print(report)
	if cfg.out != "" {
		return os.WriteFile(cfg.out, []byte(report), 0o644)
	}
	return nil
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "· "+format+"\n", args...)
}

// modup runs modup with args; env adds MODUP_CPUPROFILE when profiling.
func (b *bench) modup(tag string, okExit []int, args ...string) (sample, error) {
	return b.modupBin(b.cfg.modup, tag, okExit, args...)
}

func (b *bench) modupBin(bin, tag string, okExit []int, args ...string) (sample, error) {
	r := *b.r
	if b.cfg.profile != "" {
		if bin != b.cfg.modup {
			tag += "-ab"
		}
		r.env = append(append([]string{}, r.env...), "MODUP_CPUPROFILE="+filepath.Join(b.cfg.profile, tag+".pprof"))
	}
	return r.run(b.ctx, nil, okExit, bin, args...)
}

// abNote compares the -ab build with -modup.
func abNote(what string, a, ab series) string {
	return fmt.Sprintf("A/B %s: -modup %s (CPU %s), -ab %s (CPU %s): -modup takes %.2f× the time of -ab; runs: -modup [%s], -ab [%s]",
		what, secs(a.wallMedian()), secs(a.cpuMedian()), secs(ab.wallMedian()), secs(ab.cpuMedian()),
		float64(a.wallMedian())/float64(ab.wallMedian()), a.walls(), ab.walls())
}

// settle flushes every dirty page, so that no side pays for another's
// writeback (the file system is shared by all sides and by setup steps).
func settle() { syscall.Sync() }

func (b *bench) report(machine string) string {
	var s strings.Builder
	s.WriteString(machine)
	s.WriteString("\n\n| workload | baseline (median) | modup (median) | modup ÷ baseline | goal | met |\n|---|---|---|---|---|---|\n")
	for _, r := range b.rows {
		fmt.Fprintf(&s, "| %s | %s | %s | %s | %s | %s |\n", r.workload, r.baseline, r.modup, r.ratio, r.goal, r.met)
	}
	if len(b.notes) > 0 {
		s.WriteString("\n")
		for _, n := range b.notes {
			s.WriteString("- " + n + "\n")
		}
	}
	return s.String()
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// describeMachine names what the numbers were measured on.
func describeMachine(cfg config) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf("%.1f GB RAM", float64(kb)/(1<<20))
	}
	var uts syscall.Utsname
	kernel := ""
	if syscall.Uname(&uts) == nil {
		kernel = cstr(uts.Sysname[:]) + " " + cstr(uts.Release[:])
	}
	mode := "default"
	if cfg.quick {
		mode = "quick"
	}
	tools := []string{}
	for _, t := range [][]string{{"curl", "--version"}, {"unzip", "-v"}, {"python3", "--version"}} {
		out, err := exec.Command(t[0], t[1:]...).Output()
		if err != nil {
			continue
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		f := strings.Fields(line)
		if len(f) >= 2 {
			tools = append(tools, f[0]+" "+f[1])
		}
	}
	modupVersion, _ := exec.Command(cfg.modup, "version").Output()
	return fmt.Sprintf("Machine: %s, %d cores, %s, %s; scratch on %s (%s)\nTools: %s, %s; %s\nRun: %s mode, median of %d runs per side, all sides in the same run, page cache warm, `sync` before every timed run",
		cpu, runtime.NumCPU(), mem, kernel, cfg.work, fsType(cfg.work),
		strings.TrimSpace(string(modupVersion)), runtime.Version()+" (harness)", strings.Join(tools, ", "),
		mode, cfg.reps)
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func fsType(dir string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return "unknown file system"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs: fsync is free here, numbers flatter durability"
	case 0x794c7630:
		return "overlayfs"
	case 0x2FC12FC1:
		return "zfs"
	}
	return fmt.Sprintf("file system type %#x", st.Type)
}

// writeRoot is workload.WriteRoot with progress.
func (b *bench) writeRoot(root string, n int) error {
	if _, err := os.Stat(root); err == nil {
		return nil
	}
	b.progress("writing %d packages into %s", n, root)
	if err := workload.WriteRoot(root, n, b.srv.URL); err != nil {
		return err
	}
	settle()
	return nil
}
