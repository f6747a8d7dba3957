package updater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
)

// Planning changes of several packages: the solver decides the versions
// that fit together (resolve.Solve over the installed set and the
// candidates), the plan's steps are split into groups of packages whose
// requirement fields name each other, and each group is applied on its
// own: a group of one through the single-package swap, a larger one as
// one transaction (pkgdir.Layout.Transact), so that packages that must
// change together change together or not at all.

// SetOptions tune a planned change of several packages.
type SetOptions struct {
	// DryRun plans and reports, downloading nothing.
	DryRun bool
	// Force replaces packages the user edited.
	Force bool
	// WithRecommends installs what the packages being installed
	// recommend, when it is among the candidates and fits.
	WithRecommends bool
	// To installs exactly this version of the one package asked for.
	To string
	// Inject is a test hook: before each step of a swap or transaction,
	// with the package it is about ("" for a transaction's own steps).
	Inject func(name, step string) error
	// By names who asks, for the history (default: Updater.Actor).
	By string
}

// StatusWouldRemove: --dry-run of a change that removes a package (one a
// package being installed replaces).
const StatusWouldRemove Status = "would-remove"

// planStep is one step of a plan with what carries it out.
type planStep struct {
	resolve.Step
	cand *Candidate      // install, upgrade, downgrade
	pkg  *pkgdir.Package // upgrade, downgrade, remove: what is installed
}

// InstallSet installs the packages whose update_urls are given into root,
// with what they need from one another, planned together: the newest
// versions that fit beside what is installed and each other. Packages a
// new one replaces are removed in the same change (into the backups).
// Several packages are installed as one transaction: all or none.
// Nothing is installed when the request cannot be met; the error's text
// is the solver's chain of reasons, with what would work.
func (u *Updater) InstallSet(ctx context.Context, root string, urls []string, opts SetOptions) []Change {
	if opts.To != "" && len(urls) != 1 {
		return []Change{{Name: strings.Join(urls, " "), Status: StatusFailed, Error: "--to names the version of one package", Err: errors.New("--to names the version of one package")}}
	}
	var cands []Candidate
	changes := map[string]Change{}
	var order []string
	failed := false
	for _, url := range urls {
		cand, c := u.candidateAt(ctx, root, url, opts.To)
		if c.Status == StatusFailed {
			failed = true
		} else if _, dup := changes[c.Name]; dup {
			c = c.failed(fmt.Errorf("%s: named twice (%s)", c.Name, url))
			failed = true
		} else {
			cands = append(cands, cand)
		}
		if _, dup := changes[c.Name]; !dup {
			order = append(order, c.Name)
		}
		changes[c.Name] = c
	}
	if failed {
		return notAttempted(order, changes, "not installed: another package of the request failed")
	}
	wants := make([]resolve.Want, len(cands))
	for i, c := range cands {
		wants[i] = resolve.Want{Name: c.Name}
		if opts.To != "" {
			v, _ := ParseVersion(c.Release.Version)
			wants[i].Constraint = resolve.Exact(v)
		}
	}
	hint := func(err error) error {
		if missing := u.unoffered(root, cands); len(missing) > 0 {
			return fmt.Errorf("%w\n%s", err, missingHint(missing, urls))
		}
		return err
	}
	return u.installPlanned(ctx, root, wants, cands, changes, order, opts, hint)
}

// InstallCandidates installs into root the packages wants names, choosing
// among cands (releases of any source: an update_url's, an index's; a
// package may have several), with what they require of each other, planned
// as InstallSet plans: the newest versions that fit beside what is
// installed, what they replace removed, several packages in one
// transaction, nothing changed when the request cannot be met (the first
// change's error is then the solver's explanation). This is where a
// repository client hands over what its index offers.
func (u *Updater) InstallCandidates(ctx context.Context, root string, wants []resolve.Want, cands []Candidate, opts SetOptions) []Change {
	changes := map[string]Change{}
	var order []string
	for _, w := range wants {
		if _, dup := changes[w.Name]; !dup {
			order = append(order, w.Name)
		}
		changes[w.Name] = Change{Name: w.Name, Path: filepath.Join(root, w.Name)}
	}
	if len(order) == 0 {
		return nil
	}
	return u.installPlanned(ctx, root, wants, cands, changes, order, opts, func(err error) error { return err })
}

