package resolve

import (
	"strings"
	"testing"
)

func TestAssess(t *testing.T) {
	modules := func(installedVersion string, more ...Package) System {
		sys := System{
			Host:      host("0.5.7"),
			Available: more,
		}
		if installedVersion != "" {
			sys.Installed = append(sys.Installed, installed(t, "a2.modules "+installedVersion))
		}
		return sys
	}
	tests := []struct {
		name     string
		sys      System
		pkg      string
		upToDate bool
		fits     bool
		newest   string
		best     string
		reason   string
		failure  string
		steps    []string
	}{
		{
			name: "up to date", pkg: "a2.modules",
			sys:      modules("0.7.2", pkg(t, "a2.modules 0.7.2"), pkg(t, "a2.modules 0.7.0")),
			upToDate: true, fits: true, newest: "0.7.2",
		},
		{
			name: "the newest fits", pkg: "a2.modules",
			sys:  modules("0.7.2", pkg(t, "a2.modules 0.8.0", "host a2 >= 0.5")),
			fits: true, newest: "0.8.0", best: "0.8.0",
			steps: []string{"upgrade a2.modules 0.7.2 -> 0.8.0 (requested)"},
		},
		{
			name: "held back, an older release fits", pkg: "a2.modules",
			sys:    modules("0.7.2", pkg(t, "a2.modules 0.8.0", "host a2 >= 0.6.0"), pkg(t, "a2.modules 0.7.5")),
			newest: "0.8.0", best: "0.7.5",
			reason:  "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7",
			failure: "Because a2.modules 0.8.0 requires a2 >= 0.6.0 and a2 is 0.5.7, a2.modules 0.8.0 cannot be installed.",
			steps:   []string{"upgrade a2.modules 0.7.2 -> 0.7.5 (requested)"},
		},
		{
			name: "held back, nothing newer fits", pkg: "a2.modules",
			sys:    modules("0.7.2", pkg(t, "a2.modules 0.8.0", "host a2 >= 0.6.0"), pkg(t, "a2.modules 0.8.1", "host a2 >= 0.6.0")),
			newest: "0.8.1",
			reason: "0.8.1 needs a2 >= 0.6.0; a2 is 0.5.7",
		},
		{
			name: "held back by an installed dependent", pkg: "a2.modules",
			sys: func() System {
				s := modules("0.7.2", pkg(t, "a2.modules 0.8.0"))
				s.Installed = append(s.Installed, installed(t, "a2.tools 1.0.0", "requires a2.modules ^0.7"))
				return s
			}(),
			newest: "0.8.0",
			reason: "a2.tools 1.0.0 needs a2.modules ^0.7",
		},
		{
			name: "held back by what the newest breaks", pkg: "a2.modules",
			sys: func() System {
				s := modules("0.7.2", pkg(t, "a2.modules 0.8.0", "breaks a2.tools <2"))
				s.Installed = append(s.Installed, installed(t, "a2.tools 1.0.0"))
				return s
			}(),
			newest: "0.8.0",
			reason: "0.8.0 breaks a2.tools 1.0.0",
		},
		{
			name: "the newest brings a new dependency", pkg: "a2.modules",
			sys:  modules("0.7.2", pkg(t, "a2.modules 0.8.0", "requires a2.lib ^1"), pkg(t, "a2.lib 1.2.0")),
			fits: true, newest: "0.8.0", best: "0.8.0",
			steps: []string{"install a2.lib 1.2.0 (required by a2.modules 0.8.0)", "upgrade a2.modules 0.7.2 -> 0.8.0 (requested)"},
		},
		{
			name: "not installed", pkg: "a2.modules",
			sys:    modules("", pkg(t, "a2.modules 0.8.0", "host a2 >= 0.6.0"), pkg(t, "a2.modules 0.7.5")),
			newest: "0.8.0", best: "0.7.5",
			reason:  "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7",
			failure: "Because a2.modules 0.8.0 requires a2 >= 0.6.0 and a2 is 0.5.7, a2.modules 0.8.0 cannot be installed.",
			steps:   []string{"install a2.modules 0.7.5 (requested)"},
		},
		{
			name: "pre-releases are not offered", pkg: "a2.modules",
			sys:      modules("0.7.2", pkg(t, "a2.modules 0.8.0-beta.1")),
			upToDate: true, fits: true, newest: "0.7.2",
		},
		{
			name: "nothing known", pkg: "a2.modules",
			sys:      modules("0.7.2"),
			upToDate: true, fits: true, newest: "0.7.2",
		},
		{
			name: "not installed and unknown", pkg: "zz",
			sys:      System{},
			upToDate: true, fits: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Assess(tt.sys, tt.pkg)
			if err != nil {
				t.Fatal(err)
			}
			newest, best := "", ""
			if a.Newest != nil {
				newest = a.Newest.String()
			}
			if a.Best != nil {
				best = a.Best.String()
			}
			if a.UpToDate() != tt.upToDate || a.Fits != tt.fits || newest != tt.newest || best != tt.best || a.Reason != tt.reason {
				t.Errorf("got up-to-date %v fits %v newest %q best %q reason %q\nwant up-to-date %v fits %v newest %q best %q reason %q",
					a.UpToDate(), a.Fits, newest, best, a.Reason, tt.upToDate, tt.fits, tt.newest, tt.best, tt.reason)
			}
			if tt.failure != "" && (a.Failure == nil || a.Failure.Explanation != tt.failure) {
				t.Errorf("failure = %v, want %q", a.Failure, tt.failure)
			}
			if (a.Plan == nil) != (tt.steps == nil) {
				t.Fatalf("plan %v, want steps %v", a.Plan, tt.steps)
			}
			if a.Plan != nil {
				equalLines(t, "steps", steps(a.Plan), tt.steps)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	sys := System{
		Host:     host("0.5.7"),
		Platform: Platform{"linux", "amd64"},
		Installed: []Installed{
			installed(t, "a 1.0.0", "requires b ^2", "requires missing *", "host a2 >= 0.6", "platform windows"),
			installed(t, "b 1.0.0"),
			installed(t, "c 1.0.0", "conflicts b *", "breaks a <2", "replaces d *", "requires v *"),
			installed(t, "d 1.0.0", "provides v"),
			installed(t, "ok 1.0.0", "requires b ^1", "requires v *", "host a2 >= 0.5"),
		},
	}
	got, err := Problems(sys)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, p := range got {
		texts = append(texts, p.Name+" "+p.Version.String()+" ["+p.Kind+" "+p.Other+"]: "+p.Text)
	}
	equalLines(t, "problems", texts, []string{
		"a 1.0.0 [platform ]: a 1.0.0 runs only on windows (this is linux/amd64)",
		"a 1.0.0 [host ]: a 1.0.0 needs a2 >= 0.6; a2 is 0.5.7",
		"a 1.0.0 [requires b]: a 1.0.0 needs b ^2; b is 1.0.0",
		"a 1.0.0 [missing missing]: a 1.0.0 needs missing *, which is not installed",
		"c 1.0.0 [conflicts b]: c 1.0.0 conflicts with b 1.0.0, which is installed",
		"c 1.0.0 [breaks a]: c 1.0.0 breaks a 1.0.0, which is installed",
		"c 1.0.0 [replaces d]: c 1.0.0 replaces d 1.0.0, which is installed",
	})
	clean, err := Problems(System{Installed: []Installed{installed(t, "x 1.0.0", "requires y *"), installed(t, "y 2.0.0")}})
	if err != nil || len(clean) != 0 {
		t.Errorf("a consistent set: %v, %v", clean, err)
	}
}

func TestRequiredBy(t *testing.T) {
	sys := System{Installed: []Installed{
		installed(t, "b 1.0.0", "provides v", "provides w"),
		installed(t, "a 1.0.0", "requires b ^1"),
		installed(t, "c 1.0.0", "requires v *"),
		installed(t, "d 1.0.0", "requires w *"),
		installed(t, "e 1.0.0", "provides w"),
		installed(t, "f 1.0.0"),
	}}
	var names []string
	for _, p := range RequiredBy(sys, "b") {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "a c" {
		t.Errorf("RequiredBy(b) = %q, want \"a c\" (d's w is also provided by e)", got)
	}
	if got := RequiredBy(sys, "f"); len(got) != 0 {
		t.Errorf("RequiredBy(f) = %v", got)
	}
	if got := RequiredBy(sys, "nothere"); got != nil {
		t.Errorf("RequiredBy(nothere) = %v", got)
	}
}
