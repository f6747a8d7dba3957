package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progress shows downloads: a redrawn bar on a terminal, a start line
// otherwise (logs stay readable). Each redraw overwrites the whole previous
// line (with spaces, not an escape sequence, so it works in every Windows
// console too), and clear leaves an empty line behind, so that nothing
// printed afterwards lands on the bar's line.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	last     time.Time
	started  map[string]bool
	drawn    int // width of the bar line on screen; 0 when none
}

func newProgress(w io.Writer, terminal bool) *progress {
	return &progress{w: w, terminal: terminal, started: map[string]bool{}}
}

// barWidth keeps a line, with a name of up to maxBarName runes, well
// under 80 columns: a line that wraps cannot be redrawn with \r.
const (
	barWidth   = 20
	maxBarName = 24
)

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
	name = cleanLine(name)
	if utf8.RuneCountInString(name) > maxBarName {
		name = string([]rune(name)[:maxBarName-1]) + "…"
	}
	var line string
	if total > 0 {
		n := int(min(done, total) * barWidth / total)
		line = fmt.Sprintf("%s [%s%s] %3d%% %s/%s", name, strings.Repeat("=", n), strings.Repeat(" ", barWidth-n),
			min(done, total)*100/total, size(done), size(total))
	} else {
		line = fmt.Sprintf("%s %s", name, size(done))
	}
	p.draw(line)
	if finished {
		fmt.Fprintln(p.w)
		p.drawn = 0
	}
}

// draw replaces the bar line with line.
func (p *progress) draw(line string) {
	w := utf8.RuneCountInString(line)
	pad := ""
	if p.drawn > w {
		pad = strings.Repeat(" ", p.drawn-w)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.drawn = w
}

// clear blanks an unfinished bar line (a failed or interrupted download)
// and puts the cursor at its start, so that what follows has the line.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.drawn))
		p.drawn = 0
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
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
}
