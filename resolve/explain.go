package resolve

import (
	"fmt"
	"strings"
)

// explain renders the derivation of a failure as sentences, each built
// on earlier ones, in the manner of pub's error reports (doc/solver.md,
// "Error Reporting"): a derived fact used more than once is numbered and
// referred to by its number; a fact derived from one other fact and an
// external one reads "X and Y, so Z."
func (s *solver) explain(root *incompat) string {
	r := &reporter{s: s, counts: map[*incompat]int{}, numbers: map[*incompat]int{}}
	if skipped := s.skipRequest(root); skipped != root {
		if !derived(skipped) {
			return sentence(s.incText(skipped, nil) + ", so " + s.derivedText(skipped, s.termText) + ".")
		}
		root = skipped
	}
	r.count(root)
	r.visit(root, false)
	width := 0
	if len(r.numbers) > 0 {
		width = len(fmt.Sprintf("(%d) ", len(r.numbers)))
	}
	var b strings.Builder
	blank := false
	for _, l := range r.lines {
		if l.text == "" {
			if !blank && b.Len() > 0 {
				b.WriteString("\n")
			}
			blank = true
			continue
		}
		blank = false
		prefix := strings.Repeat(" ", width)
		if l.number > 0 {
			prefix = fmt.Sprintf("%-*s", width, fmt.Sprintf("(%d)", l.number))
		}
		b.WriteString(prefix + l.text + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// skipRequest: when the last step only says "you asked for X, and X
// cannot be installed", the explanation ends at "X cannot be installed".
func (s *solver) skipRequest(root *incompat) *incompat {
	if root.cause != causeDerived {
		return root
	}
	req, other := root.left, root.right
	if req.cause != causeRequest {
		req, other = other, req
	}
	if req.cause != causeRequest || req.note != "install" || len(other.terms) != 1 || !other.terms[0].pos {
		return root
	}
	want := req.terms[1]
	if t := other.terms[0]; t.slot == want.slot && want.set.subsetOf(t.set) {
		return other
	}
	return root
}

type line struct {
	text   string
	number int
}

type reporter struct {
	s       *solver
	counts  map[*incompat]int // how often each derived fact is used
	numbers map[*incompat]int
	lines   []line
}

func (r *reporter) count(inc *incompat) {
	r.counts[inc]++
	if r.counts[inc] == 1 && inc.cause == causeDerived {
		r.count(inc.left)
		r.count(inc.right)
	}
}

func derived(inc *incompat) bool { return inc.cause == causeDerived }

func (r *reporter) write(inc *incompat, text string, numbered bool) {
	l := line{text: sentence(text)}
	if numbered {
		l.number = len(r.numbers) + 1
		r.numbers[inc] = l.number
	}
	r.lines = append(r.lines, l)
}

// visit writes the lines that explain inc, ending with inc itself.
func (r *reporter) visit(inc *incompat, conclusion bool) {
	s := r.s
	numbered := conclusion || r.counts[inc] > 1
	what := s.incText(inc, nil)
	a, b := inc.left, inc.right
	switch {
	case derived(a) && derived(b):
		na, nb := r.numbers[a], r.numbers[b]
		switch {
		case na > 0 && nb > 0:
			r.write(inc, fmt.Sprintf("Because %s (%d) and %s (%d), %s.", s.incText(a, nil), na, s.incText(b, nil), nb, what), numbered)
		case na > 0 || nb > 0:
			with, without, n := a, b, na
			if nb > 0 {
				with, without, n = b, a, nb
			}
			r.visit(without, false)
			r.write(inc, fmt.Sprintf("And because %s (%d), %s.", s.incText(with, nil), n, what), numbered)
		case singleLine(a) || singleLine(b):
			first, second := a, b
			if singleLine(a) {
				first, second = b, a
			}
			r.visit(first, false)
			r.visit(second, false)
			r.write(inc, "Thus, "+what+".", numbered)
		default:
			r.visit(a, true)
			r.lines = append(r.lines, line{})
			r.visit(b, false)
			r.write(inc, fmt.Sprintf("And because %s (%d), %s.", s.incText(a, nil), r.numbers[a], what), numbered)
		}
	case derived(a) || derived(b):
		der, ext := a, b
		if derived(b) {
			der, ext = b, a
		}
		switch {
		case r.numbers[der] > 0:
			r.write(inc, fmt.Sprintf("Because %s and %s (%d), %s.", s.incText(ext, nil), s.incText(der, nil), r.numbers[der], what), numbered)
		case r.collapsible(der):
			inner, innerExt := der.left, der.right
			if derived(der.right) {
				inner, innerExt = der.right, der.left
			}
			r.visit(inner, false)
			r.write(inc, fmt.Sprintf("%s, so %s.", s.andText(innerExt, ext), what), numbered)
		default:
			r.visit(der, false)
			r.write(inc, fmt.Sprintf("%s%s, so %s.", s.incText(ext, nil), s.disjointNote(der, ext), what), numbered)
		}
	default:
		r.write(inc, fmt.Sprintf("Because %s, %s.", s.andText(a, b), what), numbered)
	}
}

// singleLine: both causes are external, so one sentence explains it.
func singleLine(inc *incompat) bool { return !derived(inc.left) && !derived(inc.right) }

// collapsible: derived once from one derived and one external fact, so
// its external fact can join the next sentence.
func (r *reporter) collapsible(inc *incompat) bool {
	if r.counts[inc] > 1 || derived(inc.left) == derived(inc.right) {
		return false
	}
	inner := inc.left
	if derived(inc.right) {
		inner = inc.right
	}
	return r.numbers[inner] == 0
}

// sentence capitalizes a sentence's first letter unless it starts with a
// package name (they are written as they are).
func sentence(s string) string {
	for _, w := range []string{"because", "and because", "thus", "you", "only", "no ", "every", "the ", "one of", "either"} {
		if strings.HasPrefix(s, w) {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return s
}

// andText joins two facts, the one that requires what the other is about
// first. When the first requires a version set of a package and the
// second holds for all of that set, the second says "every" of the
// first's set: "X requires Y ^0.8 and every Y ^0.8 requires Z".
func (s *solver) andText(a, b *incompat) string {
	if a.cause == causeRequest && b.cause == causeRequest && a.note == "install" && b.note == "install" {
		return "you asked for " + s.termText(a.terms[1]) + " and " + s.termText(b.terms[1])
	}
	if leadsTo(b, a) && !leadsTo(a, b) {
		a, b = b, a
	}
	return s.incText(a, nil) + " and " + s.incText(b, s.every(a, b))
}

// leadsTo reports whether a requires something b is about.
func leadsTo(a, b *incompat) bool {
	for _, t := range a.terms {
		if !t.pos && len(b.terms) > 0 && b.terms[0].pos && b.terms[0].slot == t.slot {
			return true
		}
	}
	return false
}

func (s *solver) every(a, b *incompat) map[int]string {
	if a.cause == causeDerived || b.cause != causeDependency {
		return nil
	}
	for _, t := range a.terms {
		if t.pos || t.label == "" || t.label == "*" {
			continue
		}
		u := b.terms[0] // a dependency's own package comes first
		if u.slot == t.slot && u.pos && t.set.subsetOf(u.set) && t.set.count() > 1 {
			return map[int]string{t.slot: "every " + s.slots[t.slot].name + " " + t.label}
		}
	}
	return nil
}

// incText says what an incompatibility means. override replaces the text
// of a slot's term.
func (s *solver) incText(inc *incompat, override map[int]string) string {
	str := func(t term) string {
		if o, ok := override[t.slot]; ok {
			return o
		}
		return s.termText(t)
	}
	subject := func(t term) string {
		if o, ok := override[t.slot]; ok {
			return o
		}
		if s.allReal(t) && t.label == "" {
			return "every version of " + s.slots[t.slot].name
		}
		return s.termText(t)
	}
	other := func() term {
		for _, t := range inc.terms {
			if t.slot != s.root {
				return t
			}
		}
		return inc.terms[0]
	}
	switch inc.cause {
	case causeRoot:
		return "the request must be met"
	case causeRequest:
		t := other()
		name := s.slots[t.slot].name
		switch inc.note {
		case "install":
			return "you asked for " + str(t)
		case "update":
			return "you asked to update " + name
		case "held":
			return fmt.Sprintf("%s is held at %s", name, t.label)
		case "remove":
			return "you asked to remove " + name
		}
		return fmt.Sprintf("%s %s is installed", name, t.label)
	case causeDependency:
		return subject(inc.terms[0]) + " requires " + str(inc.terms[1])
	case causeConflict, causeBreaks:
		verb := " conflicts with "
		if inc.cause == causeBreaks {
			verb = " breaks "
		}
		if inc.note != "" { // through a name the other provides
			return subject(inc.terms[0]) + verb + inc.note + ", which " + str(inc.terms[1]) + " provides"
		}
		return subject(inc.terms[0]) + verb + str(inc.terms[1])
	case causeReplaces:
		return subject(inc.terms[0]) + " replaces " + str(inc.terms[1])
	case causeProvider:
		return fmt.Sprintf("only %s provides %s", str(inc.terms[1]), s.slots[inc.terms[0].slot].name)
	case causeReplacedBy:
		y := s.slots[inc.terms[1].slot]
		return fmt.Sprintf("only %s replaces %s %s", str(inc.terms[2]), y.name, y.opts[y.installed].version)
	case causeNoVersions:
		return s.noVersions(inc.terms[0])
	case causeUnavailable:
		return subject(inc.terms[0]) + " " + inc.note
	}
	return s.derivedText(inc, str)
}

func (s *solver) noVersions(t term) string {
	sl := s.slots[t.slot]
	if sl.kind == kindHost {
		return fmt.Sprintf("%s is %s", sl.name, sl.opts[0].version)
	}
	if sl.ph == 0 {
		return "no version of " + sl.name + " is known"
	}
	label := t.label
	if label == "" {
		return "no version of " + sl.name + " is left"
	}
	var known []string
	for i := sl.nreal - 1; i >= 0 && len(known) < 4; i-- {
		known = append(known, sl.opts[i].version.String())
	}
	if len(known) == 0 {
		return fmt.Sprintf("no version of %s matches %s", sl.name, label)
	}
	if len(known) == 1 {
		return fmt.Sprintf("no version of %s matches %s (only %s is known)", sl.name, label, known[0])
	}
	more := ""
	if sl.nreal > len(known) {
		more = ", …"
	}
	return fmt.Sprintf("no version of %s matches %s (there are %s%s)", sl.name, label, strings.Join(known, ", "), more)
}

// derivedText says what a learned incompatibility means, from its shape.
func (s *solver) derivedText(inc *incompat, str func(term) string) string {
	var pos, neg []term
	for _, t := range inc.terms {
		if t.slot == s.root {
			continue
		}
		if t.pos {
			pos = append(pos, t)
		} else {
			neg = append(neg, t)
		}
	}
	join := func(ts []term, word string) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = str(t)
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return strings.Join(parts[:len(parts)-1], ", ") + " " + word + " " + parts[len(parts)-1]
	}
	switch {
	case len(pos) == 0 && len(neg) == 0:
		return "the request cannot be met"
	case len(neg) == 0 && len(pos) == 1:
		if s.allReal(pos[0]) && pos[0].label == "" {
			return "no version of " + s.slots[pos[0].slot].name + " can be installed"
		}
		if sl := s.slots[pos[0].slot]; sl.kind == kindPackage && sl.installed >= 0 && pos[0].set.has(sl.installed) {
			return str(pos[0]) + " cannot stay installed"
		}
		return str(pos[0]) + " cannot be installed"
	case len(neg) == 0 && len(pos) == 2:
		return join(pos, "and") + " cannot both be installed"
	case len(neg) == 0:
		return join(pos, "and") + " cannot all be installed"
	case len(pos) == 0:
		if len(neg) == 1 {
			return str(neg[0]) + " is required"
		}
		return "one of " + join(neg, "or") + " is required"
	case len(pos) == 1:
		subject := str(pos[0])
		if s.allReal(pos[0]) && pos[0].label == "" {
			subject = "every version of " + s.slots[pos[0].slot].name
		}
		return subject + " requires " + join(neg, "or")
	}
	return join(pos, "and") + " together require " + join(neg, "or")
}

// allReal: t's set is every real version of its package (and no
// "provided by" option), and there is more than one: "every version of
// X" (a package with one version is named with it).
func (s *solver) allReal(t term) bool {
	sl := s.slots[t.slot]
	return sl.kind == kindPackage && sl.nreal > 1 && t.set.equal(fullSet(sl.nreal))
}

// termText names a term's package and versions: "a2.tools 2.0.0",
// "a2.modules ^0.8.0" (the constraint it came from), "a2.modules >= 0.8.0"
// (a run of candidates), "hotstrings (provided by a2.tools)".
func (s *solver) termText(t term) string {
	sl := s.slots[t.slot]
	switch sl.kind {
	case kindRoot:
		return "the request"
	case kindHost:
		if t.label != "" {
			return sl.name + " " + t.label
		}
		if t.set.has(0) {
			return sl.name + " " + sl.opts[0].version.String()
		}
		return sl.name + " (another version)"
	}
	if t.label == "*" {
		return sl.name
	}
	if t.label != "" {
		return sl.name + " " + t.label
	}
	return sl.name + s.setText(t.slot, t.set)
}

// setText describes a set of a package's options by runs of its known
// versions (with a leading space), or "" for all of them.
func (s *solver) setText(si int, set vset) string {
	sl := s.slots[si]
	var runs []string
	for i := 0; i < sl.nreal; {
		if !set.has(i) {
			i++
			continue
		}
		j := i
		for j+1 < sl.nreal && set.has(j+1) {
			j++
		}
		lo, hi := sl.opts[i].version, sl.opts[j].version
		switch {
		case i == j:
			runs = append(runs, lo.String())
		case i == 0 && j == sl.nreal-1:
			runs = append(runs, "*")
		case j == sl.nreal-1:
			runs = append(runs, ">= "+lo.String())
		case i == 0:
			runs = append(runs, "<= "+hi.String())
		default:
			runs = append(runs, fmt.Sprintf(">= %s <= %s", lo, hi))
		}
		i = j + 1
	}
	var via []string
	for i := sl.nreal; i < sl.ph; i++ {
		if set.has(i) {
			via = append(via, s.slots[sl.opts[i].via].name)
		}
	}
	text := strings.Join(runs, " || ")
	if len(via) > 0 {
		provided := "provided by " + strings.Join(via, " or ")
		if text == "" {
			return " (" + provided + ")"
		}
		return " " + text + " or " + provided
	}
	if text == "*" {
		return ""
	}
	if text == "" {
		return " (no version)"
	}
	return " " + text
}

// disjointNote says why a request and a derived requirement on the same
// package cannot both hold when no fact of the derivation says it: the
// requirement matches no known version (", and no version of lib matches
// ^2 (only 1.0.0 is known)"). It is "" otherwise.
func (s *solver) disjointNote(der, ext *incompat) string {
	if ext.cause != causeRequest {
		return ""
	}
	for _, u := range ext.terms {
		if u.slot == s.root {
			continue
		}
		for _, t := range der.terms {
			if t.slot != u.slot || t.pos || t.label == "" || s.slots[t.slot].kind != kindPackage {
				continue
			}
			if t.set.and(fullSet(s.slots[t.slot].nreal)).isEmpty() {
				return ", and " + s.noVersions(t)
			}
		}
	}
	return ""
}