// installPlanned plans wants over cands and applies the plan; changes
// (in order) are the requested packages' so far, explain words a failure
// to plan.
func (u *Updater) installPlanned(ctx context.Context, root string, wants []resolve.Want, cands []Candidate, changes map[string]Change, order []string, opts SetOptions, explain func(error) error) []Change {
	req := resolve.Request{Install: wants, WithRecommends: opts.WithRecommends, Prereleases: opts.To != ""}
	steps, plan, err := u.planWith(ctx, root, cands, req)
	if err != nil {
		c := changes[order[0]]
		changes[order[0]] = c.failed(explain(err))
		return notAttempted(order, changes, fmt.Sprintf("not installed: it goes with %s, which cannot be installed", order[0]))
	}
	for _, h := range append(plan.Recommends, plan.Suggests...) {
		name := strings.Fields(h.From)[0]
		c := changes[name]
		c.Hints = append(c.Hints, strings.TrimPrefix(h.String(), h.From+": "))
		changes[name] = c
	}
	if len(steps) == 1 && steps[0].Action == resolve.ActionInstall && !opts.DryRun {
		c := changes[steps[0].Name]
		c.Name, c.Path, c.To = steps[0].Name, filepath.Join(root, steps[0].Name), steps[0].cand.Release.Version
		var inject func(string) error
		if opts.Inject != nil {
			inject = func(step string) error { return opts.Inject(steps[0].Name, step) }
		}
		if _, ok := changes[steps[0].Name]; !ok {
			order = append(order, steps[0].Name)
		}
		ch := u.installNew(ctx, root, *steps[0].cand, c, u.lockTimeout(), inject)
		u.record(ctx, root, pkgdir.HistoryInstall, &ch, opts.By)
		changes[steps[0].Name] = ch
		return orderedChanges(order, changes)
	}
	for _, c := range u.applySteps(ctx, root, steps, opts) {
		if old, ok := changes[c.Name]; ok {
			c.Hints = old.Hints
			if c.News == "" {
				c.News = old.News
			}
		} else {
			order = append(order, c.Name)
		}
		changes[c.Name] = c
	}
	// A requested package the plan had no step for is installed already.
	for _, n := range order {
		if c := changes[n]; c.Status == "" {
			c.Status = StatusUpToDate
			changes[n] = c
		}
	}
	return orderedChanges(order, changes)
}

// notAttempted marks every change of order not failed already as skipped
// with reason, and lists them in order.
func notAttempted(order []string, changes map[string]Change, reason string) []Change {
	for _, n := range order {
		if c := changes[n]; c.Status != StatusFailed {
			changes[n] = c.skipped(reason)
		}
	}
	return orderedChanges(order, changes)
}

func orderedChanges(order []string, changes map[string]Change) []Change {
	out := make([]Change, 0, len(order))
	for _, n := range order {
		out = append(out, changes[n])
	}
	return out
}

// planWith solves req over what is installed and cands, and returns the
// steps with what carries each out. When it cannot be met, the older
// releases of each candidate's source that say what they need (a Lister,
// with a ManifestReader or releases that carry their requirements) are
// tried too.
func (u *Updater) planWith(ctx context.Context, root string, cands []Candidate, req resolve.Request) ([]planStep, *resolve.Plan, error) {
	set, err := u.loadInstalled([]string{root})
	if err != nil {
		return nil, nil, err
	}
	steps, plan, err := u.solveSteps(set, cands, req)
	if !errors.Is(err, resolve.ErrUnsatisfiable) {
		return steps, plan, err
	}
	more := slices.Clone(cands)
	for _, c := range cands {
		more = append(more, u.olderCandidates(ctx, c)...)
	}
	if len(more) == len(cands) {
		return nil, nil, err
	}
	if steps, plan, err2 := u.solveSteps(set, more, req); err2 == nil || !errors.Is(err2, resolve.ErrUnsatisfiable) {
		return steps, plan, err2
	}
	return nil, nil, err
}

