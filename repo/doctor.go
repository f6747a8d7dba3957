package repo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// InstalledFrom maps each repository that an install record of pkgs names
// to the names of the packages installed from it (sorted): as the scan
// noted it, else from each root's records.
func InstalledFrom(pkgs []pkgdir.Package) map[string][]string {
	out := map[string][]string{}
	records := map[string]map[string]pkgdir.Record{}
	for _, p := range pkgs {
		name := ""
		if n, ok := p.Noted(); ok {
			name = n.Repo
		} else {
			recs, ok := records[p.Root]
			if !ok {
				recs, _ = pkgdir.Layout{Root: p.Root}.Records()
				records[p.Root] = recs
			}
			name = recs[p.Name].Repo
		}
		if name != "" && !slices.Contains(out[name], p.Name) {
			out[name] = append(out[name], p.Name)
		}
	}
	for _, names := range out {
		slices.Sort(names)
	}
	return out
}

// Doctor is what `modup doctor` says of the repositories, each finding
// with what to do: an enabled repository that cannot be read now (asked
// with one refresh; offline, the last time a command asked it), one whose
// copy is older than StaleFactor × MaxAge or was never read (its packages
// are then checked at their authors' sources), and a disabled repository
// that installed packages (pkgs) were installed from. (A removed one is
// not a finding: check says so every run, and nothing undoes it but
// adding it again.)
func Doctor(ctx context.Context, c *Client, l *List, pkgs []pkgdir.Package, offline bool) []updater.Finding {
	var out []updater.Finding
	add := func(r, kind, text, fix string) {
		out = append(out, updater.Finding{Repo: r, Kind: kind, Text: text, Fix: fix})
	}
	from := InstalledFrom(pkgs)
	limit := StaleFactor * c.maxAge()
	for _, r := range l.Repos {
		names := from[r.Name]
		if !r.Enabled {
			if len(names) > 0 {
				add(r.Name, updater.FindingRepoDisabled, fmt.Sprintf("disabled, and %s installed from it: %s", packagesNamed(names), checkedDirectly(names)),
					enableFix(r))
			}
			continue
		}
		failed := ""
		if !offline {
			if res := c.Refresh(ctx, r); res.Err != nil {
				failed = strings.TrimPrefix(res.Err.Error(), "repository "+r.Name+": ")
			}
		}
		st := c.Status(r)
		if offline && st.Error != "" {
			failed = strings.TrimPrefix(st.Error, "repository "+r.Name+": ") + " (the last time it was asked)"
		}
		age := c.now().Sub(st.Refreshed)
		stale := st.Refreshed.IsZero() || age > limit
		consequence := ""
		switch {
		case st.Refreshed.IsZero():
			consequence = "nothing of it is cached: search and install by name cannot use it"
		case stale:
			consequence = fmt.Sprintf("its copy is %s old, more than %d × repo_max_age (%s)", Ago(age), StaleFactor, Ago(limit))
		case failed != "":
			consequence = fmt.Sprintf("its copy from %s ago is used", Ago(age))
		}
		if stale && len(names) > 0 {
			consequence += fmt.Sprintf(", and %s installed from it: %s", packagesNamed(names), checkedDirectly(names))
		}
		switch {
		case failed != "":
			where := "its URL (`modup repo list`) and the network"
			if r.Folder() {
				where = "that its folder is there (a share not mounted?)"
			}
			add(r.Name, updater.FindingRepoUnreachable, fmt.Sprintf("cannot be read: %s; %s", failed, consequence),
				fmt.Sprintf("check %s, then `modup repo refresh %s`; if it is gone for good: %s", where, r.Name, disableFix(r)))
		case stale:
			add(r.Name, updater.FindingRepoStale, consequence, fmt.Sprintf("modup repo refresh %s", r.Name))
		}
	}
	return out
}

// packagesNamed says "1 package (a)", "3 packages (a, b, c)", at most five
// names.
func packagesNamed(names []string) string {
	shown := strings.Join(names[:min(len(names), 5)], ", ")
	if len(names) > 5 {
		shown += fmt.Sprintf(", and %d more", len(names)-5)
	}
	if len(names) == 1 {
		return "1 package (" + shown + ") was"
	}
	return fmt.Sprintf("%d packages (%s) were", len(names), shown)
}

// checkedDirectly says that names are checked at their authors' sources.
func checkedDirectly(names []string) string {
	if len(names) == 1 {
		return "it is checked at its author's source"
	}
	return "they are checked at their authors' sources"
}

// enableFix and disableFix say how to enable or disable r: a command, or
// the configuration file's line for a repository declared there.
func enableFix(r Repo) string {
	if r.From != "" {
		return fmt.Sprintf("set enabled = true in %s", r.From)
	}
	return "modup repo enable " + r.Name
}

func disableFix(r Repo) string {
	if r.From != "" {
		return fmt.Sprintf("set enabled = false in %s", r.From)
	}
	return "modup repo disable " + r.Name
}
