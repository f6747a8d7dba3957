package resolve

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Limits that keep a hostile constraint cheap to parse and to check.
const (
	maxConstraintLen = 1024
	maxGroups        = 32 // alternatives joined by || or |
	maxAtoms         = 64 // comparisons in one alternative
)

// Stability orders pre-release kinds as Composer does: a version's
// stability comes from its pre-release tag (1.0.0-beta2 is beta), a
// constraint's flag (@beta) admits that stability and anything more stable.
type Stability int

// Stabilities, least stable first.
const (
	StabilityDev Stability = iota
	StabilityAlpha
	StabilityBeta
	StabilityRC
	StabilityStable
)

var stabilityNames = map[string]Stability{
	"dev": StabilityDev, "alpha": StabilityAlpha, "beta": StabilityBeta, "rc": StabilityRC, "stable": StabilityStable,
}

// VersionStability is v's stability: stable without a pre-release tag,
// else the kind its tag starts with (alpha/a, beta/b, rc; anything else
// is dev, the least stable).
func VersionStability(v *semver.Version) Stability {
	pre := strings.ToLower(v.Prerelease())
	if pre == "" {
		return StabilityStable
	}
	word := strings.TrimLeft(pre, "-")
	if i := strings.IndexFunc(word, func(r rune) bool { return r < 'a' || r > 'z' }); i >= 0 {
		word = word[:i]
	}
	switch word {
	case "alpha", "a":
		return StabilityAlpha
	case "beta", "b":
		return StabilityBeta
	case "rc":
		return StabilityRC
	}
	return StabilityDev
}

// Constraint is a version constraint in Composer's syntax, the one
// MediaWiki's extension.json uses:
//
//	1.2.3  =1.2.3  ==1.2.3   exactly that version ("1.2" is 1.2.0)
//	>=1.2  >1.2  <2.0  <=2.0  !=1.5   comparisons (AND with a space or a comma)
//	^1.2.3                   >=1.2.3 <2.0.0 (^0.3 is >=0.3.0 <0.4.0, ^0.0.3 is >=0.0.3 <0.0.4)
//	~1.2  ~1.2.3             >=1.2 <2.0.0, and >=1.2.3 <1.3.0
//	1.2.*  1.*  1.2.x        >=1.2.0 <1.3.0, >=1.0.0 <2.0.0
//	1.0 - 2.0                >=1.0.0 <2.1.0 (a partial upper end is a wildcard)
//	*                        any version
//	^1.0 || ^2.0  ^1.0 | ^2.0   either
//
// A leading v is allowed (v1.2). Versions are compared by semver
// precedence (Masterminds/semver); build metadata is ignored. As in
// Composer, ">=1.2" and "<2.0" are read as ">=1.2.0-dev" and "<2.0.0-dev":
// the lower bound takes 1.2.0's pre-releases in and the upper bound keeps
// 2.0.0's out; a "-stable" suffix (">=1.2-stable") says not to.
//
// Pre-releases are matched only on request: a candidate that is a
// pre-release satisfies a requirement when that alternative of the
// constraint names a pre-release itself (">=2.0.0-beta") or carries a
// stability flag at or below the candidate's (^2.0@beta admits 2.1.0-beta1
// and 2.1.0-rc1, not 2.1.0-alpha1). Allows ignores stability: it is for
// versions that are given (the host's, an installed package's).
//
// The zero Constraint is "*".
type Constraint struct {
	text   string
	groups []group
}

// group is one alternative: every atom must hold.
type group struct {
	atoms []atom
	pre   bool      // names a pre-release: admits pre-releases in range
	flag  Stability // lowest stability flag (StabilityStable when none)
	exact bool      // one exact version: naming it admits it, whatever its stability
}

// atom is one interval (or, with not, its complement). A nil bound is
// open.
type atom struct {
	lo, hi         *semver.Version
	loIncl, hiIncl bool
	not            bool
}