// olderCandidates are c's source's releases older than c whose
// requirements are known, newest first, at most maxOlderLookups looked at.
func (u *Updater) olderCandidates(ctx context.Context, c Candidate) []Candidate {
	lister, ok := c.Source.(sources.Lister)
	if !ok {
		return nil
	}
	list, err := lister.Versions(ctx, c.Query)
	if err != nil {
		return nil
	}
	v, err := ParseVersion(c.Release.Version)
	if err != nil {
		return nil
	}
	reader, canRead := c.Source.(sources.ManifestReader)
	var out []Candidate
	for i, rel := range olderReleases(list, nil, v) {
		if i >= maxOlderLookups {
			break
		}
		if !rel.RequirementsKnown {
			if !canRead {
				continue
			}
			if rel, err = reader.ReleaseManifest(ctx, c.Query, rel); err != nil {
				continue
			}
		}
		if !rel.Resolved {
			if rel, err = c.Source.Resolve(ctx, c.Query, rel); err != nil {
				continue
			}
		}
		out = append(out, Candidate{Name: c.Name, UpdateURL: c.UpdateURL, Source: c.Source, Query: c.Query, Release: rel})
	}
	return out
}

// solveSteps runs the solver and ties its steps to candidates and
// installed packages.
func (u *Updater) solveSteps(set *installedSet, cands []Candidate, req resolve.Request) ([]planStep, *resolve.Plan, error) {
	var pkgs []resolve.Package
	var names []string
	for _, c := range cands {
		p, err := candidate(c.Name, c.Release)
		if err != nil {
			return nil, nil, err
		}
		pkgs = append(pkgs, p)
		names = append(names, c.Name)
	}
	for _, w := range req.Install {
		names = append(names, w.Name)
	}
	names = append(names, req.Update...)
	plan, err := resolve.Solve(set.system(names, pkgs), req)
	if err != nil {
		return nil, nil, err
	}
	var steps []planStep
	for _, st := range plan.Steps {
		ps := planStep{Step: st}
		if st.To != nil {
			i := slices.IndexFunc(cands, func(c Candidate) bool {
				v, err := ParseVersion(c.Release.Version)
				return c.Name == st.Name && err == nil && v.Equal(st.To)
			})
			if i < 0 {
				return nil, nil, fmt.Errorf("%s %s: the plan chose a version no source offered", st.Name, st.To)
			}
			ps.cand = &cands[i]
		}
		if st.From != nil {
			p, ok := set.pkgs[st.Name]
			if !ok {
				return nil, nil, fmt.Errorf("%s: the plan changes a package that is not installed", st.Name)
			}
			ps.pkg = &p
		}
		steps = append(steps, ps)
	}
	return steps, plan, nil
}

