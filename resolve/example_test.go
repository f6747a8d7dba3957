package resolve_test

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/resolve"
)

func ExampleSolve() {
	v := semver.MustParse
	c := resolve.MustParseConstraint
	sys := resolve.System{
		Host: resolve.Host{Name: "a2", Version: v("0.5.7")},
		Available: []resolve.Package{
			{Name: "a2.modules", Version: v("0.7.2")},
			{Name: "a2.tools", Version: v("2.0.0"), Requirements: resolve.Requirements{
				Packages: map[string]resolve.Constraint{"a2.modules": c("^0.8.0")}}},
			{Name: "a2.tools", Version: v("1.4.0"), Requirements: resolve.Requirements{
				Packages: map[string]resolve.Constraint{"a2.modules": c("^0.7.0")}}},
			{Name: "a2.modules", Version: v("0.8.0"), Requirements: resolve.Requirements{
				Hosts: map[string]resolve.Constraint{"a2": c(">= 0.6.0")}}},
		},
	}
	plan, err := resolve.Solve(sys, resolve.Request{Install: []resolve.Want{{Name: "a2.tools"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range plan.Steps {
		fmt.Println(s)
	}
	for _, h := range plan.HeldBack {
		fmt.Printf("%s %s held back: %s\n", h.Name, h.Newest, h.Reason)
	}

	_, err = resolve.Solve(sys, resolve.Request{Install: []resolve.Want{{Name: "a2.tools", Constraint: c("2.0.0")}}})
	fmt.Println(err)
	// Output:
	// install a2.modules 0.7.2 (required by a2.tools 1.4.0)
	// install a2.tools 1.4.0 (requested)
	// a2.tools 2.0.0 held back: 2.0.0 needs a2.modules ^0.8.0, and a2.modules 0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7
	// Because a2.tools 2.0.0 requires a2.modules ^0.8.0 and a2.modules 0.8.0 requires a2 >= 0.6.0, a2.tools 2.0.0 requires a2 >= 0.6.0.
	// a2 is 0.5.7, so a2.tools 2.0.0 cannot be installed.
	// a2.tools 1.4.0 can: `modup install a2.tools@1.4.0`
}

func ExampleAssess() {
	v := semver.MustParse
	sys := resolve.System{
		Host:      resolve.Host{Version: v("0.5.7")},
		Installed: []resolve.Installed{{Package: resolve.Package{Name: "a2.modules", Version: v("0.7.2")}}},
		Available: []resolve.Package{
			{Name: "a2.modules", Version: v("0.8.0"), Requirements: resolve.Requirements{
				Hosts: map[string]resolve.Constraint{"a2": resolve.MustParseConstraint(">= 0.6.0")}}},
			{Name: "a2.modules", Version: v("0.7.5")},
		},
	}
	a, err := resolve.Assess(sys, "a2.modules")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("newest %s fits: %v (%s); best %s\n", a.Newest, a.Fits, a.Reason, a.Best)
	// Output:
	// newest 0.8.0 fits: false (0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7); best 0.7.5
}
