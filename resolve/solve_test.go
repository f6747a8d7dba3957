package resolve

import (
	"errors"
	"strings"
	"testing"
)

// solveCase is one request against one system, with what the plan must
// say or, for a failure, the exact explanation.
type solveCase struct {
	name     string
	sys      System
	req      Request
	steps    []string
	held     []string
	warnings []string
	recs     []string
	suggests []string
	fail     string // the whole Failure.Error() text
}

func (tt solveCase) run(t *testing.T) {
	t.Helper()
	plan, err := Solve(tt.sys, tt.req)
	if tt.fail != "" {
		var f *Failure
		if !errors.As(err, &f) || !errors.Is(err, ErrUnsatisfiable) {
			t.Fatalf("got plan %v, error %v; want a *Failure", plan, err)
		}
		if err.Error() != tt.fail {
			t.Errorf("explanation:\ngot:\n%s\nwant:\n%s", err, tt.fail)
		}
		return
	}
	if err != nil {
		t.Fatalf("Solve: %v", err)
	}
	equalLines(t, "steps", steps(plan), tt.steps)
	equalLines(t, "held back", heldBack(plan), tt.held)
	equalLines(t, "warnings", plan.Warnings, tt.warnings)
	equalLines(t, "recommends", hints(plan.Recommends), tt.recs)
	equalLines(t, "suggests", hints(plan.Suggests), tt.suggests)
}