// UpdateSet brings installed packages (the named ones, or all with all)
// to the newest releases that fit together, planned as one. A package
// whose newest release would break an installed one is held back (with
// the reason), unless a newer release of that one, which fits, comes in
// the same change; packages that must change together are changed in one
// transaction. installed is every package of the roots.
//
// A named package that is held is left as it is (status held); a package
// whose name is in two roots, or that opts.To names, is updated on its own
// (Update). With names (not all), changes after a failure are not
// attempted.
func (u *Updater) UpdateSet(ctx context.Context, installed []pkgdir.Package, names []string, all bool, opts SetOptions) []Change {
	var targets []pkgdir.Package
	if all {
		targets = installed
	} else {
		for _, n := range names {
			if p, err := pkgdir.Find(installed, n); err == nil {
				targets = append(targets, p)
			} else {
				targets = append(targets, pkgdir.Package{Name: n, Err: err})
			}
		}
	}
	one := UpdateOptions{To: opts.To, DryRun: opts.DryRun, Force: opts.Force, By: opts.By}
	if opts.Inject != nil {
		one.Inject = func(step string) error { return opts.Inject("", step) }
	}
	if opts.To != "" {
		var out []Change
		for _, p := range targets {
			out = append(out, u.Update(ctx, p, one))
		}
		return out
	}
	set := u.installedOf(installed)
	lazy := &lazyInstalled{load: func() (*installedSet, error) { return set, nil }, holds: pkgdir.HoldsOf(installed)}
	changes := map[string]Change{}
	var order []string
	var cands []Candidate
	var planned []string
	newest := map[string]string{}
	var alone []pkgdir.Package
	for _, p := range targets {
		key := p.Dir
		if key == "" {
			key = p.Name
		}
		order = append(order, key)
		if p.Err != nil && p.Manifest == nil && p.Dir == "" {
			c := Change{Name: p.Name}
			changes[key] = c.failed(p.Err)
			continue
		}
		if first, ok := set.pkgs[p.Name]; !ok || first.Dir != p.Dir {
			alone = append(alone, p) // shadowed, or not comparable
			continue
		}
		c := Change{Name: p.Name, From: p.Version(), Path: p.Dir}
		if reason, ok := u.untouchable(p, false); !ok {
			if p.Err != nil {
				changes[key] = c.failed(p.Err)
			} else {
				changes[key] = c.skipped(reason)
			}
			continue
		}
		if h := p.Layout().HoldOf(p.Name); h != nil {
			c.Status, c.Reason = StatusHeld, heldReason(p.Name, h)
			changes[key] = c
			continue
		}
		r := u.checkOne(ctx, p, lazy)
		c.Warnings = r.Warnings
		c.To = r.Available
		switch r.Status {
		case StatusUpToDate:
			c.Status = StatusUpToDate
		case StatusRemoteOlder:
			c = c.skipped(fmt.Sprintf("installed %s is newer than the release %s (use --to %s to go down)", c.From, r.Available, r.Available))
		case StatusUnreleased:
			c = c.skipped(fmt.Sprintf("%s is not released yet: %s", r.Available, Detail(p.Name, r.Err.Error())))
		case StatusError, StatusSignatureInvalid:
			c = c.failed(r.Err)
		case StatusUpdateAvailable, StatusHeldBack:
			src, err := u.Sources.SourceOf(ctx, p)
			if err != nil {
				c = c.failed(err)
				break
			}
			add := func(rel Result) {
				cands = append(cands, Candidate{Name: p.Name, UpdateURL: p.Manifest.UpdateURL, Source: src, Query: u.Query(p), Release: rel.Release})
			}
			add(r)
			if r.Status == StatusHeldBack {
				newest[p.Name] = r.Newest
				if r.Available != "" {
					// The newest may fit beside other updates; the older
					// one that fits alone is a candidate too.
					add(Result{Release: r.newest})
				}
			}
			planned = append(planned, p.Name)
			c.Status = StatusUpToDate // until the plan says otherwise
		}
		changes[key] = c
	}

	var steps []planStep
	var plan *resolve.Plan
	if len(planned) > 0 {
		var err error
		steps, plan, err = u.solveSteps(set, cands, resolve.Request{Update: planned})
		if err != nil {
			// The installed set is not consistent enough to plan: each
			// package on its own, as before requirements.
			for _, n := range planned {
				alone = append(alone, set.pkgs[n])
				delete(changes, set.pkgs[n].Dir)
			}
			steps, plan = nil, nil
		}
	}
	if plan != nil {
		for _, h := range plan.HeldBack {
			p := set.pkgs[h.Name]
			c := changes[p.Dir]
			c.Newest, c.Reason = h.Newest.String(), h.Reason
			if h.Chosen.Equal(h.Installed) {
				c.Status, c.To = StatusHeldBack, ""
			}
			changes[p.Dir] = c
		}
	}
	stopped := !all && slices.ContainsFunc(order, func(k string) bool { return changes[k].Status == StatusFailed })
	for _, group := range groups(steps) {
		if ctx.Err() != nil || stopped {
			why := "not attempted: interrupted"
			if stopped {
				why = "not attempted after an earlier failure (--all goes on past failures)"
			}
			for _, st := range group {
				key := stepKey(st)
				c := changes[key]
				if c.Name == "" {
					c = Change{Name: st.Name}
					order = append(order, key)
				}
				changes[key] = c.skipped(why)
			}
			continue
		}
		var got []Change
		if len(group) == 1 && group[0].pkg != nil && group[0].cand != nil && !opts.DryRun {
			st := group[0]
			rel := st.cand.Release
			ch := u.Update(ctx, *st.pkg, UpdateOptions{Resolved: &rel, Force: opts.Force, Inject: one.Inject, By: opts.By, installed: set})
			if ch.Status == StatusUpdated {
				set.replace(*st.pkg)
			}
			got = []Change{ch}
		} else {
			got = u.applySteps(ctx, groupRoot(group), group, opts)
		}
		for i, ch := range got {
			key := stepKey(group[i])
			if old, ok := changes[key]; ok {
				ch.Newest, ch.Reason = old.Newest, cmpReason(ch, old)
				ch.Warnings = append(old.Warnings, ch.Warnings...)
			} else {
				order = append(order, key)
			}
			changes[key] = ch
			if ch.Status == StatusFailed && !all {
				stopped = true
			}
		}
	}
	if !all {
		// With names, what comes after a failure is not attempted.
		failed := false
		for _, k := range order {
			c := changes[k]
			if failed && (c.Status == StatusUpToDate || c.Status == StatusHeldBack) {
				changes[k] = c.skipped("not attempted after an earlier failure (--all goes on past failures)")
			}
			failed = failed || c.Status == StatusFailed
		}
	}
	out := orderedChanges(order, changes)
	for _, p := range alone {
		if ctx.Err() != nil {
			out = append(out, Change{Name: p.Name, From: p.Version(), Status: StatusSkipped, Reason: "not attempted: interrupted"})
			continue
		}
		out = append(out, u.Update(ctx, p, one))
	}
	return out
}