func (a atom) contains(v *semver.Version) bool {
	in := true
	if a.lo != nil {
		c := v.Compare(a.lo)
		in = c > 0 || (c == 0 && a.loIncl)
	}
	if in && a.hi != nil {
		c := v.Compare(a.hi)
		in = c < 0 || (c == 0 && a.hiIncl)
	}
	return in != a.not
}

func (a atom) unbounded() bool { return a.lo == nil && a.hi == nil && !a.not }

// ConstraintError is a constraint that does not parse.
type ConstraintError struct {
	Text string // the constraint as written
	Msg  string // what is wrong and how to write it
}

func (e *ConstraintError) Error() string { return fmt.Sprintf("%q: %s", e.Text, e.Msg) }

// Any is the constraint every version satisfies.
var Any = Constraint{}

// ParseConstraint reads a constraint in Composer's syntax (see Constraint).
func ParseConstraint(s string) (Constraint, error) {
	fail := func(format string, args ...any) (Constraint, error) {
		msg := fmt.Sprintf(format, args...)
		// An inner message names the part it is about; when that part is
		// the whole constraint, the error already names it.
		whole := fmt.Sprintf("%q", strings.TrimSpace(s))
		msg = strings.TrimPrefix(msg, whole+": ")
		if rest, ok := strings.CutPrefix(msg, whole+" "); ok {
			msg = strings.TrimPrefix(rest, "is ")
		}
		return Constraint{}, &ConstraintError{Text: s, Msg: msg}
	}
	text := strings.TrimSpace(s)
	switch {
	case text == "":
		return fail(`empty constraint: write "*" for any version`)
	case len(s) > maxConstraintLen:
		return fail("longer than %d bytes", maxConstraintLen)
	}
	c := Constraint{text: text}
	alts := splitOr(text)
	if len(alts) > maxGroups {
		return fail("more than %d alternatives", maxGroups)
	}
	for _, alt := range alts {
		g, err := parseGroup(alt)
		if err != nil {
			return fail("%s", err)
		}
		c.groups = append(c.groups, g)
	}
	return c, nil
}

// MustParseConstraint is ParseConstraint for constants in code and tests;
// it panics on an error.
func MustParseConstraint(s string) Constraint {
	c, err := ParseConstraint(s)
	if err != nil {
		panic(err)
	}
	return c
}

// splitOr splits at "||" and at a single "|".
func splitOr(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '|')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
		if strings.HasPrefix(s, "|") {
			s = s[1:]
		}
	}
}

// operators, longest first so that ">=" is not read as ">".
var operators = []string{">=", "<=", "==", "!=", "<>", ">", "<", "=", "^", "~"}

// misspelled operators with the spelling to use.
var misspelled = map[string]string{"=>": ">=", "=<": "<=", "~>": "~", "=~": "~", "!": "!="}

func parseGroup(alt string) (group, error) {
	g := group{flag: StabilityStable}
	toks, err := tokens(alt)
	if err != nil {
		return g, err
	}
	if len(toks) == 0 {
		return g, fmt.Errorf(`an empty alternative around "|": write "*" for any version`)
	}
	if len(toks) > maxAtoms {
		return g, fmt.Errorf("more than %d comparisons", maxAtoms)
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "-" {
			return g, fmt.Errorf(`a hyphen range needs a version on both sides, like "1.0 - 2.0"`)
		}
		if i+2 < len(toks) && toks[i+1] == "-" {
			a, err := hyphen(t, toks[i+2], &g)
			if err != nil {
				return g, err
			}
			g.atoms = append(g.atoms, a)
			i += 2
			continue
		}
		a, err := parseAtom(t, &g)
		if err != nil {
			return g, err
		}
		g.atoms = append(g.atoms, a)
	}
	g.exact = len(g.atoms) == 1 && !g.atoms[0].not && g.atoms[0].lo != nil && g.atoms[0].lo == g.atoms[0].hi
	return g, nil
}

