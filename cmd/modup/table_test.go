package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// Coloured statuses take no width: the columns after them stay aligned,
// and the header is never painted.
func TestTableAlignsColouredStatuses(t *testing.T) {
	var buf bytes.Buffer
	tb := newTable(&buf, "NAME", "STATUS", "AFTER")
	tb.statusCol = 1
	tb.row("a", "up-to-date", "x")
	tb.row("longer-name", "error", "y")
	tb.row("b", "local", "z") // no colour for this status
	tb.row("c", "", "")       // empty cells show "-"
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "\x1b[32mup-to-date\x1b[0m") || !strings.Contains(out, "\x1b[31merror\x1b[0m") {
		t.Fatalf("statuses not painted:\n%q", out)
	}
	visible := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, "")
	lines := strings.Split(strings.TrimSuffix(visible, "\n"), "\n")
	want := []string{
		"NAME         STATUS      AFTER",
		"a            up-to-date  x",
		"longer-name  error       y",
		"b            local       z",
		"c            -           -",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant:\n%s", visible, strings.Join(want, "\n"))
	}
	if strings.HasPrefix(out, "NAME         \x1b") {
		t.Error("the header was painted")
	}
}
