//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one timed run of a command.
type sample struct {
	wall  time.Duration
	cpu   time.Duration // user + system
	rssKB int64         // peak resident set size
}

// runner runs commands, timed, with their peak RSS from /usr/bin/time
// (or the kernel's rusage when /usr/bin/time is missing).
type runner struct {
	timeBin string // "/usr/bin/time" or ""
	tmp     string
	env     []string
	log     io.Writer // where command output goes when it fails
}

// run runs name args, writing its stdout to stdout (nil: discarded), and
// fails when it exits non-zero unless okExit lists the code.
func (r *runner) run(ctx context.Context, stdout io.Writer, okExit []int, name string, args ...string) (sample, error) {
	var stderr bytes.Buffer
	tf := filepath.Join(r.tmp, "time.out")
	argv := append([]string{name}, args...)
	if r.timeBin != "" {
		argv = append([]string{r.timeBin, "-f", "%M %U %S", "-o", tf, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.env
	cmd.Stdout = stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		err = nil
	}
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	if code != 0 && !slices.Contains(okExit, code) {
		return sample{}, fmt.Errorf("%s %s: exit %d:\n%s", name, strings.Join(args, " "), code, tail(stderr.String(), 4000))
	}
	s := sample{wall: wall}
	if r.timeBin != "" {
		b, err := os.ReadFile(tf)
		if err != nil {
			return sample{}, err
		}
		// The last line holds the format; earlier ones may report the
		// exit status.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		f := strings.Fields(lines[len(lines)-1])
		if len(f) == 3 {
			s.rssKB, _ = strconv.ParseInt(f[0], 10, 64)
			u, _ := strconv.ParseFloat(f[1], 64)
			sy, _ := strconv.ParseFloat(f[2], 64)
			s.cpu = time.Duration((u + sy) * float64(time.Second))
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rssKB = ru.Maxrss
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// series is several samples of one side of a comparison.
type series []sample

func (s series) wallMedian() time.Duration {
	d := make([]time.Duration, len(s))
	for i, x := range s {
		d[i] = x.wall
	}
	return median(d)
}

func (s series) cpuMedian() time.Duration {
	d := make([]time.Duration, len(s))
	for i, x := range s {
		d[i] = x.cpu
	}
	return median(d)
}

func (s series) rssMax() int64 {
	var m int64
	for _, x := range s {
		m = max(m, x.rssKB)
	}
	return m
}

func (s series) walls() string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = secs(x.wall)
	}
	return strings.Join(parts, " ")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

func secs(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func mbKB(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// procStat reads a process's CPU time (user+system) and its current and
// peak RSS from /proc.
func procStat(pid int) (cpu time.Duration, rssKB, hwmKB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ, 100 on every Linux architecture Go supports
	cpu = time.Duration(ut+st) * time.Second / clkTck
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rssKB = n
		case "VmHWM":
			hwmKB = n
		}
	}
	return cpu, rssKB, hwmKB, nil
}
