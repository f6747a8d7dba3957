package main

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modup/modup/internal/plaintext"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print modup's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.stdout, versionLine())
			return err
		},
	}
}

// versionLine is what `modup version` and `modup --version` print.
func versionLine() string {
	return fmt.Sprintf("modup %s (%s, %s/%s)", modupVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// listEntry is `list --json`'s shape: check's without the remote fields.
type listEntry struct {
	Name      string         `json:"name"`
	Path      string         `json:"path"`
	Installed string         `json:"installed,omitempty"`
	Status    updater.Status `json:"status,omitempty"`
	UpdateURL string         `json:"update_url,omitempty"`
	Error     string         `json:"error,omitempty"`
}

func (a *app) listCmd() *cobra.Command {
	var asJSON, available, all bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the packages in the roots (no network); --available what the repositories offer",
		Long: `List the packages in the roots, without asking any source.
--available lists what the enabled repositories offer (from their indexes,
asked when the copy modup has is older than repo_max_age), --all the
installed and the available together.`,
		Example: `  modup list --root ~/a2/modules
  modup list --json
  modup list --available
  modup list --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if available && all {
				return &exitError{code: exitUsage, err: errors.New("--available and --all: give one")}
			}
			if available {
				return a.listAvailable(cmd.Context(), nil, false, asJSON)
			}
			pkgs, err := a.scan(cmd.Context())
			if err != nil {
				return err
			}
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			off, err := pkgdir.DisabledIn(roots)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			pkgs = append(pkgs, off...)
			holds := pkgdir.HoldsOf(pkgs)
			if all {
				return a.listAvailable(cmd.Context(), pkgs, true, asJSON)
			}
			entries := make([]listEntry, 0, len(pkgs))
			for _, p := range pkgs {
				b := updater.DescribeBrief(p)
				switch {
				case p.Disabled:
					b.Status = updater.StatusDisabled
				case b.Status == "" && holds[p.Dir] != nil:
					b.Status = updater.StatusHeld
				}
				e := listEntry{Name: p.Name, Path: p.Dir, Installed: p.Version(), Status: b.Status, UpdateURL: b.UpdateURL}
				if b.Err != nil {
					e.Error = b.Err.Error()
				}
				entries = append(entries, e)
			}
			return showRows(a, asJSON, entries, rowsView[listEntry]{
				key:    "packages",
				none:   noPackages,
				header: []string{"NAME", "VERSION", "KIND", "UPDATE_URL"},
				cells: func(e listEntry) []string {
					return []string{e.Name, e.Installed, string(e.Status), e.UpdateURL}
				},
				statusCol: 3,
				root:      func(e listEntry) string { return filepath.Dir(e.Path) },
				notes: func(e listEntry) {
					if e.Error != "" {
						printf(a.stderr, "%s: %s\n", e.Name, updater.Detail(e.Name, e.Error))
					}
				},
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&available, "available", false, "list what the enabled repositories offer")
	c.Flags().BoolVar(&all, "all", false, "list the installed packages and what the repositories offer, together")
	return c
}

func (a *app) checkCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "check [NAME...]",
		ValidArgsFunction: a.completeNames(0),
		Aliases:           []string{"outdated"},
		Short:             "Ask each package's source for its newest release",
		Long: `check asks each package's source which version its author points to and
whether that release is published. It changes nothing.

A package installed from a repository is checked through the repository's
index (one request answers all of them); --direct asks its author's source.
When the repository cannot be asked and the copy modup has of its index is
older than 24 times repo_max_age, modup checks the author's source and says
so.

Exit status: 0 when everything checked is up to date, 100 when at least one
update is available, 1 when any package could not be checked.`,
		Example: `  modup check
  modup check a2.modules --json
  modup check --direct`,
		RunE: func(cmd *cobra.Command, args []string) error {
			loaded := a.loadRepoCopies()
			pkgs, err := a.scanNamed(cmd.Context(), args)
			<-loaded
			if err != nil {
				return err
			}
			results := a.updater().Check(cmd.Context(), pkgs)
			if err := cmd.Context().Err(); err != nil {
				return err
			}
			if err := a.printCheck(asJSON, results); err != nil {
				return err
			}
			if !asJSON && a.terminal(a.stdout) {
				a.printNews(results)
			}
			return checkExit(results)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&a.direct, "direct", false, "ask each author's source, also for packages installed from a repository")
	return c
}

func checkExit(results []updater.Result) error {
	code := exitOK
	for _, r := range results {
		switch r.Status {
		case updater.StatusError, updater.StatusSignatureInvalid:
			return &exitError{code: exitFailure}
		}
		if r.Installable() {
			code = exitAvailable
		}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

// printNews prints, under check's table on a terminal, what each
// available update brings (the manifest's news, and the release's own
// notes when they say more), then how to install them.
func (a *app) printNews(results []updater.Result) {
	n := 0
	for _, r := range results {
		if r.Status != updater.StatusUpdateAvailable {
			continue
		}
		n++
		if r.News == "" && r.ReleaseNotes == "" {
			continue
		}
		printf(a.stdout, "\n%s %s:\n", r.Name, r.Available)
		for _, text := range []string{r.News, r.ReleaseNotes} {
			if text = strings.TrimSpace(text); text != "" {
				printf(a.stdout, "  %s\n", indent(text))
			}
		}
	}
	switch n {
	case 0:
	case 1:
		printf(a.stdout, "\n1 update available: modup update --all\n")
	default:
		printf(a.stdout, "\n%d updates available: modup update --all\n", n)
	}
}

// noPackages is what list and check say when the roots hold no package.
const noPackages = "no packages (a package is a folder holding a2modsource.json)"

func (a *app) printCheck(asJSON bool, results []updater.Result) error {
	return showRows(a, asJSON, results, rowsView[updater.Result]{
		key:    "packages",
		none:   noPackages,
		header: []string{"NAME", "INSTALLED", "AVAILABLE", "STATUS", "SOURCE"},
		cells: func(r updater.Result) []string {
			return []string{r.Name, r.Installed, r.Available, string(r.Status), sourceCell(r)}
		},
		statusCol: 4,
		root:      func(r updater.Result) string { return filepath.Dir(r.Path) },
		notes: func(r updater.Result) {
			switch {
			case r.Status == updater.StatusError, r.Status == updater.StatusSignatureInvalid:
				printf(a.stderr, "%s: %s\n", r.Name, updater.Detail(r.Name, r.Error))
			case r.Status == updater.StatusUnreleased && r.Err != nil:
				printf(a.stdout, "%s: %s (nothing to download yet)\n", r.Name, updater.Detail(r.Name, r.Err.Error()))
			case r.Status == updater.StatusHeld && r.Hold != nil:
				why := ""
				if r.Hold.Reason != "" {
					why = " (" + r.Hold.Reason + ")"
				}
				printf(a.stdout, "%s: held%s: update --all and the daemon leave it at %s; `modup unhold %s` releases it\n", r.Name, why, r.Installed, r.Name)
			case r.Status == updater.StatusHeldBack:
				printf(a.stdout, "%s: %s held back: %s; %s\n", r.Name, r.Newest, r.Reason, heldBackNext(r.Name, r.Available))
			case r.Status == updater.StatusRemoteOlder:
				printf(a.stdout, "%s: installed %s is newer than the release %s (a development copy?); not offered as an update\n", r.Name, r.Installed, r.Available)
			}
			for _, w := range r.Warnings {
				printf(a.stderr, "%s: warning: %s\n", r.Name, w)
			}
		},
	})
}

// heldBackNext says what update does about a held-back package: install
// the older release that fits, or nothing.
func heldBackNext(name, available string) string {
	if available == "" {
		return "no fitting older version known"
	}
	return fmt.Sprintf("`modup update %s` installs %s, the newest that fits", name, available)
}

// sourceCell is check's SOURCE: the kind of source, and the repository
// that answered ("repo main").
func sourceCell(r updater.Result) string {
	if r.Repository != "" {
		return r.Source + " " + r.Repository
	}
	return r.Source
}

func (a *app) infoCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "info NAME",
		ValidArgsFunction: a.completeNames(1),
		Short:             "Show a package's manifest, modules, source and newest release",
		Long: `info prints every manifest field, the modules with their versions, the
source and the URLs it reads, and what a check finds. Exit status: 0, or 1
when the package could not be checked (as for modup check).

For a package that is not installed, info shows what the enabled
repositories know of it: its versions, modules, description and where it
comes from (REPO/NAME names one repository).`,
		Example: `  modup info a2.modules
  modup info main/hello`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p pkgdir.Package
			var err error
			if _, rerr := a.rootList(); rerr == nil {
				p, err = a.findOne(cmd.Context(), args[0])
			} else {
				err = &exitError{code: exitUsage, err: rerr}
			}
			if err != nil {
				if !errors.Is(err, pkgdir.ErrNoPackage) && a.rootsResolve() {
					return err
				}
				if handled, rerr := a.repoInfo(cmd.Context(), args[0], asJSON); handled {
					return rerr
				}
				return err
			}
			info := a.updater().Info(cmd.Context(), p)
			if asJSON {
				err = writeJSON(a.stdout, info)
			} else {
				err = a.printInfo(info)
			}
			if err == nil && info.Check.Status == updater.StatusError {
				// As check does: the package could not be checked.
				return &exitError{code: exitFailure}
			}
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) printInfo(in updater.PackageInfo) error {
	w := a.stdout
	printf(w, "%s\n  path:         %s\n", in.Name, in.Path)
	if in.ManifestError != "" {
		printf(w, "  manifest:     %s\n", in.ManifestError)
	}
	if len(in.Manifest) > 0 {
		printf(w, "manifest:\n")
		t := newTable(w)
		for _, f := range in.Manifest {
			t.row("  "+f.Key, oneLine(f.Value, 100))
		}
		t.flush()
	}
	if len(in.Modules) > 0 {
		printf(w, "modules:\n")
		t := newTable(w)
		for _, m := range in.Modules {
			if m.Error != "" {
				t.row("  "+m.Name, "error: "+m.Error)
				continue
			}
			t.row("  "+m.Name, m.Version, oneLine(plaintext.Of(m.Description), 60))
		}
		t.flush()
	}
	printf(w, "source:\n")
	t := newTable(w)
	t.row("  kind", in.Source)
	t.row("  manifest_url", in.ManifestURL)
	t.row("  payload_url", in.PayloadURL)
	t.row("  status", string(in.Check.Status))
	t.row("  available", in.Check.Available)
	if in.Check.Newest != "" {
		t.row("  newest", in.Check.Newest)
	}
	t.flush()
	if r := in.Check; r.Requirements != nil || r.NewestRequirements != nil || r.Reason != "" {
		printf(w, "requirements:\n")
		t := newTable(w)
		if r.Requirements != nil {
			t.row("  "+r.Installed, r.Requirements.String())
		}
		if v := cmp.Or(r.Newest, r.Available); r.NewestRequirements != nil && v != "" {
			t.row("  "+v, r.NewestRequirements.String())
		}
		if r.Reason != "" {
			t.row("  held back", r.Reason+"; "+heldBackNext(r.Name, r.Available))
		}
		t.flush()
	}
	if in.Check.Error != "" {
		printf(w, "  error: %s\n", in.Check.Error)
	}
	if in.Check.News != "" {
		printf(w, "news:\n  %s\n", indent(in.Check.News))
	}
	if in.Check.ReleaseNotes != "" {
		printf(w, "release notes:\n  %s\n", indent(in.Check.ReleaseNotes))
	}
	return nil
}

func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, ' ', ' ')
		}
	}
	return string(out)
}