// cmpReason keeps the planner's reason (what was held back) unless the
// change says something itself.
func cmpReason(ch, planned Change) string {
	if ch.Reason != "" {
		return ch.Reason
	}
	return planned.Reason
}

// stepKey is the key of a step's change: the package folder of what is
// installed, else the name.
func stepKey(st planStep) string {
	if st.pkg != nil {
		return st.pkg.Dir
	}
	return st.Name
}

// groupRoot is the root of the first installed package a group changes.
func groupRoot(group []planStep) string {
	for _, st := range group {
		if st.pkg != nil {
			return st.pkg.Root
		}
	}
	return ""
}

// stepDir is the package folder a step changes: the installed one, or
// root/NAME for a new package.
func stepDir(st planStep, root string) string {
	if st.pkg != nil {
		return st.pkg.Dir
	}
	return filepath.Join(root, st.Name)
}

// groups splits a plan's steps into groups of packages that must change
// together: two steps belong together when what either installs, or what
// is installed of either, names the other in a requirement field
// (requires, conflicts, breaks, replaces) or provides a name the other
// names. Steps keep their order (dependencies first) within a group, and
// groups come in the order of their first step.
func groups(steps []planStep) [][]planStep {
	parent := make([]int, len(steps))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	names := make([][]string, len(steps))
	for i, st := range steps {
		names[i] = append(names[i], st.Name)
		if st.cand != nil {
			names[i] = append(names[i], mentions(st.cand.Release.Requirements)...)
		}
		if st.pkg != nil && st.pkg.Manifest != nil {
			names[i] = append(names[i], mentions(st.pkg.Manifest.Requirements)...)
		}
	}
	for i := range steps {
		for j := i + 1; j < len(steps); j++ {
			if slices.Contains(names[i], steps[j].Name) || slices.Contains(names[j], steps[i].Name) ||
				strings.HasPrefix(steps[i].Reason, "replaced by "+steps[j].Name+" ") ||
				strings.HasPrefix(steps[j].Reason, "replaced by "+steps[i].Name+" ") {
				parent[find(j)] = find(i)
			}
		}
	}
	var out [][]planStep
	index := map[int]int{}
	for i, st := range steps {
		r := find(i)
		g, ok := index[r]
		if !ok {
			g = len(out)
			index[r] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], st)
	}
	return out
}

// applySteps carries out a group of steps in root as one transaction:
// every package's lock (in name order), what a killed process left
// settled, every release downloaded, verified, extracted and judged
// against what is installed by its own manifest, then one journaled
// change. When anything fails before the transaction, nothing changes.
func (u *Updater) applySteps(ctx context.Context, root string, steps []planStep, opts SetOptions) []Change {
	changes := u.applyGroup(ctx, root, steps, opts)
	for i, st := range steps {
		action := pkgdir.HistoryUpdate
		switch {
		case st.Action == resolve.ActionRemove:
			action = pkgdir.HistoryRemove
		case st.pkg == nil:
			action = pkgdir.HistoryInstall
		}
		u.record(ctx, root, action, &changes[i], opts.By)
	}
	return changes
}

