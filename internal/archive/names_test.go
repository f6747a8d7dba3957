package archive

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name   string
		clean  string
		dir    bool
		reason string // substring; "" = accepted
	}{
		{name: "a.txt", clean: "a.txt"},
		{name: "a/b/c.txt", clean: "a/b/c.txt"},
		{name: "a/b/", clean: "a/b", dir: true},
		{name: ".hidden", clean: ".hidden"},
		{name: "..x", clean: "..x"},
		{name: "x..y", clean: "x..y"},
		{name: "été/ünï.txt", clean: "été/ünï.txt"},
		{name: "nullable", clean: "nullable"},
		{name: "con.d/x", reason: "reserved"},
		{name: "COM0", reason: "reserved"},
		{name: "lpt³", reason: "reserved"},
		{name: "COM10", clean: "COM10"},
		{name: "LPT", clean: "LPT"},
		{name: "CONOUT$.txt", reason: "reserved"},
		{name: "", reason: "empty name"},
		{name: "/", reason: "absolute"},
		{name: "a//", reason: "empty path component"},
		{name: "a/./b", reason: `"." path component`},
		{name: "a/..", reason: `".."`},
		{name: "..", reason: `".."`},
		{name: ".", reason: `"."`},
		{name: "Z:", reason: "drive letter"},
		{name: "1:", reason: "':' in name"},
		{name: `a\`, reason: "backslash"},
		{name: "a\tb", reason: "control character"},
		{name: "a\u0085b", clean: "a\u0085b"}, // C1 controls are not in the rule; they are valid UTF-8 names
		{name: "\xc0\xaf", reason: "UTF-8"},   // overlong '/'
		{name: "a>b", reason: "not allowed in Windows"},
		{name: `a"b`, reason: "not allowed in Windows"},
		{name: "a*", reason: "not allowed in Windows"},
		{name: "dir /x", reason: "ends in a dot or space"},
		{name: strings.Repeat("x", 255), clean: strings.Repeat("x", 255)},
		{name: strings.Repeat("x", 256), reason: "longer than 255"},
	}
	for _, tt := range tests {
		clean, dir, reason := checkName(tt.name)
		switch {
		case tt.reason == "" && reason != "":
			t.Errorf("checkName(%q) rejected: %s", tt.name, reason)
		case tt.reason != "" && !strings.Contains(reason, tt.reason):
			t.Errorf("checkName(%q) = %q, want a reason containing %q", tt.name, reason, tt.reason)
		case tt.reason == "" && (clean != tt.clean || dir != tt.dir):
			t.Errorf("checkName(%q) = %q, %v; want %q, %v", tt.name, clean, dir, tt.clean, tt.dir)
		}
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{"README.md", "readme.MD"},
		{"K.txt", "\u212a.txt"}, // KELVIN SIGN
		{"s", "\u017f"},         // LATIN SMALL LETTER LONG S
		{"ÉTÉ/x", "été/X"},
		{"Σ", "ς"},
	}
	for _, p := range same {
		if foldKey(p[0]) != foldKey(p[1]) {
			t.Errorf("foldKey(%q) != foldKey(%q)", p[0], p[1])
		}
		if !strings.EqualFold(p[0], p[1]) {
			t.Errorf("test pair %q %q is not EqualFold", p[0], p[1])
		}
	}
	differ := [][2]string{{"a", "b"}, {"a/b", "a-b"}, {"e", "é"}}
	for _, p := range differ {
		if foldKey(p[0]) == foldKey(p[1]) {
			t.Errorf("foldKey(%q) == foldKey(%q)", p[0], p[1])
		}
	}
	// The '/' positions must survive folding: register cuts keys there.
	for _, s := range []string{"ſ/K/ß/x", "Ǆ/ǅ/ǆ"} {
		if strings.Count(foldKey(s), "/") != strings.Count(s, "/") {
			t.Errorf("foldKey(%q) = %q moved separators", s, foldKey(s))
		}
	}
}
