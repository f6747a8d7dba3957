package resolve

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Solve finds the set of versions that meets req on sys, preferring to
// keep what is installed and, for what the request names, the newest
// versions, and returns the changes as a Plan. When no set of versions
// meets the request, the error is a *Failure explaining why (and
// errors.Is(err, ErrUnsatisfiable)); other errors are malformed input
// (a package without a version, an update of a package not installed).
//
// Solve does no I/O: everything it knows is in sys.
func Solve(sys System, req Request) (*Plan, error) {
	_, plan, fail, err := solveOnce(sys, req, nil)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		fail.Suggestions = suggest(sys, req)
		return nil, fail
	}
	if req.WithRecommends {
		return addRecommends(sys, req, plan)
	}
	return plan, nil
}

// solveOnce runs the solver once. recommended names the wants that come
// from recommendations (name: the recommending package).
func solveOnce(sys System, req Request, recommended map[string]string) (*solver, *Plan, *Failure, error) {
	s, err := newSolver(sys, req)
	if err != nil {
		return nil, nil, nil, err
	}
	if root := s.solve(); root != nil {
		return s, nil, &Failure{Explanation: s.explain(root)}, nil
	}
	return s, s.plan(recommended), nil, nil
}

// chosen is the real option a slot is decided to, or -1.
func (s *solver) chosen(si int) int {
	oi := s.decided[si]
	if oi >= s.slots[si].nreal {
		return -1
	}
	return oi
}

func (s *solver) plan(recommended map[string]string) *Plan {
	p := &Plan{Result: map[string]*semver.Version{}}
	slots := s.packageSlots()
	for _, si := range slots {
		if oi := s.chosen(si); oi >= 0 {
			p.Result[s.slots[si].name] = s.slots[si].opts[oi].version
		}
	}
	var changed []int
	var removals []Step
	for _, si := range slots {
		sl := s.slots[si]
		oi := s.chosen(si)
		switch {
		case oi >= 0 && oi == sl.installed:
		case oi >= 0:
			changed = append(changed, si)
		case sl.installed >= 0:
			st := Step{Action: ActionRemove, Name: sl.name, From: sl.opts[sl.installed].version, Reason: "requested"}
			if d := s.decided[si]; d >= 0 {
				pp := s.slots[sl.opts[d].via]
				st.Reason = fmt.Sprintf("replaced by %s %s", pp.name, pp.opts[s.chosen(sl.opts[d].via)].version)
			}
			removals = append(removals, st)
		}
	}
	for _, si := range s.order(changed) {
		sl := s.slots[si]
		o := sl.opts[s.chosen(si)]
		st := Step{Action: ActionInstall, Name: sl.name, To: o.version, Reason: s.reason(si, recommended)}
		if sl.installed >= 0 {
			st.From = sl.opts[sl.installed].version
			st.Action = ActionUpgrade
			if o.version.LessThan(st.From) {
				st.Action = ActionDowngrade
			}
		}
		p.Steps = append(p.Steps, st)
		s.hostWarnings(o.pkg)
		from := o.pkg.String()
		for _, q := range sortedNames(o.pkg.Recommends) {
			if _, ok := p.Result[q]; !ok && !s.providedInResult(q) {
				p.Recommends = append(p.Recommends, Hint{From: from, Name: q, Constraint: o.pkg.Recommends[q]})
			}
		}
		for _, q := range sortedNames(o.pkg.Suggests) {
			if _, ok := p.Result[q]; !ok && !s.providedInResult(q) {
				p.Suggests = append(p.Suggests, Hint{From: from, Name: q, Constraint: o.pkg.Suggests[q]})
			}
		}
	}
	p.Steps = append(p.Steps, removals...)
	// What the request asked to bring to its newest version and that
	// stays below it.
	asked := map[string]bool{}
	for _, n := range s.updateNames() {
		asked[n] = true
	}
	for _, w := range s.req.Install {
		if w.Constraint.IsAny() {
			asked[w.Name] = true
		}
	}
	for _, si := range slots {
		sl := s.slots[si]
		newest, oi := s.newest(si), s.chosen(si)
		if !asked[sl.name] || !sl.target || newest < 0 || oi < 0 || !sl.opts[oi].version.LessThan(sl.opts[newest].version) {
			continue
		}
		hb := HeldBack{Name: sl.name, Chosen: sl.opts[oi].version, Newest: sl.opts[newest].version,
			Reason: s.whyNot(si, newest, s.chosen)}
		if sl.installed >= 0 {
			hb.Installed = sl.opts[sl.installed].version
		}
		if hb.Reason == "" {
			hb.Reason = s.indirectReason(si, newest)
		}
		p.HeldBack = append(p.HeldBack, hb)
	}
	p.Warnings = slices.Clone(s.warnings)
	return p
}