func (u *Updater) applyGroup(ctx context.Context, root string, steps []planStep, opts SetOptions) []Change {
	changes := make([]Change, len(steps))
	for i, st := range steps {
		c := Change{Name: st.Name, Path: stepDir(st, root)}
		if st.From != nil {
			c.From = st.pkg.Version()
		}
		if st.To != nil {
			c.To = st.cand.Release.Version
			c.News = st.cand.Release.News
			c.ReleaseNotes = releaseNotes(st.cand.Release, st.cand.Release.News)
		}
		if st.Reason != "requested" {
			c.Reason = st.Reason
		}
		changes[i] = c
	}
	failAll := func(i int, err error) []Change {
		for j := range changes {
			if j == i {
				changes[j] = changes[j].failed(err)
			} else {
				changes[j] = changes[j].skipped(fmt.Sprintf("not changed: it goes with %s, which failed", steps[i].Name))
			}
		}
		return changes
	}
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.Name
		if dir := filepath.Dir(stepDir(st, root)); dir != root {
			return failAll(i, fmt.Errorf("%s is in %s, and the packages it changes with are in %s: modup changes several packages together in one root only; move them into one root, or change them one by one", st.Name, dir, root))
		}
	}
	if opts.DryRun {
		for i, st := range steps {
			switch {
			case st.Action == resolve.ActionRemove:
				changes[i].Status = StatusWouldRemove
			case st.pkg == nil:
				changes[i].Status = StatusWouldInstall
			default:
				changes[i].Status = StatusWouldUpdate
			}
		}
		return changes
	}
	l := pkgdir.Layout{Root: root}
	if err := makeRoot(root); err != nil {
		return failAll(0, err)
	}
	locks, err := l.LockAll(ctx, names, u.lockTimeout())
	if err != nil {
		return failAll(0, err)
	}
	defer func() {
		for _, lk := range locks {
			lk.Unlock()
		}
	}()
	// What a killed process left is settled, and each package must still
	// be as planned.
	for i, st := range steps {
		if err := settle(l, st.Name, &changes[i]); err != nil {
			return failAll(i, err)
		}
		dir := stepDir(st, root)
		fresh, ok := pkgdir.Load(root, dir)
		switch {
		case st.pkg == nil && ok:
			return failAll(i, fmt.Errorf("%s is already installed at %s: use `modup update %s`", st.Name, dir, st.Name))
		case st.pkg != nil && (!ok || fresh.Version() != st.pkg.Version()):
			return failAll(i, fmt.Errorf("%s changed while modup waited for its lock (now %q, planned from %s): run the command again", st.Name, fresh.Version(), st.From))
		}
	}
	var stages []*staged
	defer func() {
		for _, st := range stages {
			l.RemoveTemp(st.folder)
		}
	}()
	byName := map[string]*staged{}
	for i, st := range steps {
		if st.cand == nil {
			continue
		}
		old := ""
		rel := st.cand.Release
		signed := st.cand.signed
		var pin *pkgdir.Pin
		if st.pkg != nil || signed == nil {
			if st.pkg != nil {
				old = st.pkg.Version()
				if pin, err = ReadPin(l, st.Name); err != nil {
					return failAll(i, err)
				}
			}
			if signed, err = u.verifySignature(ctx, st.cand.Source, st.Name, pin, &rel, false); err != nil {
				return failAll(i, err)
			}
		}
		changes[i].Trust = trustNote(st.Name, pin, signed)
		sg, warnings, err := u.stage(ctx, l, st.Name, st.cand.Source, rel,
			installTarget{oldVersion: old, updateURL: st.cand.UpdateURL, force: opts.Force, signed: signed, pin: pin, repo: keptRepo(l, st.Name, rel)})
		changes[i].Warnings = append(changes[i].Warnings, warnings...)
		if err != nil {
			return failAll(i, err)
		}
		stages = append(stages, sg)
		byName[st.Name] = sg
	}
	hints, err := u.gatePlan(root, steps, byName)
	if err != nil {
		return failAll(0, err)
	}
	changes[0].Warnings = append(changes[0].Warnings, hints...)
	var members []pkgdir.TxnMember
	for _, st := range steps {
		m := pkgdir.TxnMember{Name: st.Name}
		switch {
		case st.Action == resolve.ActionRemove:
			m.Op, m.OldVersion = pkgdir.TxnRemove, st.pkg.Version()
		case st.pkg == nil:
			m.Op = pkgdir.TxnInstall
		default:
			m.Op, m.OldVersion = pkgdir.TxnUpdate, st.pkg.Version()
		}
		if sg := byName[st.Name]; sg != nil {
			m.Staged, m.StagedHash, m.StagedFiles, m.NewVersion, m.Record = sg.root, sg.hash, sg.files, sg.rel.Version, sg.record()
		}
		members = append(members, m)
	}
	backups, err := l.Transact(ctx, members, opts.Inject)
	if err != nil {
		if u.txnPending(l, names) {
			stages = nil // the journal names them: Recover's to settle
		}
		return failAll(0, err)
	}
	for i, st := range steps {
		c := &changes[i]
		switch {
		case st.Action == resolve.ActionRemove:
			c.Status = StatusRemoved
		case st.pkg == nil:
			c.Status = StatusInstalled
		default:
			c.Status = StatusUpdated
		}
		if b := backups[st.Name]; b != "" {
			var warnings []string
			c.Backup, warnings = u.prune(l, st.Name, b)
			c.Warnings = append(c.Warnings, warnings...)
		}
	}
	return changes
}