// tokens splits an alternative at commas and white space, keeping an
// operator written apart from its version (">= 1.2") with it.
func tokens(alt string) ([]string, error) {
	var toks []string
	pendingOp := ""
	for field := range strings.FieldsFuncSeq(alt, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ',' }) {
		if pendingOp != "" {
			toks = append(toks, pendingOp+field)
			pendingOp = ""
			continue
		}
		if isOperator(field) {
			pendingOp = field
			continue
		}
		toks = append(toks, field)
	}
	if pendingOp != "" {
		return nil, fmt.Errorf("%q needs a version after it", pendingOp)
	}
	return toks, nil
}

func isOperator(s string) bool {
	for _, op := range operators {
		if s == op {
			return true
		}
	}
	_, ok := misspelled[s]
	return ok
}

// spec is a version as a constraint writes it: up to three numeric parts,
// a wildcard part, a pre-release.
type spec struct {
	nums     [3]uint64
	parts    int  // numeric parts given (0-3)
	wildcard bool // the part after the numeric ones is *, x or X
	pre      string
	stable   bool // "-stable" suffix: no implicit -dev bound
}

func (s spec) version() *semver.Version {
	return semver.New(s.nums[0], s.nums[1], s.nums[2], s.pre, "")
}

// devFloor is Composer's "-dev" bound: the lowest pre-release of the
// version, unless it names a pre-release or says "-stable".
func (s spec) devFloor() *semver.Version {
	if s.pre != "" || s.stable {
		return s.version()
	}
	return semver.New(s.nums[0], s.nums[1], s.nums[2], "0", "")
}

// next is the lowest version above every version that starts with the
// first n parts of s, as a -dev bound: next(1.2, 2) = 1.3.0-0.
func (s spec) next(n int) *semver.Version {
	switch n {
	case 0:
		return nil
	case 1:
		return semver.New(s.nums[0]+1, 0, 0, "0", "")
	case 2:
		return semver.New(s.nums[0], s.nums[1]+1, 0, "0", "")
	}
	return semver.New(s.nums[0], s.nums[1], s.nums[2]+1, "0", "")
}

func parseSpec(text string) (spec, error) {
	var s spec
	t := text
	if strings.HasPrefix(t, "dev-") || strings.HasSuffix(t, "-dev") && !strings.ContainsAny(t, "0123456789") {
		return s, fmt.Errorf("%q is a branch, not a version: modup installs releases; write a version like 1.2.0", text)
	}
	if len(t) > 0 && (t[0] == 'v' || t[0] == 'V') {
		t = t[1:]
	}
	if i := strings.IndexByte(t, '+'); i >= 0 {
		t = t[:i] // build metadata does not take part in comparisons
	}
	core, pre, hasPre := strings.Cut(t, "-")
	if hasPre {
		if strings.EqualFold(pre, "stable") {
			s.stable = true
		} else {
			if _, err := semver.StrictNewVersion("0.0.0-" + pre); err != nil {
				return s, fmt.Errorf("%q has a malformed pre-release %q (want dot-separated letters, digits and hyphens, like 1.0.0-beta.2)", text, pre)
			}
			s.pre = pre
		}
	}
	parts := strings.Split(core, ".")
	if core == "" {
		return s, fmt.Errorf("%q is not a version (want one like 1.2.0)", text)
	}
	if len(parts) > 3 {
		if len(parts) == 4 {
			return s, fmt.Errorf("%q has four parts; semver versions have three (1.2.3)", text)
		}
		return s, fmt.Errorf("%q is not a version (want one like 1.2.0)", text)
	}
	for i, p := range parts {
		if p == "*" || p == "x" || p == "X" {
			for _, rest := range parts[i+1:] {
				if rest != "*" && rest != "x" && rest != "X" {
					return s, fmt.Errorf("%q: a wildcard must come last (like 1.2.*)", text)
				}
			}
			s.wildcard = true
			break
		}
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			if i == len(parts)-1 && startsWithDigit(p) {
				return s, fmt.Errorf("%q: write the pre-release after a hyphen, like 1.0.0-beta1", text)
			}
			return s, fmt.Errorf("%q is not a version (want one like 1.2.0)", text)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return s, fmt.Errorf("%q: %s is too large a number", text, p)
		}
		s.nums[i] = n
		s.parts++
	}
	if s.wildcard && (s.pre != "" || s.stable) {
		return s, fmt.Errorf("%q: a wildcard version cannot have a pre-release", text)
	}
	return s, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// parseAtom reads one comparison of an alternative, with its optional