func (s *solver) updateNames() []string {
	if s.req.UpdateAll {
		var out []string
		for _, in := range s.sys.Installed {
			if !in.Held {
				out = append(out, in.Name)
			}
		}
		return out
	}
	return s.req.Update
}

// newest is a package's newest candidate the request admits, -1 if none.
func (s *solver) newest(si int) int {
	set := s.admissible(si, Any)
	for i := s.slots[si].nreal - 1; i >= 0; i-- {
		if set.has(i) {
			return i
		}
	}
	return -1
}

// providedInResult reports whether name is satisfied by a package the plan
// keeps or installs that provides it.
func (s *solver) providedInResult(name string) bool {
	si, ok := s.byName[name]
	return ok && s.decided[si] >= s.slots[si].nreal
}

// reason says why a step changes its package.
func (s *solver) reason(si int, recommended map[string]string) string {
	sl := s.slots[si]
	if from, ok := recommended[sl.name]; ok {
		return "recommended by " + from
	}
	if sl.target {
		return "requested"
	}
	for _, w := range s.req.Install {
		if wi := s.byName[w.Name]; s.decided[wi] >= s.slots[wi].nreal && s.slots[wi].opts[s.decided[wi]].via == si {
			return "requested: provides " + w.Name
		}
	}
	for _, other := range s.packageSlots() {
		oi := s.chosen(other)
		if other == si || oi < 0 {
			continue
		}
		o := s.slots[other].opts[oi]
		for q := range o.pkg.Packages {
			if qi := s.byName[q]; qi == si || s.decided[qi] >= s.slots[qi].nreal && s.slots[qi].opts[s.decided[qi]].via == si {
				return "required by " + o.pkg.String()
			}
		}
	}
	return "to fit the request"
}

// order sorts the slots to change so that dependencies come before their
// dependents; the members of a cycle come together, by name.
func (s *solver) order(slots []int) []int {
	in := map[int]bool{}
	for _, si := range slots {
		in[si] = true
	}
	edges := func(si int) []int {
		var out []int
		o := s.slots[si].opts[s.chosen(si)]
		for _, q := range sortedNames(o.pkg.Packages) {
			qi := s.byName[q]
			if d := s.decided[qi]; d >= s.slots[qi].nreal {
				qi = s.slots[qi].opts[d].via
			}
			if in[qi] && qi != si {
				out = append(out, qi)
			}
		}
		return out
	}
	// Tarjan's strongly connected components: each is complete only after
	// every component it depends on, which is the order wanted.
	index := map[int]int{}
	low := map[int]int{}
	onStack := map[int]bool{}
	var stack, out []int
	var visit func(v int)
	visit = func(v int) {
		index[v] = len(index)
		low[v] = index[v]
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges(v) {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			slices.SortFunc(comp, func(a, b int) int { return cmp.Compare(s.slots[a].name, s.slots[b].name) })
			out = append(out, comp...)
		}
	}
	for _, si := range slots { // slots come in name order
		if _, seen := index[si]; !seen {
			visit(si)
		}
	}
	return out
}

// whyNot says what stops option oi of slot si, given the other slots'
// choices (sel): "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7". It is "" when
// nothing direct does.
func (s *solver) whyNot(si, oi int, sel func(int) int) string {
	return strings.Join(s.blockers(si, oi, sel, s.slots[si].opts[oi].version.String(), si, 1), "; ")
}

