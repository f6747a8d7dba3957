package resolve

import "math/bits"

// vset is a set of a slot's options, as a bit set. The solver knows every
// candidate up front, so a set of versions is exact: no range algebra, and
// an empty set means no candidate, never "no version at all exists".
// Sets are values: operations return new ones.
type vset []uint64

func words(n int) int { return (n + 63) / 64 }

func emptySet(n int) vset { return make(vset, words(n)) }

func fullSet(n int) vset {
	s := emptySet(n)
	for i := range n {
		s[i/64] |= 1 << (i % 64)
	}
	return s
}

func singleSet(n, i int) vset {
	s := emptySet(n)
	s[i/64] |= 1 << (i % 64)
	return s
}

func (s vset) has(i int) bool { return i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0 }

// add sets bit i in place; only for sets being built.
func (s vset) add(i int) { s[i/64] |= 1 << (i % 64) }

func (s vset) word(i int) uint64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func combine(a, b vset, f func(x, y uint64) uint64) vset {
	out := make(vset, max(len(a), len(b)))
	for i := range out {
		out[i] = f(a.word(i), b.word(i))
	}
	return out
}

func (s vset) and(o vset) vset   { return combine(s, o, func(x, y uint64) uint64 { return x & y }) }
func (s vset) or(o vset) vset    { return combine(s, o, func(x, y uint64) uint64 { return x | y }) }
func (s vset) minus(o vset) vset { return combine(s, o, func(x, y uint64) uint64 { return x &^ y }) }

func (s vset) isEmpty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

func (s vset) subsetOf(o vset) bool {
	for i, w := range s {
		if w&^o.word(i) != 0 {
			return false
		}
	}
	return true
}

func (s vset) disjoint(o vset) bool {
	for i, w := range s {
		if w&o.word(i) != 0 {
			return false
		}
	}
	return true
}

func (s vset) equal(o vset) bool { return s.subsetOf(o) && o.subsetOf(s) }

func (s vset) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// members lists the options in the set, ascending.
func (s vset) members() []int {
	var out []int
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, i*64+b)
			w &^= 1 << b
		}
	}
	return out
}

// term is a statement about one slot: positive, "the slot is installed at
// one of set"; negative, "the slot is not installed at any of set" (which
// holds when it is not installed at all). label is the constraint the set
// came from, for explanations ("" when the set is derived).
type term struct {
	slot  int
	pos   bool
	set   vset
	label string
}

func (t term) inverse() term {
	t.pos = !t.pos
	return t
}

// empty reports whether no state satisfies t.
func (t term) empty() bool { return t.pos && t.set.isEmpty() }

// intersect is the statement "a and b" (same slot).
func intersect(a, b term) term {
	var out term
	out.slot = a.slot
	switch {
	case a.pos && b.pos:
		out.pos, out.set = true, a.set.and(b.set)
	case a.pos:
		out.pos, out.set = true, a.set.minus(b.set)
	case b.pos:
		out.pos, out.set = true, b.set.minus(a.set)
	default:
		out.set = a.set.or(b.set)
	}
	switch {
	case out.pos == a.pos && out.set.equal(a.set):
		out.label = a.label
	case out.pos == b.pos && out.set.equal(b.set):
		out.label = b.label
	}
	return out
}

// difference is "a and not b".
func difference(a, b term) term { return intersect(a, b.inverse()) }

// satisfies reports whether every state satisfying a satisfies b.
func satisfies(a, b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.subsetOf(b.set)
	case a.pos:
		return a.set.disjoint(b.set)
	case b.pos:
		return false // "not installed" satisfies a but never b
	}
	return b.set.subsetOf(a.set)
}

// disjointTerms reports whether no state satisfies both.
func disjointTerms(a, b term) bool {
	switch {
	case a.pos && b.pos:
		return a.set.disjoint(b.set)
	case a.pos:
		return a.set.subsetOf(b.set)
	case b.pos:
		return b.set.subsetOf(a.set)
	}
	return false
}
