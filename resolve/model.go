package resolve

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// DefaultHost is the host's name when System.Host.Name is empty.
const DefaultHost = "a2"

// Requirements is what one version of a package declares about what
// surrounds it (the requirement fields of a2modsource.json).
type Requirements struct {
	// Hosts are requires.<host>: the version of the application that loads
	// the packages, keyed by the host's name ("a2"). A key that is not the
	// system's host is reported, not enforced.
	Hosts map[string]Constraint
	// Packages are requires.packages: other packages and their versions.
	Packages map[string]Constraint
	// Platform is requires.platform.
	Platform Platforms
	// Conflicts: packages that cannot be installed beside this one.
	Conflicts map[string]Constraint
	// Breaks: versions of other packages this one breaks (they cannot be
	// installed beside it; a newer one may fit).
	Breaks map[string]Constraint
	// Replaces: packages this one takes the place of. Installing it removes
	// them, and it satisfies requirements on their names that accept any
	// version.
	Replaces map[string]Constraint
	// Recommends are installed with it when asked (Request.WithRecommends).
	Recommends map[string]Constraint
	// Suggests are only reported.
	Suggests map[string]Constraint
	// Provides are names this package stands for: a requirement on such a
	// name that accepts any version is satisfied by it.
	Provides []string
}

// IsZero reports whether r declares nothing.
func (r Requirements) IsZero() bool {
	return len(r.Hosts) == 0 && len(r.Packages) == 0 && r.Platform.IsZero() && len(r.Conflicts) == 0 &&
		len(r.Breaks) == 0 && len(r.Replaces) == 0 && len(r.Recommends) == 0 && len(r.Suggests) == 0 && len(r.Provides) == 0
}

// Package is one version of a package: installed, or a candidate a source
// or repository offers.
type Package struct {
	Name    string
	Version *semver.Version
	Requirements
	// Prerelease marks a version its source calls a pre-release (a GitHub
	// pre-release) even when the version has no pre-release tag.
	Prerelease bool
	// Unavailable, when set, is why this version cannot be installed, as a
	// phrase that follows the package ("needs a newer modup
	// (manifest_version 3)"). The solver treats it like a platform
	// mismatch.
	Unavailable string
}

func (p Package) String() string { return p.Name + " " + p.Version.String() }

// Installed is a package in the roots.
type Installed struct {
	Package
	// Held packages keep their version unless a Want names them.
	Held bool
}

// Host is the application that loads the packages.
type Host struct {
	Name    string          // "" is DefaultHost
	Version *semver.Version // nil: unknown, host requirements are reported, not enforced
}

func (h Host) name() string {
	if h.Name == "" {
		return DefaultHost
	}
	return h.Name
}

// System is everything the solver knows: the host, the machine, what is
// installed and which versions could be.
type System struct {
	Host      Host
	Platform  Platform
	Installed []Installed
	// Available are candidate versions, in any order. An installed version
	// need not be listed; when it is, the installed package's own
	// requirements are used.
	Available []Package
}

// KeepPolicy says what the solver may do with installed packages the
// request does not name.
type KeepPolicy int

const (
	// KeepExact: they stay at their versions (or are removed when a
	// package being installed replaces them). A request that needs one
	// to change fails, naming it.
	KeepExact KeepPolicy = iota
	// KeepPreferred: they stay at their versions unless the request cannot
	// be met otherwise; then they may move.
	KeepPreferred
)

// Want is one package a request asks for.
type Want struct {
	Name       string
	Constraint Constraint // zero: any version (the newest that fits)
}

func (w Want) String() string {
	if w.Constraint.IsAny() && w.Constraint.text == "" {
		return w.Name
	}
	return w.Name + "@" + w.Constraint.String()
}

// ParseWant reads "NAME", "NAME@VERSION" or "NAME@CONSTRAINT" (as the
// command line writes it: a2.tools@1.4.0, a2.tools@^1.4).
func ParseWant(s string) (Want, error) {
	name, c, ok := strings.Cut(strings.TrimSpace(s), "@")
	if name == "" {
		return Want{}, fmt.Errorf("%q: want NAME or NAME@VERSION", s)
	}
	if !ok {
		return Want{Name: name}, nil
	}
	con, err := ParseConstraint(c)
	if err != nil {
		return Want{}, fmt.Errorf("%s: %w", name, err)
	}
	return Want{Name: name, Constraint: con}, nil
}

// Request is what to change.
type Request struct {
	// Install lists packages to add, or to move to a version that fits
	// their constraint (an installed one named here may go down too, and a
	// held one may change).
	Install []Want
	// Update lists installed packages that may move to the newest version
	// that fits; one that cannot is reported in Plan.HeldBack.
	Update []string
	// UpdateAll updates every installed package that is not held.
	UpdateAll bool
	// Remove lists installed packages to remove.
	Remove []string
	// Keep says what may happen to the installed packages not named.
	Keep KeepPolicy
	// WithRecommends installs what the packages being installed recommend,
	// when it fits; what does not is reported.
	WithRecommends bool
	// Prereleases admits pre-release candidates of every package.
	// Without it, a pre-release is chosen only when a constraint names one
	// (a2.tools@2.0.0-beta1, ^2.0@beta) or the installed version is one.
	Prereleases bool
}