func TestSolve(t *testing.T) {
	tests := []solveCase{
		{
			name:  "simple: the newest version",
			sys:   System{Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0"), pkg(t, "a 1.5.0")}},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install a 2.0.0 (requested)"},
		},
		{
			name:  "simple: at a constraint",
			sys:   System{Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0"), pkg(t, "a 1.5.0")}},
			req:   Request{Install: wants(t, "a@^1.0")},
			steps: []string{"install a 1.5.0 (requested)"},
		},
		{
			name: "transitive, dependencies first",
			sys: System{Available: []Package{
				pkg(t, "a 2.0.0", "requires b ^1"),
				pkg(t, "b 1.0.0", "requires c >=1"), pkg(t, "b 1.1.0", "requires c >=1.1"),
				pkg(t, "c 1.0.0"), pkg(t, "c 1.1.0"), pkg(t, "c 2.0.0"),
			}},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install c 2.0.0 (required by b 1.1.0)", "install b 1.1.0 (required by a 2.0.0)", "install a 2.0.0 (requested)"},
		},
		{
			name: "a dependency already installed is kept",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0")},
				Available: []Package{pkg(t, "a 1.0.0", "requires b ^1"), pkg(t, "b 1.2.0")},
			},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install a 1.0.0 (requested)"},
		},
		{
			name: "backtracking: the newest a needs a c that conflicts; an older a works",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0")},
				Available: []Package{
					pkg(t, "a 2.0.0", "requires c ^2"), pkg(t, "a 1.0.0", "requires c ^1"),
					pkg(t, "c 2.0.0", "conflicts b *"), pkg(t, "c 1.0.0"),
				},
			},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install c 1.0.0 (required by a 1.0.0)", "install a 1.0.0 (requested)"},
			held:  []string{"a <nil> -> 1.0.0 (newest 2.0.0): 2.0.0 needs c ^2, and c 2.0.0 conflicts with b 1.0.0"},
		},
		{
			name: "backtracking across two levels",
			sys: System{Available: []Package{
				pkg(t, "app 3.0.0", "requires lib ^3", "requires util ^1"),
				pkg(t, "app 2.0.0", "requires lib ^2", "requires util ^1"),
				pkg(t, "app 1.0.0", "requires lib ^1", "requires util ^1"),
				pkg(t, "lib 3.0.0", "requires core ^3"), pkg(t, "lib 2.0.0", "requires core ^2"), pkg(t, "lib 1.0.0", "requires core ^1"),
				pkg(t, "core 3.0.0", "requires util ^2"), pkg(t, "core 2.0.0", "breaks util <1.5"), pkg(t, "core 1.0.0"),
				pkg(t, "util 1.0.0"), pkg(t, "util 1.4.0"), pkg(t, "util 2.0.0"),
			}},
			req:   Request{Install: wants(t, "app")},
			steps: []string{"install core 1.0.0 (required by lib 1.0.0)", "install lib 1.0.0 (required by app 1.0.0)", "install util 1.4.0 (required by app 1.0.0)", "install app 1.0.0 (requested)"},
			held:  []string{"app <nil> -> 1.0.0 (newest 3.0.0): 3.0.0 needs lib ^3, and lib 3.0.0 needs core ^3; core is 1.0.0"},
		},
		{
			name: "provides: a requirement on a name any version of which will do",
			sys: System{Available: []Package{
				pkg(t, "x 1.0.0", "requires hotstrings *"), pkg(t, "p 1.0.0", "provides hotstrings"),
			}},
			req:   Request{Install: wants(t, "x")},
			steps: []string{"install p 1.0.0 (required by x 1.0.0)", "install x 1.0.0 (requested)"},
		},
		{
			name: "provides: an installed provider is used rather than a new package",
			sys: System{
				Installed: []Installed{installed(t, "p 1.0.0", "provides hotstrings")},
				Available: []Package{pkg(t, "x 1.0.0", "requires hotstrings *"), pkg(t, "hotstrings 3.0.0")},
			},
			req:   Request{Install: wants(t, "x")},
			steps: []string{"install x 1.0.0 (requested)"},
		},
		{
			name: "provides: a version requirement needs the real package",
			sys: System{Available: []Package{
				pkg(t, "x 1.0.0", "requires hotstrings ^1"), pkg(t, "p 1.0.0", "provides hotstrings"),
			}},
			req:  Request{Install: wants(t, "x")},
			fail: "Because x 1.0.0 requires hotstrings ^1 and no version of hotstrings matches ^1, x 1.0.0 cannot be installed.",
		},
		{
			name: "provides: a name asked for is met by its provider",
			sys: System{Available: []Package{
				pkg(t, "p 1.0.0", "provides hotstrings"), pkg(t, "q 1.0.0"),
			}},
			req:   Request{Install: wants(t, "hotstrings")},
			steps: []string{"install p 1.0.0 (requested: provides hotstrings)"},
		},
		{
			name: "provides: only the versions that provide the name",
			sys: System{Available: []Package{
				pkg(t, "x 1.0.0", "requires hotstrings *"),
				pkg(t, "p 2.0.0"), pkg(t, "p 1.0.0", "provides hotstrings"),
			}},
			req:   Request{Install: wants(t, "x")},
			steps: []string{"install p 1.0.0 (required by x 1.0.0)", "install x 1.0.0 (requested)"},
		},
		{
			name: "conflicts: a dependency that conflicts with an installed package",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0")},
				Available: []Package{pkg(t, "a 2.0.0", "requires c ^2"), pkg(t, "c 2.0.0", "conflicts b *")},
			},
			req: Request{Install: wants(t, "a")},
			fail: "Because a 2.0.0 requires c ^2 and c 2.0.0 conflicts with b, a 2.0.0 and b cannot both be installed.\n" +
				"You asked for a and b 1.0.0 is installed, so the request cannot be met.",
		},
		{
			name: "conflicts: declared by the installed package",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0", "conflicts a >=2")},
				Available: []Package{pkg(t, "a 2.0.0")},
			},
			req: Request{Install: wants(t, "a")},
			fail: "Because b 1.0.0 conflicts with a >=2 and you asked for a, b 1.0.0 cannot stay installed.\n" +
				"b 1.0.0 is installed, so the request cannot be met.\n" +
				"It works without b: `modup remove b` first.",
		},
		{
			name: "conflicts: with a name, so with its providers",
			sys: System{
				Installed: []Installed{installed(t, "p 1.0.0", "provides hotstrings")},
				Available: []Package{pkg(t, "x 1.0.0", "conflicts hotstrings *")},
			},
			req: Request{Install: wants(t, "x")},
			fail: "Because you asked for x and x 1.0.0 conflicts with hotstrings, which p 1.0.0 provides, p 1.0.0 cannot stay installed.\n" +
				"p 1.0.0 is installed, so the request cannot be met.",
		},
		{
			name: "breaks: a dependency's new version breaks a dependent, held back",
			sys: System{
				Installed: []Installed{installed(t, "x 1.0.0"), installed(t, "d 1.0.0")},
				Available: []Package{pkg(t, "d 2.0.0", "breaks x <1.1"), pkg(t, "d 1.5.0"), pkg(t, "x 1.1.0")},
			},
			req:   Request{Update: []string{"d"}},
			steps: []string{"upgrade d 1.0.0 -> 1.5.0 (requested)"},
			held:  []string{"d 1.0.0 -> 1.5.0 (newest 2.0.0): 2.0.0 breaks x 1.0.0"},
		},
		{
			name: "breaks: not held back when the newer dependent is in the request",
			sys: System{
				Installed: []Installed{installed(t, "x 1.0.0"), installed(t, "d 1.0.0")},
				Available: []Package{pkg(t, "d 2.0.0", "breaks x <1.1"), pkg(t, "x 1.1.0")},
			},
			req:   Request{Update: []string{"d", "x"}},
			steps: []string{"upgrade d 1.0.0 -> 2.0.0 (requested)", "upgrade x 1.0.0 -> 1.1.0 (requested)"},
		},
		{
			name: "breaks: update all moves both",
			sys: System{
				Installed: []Installed{installed(t, "x 1.0.0"), installed(t, "d 1.0.0")},
				Available: []Package{pkg(t, "d 2.0.0", "breaks x <1.1"), pkg(t, "x 1.1.0")},
			},
			req:   Request{UpdateAll: true},
			steps: []string{"upgrade d 1.0.0 -> 2.0.0 (requested)", "upgrade x 1.0.0 -> 1.1.0 (requested)"},
		},
		{
			name: "breaks: a dependent's requirement holds a dependency back",
			sys: System{
				Installed: []Installed{installed(t, "tools 1.0.0", "requires modules ^0.7"), installed(t, "modules 0.7.0")},
				Available: []Package{pkg(t, "modules 0.8.0"), pkg(t, "modules 0.7.3")},
			},
			req:   Request{UpdateAll: true},
			steps: []string{"upgrade modules 0.7.0 -> 0.7.3 (requested)"},
			held:  []string{"modules 0.7.0 -> 0.7.3 (newest 0.8.0): tools 1.0.0 needs modules ^0.7"},
		},
		{
			name: "replaces: the replaced package is removed, and a requirement on its name is met",
			sys: System{
				Installed: []Installed{installed(t, "ol.modules 0.0.1"), installed(t, "tool 1.0.0", "requires ol.modules *")},
				Available: []Package{pkg(t, "a2.modules 1.0.0", "replaces ol.modules *")},
			},
			req:   Request{Install: wants(t, "a2.modules")},
			steps: []string{"install a2.modules 1.0.0 (requested)", "remove ol.modules 0.0.1 (replaced by a2.modules 1.0.0)"},
		},
		{
			name: "replaces: not when a dependent needs a version of the replaced package",
			sys: System{
				Installed: []Installed{installed(t, "ol.modules 0.0.1"), installed(t, "tool 1.0.0", "requires ol.modules ^0.0.1")},
				Available: []Package{pkg(t, "a2.modules 1.0.0", "replaces ol.modules *")},
			},
			req: Request{Install: wants(t, "a2.modules")},
			fail: "Because tool 1.0.0 requires ol.modules ^0.0.1 and a2.modules 1.0.0 replaces ol.modules, tool 1.0.0 and a2.modules 1.0.0 cannot both be installed.\n" +
				"You asked for a2.modules and tool 1.0.0 is installed, so the request cannot be met.",
		},
		{
			name: "host too old, an older version fits",
			sys: System{
				Host: host("0.5.7"),
				Available: []Package{
					pkg(t, "a2.tools 2.0.0", "host a2 >= 0.6.0"), pkg(t, "a2.tools 1.4.0", "host a2 >= 0.5.0"),
				},
			},
			req:   Request{Install: wants(t, "a2.tools")},
			steps: []string{"install a2.tools 1.4.0 (requested)"},
			held:  []string{"a2.tools <nil> -> 1.4.0 (newest 2.0.0): 2.0.0 needs a2 >= 0.6.0; a2 is 0.5.7"},
		},
		{
			name: "host too old through a dependency (the issue's example)",
			sys: System{
				Host: host("0.5.7"),
				Available: []Package{
					pkg(t, "a2.tools 2.0.0", "requires a2.modules ^0.8.0"), pkg(t, "a2.tools 1.4.0", "requires a2.modules ^0.7.0"),
					pkg(t, "a2.modules 0.8.0", "host a2 >= 0.6.0"), pkg(t, "a2.modules 0.8.1", "host a2 >= 0.6.0"), pkg(t, "a2.modules 0.7.2"),
				},
			},
			req: Request{Install: wants(t, "a2.tools@2.0.0")},
			fail: "Because a2.tools 2.0.0 requires a2.modules ^0.8.0 and every a2.modules ^0.8.0 requires a2 >= 0.6.0, a2.tools 2.0.0 requires a2 >= 0.6.0.\n" +
				"a2 is 0.5.7, so a2.tools 2.0.0 cannot be installed.\n" +
				"a2.tools 1.4.0 can: `modup install a2.tools@1.4.0`",
		},
		{
			name: "an installed dependency kept at its version is named, before the host",
			sys: System{
				Host:      host("0.5.7"),
				Installed: []Installed{installed(t, "a2.modules 0.7.2")},
				Available: []Package{
					pkg(t, "a2.tools 2.0.0", "requires a2.modules ^0.8.0"), pkg(t, "a2.tools 1.4.0", "requires a2.modules ^0.7.0"),
					pkg(t, "a2.modules 0.8.0", "host a2 >= 0.6.0"),
				},
			},
			req: Request{Install: wants(t, "a2.tools@2.0.0")},
			fail: "Because you asked for a2.tools 2.0.0 and a2.tools 2.0.0 requires a2.modules ^0.8.0, a2.modules ^0.8.0 is required.\n" +
				"a2.modules 0.7.2 is installed, so the request cannot be met.\n" +
				"a2.tools 1.4.0 can: `modup install a2.tools@1.4.0`",
		},
		{
			name: "host too old, no version fits",
			sys: System{
				Host:      host("0.5.7"),
				Available: []Package{pkg(t, "a2.tools 2.0.0", "host a2 >= 0.6.0"), pkg(t, "a2.tools 2.1.0", "host a2 >= 0.6.0")},
			},
			req:  Request{Install: wants(t, "a2.tools")},
			fail: "Because every version of a2.tools requires a2 >= 0.6.0 and a2 is 0.5.7, no version of a2.tools can be installed.",
		},
		{
			name: "host unknown: host requirements reported, not enforced",
			sys: System{Available: []Package{
				pkg(t, "a2.tools 2.0.0", "host a2 >= 0.6.0", "host ahk >= 2.0"), pkg(t, "a2.tools 1.4.0"),
			}},
			req:   Request{Install: wants(t, "a2.tools")},
			steps: []string{"install a2.tools 2.0.0 (requested)"},
			warnings: []string{
				"a2.tools 2.0.0 requires a2 >= 0.6.0; the a2 version is not known, so this is not checked",
				"a2.tools 2.0.0 requires ahk >= 2.0, which is not the host (a2): not checked",
			},
		},
		{
			name: "another host name is reported, not enforced",
			sys: System{
				Host:      Host{Name: "ahk", Version: mustVersion("2.0.0")},
				Available: []Package{pkg(t, "x 1.0.0", "host a2 >= 9")},
			},
			req:      Request{Install: wants(t, "x")},
			steps:    []string{"install x 1.0.0 (requested)"},
			warnings: []string{"x 1.0.0 requires a2 >= 9, which is not the host (ahk): not checked"},
		},
		{
			name: "platform mismatch, an older version runs here",
			sys: System{
				Platform:  Platform{"linux", "amd64"},
				Available: []Package{pkg(t, "x 2.0.0", "platform windows/amd64"), pkg(t, "x 1.0.0")},
			},
			req:   Request{Install: wants(t, "x")},
			steps: []string{"install x 1.0.0 (requested)"},
			held:  []string{"x <nil> -> 1.0.0 (newest 2.0.0): 2.0.0 runs only on windows/amd64 (this is linux/amd64)"},
		},
		{
			name: "platform mismatch, nothing runs here",
			sys: System{
				Platform:  Platform{"linux", "amd64"},
				Available: []Package{pkg(t, "x 2.0.0", "platform windows")},
			},
			req:  Request{Install: wants(t, "x")},
			fail: "x 2.0.0 runs only on windows (this is linux/amd64), so x 2.0.0 cannot be installed.",
		},
		{
			name: "unavailable for the caller's reason",
			sys: System{Available: []Package{
				pkg(t, "x 3.0.0", "unavailable needs a newer modup (manifest_version 3)"), pkg(t, "x 2.0.0"),
			}},
			req:  Request{Install: wants(t, "x@3.0.0")},
			fail: "x 3.0.0 needs a newer modup (manifest_version 3), so x 3.0.0 cannot be installed.\nx 2.0.0 can: `modup install x@2.0.0`",
		},
		{
			name: "cycles: installed together, by name, after what they need",
			sys: System{Available: []Package{
				pkg(t, "b 1.0.0", "requires a *", "requires c *"), pkg(t, "a 1.0.0", "requires b *"), pkg(t, "c 1.0.0"),
				pkg(t, "top 1.0.0", "requires a *"),
			}},
			req:   Request{Install: wants(t, "top")},
			steps: []string{"install c 1.0.0 (required by b 1.0.0)", "install a 1.0.0 (required by b 1.0.0)", "install b 1.0.0 (required by a 1.0.0)", "install top 1.0.0 (requested)"},
		},
		{
			name:  "a package requiring itself is not a cycle",
			sys:   System{Available: []Package{pkg(t, "a 1.0.0", "requires a ^1", "conflicts a <1", "provides a")}},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install a 1.0.0 (requested)"},
		},
		{
			name: "keep exact: a request that needs an installed package to change fails and says so",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0")},
				Available: []Package{pkg(t, "a 2.0.0", "requires b ^2"), pkg(t, "b 2.0.0")},
			},
			req: Request{Install: wants(t, "a")},
			fail: "Because you asked for a and a 2.0.0 requires b ^2, b ^2 is required.\n" +
				"b 1.0.0 is installed, so the request cannot be met.\n" +
				"It works if installed packages change too: b 1.0.0 -> 2.0.0.",
		},
		{
			name: "keep preferred: the installed package moves only because it must",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0"), installed(t, "c 1.0.0")},
				Available: []Package{pkg(t, "a 2.0.0", "requires b ^2"), pkg(t, "b 2.0.0"), pkg(t, "c 2.0.0")},
			},
			req:   Request{Install: wants(t, "a"), Keep: KeepPreferred},
			steps: []string{"upgrade b 1.0.0 -> 2.0.0 (required by a 2.0.0)", "install a 2.0.0 (requested)"},
		},
		{
			name: "keep preferred: an older version that fits beats moving an installed one",
			sys: System{
				Installed: []Installed{installed(t, "b 1.0.0")},
				Available: []Package{pkg(t, "a 2.0.0", "requires b ^2"), pkg(t, "a 1.0.0", "requires b ^1"), pkg(t, "b 2.0.0")},
			},
			req:   Request{Install: wants(t, "a"), Keep: KeepPreferred},
			steps: []string{"install a 1.0.0 (requested)"},
			held:  []string{"a <nil> -> 1.0.0 (newest 2.0.0): 2.0.0 needs b ^2; b is 1.0.0"},
		},
		{
			name: "held: never moved, even when the request would need it",
			sys: System{
				Installed: []Installed{heldPkg(t, "b 1.0.0")},
				Available: []Package{pkg(t, "a 2.0.0", "requires b ^2"), pkg(t, "b 2.0.0")},
			},
			req: Request{Install: wants(t, "a"), Keep: KeepPreferred},
			fail: "Because you asked for a and a 2.0.0 requires b ^2, b ^2 is required.\n" +
				"b is held at 1.0.0, so the request cannot be met.",
		},
		{
			name: "held: update all leaves it; naming a version moves it",
			sys: System{
				Installed: []Installed{heldPkg(t, "b 1.0.0"), installed(t, "c 1.0.0")},
				Available: []Package{pkg(t, "b 2.0.0"), pkg(t, "c 2.0.0")},
			},
			req:   Request{UpdateAll: true, Install: wants(t, "b@2.0.0")},
			steps: []string{"upgrade b 1.0.0 -> 2.0.0 (requested)", "upgrade c 1.0.0 -> 2.0.0 (requested)"},
		},
		{
			name: "held: update all leaves it",
			sys: System{
				Installed: []Installed{heldPkg(t, "b 1.0.0"), installed(t, "c 1.0.0")},
				Available: []Package{pkg(t, "b 2.0.0"), pkg(t, "c 2.0.0")},
			},
			req:   Request{UpdateAll: true},
			steps: []string{"upgrade c 1.0.0 -> 2.0.0 (requested)"},
		},
		{
			name: "downgrade to a named version",
			sys: System{
				Installed: []Installed{installed(t, "a 2.0.0")},
				Available: []Package{pkg(t, "a 1.0.0")},
			},
			req:   Request{Install: wants(t, "a@1.0.0")},
			steps: []string{"downgrade a 2.0.0 -> 1.0.0 (requested)"},
		},
		{
			name: "remove: refused while another package requires it",
			sys:  System{Installed: []Installed{installed(t, "a 1.0.0", "requires b *"), installed(t, "b 1.0.0")}},
			req:  Request{Remove: []string{"b"}},
			fail: "Because a 1.0.0 is installed and a 1.0.0 requires b, b is required.\n" +
				"You asked to remove b, so the request cannot be met.",
		},
		{
			name:  "remove",
			sys:   System{Installed: []Installed{installed(t, "a 1.0.0"), installed(t, "b 1.0.0")}},
			req:   Request{Remove: []string{"b"}},
			steps: []string{"remove b 1.0.0 (requested)"},
		},
		{
			name: "recommends and suggests are reported",
			sys: System{Available: []Package{
				pkg(t, "a 1.0.0", "recommends r *", "suggests s >= 1"), pkg(t, "r 1.0.0"), pkg(t, "s 1.0.0"),
			}},
			req:      Request{Install: wants(t, "a")},
			steps:    []string{"install a 1.0.0 (requested)"},
			recs:     []string{"a 1.0.0: r *"},
			suggests: []string{"a 1.0.0: s >= 1"},
		},
		{
			name: "with recommends: what fits is installed, what does not is said",
			sys: System{
				Installed: []Installed{installed(t, "old 1.0.0")},
				Available: []Package{
					pkg(t, "a 1.0.0", "recommends r *", "recommends bad *"), pkg(t, "r 1.0.0", "recommends r2 *"), pkg(t, "r2 1.0.0"),
					pkg(t, "bad 1.0.0", "conflicts old *"),
				},
			},
			req:   Request{Install: wants(t, "a"), WithRecommends: true},
			steps: []string{"install a 1.0.0 (requested)", "install r 1.0.0 (recommended by a 1.0.0)", "install r2 1.0.0 (recommended by r 1.0.0)"},
			recs:  []string{"a 1.0.0: bad * (does not fit: old 1.0.0 is installed, so the request cannot be met.)"},
		},
		{
			name: "unmet before the request: reported, not fatal",
			sys: System{
				Host: host("0.5.0"),
				Installed: []Installed{
					installed(t, "a 1.0.0", "requires b ^2", "host a2 >= 1"), installed(t, "b 1.0.0"),
					installed(t, "x 1.0.0", "conflicts b *"),
				},
				Available: []Package{pkg(t, "c 1.0.0")},
			},
			req:   Request{Install: wants(t, "c")},
			steps: []string{"install c 1.0.0 (requested)"},
			warnings: []string{
				"a 1.0.0 requires b ^2, but b is 1.0.0 (unmet before this change)",
				"a 1.0.0 requires a2 >= 1, but a2 is 0.5.0 (unmet before this change)",
				"x 1.0.0 conflicts with b 1.0.0, and both are installed (before this change)",
			},
		},
		{
			name: "pre-releases only when asked",
			sys: System{Available: []Package{
				pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0-beta.1"), pkg(t, "a 1.1.0", "prerelease"),
			}},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install a 1.0.0 (requested)"},
		},
		{
			name:  "pre-releases with a stability flag",
			sys:   System{Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0-beta.1"), pkg(t, "a 2.0.0-alpha.1")}},
			req:   Request{Install: wants(t, "a@^2.0@beta")},
			steps: []string{"install a 2.0.0-beta.1 (requested)"},
		},
		{
			name:  "pre-releases for everything",
			sys:   System{Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0-beta.1")}},
			req:   Request{Install: wants(t, "a"), Prereleases: true},
			steps: []string{"install a 2.0.0-beta.1 (requested)"},
		},
		{
			name: "an installed pre-release is updated to a newer one",
			sys: System{
				Installed: []Installed{installed(t, "a 2.0.0-beta.1")},
				Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a 2.0.0-beta.2")},
			},
			req:   Request{Update: []string{"a"}},
			steps: []string{"upgrade a 2.0.0-beta.1 -> 2.0.0-beta.2 (requested)"},
		},
		{
			name: "an installed pre-release satisfies a requirement in range",
			sys: System{
				Installed: []Installed{installed(t, "b 2.0.0-rc.1")},
				Available: []Package{pkg(t, "a 1.0.0", "requires b >=1.0")},
			},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install a 1.0.0 (requested)"},
		},
		{
			name: "a dependency's pre-release is not chosen for it",
			sys: System{Available: []Package{
				pkg(t, "a 1.0.0", "requires b >=1.0"), pkg(t, "b 1.0.0"), pkg(t, "b 2.0.0-rc.1"),
			}},
			req:   Request{Install: wants(t, "a")},
			steps: []string{"install b 1.0.0 (required by a 1.0.0)", "install a 1.0.0 (requested)"},
		},
		{
			name: "unknown package",
			sys:  System{},
			req:  Request{Install: wants(t, "zz")},
			fail: "No version of zz is known, so zz cannot be installed.",
		},
		{
			name: "unknown dependency",
			sys:  System{Available: []Package{pkg(t, "x 1.0.0", "requires zz ^1")}},
			req:  Request{Install: wants(t, "x")},
			fail: "Because x 1.0.0 requires zz ^1 and no version of zz is known, x 1.0.0 cannot be installed.",
		},
		{
			name: "no version matches, the known ones listed",
			sys:  System{Available: []Package{pkg(t, "x 1.0.0", "requires y ^3"), pkg(t, "y 1.0.0"), pkg(t, "y 2.0.0")}},
			req:  Request{Install: wants(t, "x")},
			fail: "Because x 1.0.0 requires y ^3 and no version of y matches ^3 (there are 2.0.0, 1.0.0), x 1.0.0 cannot be installed.",
		},
		{
			name: "two requests that cannot both hold (pub's linear error)",
			sys: System{Available: []Package{
				pkg(t, "foo 1.0.0", "requires bar ^2.0.0"), pkg(t, "bar 2.0.0", "requires baz ^3.0.0"), pkg(t, "baz 1.0.0"), pkg(t, "baz 3.0.0"),
			}},
			req: Request{Install: wants(t, "foo@^1.0.0", "baz@^1.0.0")},
			fail: "Because foo 1.0.0 requires bar ^2.0.0 and bar 2.0.0 requires baz ^3.0.0, foo 1.0.0 requires baz ^3.0.0.\n" +
				"You asked for foo ^1.0.0 and baz ^1.0.0, so the request cannot be met.\n" +
				"baz 3.0.0 can: `modup install baz@3.0.0`",
		},
		{
			name: "two branches that both fail (pub's branching error)",
			sys: System{Available: []Package{
				pkg(t, "foo 1.0.0", "requires a ^1.0.0", "requires b ^1.0.0"),
				pkg(t, "foo 1.1.0", "requires x ^1.0.0", "requires y ^1.0.0"),
				pkg(t, "a 1.0.0", "requires b ^2.0.0"), pkg(t, "b 1.0.0"), pkg(t, "b 2.0.0"),
				pkg(t, "x 1.0.0", "requires y ^2.0.0"), pkg(t, "y 1.0.0"), pkg(t, "y 2.0.0"),
			}},
			req: Request{Install: wants(t, "foo@^1.0.0")},
			fail: "    Because foo 1.0.0 requires a ^1.0.0 and a 1.0.0 requires b ^2.0.0, foo 1.0.0 requires b ^2.0.0.\n" +
				"(1) foo 1.0.0 requires b ^1.0.0, so foo 1.0.0 cannot be installed.\n" +
				"\n" +
				"    Because foo 1.1.0 requires x ^1.0.0 and x 1.0.0 requires y ^2.0.0, foo 1.1.0 requires y ^2.0.0.\n" +
				"    foo 1.1.0 requires y ^1.0.0, so foo 1.1.0 cannot be installed.\n" +
				"    And because foo 1.0.0 cannot be installed (1), no version of foo can be installed.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestSolveInputErrors(t *testing.T) {
	tests := []struct {
		name string
		sys  System
		req  Request
		want string
	}{
		{"update not installed", System{}, Request{Update: []string{"a"}}, "update a: not installed"},
		{"remove not installed", System{}, Request{Remove: []string{"a"}}, "remove a: not installed"},
		{"install and remove", System{Installed: []Installed{installed(t, "a 1.0.0")}}, Request{Remove: []string{"a"}, Install: wants(t, "a")}, "a is both to install and to remove"},
		{"named twice", System{}, Request{Install: wants(t, "a", "a@1")}, "install: a named twice"},
		{"no version", System{Available: []Package{{Name: "a"}}}, Request{}, "available: a has no version"},
		{"no name", System{Installed: []Installed{{Package: Package{Version: mustVersion("1.0.0")}}}}, Request{}, "installed: a package without a name"},
		{"installed twice", System{Installed: []Installed{installed(t, "a 1.0.0"), installed(t, "a 2.0.0")}}, Request{}, "installed: a listed twice"},
		{"listed twice", System{Available: []Package{pkg(t, "a 1.0.0"), pkg(t, "a v1.0")}}, Request{}, "available: a 1.0.0 listed twice (1.0.0 and v1.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Solve(tt.sys, tt.req)
			if err == nil || err.Error() != tt.want || errors.Is(err, ErrUnsatisfiable) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPlanResult(t *testing.T) {
	sys := System{
		Installed: []Installed{installed(t, "keep 1.0.0"), installed(t, "ol 1.0.0")},
		Available: []Package{pkg(t, "new 2.0.0", "replaces ol *")},
	}
	plan, err := Solve(sys, Request{Install: wants(t, "new")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Names(), " "); got != "keep new" || plan.Result["new"].String() != "2.0.0" || plan.Result["keep"].String() != "1.0.0" {
		t.Errorf("Result = %v", plan.Result)
	}
}
