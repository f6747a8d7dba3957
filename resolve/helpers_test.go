package resolve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// pkg builds a package from "NAME VERSION" and directives, one a string:
//
//	"requires a2.modules ^0.8"   "host a2 >= 0.6"   "conflicts old *"
//	"breaks x < 1.1"   "replaces ol *"   "recommends r *"   "suggests s *"
//	"provides hotstrings"   "platform windows/amd64"   "prerelease"
//	"unavailable needs a newer modup"
func pkg(t testing.TB, spec string, directives ...string) Package {
	t.Helper()
	name, version, ok := strings.Cut(spec, " ")
	if !ok {
		t.Fatalf("pkg %q: want NAME VERSION", spec)
	}
	p := Package{Name: name, Version: semver.MustParse(version)}
	set := func(m *map[string]Constraint, rest string) {
		q, c, _ := strings.Cut(rest, " ")
		if *m == nil {
			*m = map[string]Constraint{}
		}
		con, err := ParseConstraint(c)
		if err != nil {
			t.Fatalf("pkg %q: %v", spec, err)
		}
		(*m)[q] = con
	}
	for _, d := range directives {
		verb, rest, _ := strings.Cut(d, " ")
		switch verb {
		case "requires":
			set(&p.Packages, rest)
		case "host":
			set(&p.Hosts, rest)
		case "conflicts":
			set(&p.Conflicts, rest)
		case "breaks":
			set(&p.Breaks, rest)
		case "replaces":
			set(&p.Replaces, rest)
		case "recommends":
			set(&p.Recommends, rest)
		case "suggests":
			set(&p.Suggests, rest)
		case "provides":
			p.Provides = append(p.Provides, rest)
		case "platform":
			os, arch, _ := strings.Cut(rest, "/")
			p.Platform.OS = []string{os}
			if arch != "" {
				p.Platform.Arch = []string{arch}
			}
		case "prerelease":
			p.Prerelease = true
		case "unavailable":
			p.Unavailable = rest
		default:
			t.Fatalf("pkg %q: unknown directive %q", spec, d)
		}
	}
	return p
}

func installed(t testing.TB, spec string, directives ...string) Installed {
	t.Helper()
	return Installed{Package: pkg(t, spec, directives...)}
}

func heldPkg(t testing.TB, spec string, directives ...string) Installed {
	t.Helper()
	return Installed{Package: pkg(t, spec, directives...), Held: true}
}

func want(t testing.TB, s string) Want {
	t.Helper()
	w, err := ParseWant(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func wants(t testing.TB, ss ...string) []Want {
	t.Helper()
	var out []Want
	for _, s := range ss {
		out = append(out, want(t, s))
	}
	return out
}

func host(v string) Host { return Host{Version: semver.MustParse(v)} }

func steps(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.String())
	}
	return out
}

func heldBack(p *Plan) []string {
	var out []string
	for _, h := range p.HeldBack {
		out = append(out, fmt.Sprintf("%s %v -> %v (newest %v): %s", h.Name, h.Installed, h.Chosen, h.Newest, h.Reason))
	}
	return out
}

func hints(hs []Hint) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.String())
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustVersion(s string) *semver.Version { return semver.MustParse(s) }