// blockers lists what stops option oi of slot si beside sel, each
// sentence starting with subject. A requirement on a package that could
// change is followed one level (depth) into what stops that package's
// best version; top is the package asked about, left out of the reverse
// checks below it.
func (s *solver) blockers(si, oi int, sel func(int) int, subject string, top, depth int) []string {
	sl := s.slots[si]
	o := sl.opts[oi]
	p := o.pkg
	var rs []string
	if why := s.unavailable(o); why != "" {
		rs = append(rs, subject+" "+why)
	}
	if s.host >= 0 {
		hv := s.sys.Host.Version
		for _, h := range sortedNames(p.Hosts) {
			if c := p.Hosts[h]; h == s.hostName && !c.Allows(hv) {
				rs = append(rs, fmt.Sprintf("%s needs %s %s; %s is %s", subject, h, c, h, hv))
			}
		}
	}
	chosen := func(qi int) int {
		if qi < 0 || s.slots[qi].kind != kindPackage {
			return -1
		}
		if q := sel(qi); q >= 0 && q < s.slots[qi].nreal {
			return q
		}
		return -1
	}
	for _, q := range sortedNames(p.Packages) {
		c := p.Packages[q]
		qi := s.byName[q]
		ql := s.slots[qi]
		ok := s.admissible(qi, c)
		cur := chosen(qi)
		if sel(qi) >= 0 && ok.has(sel(qi)) {
			continue
		}
		best := -1
		for i := ql.nreal - 1; i >= 0; i-- {
			if ok.has(i) {
				best = i
				break
			}
		}
		switch {
		case best < 0 && cur >= 0:
			rs = append(rs, fmt.Sprintf("%s needs %s %s; %s is %s", subject, q, c, q, ql.opts[cur].version))
			continue
		case best < 0:
			rs = append(rs, fmt.Sprintf("%s needs %s %s, and no version of %s matches", subject, q, c, q))
			continue
		case depth > 0 && ql.class != 0:
			if inner := s.blockers(qi, best, sel, q+" "+ql.opts[best].version.String(), top, depth-1); len(inner) > 0 {
				rs = append(rs, fmt.Sprintf("%s needs %s %s, and %s", subject, q, c, strings.Join(inner, "; ")))
				continue
			}
		}
		if cur >= 0 {
			rs = append(rs, fmt.Sprintf("%s needs %s %s; %s is %s", subject, q, c, q, ql.opts[cur].version))
		}
	}
	for _, rel := range []struct {
		verb string
		m    map[string]Constraint
	}{{"conflicts with", p.Conflicts}, {"breaks", p.Breaks}} {
		for _, q := range sortedNames(rel.m) {
			qi, known := s.byName[q]
			if !known || q == sl.name {
				continue
			}
			if cur := chosen(qi); cur >= 0 && rel.m[q].Allows(s.slots[qi].opts[cur].version) {
				rs = append(rs, fmt.Sprintf("%s %s %s %s", subject, rel.verb, q, s.slots[qi].opts[cur].version))
			}
		}
	}
	for _, other := range s.packageSlots() {
		cur := chosen(other)
		if other == si || other == top || cur < 0 {
			continue
		}
		x := s.slots[other].opts[cur].pkg
		if c, ok := x.Packages[sl.name]; ok && !s.admissible(si, c).has(oi) {
			rs = append(rs, fmt.Sprintf("%s needs %s %s", x, sl.name, c))
		}
		if c, ok := x.Conflicts[sl.name]; ok && c.Allows(o.version) {
			rs = append(rs, fmt.Sprintf("%s conflicts with %s %s", x, sl.name, c))
		}
		if c, ok := x.Breaks[sl.name]; ok && c.Allows(o.version) {
			rs = append(rs, fmt.Sprintf("%s breaks %s %s", x, sl.name, c))
		}
	}
	return rs
}

// indirectReason explains, in one line, why option oi cannot be chosen
// when nothing direct stops it: the request with it pinned fails.
func (s *solver) indirectReason(si, oi int) string {
	name := s.slots[si].name
	req := s.req
	req.Install = slices.DeleteFunc(slices.Clone(req.Install), func(w Want) bool { return w.Name == name })
	req.Install = append(req.Install, Want{Name: name, Constraint: Exact(s.slots[si].opts[oi].version)})
	_, _, fail, err := solveOnce(s.sys, req, nil)
	if err != nil || fail == nil {
		return s.slots[si].opts[oi].version.String() + " does not fit with the other changes"
	}
	return strings.Join(strings.Fields(fail.Explanation), " ")
}

