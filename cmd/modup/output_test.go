package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, text, line string
	}{
		{name: "plain", in: "hello 1.2.0", text: "hello 1.2.0", line: "hello 1.2.0"},
		{name: "non-ASCII text", in: "Größe 日本 é", text: "Größe 日本 é", line: "Größe 日本 é"},
		{name: "OSC 0 title", in: "a\x1b]0;pwned\x07b", text: `a\x1b]0;pwned\ab`, line: `a\x1b]0;pwned\ab`},
		{name: "OSC 52 clipboard", in: "\x1b]52;c;ZWNobw==\x1b\\", text: `\x1b]52;c;ZWNobw==\x1b\`, line: `\x1b]52;c;ZWNobw==\x1b\`},
		{name: "CSI 2J", in: "\x1b[2J", text: `\x1b[2J`, line: `\x1b[2J`},
		{name: "C1 CSI", in: "\u009b2J", text: `\u009b2J`, line: `\u009b2J`},
		{name: "bidi override and isolate", in: "\u202egnp.exe\u2066", text: `\u202egnp.exe\u2066`, line: `\u202egnp.exe\u2066`},
		{name: "carriage return", in: "ok\rspoof", text: `ok\rspoof`, line: `ok\rspoof`},
		{name: "newline and tab", in: "a\n\tb", text: "a\n\tb", line: `a\n\tb`},
		{name: "NUL and DEL", in: "a\x00b\x7f", text: `a\x00b\x7f`, line: `a\x00b\x7f`},
		{name: "invalid UTF-8", in: "a\xffb\xc2", text: `a\xffb\xc2`, line: `a\xffb\xc2`},
		{name: "line separator", in: "a\u2028b", text: `a\u2028b`, line: `a\u2028b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.text {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if got := cleanLine(tt.in); got != tt.line {
				t.Errorf("cleanLine(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := cleanLine(tt.in); !utf8.ValidString(got) || strings.ContainsAny(got, "\x1b\r\n\u009b\u202e") {
				t.Errorf("cleanLine(%q) = %q still acts on a terminal", tt.in, got)
			}
		})
	}
}

// TestTableCleansCellsAndPaintsStatus: a table escapes every cell and
// colours the status column itself, with a status that came from a file
// cleaned before it is painted.
func TestTableCleansCellsAndPaintsStatus(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b, "NAME", "STATUS")
	tb.statusCol = 1
	tb.row("a\x1b[2J", "up-to-date")
	tb.row("b", "err\x1bor")
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"NAME", `a\x1b[2J`, "\x1b[32mup-to-date\x1b[0m", `err\x1bor`} {
		if !strings.Contains(out, want) {
			t.Errorf("table %q lacks %q", out, want)
		}
	}
	if strings.Count(out, "\x1b") != 2 {
		t.Errorf("table %q: want the two escapes of one painted status and no other", out)
	}
}
