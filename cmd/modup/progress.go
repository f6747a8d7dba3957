package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows downloads: a redrawn bar on a terminal, a start and an end
// line otherwise (logs stay readable).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	last     time.Time
	started  map[string]bool
}

func newProgress(w io.Writer, terminal bool) *progress {
	return &progress{w: w, terminal: terminal, started: map[string]bool{}}
}

func (p *progress) report(name string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	finished := total > 0 && done >= total
	if !p.terminal {
		if !p.started[name] {
			p.started[name] = true
			printf(p.w, "downloading %s (%s)\n", name, size(total))
		}
		return
	}
	if !finished && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	bar := strings.Repeat(" ", width)
	pct := ""
	if total > 0 {
		n := int(done * width / total)
		bar = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
		pct = fmt.Sprintf("%3d%%", done*100/total)
	}
	fmt.Fprintf(p.w, "\r%s [%s] %s %s/%s", cleanLine(name), bar, pct, size(done), size(total))
	if finished {
		fmt.Fprintln(p.w)
	}
}

func size(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