// stability flag.
func parseAtom(tok string, g *group) (atom, error) {
	body, flag, hasFlag := strings.Cut(tok, "@")
	if hasFlag {
		st, ok := stabilityNames[strings.ToLower(flag)]
		if !ok {
			return atom{}, fmt.Errorf("%q: unknown stability flag @%s (want @dev, @alpha, @beta, @RC or @stable)", tok, flag)
		}
		g.flag = min(g.flag, st)
		if body == "" {
			return atom{}, nil // "@beta" alone: any version of that stability
		}
	}
	op := ""
	for _, o := range operators {
		if strings.HasPrefix(body, o) {
			op = o
			break
		}
	}
	for bad, good := range misspelled {
		if strings.HasPrefix(body, bad) && len(bad) > len(op) {
			return atom{}, fmt.Errorf("unknown operator %q (write %q)", bad, good)
		}
	}
	vtext := strings.TrimSpace(body[len(op):])
	if vtext == "" {
		return atom{}, fmt.Errorf("%q needs a version after it", op)
	}
	if strings.IndexAny(vtext[:1], "<>=!^~|") == 0 {
		return atom{}, fmt.Errorf("%q: %q is not a version (one operator per comparison, like >=1.2 or ^1.2)", tok, vtext)
	}
	if (vtext == "*" || vtext == "x" || vtext == "X") && (op == "" || op == "=" || op == "==" || op == ">=") {
		return atom{}, nil
	}
	s, err := parseSpec(vtext)
	if err != nil {
		return atom{}, err
	}
	if s.pre != "" {
		g.pre = true
	}
	if s.wildcard {
		// 1.2.* is >=1.2.0-dev <1.3.0-dev; with != it is the outside.
		w := atom{lo: semver.New(s.nums[0], s.nums[1], s.nums[2], "0", ""), loIncl: true, hi: s.next(s.parts)}
		if s.parts == 0 {
			w = atom{}
		}
		switch op {
		case "", "=", "==":
			return w, nil
		case "!=", "<>":
			if s.parts == 0 {
				return atom{}, fmt.Errorf("%q excludes every version", tok)
			}
			w.not = true
			return w, nil
		}
		if s.parts == 0 {
			return atom{}, fmt.Errorf("%q: write * alone for any version", tok)
		}
		return atom{}, fmt.Errorf("%q: a wildcard version goes without an operator (write %s, or %s%d.%d.0)", tok, vtext, op, s.nums[0], s.nums[1])
	}
	v := s.version()
	switch op {
	case "", "=", "==":
		return atom{lo: v, loIncl: true, hi: v, hiIncl: true}, nil
	case "!=", "<>":
		return atom{lo: v, loIncl: true, hi: v, hiIncl: true, not: true}, nil
	case ">=":
		return atom{lo: s.devFloor(), loIncl: true}, nil
	case ">":
		return atom{lo: v}, nil
	case "<":
		return atom{hi: s.devFloor()}, nil
	case "<=":
		return atom{hi: v, hiIncl: true}, nil
	case "^":
		n := 3 // the first non-zero part moves; a zero is fixed only when written
		switch {
		case s.nums[0] > 0 || s.parts == 1:
			n = 1
		case s.nums[1] > 0 || s.parts == 2:
			n = 2
		}
		return atom{lo: s.devFloor(), loIncl: true, hi: s.next(n)}, nil
	case "~":
		n := 1 // ~1 and ~1.2 let the minor move, ~1.2.3 the patch
		if s.parts == 3 {
			n = 2
		}
		return atom{lo: s.devFloor(), loIncl: true, hi: s.next(n)}, nil
	}
	return atom{}, fmt.Errorf("%q: unknown operator", tok)
}