// txnPending reports whether a transaction naming one of names is
// pending in l.
func (u *Updater) txnPending(l pkgdir.Layout, names []string) bool {
	for _, n := range names {
		if l.Pending(n) {
			return true
		}
	}
	return false
}

// gatePlan is gate for a group of steps: the staged releases, as their
// own manifests declare them, must fit together beside everything else
// installed, with exactly these changes.
func (u *Updater) gatePlan(root string, steps []planStep, byName map[string]*staged) ([]string, error) {
	set, err := u.loadInstalled([]string{root})
	if err != nil {
		return nil, err
	}
	var cands []resolve.Package
	var req resolve.Request
	var names []string
	for _, st := range steps {
		names = append(names, st.Name)
		if st.Action == resolve.ActionRemove {
			req.Remove = append(req.Remove, st.Name)
			continue
		}
		sg := byName[st.Name]
		if err := sg.manifest.Supported(); err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		v, err := ParseVersion(sg.rel.Version)
		if err != nil {
			return nil, err
		}
		cands = append(cands, resolve.Package{Name: st.Name, Version: v, Requirements: sg.manifest.Requirements})
		req.Install = append(req.Install, resolve.Want{Name: st.Name, Constraint: resolve.Exact(v)})
	}
	req.Prereleases = true
	plan, err := resolve.Solve(set.system(names, cands), req)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be installed here as their own manifests say: %w", strings.Join(names, ", "), err)
	}
	for _, st := range plan.Steps {
		if !slices.Contains(names, st.Name) {
			return nil, fmt.Errorf("%s would need %s too: %w", strings.Join(names, ", "), st, ErrNeedsPlan)
		}
	}
	return hostHints(plan.Warnings), nil
}

// makeRoot creates root (0777 less the umask, as mkdir(1) makes it).
func makeRoot(root string) error {
	if err := os.MkdirAll(root, 0o777); err != nil {
		return fmt.Errorf("create root %s: %w", root, err)
	}
	return nil
}

// unoffered lists the packages the candidates require that are neither
// installed nor among the candidates (nor provided by them): modup has
// no release of them to offer.
func (u *Updater) unoffered(root string, cands []Candidate) []string {
	set, err := u.loadInstalled([]string{root})
	if err != nil {
		return nil
	}
	have := map[string]bool{}
	for _, c := range cands {
		have[c.Name] = true
		for _, n := range c.Release.Requirements.Provides {
			have[n] = true
		}
		for n := range c.Release.Requirements.Replaces {
			have[n] = true
		}
	}
	for n, in := range set.byName {
		have[n] = true
		for _, p := range in.Provides {
			have[p] = true
		}
	}
	var out []string
	for _, c := range cands {
		for n := range c.Release.Requirements.Packages {
			if !have[n] && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// missingHint says how to install what no URL offered.
func missingHint(missing, urls []string) string {
	var args []string
	for _, n := range missing {
		args = append(args, "URL-OF-"+n)
	}
	return fmt.Sprintf("%s: not installed, and no URL given offers it: pass its update_url too (`modup install %s %s`)",
		strings.Join(missing, ", "), strings.Join(args, " "), strings.Join(urls, " "))
}
