package resolve

import (
	"fmt"
	"maps"
	"slices"
)

// depsOf returns the incompatibilities that choosing option oi of slot si
// brings in: its requirements, conflicts, breaks and replaces, each shared
// with the neighbouring versions that declare the same (as pub does, so
// that one learned fact covers a run of versions).
func (s *solver) depsOf(si, oi int) []*incompat {
	sl := s.slots[si]
	switch sl.kind {
	case kindRoot:
		return s.rootDeps
	case kindHost:
		return nil
	}
	if sl.deps == nil {
		sl.deps = make([][]*incompat, len(sl.opts))
	}
	if sl.deps[oi] == nil {
		sl.deps[oi] = s.computeDeps(si, oi)
	}
	return sl.deps[oi]
}

func (s *solver) computeDeps(si, oi int) []*incompat {
	sl := s.slots[si]
	o := sl.opts[oi]
	if o.via >= 0 {
		return []*incompat{s.providerDep(si, oi)}
	}
	p := o.pkg
	var out []*incompat
	for _, q := range slices.Sorted(maps.Keys(p.Packages)) {
		if q == sl.name {
			continue
		}
		c := p.Packages[q]
		qi := s.byName[q]
		out = append(out, s.dep(si, oi, causeDependency, q, c,
			func(x *Package) (Constraint, bool) { c, ok := x.Packages[q]; return c, ok },
			func() term { return term{slot: qi, set: s.admissible(qi, c), label: c.String()} }))
	}
	if s.host >= 0 {
		for _, h := range slices.Sorted(maps.Keys(p.Hosts)) {
			if h != s.hostName {
				continue
			}
			c := p.Hosts[h]
			set := singleSet(2, s.slots[s.host].ph)
			if c.Allows(s.sys.Host.Version) {
				set = singleSet(2, 0)
			}
			out = append(out, s.dep(si, oi, causeDependency, "\x00host", c,
				func(x *Package) (Constraint, bool) { c, ok := x.Hosts[h]; return c, ok },
				func() term { return term{slot: s.host, set: set, label: c.String()} }))
		}
	}
	for _, rel := range []struct {
		kind causeKind
		of   func(*Package) map[string]Constraint
	}{
		{causeConflict, func(x *Package) map[string]Constraint { return x.Conflicts }},
		{causeBreaks, func(x *Package) map[string]Constraint { return x.Breaks }},
		{causeReplaces, func(x *Package) map[string]Constraint { return x.Replaces }},
	} {
		m := rel.of(p)
		for _, q := range slices.Sorted(maps.Keys(m)) {
			if q == sl.name {
				continue
			}
			c := m[q]
			same := func(x *Package) (Constraint, bool) { c, ok := rel.of(x)[q]; return c, ok }
			qi, ok := s.byName[q]
			if !ok {
				continue // nothing of that name could be installed
			}
			if set := s.inRange(qi, c); !set.isEmpty() {
				out = append(out, s.dep(si, oi, rel.kind, q, c, same, func() term { return term{slot: qi, pos: true, set: set, label: c.String()} }))
			}
			if !c.IsAny() || rel.kind == causeReplaces {
				continue
			}
			// A conflict with a name is a conflict with whatever provides it.
			ql := s.slots[qi]
			for i := ql.nreal; i < ql.ph; i++ {
				pp := ql.opts[i].via
				if pp == si {
					continue
				}
				inc := s.dep(si, oi, rel.kind, q+"\x00"+s.slots[pp].name, c, same,
					func() term { return term{slot: pp, pos: true, set: s.providing(pp, q)} })
				inc.note = q
				out = append(out, inc)
			}
		}
	}
	if sl.fixed && oi == sl.installed {
		out = s.dropFacts(si, out)
	}
	return out
}