// suggest finds changes to a failed request that work: each version pin
// loosened, or the installed packages let move.
func suggest(sys System, req Request) []Suggestion {
	var out []Suggestion
	installed := map[string]*semver.Version{}
	for _, in := range sys.Installed {
		installed[in.Name] = in.Version
	}
	for i, w := range req.Install {
		if w.Constraint.IsAny() {
			continue
		}
		loose := req
		loose.Install = slices.Clone(req.Install)
		loose.Install[i].Constraint = Any
		_, plan, fail, err := solveOnce(sys, loose, nil)
		if err != nil || fail != nil {
			continue
		}
		v := plan.Result[w.Name]
		if v == nil || installed[w.Name] != nil && v.Equal(installed[w.Name]) {
			continue
		}
		cmd := fmt.Sprintf("modup install %s@%s", w.Name, v)
		if installed[w.Name] != nil {
			cmd = fmt.Sprintf("modup update %s --to %s", w.Name, v)
		}
		out = append(out, Suggestion{Text: fmt.Sprintf("%s %s can: `%s`", w.Name, v, cmd), Command: cmd})
	}
	out = append(out, suggestRemovals(sys, req)...)
	if req.Keep == KeepExact {
		moving := req
		moving.Keep = KeepPreferred
		if _, plan, fail, err := solveOnce(sys, moving, nil); err == nil && fail == nil {
			var changes []string
			for _, st := range plan.Steps {
				if st.Reason != "requested" && st.From != nil {
					to := "removed"
					if st.To != nil {
						to = st.To.String()
					}
					changes = append(changes, fmt.Sprintf("%s %s -> %s", st.Name, st.From, to))
				}
			}
			if len(changes) > 0 {
				out = append(out, Suggestion{Text: "It works if installed packages change too: " + strings.Join(changes, ", ") + "."})
			}
		}
	}
	return out
}

// addRecommends adds, one at a time, what the packages being installed
// recommend, keeping each that fits.
func addRecommends(sys System, req Request, plan *Plan) (*Plan, error) {
	recommended := map[string]string{}
	why := map[string]string{}
	for {
		var next *Hint
		for i := range plan.Recommends {
			h := &plan.Recommends[i]
			if _, tried := why[h.Name]; !tried {
				if _, ok := recommended[h.Name]; !ok {
					next = h
					break
				}
			}
		}
		if next == nil {
			break
		}
		try := req
		try.Install = append(slices.Clone(req.Install), Want{Name: next.Name, Constraint: next.Constraint})
		tryRec := maps.Clone(recommended)
		tryRec[next.Name] = next.From
		_, p, fail, err := solveOnce(sys, try, tryRec)
		switch {
		case err != nil:
			return nil, err
		case fail != nil:
			lines := strings.Split(fail.Explanation, "\n")
			why[next.Name] = "does not fit: " + strings.TrimSpace(lines[len(lines)-1])
		default:
			req, recommended, plan = try, tryRec, p
		}
	}
	for i := range plan.Recommends {
		plan.Recommends[i].Why = why[plan.Recommends[i].Name]
	}
	return plan, nil
}

// suggestRemovals finds installed packages whose removal makes a failed
// request work: those a package asked for conflicts with or breaks, and
// those that conflict with or break it (at most a few are tried).
func suggestRemovals(sys System, req Request) []Suggestion {
	asked := map[string]bool{}
	for _, w := range req.Install {
		asked[w.Name] = true
	}
	related := map[string]bool{}
	for _, p := range sys.Available {
		if !asked[p.Name] {
			continue
		}
		for _, m := range []map[string]Constraint{p.Conflicts, p.Breaks} {
			for n := range m {
				related[n] = true
			}
		}
	}
	for _, in := range sys.Installed {
		for _, m := range []map[string]Constraint{in.Conflicts, in.Breaks} {
			for n := range m {
				if asked[n] {
					related[in.Name] = true
				}
			}
		}
	}
	var out []Suggestion
	for _, in := range sys.Installed {
		if !related[in.Name] || asked[in.Name] || in.Held || slices.Contains(req.Remove, in.Name) || len(out) >= 3 {
			continue
		}
		try := req
		try.Remove = append(slices.Clone(req.Remove), in.Name)
		if _, _, fail, err := solveOnce(sys, try, nil); err == nil && fail == nil {
			cmd := "modup remove " + in.Name
			out = append(out, Suggestion{Text: fmt.Sprintf("It works without %s: `%s` first.", in.Name, cmd), Command: cmd})
		}
	}
	return out
}
