package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// The cases follow Composer's documentation ("Versions and constraints":
// exact, range, hyphen range, wildcard, tilde, caret, and the table of
// how a constraint without a stability is read internally).
func TestConstraintAllows(t *testing.T) {
	tests := []struct {
		name       string
		constraint string
		yes, no    []string
	}{
		{"exact", "1.0.2", []string{"1.0.2", "v1.0.2", "1.0.2+build.5"}, []string{"1.0.1", "1.0.3", "1.0.2-beta"}},
		{"exact partial is .0", "1.2", []string{"1.2.0"}, []string{"1.2.1", "1.3.0"}},
		{"exact with =", "=1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"exact with ==", "==1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"v prefix", "v1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"at least", ">=1.0", []string{"1.0.0", "2.5.0", "1.0.0-beta"}, []string{"0.9.9"}},
		{"at least with a space", ">= 1.26.0", []string{"1.26.0", "1.27.3"}, []string{"1.25.9"}},
		{"range with space", ">=1.0 <2.0", []string{"1.0.0", "1.9.9"}, []string{"2.0.0", "0.9.0", "2.0.0-beta"}},
		{"range with comma", ">=1.0,<2.0", []string{"1.5.0"}, []string{"2.0.0"}},
		{"range with comma and space", ">=1.0, <2.0", []string{"1.5.0"}, []string{"2.0.0"}},
		{"range with operators apart", ">= 1.0 < 2.0", []string{"1.5.0"}, []string{"2.0.0", "0.5.0"}},
		{"or of ranges", ">=1.0 <1.1 || >=1.2", []string{"1.0.5", "1.2.0", "3.0.0"}, []string{"1.1.0", "0.9.0"}},
		{"greater", ">1.2", []string{"1.2.1", "1.3.0"}, []string{"1.2.0", "1.1.0"}},
		{"at most", "<=1.3", []string{"1.3.0", "1.0.0", "1.3.0-beta"}, []string{"1.3.1"}},
		{"less", "<1.3", []string{"1.2.9", "1.2.9-beta"}, []string{"1.3.0", "1.3.0-beta"}},
		{"not", "!=1.5", []string{"1.4.0", "1.5.1"}, []string{"1.5.0"}},
		{"not <>", "<>1.5", []string{"1.4.0"}, []string{"1.5.0"}},
		{"not wildcard", "!=1.5.*", []string{"1.4.9", "1.6.0"}, []string{"1.5.0", "1.5.7"}},
		{"and not", ">=1.0 !=1.5.0", []string{"1.4.0", "1.6.0"}, []string{"1.5.0", "0.5.0"}},
		{"hyphen partial", "1.0 - 2.0", []string{"1.0.0", "2.0.9", "1.5.0"}, []string{"2.1.0", "0.9.9"}},
		{"hyphen full", "1.0.0 - 2.1.0", []string{"2.1.0", "1.0.0"}, []string{"2.1.1"}},
		{"hyphen majors", "1 - 2", []string{"1.0.0", "2.9.9", "1.0.0-alpha"}, []string{"3.0.0", "3.0.0-alpha", "0.9.0"}},
		{"wildcard minor", "1.0.*", []string{"1.0.0", "1.0.9"}, []string{"1.1.0", "0.9.0"}},
		{"wildcard major", "1.*", []string{"1.0.0", "1.9.0"}, []string{"2.0.0", "0.9.0"}},
		{"wildcard x", "1.2.x", []string{"1.2.0", "1.2.5"}, []string{"1.3.0"}},
		{"wildcard x major", "1.x", []string{"1.7.0"}, []string{"2.0.0"}},
		{"wildcard stability", "1.4.*", []string{"1.4.0-beta"}, []string{"1.5.0-beta", "1.3.9"}},
		{"any", "*", []string{"0.0.1", "99.0.0", "1.0.0-alpha"}, nil},
		{"tilde minor", "~1.2", []string{"1.2.0", "1.9.9"}, []string{"2.0.0", "1.1.9", "2.0.0-beta"}},
		{"tilde patch", "~1.2.3", []string{"1.2.3", "1.2.9"}, []string{"1.3.0", "1.2.2"}},
		{"tilde major", "~1", []string{"1.0.0", "1.9.0"}, []string{"2.0.0"}},
		{"tilde zero", "~0.4", []string{"0.4.0", "0.9.0"}, []string{"1.0.0", "0.3.9"}},
		{"tilde stability", "~1.3", []string{"1.3.0-alpha"}, []string{"2.0.0-beta"}},
		{"caret", "^1.2.3", []string{"1.2.3", "1.9.0"}, []string{"2.0.0", "1.2.2"}},
		{"caret minor", "^1.2", []string{"1.2.0", "1.99.0"}, []string{"2.0.0", "1.1.0"}},
		{"caret zero minor", "^0.3", []string{"0.3.0", "0.3.9"}, []string{"0.4.0", "0.2.9"}},
		{"caret zero patch", "^0.0.3", []string{"0.0.3"}, []string{"0.0.4", "0.0.2"}},
		{"caret zero zero", "^0.0", []string{"0.0.0", "0.0.9"}, []string{"0.1.0"}},
		{"caret zero", "^0", []string{"0.0.0", "0.9.0"}, []string{"1.0.0"}},
		{"caret major", "^4", []string{"4.0.0", "4.9.9"}, []string{"5.0.0", "3.9.9"}},
		{"caret zero point", "^0.3.2", []string{"0.3.2", "0.3.9"}, []string{"0.4.0", "0.3.1"}},
		{"caret v", "^v1.2", []string{"1.3.0"}, []string{"2.0.0"}},
		{"caret pre-release", "^1.2.3-beta", []string{"1.2.3-beta", "1.2.3-rc1", "1.2.3", "1.5.0"}, []string{"1.2.3-alpha", "2.0.0-alpha"}},
		{"or", "^1.0 || ^2.0", []string{"1.5.0", "2.5.0"}, []string{"3.0.0", "0.9.0"}},
		{"single pipe", "^1.0 | ^2.0", []string{"1.5.0", "2.5.0"}, []string{"3.0.0"}},
		{"greater stable", ">1.2", []string{"1.2.1-beta"}, []string{"1.2.0-beta"}},
		{"at least stable", ">=1.2-stable", []string{"1.2.0"}, []string{"1.2.0-beta"}},
		{"less stable", "<1.3-stable", []string{"1.3.0-beta"}, []string{"1.3.0"}},
		{"flag", "^1.0@beta", []string{"1.5.0"}, []string{"2.0.0"}},
		{"flag alone", "@dev", []string{"0.1.0-dev", "5.0.0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConstraint(tt.constraint)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.yes {
				if !c.Allows(semver.MustParse(v)) {
					t.Errorf("%q should allow %s", tt.constraint, v)
				}
			}
			for _, v := range tt.no {
				if c.Allows(semver.MustParse(v)) {
					t.Errorf("%q should not allow %s", tt.constraint, v)
				}
			}
		})
	}
}