// hyphen reads "A - B": from A to B inclusive, a partial B standing for
// all its versions (1.0 - 2.0 is >=1.0.0 <2.1.0).
func hyphen(from, to string, g *group) (atom, error) {
	for _, t := range []string{from, to} {
		if t != "" && strings.ContainsAny(t[:1], "<>=!^~") {
			return atom{}, fmt.Errorf("%q: the ends of a hyphen range are plain versions, like 1.0 - 2.0", from+" - "+to)
		}
		if strings.Contains(t, "@") {
			return atom{}, fmt.Errorf("%q: put a stability flag after a whole constraint, not inside a hyphen range", from+" - "+to)
		}
	}
	lo, err := parseSpec(from)
	if err != nil {
		return atom{}, err
	}
	hi, err := parseSpec(to)
	if err != nil {
		return atom{}, err
	}
	if lo.pre != "" || hi.pre != "" {
		g.pre = true
	}
	a := atom{loIncl: true}
	if lo.parts > 0 {
		a.lo = lo.devFloor()
	}
	switch {
	case hi.parts == 3 && !hi.wildcard:
		a.hi, a.hiIncl = hi.version(), true
	default:
		a.hi = hi.next(hi.parts)
	}
	return a, nil
}

// String is the constraint as written ("*" for the zero Constraint).
func (c Constraint) String() string {
	if c.text == "" {
		return "*"
	}
	return c.text
}

// IsAny reports whether every version satisfies c, whatever its
// stability flags.
func (c Constraint) IsAny() bool {
	if len(c.groups) == 0 {
		return true
	}
	for _, g := range c.groups {
		any := true
		for _, a := range g.atoms {
			if !a.unbounded() {
				any = false
				break
			}
		}
		if any {
			return true
		}
	}
	return false
}

// Allows reports whether v is in c's range, whatever its stability.
func (c Constraint) Allows(v *semver.Version) bool {
	if len(c.groups) == 0 {
		return true
	}
	for _, g := range c.groups {
		if g.allows(v) {
			return true
		}
	}
	return false
}

// Admits reports whether a candidate v satisfies c: in range, and, when v
// is a pre-release (or its source marks it one), admitted by a pre-release
// or a stability flag of the alternative that holds it.
func (c Constraint) Admits(v *semver.Version, markedPrerelease bool) bool {
	st := VersionStability(v)
	if st == StabilityStable && markedPrerelease {
		st = StabilityDev
	}
	if len(c.groups) == 0 {
		return st == StabilityStable
	}
	for _, g := range c.groups {
		if g.allows(v) && (st == StabilityStable || g.pre || g.exact || g.flag <= st) {
			return true
		}
	}
	return false
}

// NamesPrerelease reports whether c opts into pre-releases anywhere: a
// pre-release version or a stability flag below stable.
func (c Constraint) NamesPrerelease() bool {
	for _, g := range c.groups {
		if g.pre || g.flag < StabilityStable {
			return true
		}
	}
	return false
}

func (g group) allows(v *semver.Version) bool {
	for _, a := range g.atoms {
		if !a.contains(v) {
			return false
		}
	}
	return true
}

// Exact returns the constraint matching exactly v.
func Exact(v *semver.Version) Constraint {
	return Constraint{text: v.String(), groups: []group{{atoms: []atom{{lo: v, loIncl: true, hi: v, hiIncl: true}}, flag: StabilityStable, exact: true}}}
}
