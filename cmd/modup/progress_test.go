package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// screen renders what a terminal shows for output made of text, \r and
// \n: each \r returns to the start of the line, characters overwrite.
func screen(out string) []string {
	lines := [][]rune{{}}
	col := 0
	for _, r := range out {
		cur := &lines[len(lines)-1]
		switch r {
		case '\r':
			col = 0
		case '\n':
			lines = append(lines, []rune{})
			col = 0
		default:
			for len(*cur) <= col {
				*cur = append(*cur, ' ')
			}
			(*cur)[col] = r
			col++
		}
	}
	var s []string
	for _, l := range lines {
		s = append(s, strings.TrimRight(string(l), " "))
	}
	return s
}

func TestProgressRedrawLeavesNoResidue(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.report("hello", 50<<20, 60<<20)
	p.last = time.Time{}          // no throttling in the test
	p.report("hello", 60<<19, -1) // shorter line: unknown size
	got := screen(buf.String())
	if len(got) != 1 || got[0] != "hello 30.0 MiB" {
		t.Errorf("screen after a shorter redraw: %q", got)
	}
}

// A download that stops halfway (failure, Ctrl-C) leaves no bar under
// the table printed next.
func TestProgressClearBeforeOutput(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.report("a-package-with-a-rather-long-name", 1<<20, 4<<20)
	p.clear()
	buf.WriteString("NAME  FROM  TO\n")
	got := screen(buf.String())
	if got[0] != "NAME  FROM  TO" {
		t.Errorf("the table shares the bar's line: %q", got)
	}
	if strings.Contains(buf.String(), "a-package-with-a-rather-long-name") {
		t.Errorf("a name longer than %d runes was not shortened: %q", maxBarName, buf.String())
	}
}

// A finished download keeps its last line and ends it.
func TestProgressFinishedLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.report("hello", 512, 1024)
	p.report("hello", 1024, 1024)
	p.clear() // nothing to clear: the line is done
	buf.WriteString("next\n")
	got := screen(buf.String())
	if len(got) < 2 || !strings.HasPrefix(got[0], "hello [====================] 100% 1.0 KiB/1.0 KiB") || got[1] != "next" {
		t.Errorf("screen: %q", got)
	}
}

func TestProgressNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false)
	p.report("hello", 1, 2048)
	p.report("hello", 2048, 2048)
	p.clear()
	if buf.String() != "downloading hello (2.0 KiB)\n" {
		t.Errorf("output %q", buf.String())
	}
}