// Action is what a Step does.
type Action string

// Actions.
const (
	ActionInstall   Action = "install"
	ActionUpgrade   Action = "upgrade"
	ActionDowngrade Action = "downgrade"
	ActionRemove    Action = "remove"
)

// Step is one change of a Plan.
type Step struct {
	Action Action
	Name   string
	From   *semver.Version // the installed version; nil for an install
	To     *semver.Version // nil for a remove
	// Reason says why: "requested", "required by a2.tools 2.0.0",
	// "recommended by a2.tools 2.0.0", "replaced by a2.modules 1.0.0".
	Reason string
}

func (s Step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", s.Action, s.Name)
	switch {
	case s.From != nil && s.To != nil:
		fmt.Fprintf(&b, " %s -> %s", s.From, s.To)
	case s.To != nil:
		fmt.Fprintf(&b, " %s", s.To)
	case s.From != nil:
		fmt.Fprintf(&b, " %s", s.From)
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, " (%s)", s.Reason)
	}
	return b.String()
}

// HeldBack is a package a request asked to update that stays below its
// newest version.
type HeldBack struct {
	Name      string
	Installed *semver.Version
	Chosen    *semver.Version // the version the plan installs or keeps
	Newest    *semver.Version
	// Reason says what stops Newest: "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7".
	Reason string
}

// Hint is a recommendation or suggestion a plan does not install.
type Hint struct {
	From       string // the package (and version) that makes it
	Name       string
	Constraint Constraint
	// Why says why a recommendation was not installed with
	// WithRecommends ("" for suggestions and when not asked).
	Why string
}

func (h Hint) String() string {
	s := fmt.Sprintf("%s: %s %s", h.From, h.Name, h.Constraint)
	if h.Why != "" {
		s += " (" + h.Why + ")"
	}
	return s
}

// Plan is a solution: the changes, in the order to apply them, and what
// the user should know.
type Plan struct {
	// Steps: installs, upgrades and downgrades with dependencies before
	// dependents (members of a cycle by name), then removals.
	Steps []Step
	// Result is every package installed after the plan, with its version.
	Result map[string]*semver.Version
	// HeldBack are packages asked to update that cannot reach their newest
	// version, with the reason.
	HeldBack []HeldBack
	// Recommends are recommendations of the packages being installed that
	// the plan leaves out.
	Recommends []Hint
	// Suggests are suggestions of the packages being installed.
	Suggests []Hint
	// Warnings are requirements that were not checked (unknown host
	// version, another host) or were unmet before the plan.
	Warnings []string
}

// Names lists Result's names, sorted.
func (p *Plan) Names() []string { return slices.Sorted(maps.Keys(p.Result)) }

// ErrUnsatisfiable is what a *Failure matches with errors.Is.
var ErrUnsatisfiable = errors.New("requirements cannot be met")

// Failure is a request no set of versions can meet. Explanation is the
// chain of reasons, each derived from the ones before.
type Failure struct {
	Explanation string
	// Suggestions are changes to the request that would work.
	Suggestions []Suggestion
}

// Suggestion is a request that works, with the command that makes it.
type Suggestion struct {
	Text    string // "a2.tools 1.4.0 can: `modup install a2.tools@1.4.0`"
	Command string // "modup install a2.tools@1.4.0", "" when none applies
}

func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(f.Explanation)
	for _, s := range f.Suggestions {
		b.WriteString("\n")
		b.WriteString(s.Text)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnsatisfiable) true.
func (f *Failure) Is(target error) bool { return target == ErrUnsatisfiable }

// String lists the requirements in a fixed order, for messages and
// comparisons: "requires a2 >= 0.5.0, a2.modules ^0.7; runs on
// windows/amd64; conflicts with old.tools *; provides hotstrings"; "" when
// there are none.
func (r Requirements) String() string {
	var parts []string
	list := func(prefix string, ms ...map[string]Constraint) {
		var items []string
		for _, m := range ms {
			for _, n := range slices.Sorted(maps.Keys(m)) {
				items = append(items, n+" "+m[n].String())
			}
		}
		if len(items) > 0 {
			parts = append(parts, prefix+" "+strings.Join(items, ", "))
		}
	}
	list("requires", r.Hosts, r.Packages)
	if !r.Platform.IsZero() {
		parts = append(parts, "runs on "+r.Platform.String())
	}
	list("conflicts with", r.Conflicts)
	list("breaks", r.Breaks)
	list("replaces", r.Replaces)
	if len(r.Provides) > 0 {
		parts = append(parts, "provides "+strings.Join(r.Provides, ", "))
	}
	list("recommends", r.Recommends)
	list("suggests", r.Suggests)
	return strings.Join(parts, "; ")
}