// Admits adds stability: a pre-release candidate needs the constraint to
// ask for pre-releases.
func TestConstraintAdmits(t *testing.T) {
	tests := []struct {
		constraint string
		version    string
		marked     bool // the source calls it a pre-release
		want       bool
	}{
		{"^1.0", "1.1.0", false, true},
		{"^1.0", "1.1.0-beta1", false, false},
		{"^1.0", "1.1.0", true, false},
		{"*", "2.0.0-rc.1", false, false},
		{"*", "2.0.0", false, true},
		{"^1.0@beta", "1.1.0-beta1", false, true},
		{"^1.0@beta", "1.1.0-rc1", false, true},
		{"^1.0@beta", "1.1.0-alpha1", false, false},
		{"^1.0@beta", "1.1.0-b2", false, true},
		{"^1.0@RC", "1.1.0-beta1", false, false},
		{"^1.0@dev", "1.1.0-snapshot", false, true},
		{"^1.0@alpha", "1.1.0-snapshot", false, false},
		{"@dev", "0.1.0-dev", false, true},
		{"^1.0@stable", "1.1.0-rc1", false, false},
		{">=2.0.0-beta", "2.0.0-rc.1", false, true},
		{">=2.0.0-beta", "2.1.0-alpha", false, true},
		{">=2.0.0-beta", "1.9.0-rc.1", false, false},
		{">=2.0.0-beta || ^1.0", "1.5.0-rc.1", false, false},
		{"2.0.0-beta1", "2.0.0-beta1", false, true},
		{"2.0.0", "2.0.0", true, true},
		{"^2.0@beta", "2.1.0", true, false},
		{"^2.0@dev", "2.1.0", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.constraint+" "+tt.version, func(t *testing.T) {
			c := MustParseConstraint(tt.constraint)
			if got := c.Admits(semver.MustParse(tt.version), tt.marked); got != tt.want {
				t.Errorf("Admits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConstraintErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `empty constraint: write "*" for any version`},
		{"   ", `empty constraint`},
		{"^^0.7", `"^^0.7": "^0.7" is not a version (one operator per comparison`},
		{"=>1.0", `unknown operator "=>" (write ">=")`},
		{"~>1.2", `unknown operator "~>" (write "~")`},
		{"!1.0", `unknown operator "!" (write "!=")`},
		{"1.2.3.4", `"1.2.3.4": has four parts; semver versions have three (1.2.3)`},
		{"dev-main", `"dev-main": a branch, not a version: modup installs releases; write a version like 1.2.0`},
		{"1.0.0beta1", `write the pre-release after a hyphen, like 1.0.0-beta1`},
		{">=", `">=": needs a version after it`},
		{">= ", `">= ": needs a version after it`},
		{"1.*.3", `a wildcard must come last`},
		{">=1.*", `a wildcard version goes without an operator`},
		{"1.0 -", `a hyphen range needs a version on both sides`},
		{"- 2.0", `a hyphen range needs a version on both sides`},
		{"^1.0 ||", `an empty alternative`},
		{"abc", `"abc": not a version (want one like 1.2.0)`},
		{"^1.0@gamma", `unknown stability flag @gamma`},
		{"!=*", `excludes every version`},
		{"1.0.0-beta..1", `malformed pre-release "beta..1"`},
		{"99999999999999999999999.0", `too large a number`},
		{"1.*-beta", `a wildcard version cannot have a pre-release`},
		{">=1.0 - 2.0", `the ends of a hyphen range are plain versions`},
		{strings.Repeat("|1", 40), `more than 32 alternatives`},
		{strings.Repeat("x", 2000), `longer than 1024 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseConstraint(tt.in)
			var ce *ConstraintError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConstraintError", err)
			}
			if ce.Text != tt.in || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (text %q), want it to contain %q", err, ce.Text, tt.want)
			}
		})
	}
}

func TestConstraintIsAnyAndString(t *testing.T) {
	tests := []struct {
		in   string
		any  bool
		text string
	}{
		{"*", true, "*"},
		{"x", true, "x"},
		{"@dev", true, "@dev"},
		{"^1 || *", true, "^1 || *"},
		{"  ^1.2  ", false, "^1.2"},
		{">=0.0.0", false, ">=0.0.0"},
	}
	for _, tt := range tests {
		c := MustParseConstraint(tt.in)
		if c.IsAny() != tt.any || c.String() != tt.text {
			t.Errorf("%q: IsAny %v, String %q; want %v, %q", tt.in, c.IsAny(), c.String(), tt.any, tt.text)
		}
	}
	var zero Constraint
	if !zero.IsAny() || zero.String() != "*" || !zero.Allows(semver.MustParse("1.0.0-beta")) || zero.Admits(semver.MustParse("1.0.0-beta"), false) {
		t.Error("the zero Constraint is not * (stable versions only)")
	}
	if !MustParseConstraint("^1@beta").NamesPrerelease() || !MustParseConstraint(">=1.0.0-rc1").NamesPrerelease() || MustParseConstraint("^1").NamesPrerelease() {
		t.Error("NamesPrerelease is wrong")
	}
}

func TestExact(t *testing.T) {
	v := semver.MustParse("2.0.0")
	c := Exact(v)
	if !c.Allows(v) || c.Allows(semver.MustParse("2.0.1")) || !c.Admits(v, true) || c.String() != "2.0.0" {
		t.Errorf("Exact(2.0.0) = %q", c)
	}
}

func TestVersionStability(t *testing.T) {
	tests := map[string]Stability{
		"1.0.0": StabilityStable, "1.0.0-alpha.1": StabilityAlpha, "1.0.0-a1": StabilityAlpha,
		"1.0.0-beta2": StabilityBeta, "1.0.0-b.1": StabilityBeta, "1.0.0-RC1": StabilityRC,
		"1.0.0-rc.2": StabilityRC, "1.0.0-dev": StabilityDev, "1.0.0-0": StabilityDev, "1.0.0-snapshot": StabilityDev,
	}
	for v, want := range tests {
		if got := VersionStability(semver.MustParse(v)); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
}

func TestParseWant(t *testing.T) {
	tests := []struct {
		in, name, constraint, err string
	}{
		{"a2.tools", "a2.tools", "*", ""},
		{" a2.tools@1.4.0 ", "a2.tools", "1.4.0", ""},
		{"a2.tools@^1.4", "a2.tools", "^1.4", ""},
		{"@1.0", "", "", `"@1.0": want NAME or NAME@VERSION`},
		{"x@^^1", "", "", `x: "^^1"`},
	}
	for _, tt := range tests {
		w, err := ParseWant(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || w.Name != tt.name || w.Constraint.String() != tt.constraint {
			t.Errorf("%q: got %+v %v", tt.in, w, err)
		}
	}
}

func TestPlatforms(t *testing.T) {
	for in, want := range map[string]string{"windows": "windows", "Windows": "windows", "macOS": "darwin", "osx": "darwin", " linux ": "linux", "win64": "windows"} {
		if got, err := NormalizeOS(in); err != nil || got != want {
			t.Errorf("NormalizeOS(%q) = %q, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "i386": "386", "x64": "amd64"} {
		if got, err := NormalizeArch(in); err != nil || got != want {
			t.Errorf("NormalizeArch(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := NormalizeOS("widnows"); err == nil || !strings.Contains(err.Error(), `unknown operating system "widnows" (want one of Go's names: aix, android, darwin`) {
		t.Errorf("NormalizeOS(widnows) = %v", err)
	}
	if _, err := NormalizeArch("sparc"); err == nil || !strings.Contains(err.Error(), `unknown architecture "sparc"`) {
		t.Errorf("NormalizeArch(sparc) = %v", err)
	}
	win := Platforms{OS: []string{"windows"}, Arch: []string{"amd64"}}
	tests := []struct {
		p    Platforms
		m    Platform
		want bool
	}{
		{win, Platform{"windows", "amd64"}, true},
		{win, Platform{"linux", "amd64"}, false},
		{win, Platform{"windows", "arm64"}, false},
		{win, Platform{}, true},
		{Platforms{OS: []string{"windows", "linux"}}, Platform{"linux", "arm64"}, true},
		{Platforms{}, Platform{"plan9", "386"}, true},
	}
	for _, tt := range tests {
		if got := tt.p.Allows(tt.m); got != tt.want {
			t.Errorf("%v allows %v = %v", tt.p, tt.m, got)
		}
	}
	if s := (Platforms{OS: []string{"windows", "linux"}, Arch: []string{"amd64"}}).String(); s != "windows or linux on amd64" {
		t.Errorf("String = %q", s)
	}
	if s := win.String(); s != "windows/amd64" {
		t.Errorf("String = %q", s)
	}
}

func TestRequirementsString(t *testing.T) {
	r := Requirements{
		Hosts:     map[string]Constraint{"a2": MustParseConstraint(">= 0.5.0")},
		Packages:  map[string]Constraint{"b": MustParseConstraint("^1"), "a": MustParseConstraint("*")},
		Platform:  Platforms{OS: []string{"windows"}, Arch: []string{"amd64"}},
		Conflicts: map[string]Constraint{"old": MustParseConstraint("*")},
		Provides:  []string{"hotstrings"},
		Suggests:  map[string]Constraint{"s": MustParseConstraint(">= 1")},
	}
	want := "requires a2 >= 0.5.0, a *, b ^1; runs on windows/amd64; conflicts with old *; provides hotstrings; suggests s >= 1"
	if got := r.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if (Requirements{}).String() != "" || !(Requirements{}).IsZero() || r.IsZero() {
		t.Error("the zero Requirements")
	}
}