// dep is the incompatibility "the run of si's versions around oi that
// declare the same as oi" with other: a dependency (other negative) or a
// conflict (other positive). Runs and incompatibilities are cached.
func (s *solver) dep(si, oi int, kind causeKind, target string, c Constraint, same func(*Package) (Constraint, bool), other func() term) *incompat {
	sl := s.slots[si]
	text := c.String()
	match := func(i int) bool {
		x, ok := same(sl.opts[i].pkg)
		return ok && x.String() == text
	}
	lo, hi := oi, oi
	for lo > 0 && match(lo-1) {
		lo--
	}
	for hi < sl.nreal-1 && match(hi+1) {
		hi++
	}
	key := depKey{slot: si, kind: kind, target: target, text: text, lo: lo}
	if inc, ok := s.depCache[key]; ok {
		return inc
	}
	run := emptySet(len(sl.opts))
	for i := lo; i <= hi; i++ {
		run.add(i)
	}
	inc := &incompat{terms: []term{{slot: si, pos: true, set: run}, other()}, cause: kind}
	s.depCache[key] = inc
	return inc
}

// providerDep: the "provided by" option oi of slot si needs its provider
// at a version that provides the name.
func (s *solver) providerDep(si, oi int) *incompat {
	key := [2]int{si, oi}
	if inc, ok := s.provDeps[key]; ok {
		return inc
	}
	sl := s.slots[si]
	pp := sl.opts[oi].via
	inc := &incompat{terms: []term{
		{slot: si, pos: true, set: singleSet(len(sl.opts), oi)},
		{slot: pp, set: s.providing(pp, sl.name)},
	}, cause: causeProvider}
	s.provDeps[key] = inc
	return inc
}

// providing is the set of slot pp's versions that provide or replace name.
func (s *solver) providing(pp int, name string) vset {
	sl := s.slots[pp]
	set := emptySet(len(sl.opts))
	for i := 0; i < sl.nreal; i++ {
		if slices.Contains(providedNames(sl.opts[i].pkg), name) {
			set.add(i)
		}
	}
	return set
}

// dropFacts removes the incompatibilities of a fixed slot's installed
// version that only involve other fixed slots and the host: their truth
// cannot change. One that is violated was unmet before the request, and
// is reported instead of failing every request until it is fixed.
func (s *solver) dropFacts(si int, incs []*incompat) []*incompat {
	var kept []*incompat
	for _, inc := range incs {
		fact, violated := true, true
		for _, t := range inc.terms {
			if t.slot == si {
				continue
			}
			ot := s.slots[t.slot]
			var v int
			switch {
			case ot.kind == kindHost:
				v = 0
			case ot.kind == kindPackage && ot.fixed:
				v = ot.installed
			default:
				fact = false
			}
			if !fact {
				break
			}
			if t.set.has(v) != t.pos {
				violated = false
			}
		}
		switch {
		case !fact:
			kept = append(kept, inc)
		case violated:
			s.warn(s.unmetBefore(si, inc))
		}
	}
	return kept
}

func (s *solver) unmetBefore(si int, inc *incompat) string {
	p := s.slots[si]
	self := p.name + " " + p.opts[p.installed].version.String()
	other := inc.terms[1]
	ot := s.slots[other.slot]
	is := ot.name + " is " + ot.opts[ot.installed].version.String()
	switch inc.cause {
	case causeDependency:
		return fmt.Sprintf("%s requires %s %s, but %s (unmet before this change)", self, ot.name, other.label, is)
	case causeConflict:
		return fmt.Sprintf("%s conflicts with %s %s, and both are installed (before this change)", self, ot.name, ot.opts[ot.installed].version)
	case causeBreaks:
		return fmt.Sprintf("%s breaks %s %s, and both are installed (before this change)", self, ot.name, ot.opts[ot.installed].version)
	}
	return fmt.Sprintf("%s and %s %s do not fit together (before this change)", self, ot.name, ot.opts[ot.installed].version)
}

func (s *solver) warn(msg string) {
	if !s.warned[msg] {
		s.warned[msg] = true
		s.warnings = append(s.warnings, msg)
	}
}

// hostWarnings reports the host requirements of pkg that were not
// enforced: the host version is unknown, or they name another host.
func (s *solver) hostWarnings(p *Package) {
	for _, h := range slices.Sorted(maps.Keys(p.Hosts)) {
		c := p.Hosts[h]
		switch {
		case h != s.hostName:
			s.warn(fmt.Sprintf("%s requires %s %s, which is not the host (%s): not checked", p, h, c, s.hostName))
		case s.host < 0:
			s.warn(fmt.Sprintf("%s requires %s %s; the %s version is not known, so this is not checked", p, h, c, h))
		}
	}
}

// sortedNames lists m's keys, sorted.
func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
