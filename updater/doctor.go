package updater

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
)

// Finding is one problem `modup doctor` reports, with the command that
// fixes it: `doctor --json`'s shape.
type Finding struct {
	Package string `json:"package,omitempty"`
	// Repo is the repository a repository's finding is about.
	Repo string `json:"repo,omitempty"`
	// Kind is what is wrong: a resolve.Problem* kind (requires, missing,
	// host, platform, conflicts, breaks, replaces), or duplicate,
	// modified, held, manifest, version, leftover, or of the repositories:
	// repo-list, repo-unreachable, repo-stale, repo-disabled.
	Kind string `json:"kind"`
	Text string `json:"text"`
	Fix  string `json:"fix"`
}

// Kinds of Finding besides resolve's.
const (
	FindingDuplicate = "duplicate"
	FindingModified  = "modified"
	FindingHeld      = "held"
	FindingManifest  = "manifest"
	FindingVersion   = "version"
	FindingLeftover  = "leftover"

	// FindingRepoList: the list of repositories cannot be read.
	FindingRepoList = "repo-list"
	// FindingRepoUnreachable: an enabled repository cannot be read.
	FindingRepoUnreachable = "repo-unreachable"
	// FindingRepoStale: a repository's copy is too old to check with, or
	// there is none.
	FindingRepoStale = "repo-stale"
	// FindingRepoDisabled: packages were installed from a repository
	// that is disabled.
	FindingRepoDisabled = "repo-disabled"
)

// DoctorOptions tune Doctor.
type DoctorOptions struct {
	// Offline skips what needs the network: whether held packages are
	// behind.
	Offline bool
}

// Doctor looks over the roots for what is wrong, each finding with the
// command that fixes it: requirements unmet and conflicts between the
// installed packages, a package name in two roots, files changed since
// modup installed them (Verify), held packages that are behind, manifests
// and versions modup cannot read, and what modup could not settle
// (interrupted changes, files it set aside). It changes nothing but what
// every command settles first (Recover).
func (u *Updater) Doctor(ctx context.Context, roots []string, opts DoctorOptions) []Finding {
	var out []Finding
	add := func(pkg, kind, text, fix string) {
		out = append(out, Finding{Package: pkg, Kind: kind, Text: text, Fix: fix})
	}
	var present []string
	for _, root := range roots {
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			continue
		}
		present = append(present, root)
		l := pkgdir.Layout{Root: root}
		if _, err := l.Recover(ctx); err != nil {
			add("", FindingLeftover, fmt.Sprintf("in %s, modup could not settle everything: %v", root, err), "fix what the message names; every modup command tries again first")
		}
		left, err := l.Leftovers()
		if err != nil {
			add("", FindingLeftover, err.Error(), "fix what the message names")
		}
		for _, lo := range left {
			if lo.What == "journal" {
				add("", FindingLeftover, fmt.Sprintf("an interrupted change is still pending: %s", lo.Path), "`modup list` says why it cannot be settled; fix that, or move the journal away once the package is as you want it")
				continue
			}
			add("", FindingLeftover, fmt.Sprintf("%s was set aside by an earlier run (modup could not use it)", lo.Path), "inspect it, then delete it: rm -r "+lo.Path)
		}
	}
	pkgs, err := pkgdir.Scan(present)
	if err != nil {
		add("", FindingLeftover, err.Error(), "fix the roots (--root, MODUP_ROOTS, roots in the configuration file)")
		return out
	}
	var disabled []pkgdir.Package
	for _, root := range present {
		d, _ := pkgdir.Layout{Root: root}.Disabled()
		disabled = append(disabled, d...)
	}

	first := map[string]pkgdir.Package{}
	for _, p := range pkgs {
		if f, ok := first[p.Name]; ok {
			add(p.Name, FindingDuplicate, fmt.Sprintf("%s is in %s and in %s; requirements and commands use the first", p.Name, f.Root, p.Root),
				fmt.Sprintf("modup remove %s --root %s", p.Name, p.Root))
			continue
		}
		first[p.Name] = p
		switch {
		case p.Err != nil:
			add(p.Name, FindingManifest, p.Err.Error(), "fix "+p.ManifestPath()+" (the message names the line), or reinstall it: modup update "+p.Name+" --to VERSION --force")
			continue
		case p.Manifest.Supported() != nil:
			add(p.Name, FindingManifest, p.Manifest.Supported().Error(), "update modup")
		}
		if _, err := ParseVersion(p.Version()); err != nil {
			add(p.Name, FindingVersion, fmt.Sprintf("%s: installed version %v: its requirements are not judged and it is never updated on its own", p.Name, err),
				fmt.Sprintf("modup update %s --to VERSION", p.Name))
		}
		if v := Verify(p); v.Differs() {
			what := "its files differ"
			switch n := len(v.Modified) + len(v.Missing) + len(v.Added); {
			case n == 1:
				what = "1 file differs"
			case n > 1:
				what = fmt.Sprintf("%d files differ", n)
			}
			add(p.Name, FindingModified, fmt.Sprintf("%s from what modup installed (%s)", what, p.Version()),
				fmt.Sprintf("`modup verify %s` lists them; if the change is not wanted: modup update %s --to %s --force", p.Name, p.Name, p.Version()))
		}
	}

	set := u.installedOf(pkgs)
	var all []resolve.Installed
	for _, in := range set.byName {
		all = append(all, in)
	}
	slices.SortFunc(all, func(a, b resolve.Installed) int { return strings.Compare(a.Name, b.Name) })
	probs, err := resolve.Problems(resolve.System{Host: u.Host, Platform: u.Platform, Installed: all})
	if err != nil {
		add("", FindingLeftover, err.Error(), "report this: modup could not judge the installed set")
	}
	off := map[string]bool{}
	for _, p := range disabled {
		off[p.Name] = true
	}
	for _, pr := range probs {
		add(pr.Name, pr.Kind, pr.Text, problemFix(pr, off))
	}

	if !opts.Offline {
		holds := pkgdir.HoldsOf(pkgs)
		for _, p := range pkgs {
			if holds[p.Dir] == nil || first[p.Name].Dir != p.Dir || p.Dev || p.Manifest == nil || p.Manifest.UpdateURL == "" {
				continue
			}
			if v := u.heldBehind(ctx, p, set); v != "" {
				why := ""
				if h := holds[p.Dir]; h.Reason != "" {
					why = " (" + h.Reason + ")"
				}
				add(p.Name, FindingHeld, fmt.Sprintf("held at %s%s; %s is available and fits", p.Version(), why, v),
					fmt.Sprintf("modup unhold %s && modup update %s", p.Name, p.Name))
			}
		}
	}
	return out
}

// problemFix is the command that fixes a problem of the installed set
// (off: the disabled packages).
func problemFix(pr resolve.Problem, off map[string]bool) string {
	switch pr.Kind {
	case resolve.ProblemRequires, resolve.ProblemBreaks:
		return fmt.Sprintf("modup update %s (or go back: modup rollback %s)", pr.Other, pr.Name)
	case resolve.ProblemMissing:
		if off[pr.Other] {
			return "modup enable " + pr.Other
		}
		return fmt.Sprintf("modup install URL-OF-%s (its update_url), or remove what needs it: modup remove %s", pr.Other, pr.Name)
	case resolve.ProblemHost:
		return fmt.Sprintf("update the host and tell modup its version (host_version, MODUP_HOST_VERSION or --host-version), or go back: modup rollback %s", pr.Name)
	case resolve.ProblemPlatform:
		return "modup disable " + pr.Name
	case resolve.ProblemConflicts:
		return fmt.Sprintf("remove one of them: modup remove %s (or modup remove %s)", pr.Name, pr.Other)
	case resolve.ProblemReplaces:
		return "modup remove " + pr.Other
	}
	return ""
}

// heldBehind is the release an update would install over the held p were
// it not held (what fits, as check judges it), "" when there is none.
func (u *Updater) heldBehind(ctx context.Context, p pkgdir.Package, set *installedSet) string {
	r := u.CheckOne(ctx, p)
	if r.Status != StatusHeld {
		return ""
	}
	if cmp, err := CompareVersions(r.Available, r.Installed); err != nil || cmp <= 0 {
		return ""
	}
	src, err := u.Sources.Registry.For(p.Manifest.UpdateURL)
	if err != nil {
		return ""
	}
	// What check decided before it saw the hold: is it installable?
	r.Status, r.Hold = StatusUpdateAvailable, nil
	u.judge(ctx, src, u.Query(p), &r, set)
	if !r.Installable() {
		return ""
	}
	return r.Available
}
