package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/config"
	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/repo"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

// repoList reads the repositories: repos.json next to the configuration
// file in use, and the file's [[repo]] tables.
func (a *app) repoList() (*repo.List, error) {
	if a.repos != nil {
		return a.repos, nil
	}
	path := a.cfg.Path
	if path == "" {
		p, err := config.Path(a.getenv, a.userConfigDir)
		if err != nil {
			// No configuration folder: no repos.json either (repo add
			// says so when it would write one).
			a.repos = &repo.List{NoPlace: fmt.Errorf("no place for %s: %w", repo.FileName, err)}
			return a.repos, nil
		}
		path = p
	}
	l, err := repo.Load(repo.PathFor(path), a.cfg)
	if err != nil {
		return nil, err
	}
	a.repos = l
	return l, nil
}

// repoClient is the run's one reader of repositories, caching under the
// user cache folder (for the run alone when there is none).
func (a *app) repoClient() *repo.Client {
	if a.repoC != nil {
		return a.repoC
	}
	dir := ""
	if d, err := a.userCacheDir(); err == nil {
		dir = filepath.Join(d, "modup", "repos")
	} else {
		a.logger.Debug("no cache folder for repositories", "error", err.Error())
	}
	srcs := a.sources(a.logger)
	maxAge := a.repoMaxAge
	if maxAge == 0 {
		maxAge = -1 // 0 asks every time; the Client's 0 is the default
	}
	a.repoC = &repo.Client{HTTP: srcs.Client, Dir: dir, MaxAge: maxAge, Origins: srcs.Registry, Logger: a.logger}
	return a.repoC
}

// router sends the checks of packages installed from repositories to
// their indexes (nil with --direct, or when there is nothing to route).
// warn says what the user should know.
func (a *app) router(warn func(string)) *repo.Router {
	if a.direct {
		return nil
	}
	l, err := a.repoList()
	if err != nil {
		warn(fmt.Sprintf("%v; packages installed from repositories are checked at their authors' sources", err))
		return nil
	}
	return &repo.Router{Client: a.repoClient(), Repos: l, Warn: warn}
}

// loadRepoCopies reads the cached package lists of the enabled
// repositories (no request) while the caller scans the roots; the channel
// is closed when they are read. Nothing is read with --direct, or when
// the repositories cannot be listed (router says why).
func (a *app) loadRepoCopies() <-chan struct{} {
	done := make(chan struct{})
	if a.direct {
		close(done)
		return done
	}
	l, err := a.repoList()
	if err != nil || len(l.Enabled()) == 0 {
		close(done)
		return done
	}
	c, enabled := a.repoClient(), l.Enabled()
	go func() {
		defer close(done)
		for _, r := range enabled {
			c.LoadCached(r)
		}
	}()
	return done
}

// warnLine prints a warning on stderr.
func (a *app) warnLine(msg string) { printf(a.stderr, "modup: warning: %s\n", msg) }

// enabledRepos are the repositories asked; none is an error saying how to
// add one.
func (a *app) enabledRepos() ([]repo.Repo, error) {
	l, err := a.repoList()
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	enabled := l.Enabled()
	if len(enabled) == 0 {
		if len(l.Repos) > 0 {
			return nil, &exitError{code: exitFailure, err: errors.New("every repository is disabled: `modup repo enable NAME` (modup repo list shows them)")}
		}
		return nil, &exitError{code: exitFailure, err: errors.New("no repositories: add one with `modup repo add NAME URL` (an index's base URL, or the folder of an exported index)")}
	}
	return enabled, nil
}

func (a *app) repoCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "repo",
		Short: "Manage package repositories (indexes you install and check from)",
		Long: `A repository is the base URL of a package index (modup index serve, or an
export on any static host) or the folder of an export on a share. Packages
installed from a repository are checked through its index: one request
answers all of them. Repositories are kept in repos.json next to the
configuration file; the configuration file may declare more ([[repo]]
tables).`,
		Example: `  modup repo add main https://index.example.com/a2/
  modup repo add share /mnt/share/a2-index --mirror
  modup repo list
  modup repo refresh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(a.repoAddCmd(), a.repoRemoveCmd(), a.repoEnableCmd(true), a.repoEnableCmd(false),
		a.repoListCmd(), a.repoRefreshCmd())
	return c
}

func (a *app) repoAddCmd() *cobra.Command {
	var mirror bool
	var key string
	c := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a repository: an index's base URL (https://, or http:// on loopback) or an exported index's folder",
		Long: `add reads the repository's index once (it must be one: a newer format, an
HTML page or a document of the wrong shape is refused) and keeps it in
repos.json. --mirror downloads every zip from the repository's mirror
(mirror/NAME/VERSION.zip), never from the authors' hosts; without it a
version the index mirrors comes from the mirror, the others from their
authors.

--key pins the key that signs the index (its public key, "RW...", or a
.pub file): from then on the package list and every package's info must
carry a signature by that key that has not expired, or modup does not use
them and checks the packages at their authors' sources, saying why. Get
the key from the index's operator, not from the index.`,
		Example: `  modup repo add main https://index.example.com/a2/ --key RWRdbhpivoLHj38j5qbilaIUVGqiv+x6tfxWzjCb9mg4Hp+eBo99qIf/
  modup repo add lan http://127.0.0.1:8090
  modup repo add share /mnt/share/a2-index --mirror`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := repo.CheckName(name); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			u, err := repo.Normalize(args[1], a.allowHTTP)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			l, err := a.repoList()
			if err != nil {
				return err
			}
			if old, ok := l.Find(name); ok {
				return fmt.Errorf("a repository called %s is there already (%s): `modup repo remove %s` first, or choose another name", old.Name, old.Shown(), old.Name)
			}
			r := repo.Repo{Name: name, URL: u, Enabled: true, Mirror: mirror, Added: time.Now().UTC().Truncate(time.Second)}
			if key != "" {
				k, err := readKeyArg(key)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--key: %w", err)}
				}
				r.Key = k.String()
			}
			res := a.repoClient().Refresh(cmd.Context(), r)
			if res.Err != nil {
				hint := fmt.Sprintf("is %s an index's base URL, or an exported index's folder?", r.Shown())
				if trust.Failed(res.Err) {
					hint = "the index is not signed by the key given"
				}
				return fmt.Errorf("%w\n(nothing was added: %s)", res.Err, hint)
			}
			if err := l.Add(r); err != nil {
				return err
			}
			printf(a.stdout, "added %s (%s): %s\n", r.Name, r.Shown(), plural(res.Packages, "package"))
			switch {
			case r.Key != "":
				printf(a.stdout, "its documents are signed by key ID %s and verified on every read\n", r.KeyID())
			case res.IndexKey != "":
				printf(a.stdout, "the index says it is signed by %s: once you have checked that key with its operator, pin it with `modup repo remove %s` and `modup repo add %s %s --key %s`\n",
					"key "+trust.DescribeKey(res.IndexKey), r.Name, r.Name, r.Shown(), res.IndexKey)
			}
			printf(a.stdout, "search it with `modup search WORD`, install with `modup install NAME`\n")
			return nil
		},
	}
	c.Flags().BoolVar(&mirror, "mirror", false, "download every zip from the repository's mirror, never from the authors' hosts")
	c.Flags().StringVar(&key, "key", "", "pin the `KEY` that signs the index (RW..., or a .pub file); unsigned or expired documents are then refused")
	return c
}

func (a *app) repoRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "remove NAME",
		Aliases:           []string{"rm"},
		ValidArgsFunction: a.completeRepos,
		Short:             "Remove a repository (packages installed from it are then checked at their authors' sources)",
		Args:              cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.repoList()
			if err != nil {
				return err
			}
			r, err := l.Remove(args[0])
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if err := a.repoClient().Forget(r); err != nil {
				a.warnLine(fmt.Sprintf("the cache of %s was not deleted: %v", r.Name, err))
			}
			printf(a.stdout, "removed %s (%s); packages installed from it are checked at their authors' sources from now on\n", r.Name, r.Shown())
			return nil
		},
	}
}

func (a *app) repoEnableCmd(enable bool) *cobra.Command {
	use, short := "enable NAME", "Ask a disabled repository again"
	if !enable {
		use, short = "disable NAME", "Keep a repository listed but never ask it (its packages are checked at their authors' sources)"
	}
	return &cobra.Command{
		Use:               use,
		ValidArgsFunction: a.completeRepos,
		Short:             short,
		Args:              cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.repoList()
			if err != nil {
				return err
			}
			r, err := l.SetEnabled(args[0], enable)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			state := "enabled"
			if !enable {
				state = "disabled"
			}
			printf(a.stdout, "%s %s\n", state, r.Name)
			return nil
		},
	}
}

// repoEntry is `repo list --json`'s shape.
type repoEntry struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	Enabled     bool   `json:"enabled"`
	Mirror      bool   `json:"mirror,omitempty"`
	Key         string `json:"key,omitempty"`
	KeyID       string `json:"key_id,omitempty"`
	Packages    int    `json:"packages"`
	LastRefresh string `json:"last_refresh,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	// DeclaredIn is the configuration file's line of a [[repo]] table.
	DeclaredIn string `json:"declared_in,omitempty"`
}

func (a *app) repoListCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the repositories: URL, enabled, packages, last refresh, last error (no network)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.repoList()
			if err != nil {
				return err
			}
			entries := []repoEntry{}
			for _, r := range l.Repos {
				st := a.repoClient().Status(r)
				e := repoEntry{Name: r.Name, URL: r.Shown(), Enabled: r.Enabled, Mirror: r.Mirror, Key: r.Key, KeyID: r.KeyID(), Packages: st.Packages,
					LastError: st.Error, DeclaredIn: r.From}
				if !st.Refreshed.IsZero() {
					e.LastRefresh = st.Refreshed.UTC().Format(time.RFC3339)
				}
				entries = append(entries, e)
			}
			return showRows(a, asJSON, entries, rowsView[repoEntry]{
				key:    "repos",
				none:   "no repositories (add one with `modup repo add NAME URL`)",
				header: []string{"NAME", "URL", "ENABLED", "SIGNED BY", "PACKAGES", "LAST REFRESH", "LAST ERROR"},
				cells: func(e repoEntry) []string {
					refreshed := "never"
					if t, err := time.Parse(time.RFC3339, e.LastRefresh); err == nil {
						refreshed = t.Local().Format(time.DateTime)
					}
					enabled := "yes"
					if !e.Enabled {
						enabled = "no"
					}
					if e.Mirror {
						enabled += " (mirror)"
					}
					signed := "-"
					if e.KeyID != "" {
						signed = e.KeyID
					}
					return []string{e.Name, e.URL, enabled, signed, fmt.Sprint(e.Packages), refreshed, oneLine(e.LastError, 60)}
				},
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// refreshEntry is `repo refresh --json`'s shape.
type refreshEntry struct {
	Name     string `json:"name"`
	Packages int    `json:"packages"`
	Status   string `json:"status"` // updated, unchanged, failed
	Error    string `json:"error,omitempty"`
}

func (a *app) repoRefreshCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "refresh [NAME]",
		Aliases:           []string{"update"},
		ValidArgsFunction: a.completeRepos,
		Short:             "Read the enabled repositories' indexes now (like apt update)",
		Long: `refresh asks each enabled repository (or NAME) for its index now, whatever
the age of the copy modup has: one conditional request per document (the
root document, the package list and the module list), answered 304 when
nothing changed. Exit status 1 when any repository failed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var repos []repo.Repo
			if len(args) == 1 {
				l, err := a.repoList()
				if err != nil {
					return err
				}
				r, err := l.Get(args[0])
				if err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				if !r.Enabled {
					return &exitError{code: exitFailure, err: fmt.Errorf("repository %s is disabled: `modup repo enable %s` first", r.Name, r.Name)}
				}
				repos = []repo.Repo{r}
			} else {
				var err error
				if repos, err = a.enabledRepos(); err != nil {
					return err
				}
			}
			var entries []refreshEntry
			failed := false
			for _, r := range repos {
				res := a.repoClient().Refresh(cmd.Context(), r)
				e := refreshEntry{Name: r.Name, Packages: res.Packages, Status: "unchanged"}
				switch {
				case res.Err != nil:
					e.Status, e.Error, failed = "failed", res.Err.Error(), true
					// What the copy still holds (the failure may come
					// before the package list was read).
					e.Packages = a.repoClient().Status(r).Packages
				case res.Changed:
					e.Status = "updated"
				}
				entries = append(entries, e)
			}
			err := showRows(a, asJSON, entries, rowsView[refreshEntry]{
				key:    "repos",
				header: []string{"NAME", "PACKAGES", "STATUS"},
				cells:  func(e refreshEntry) []string { return []string{e.Name, fmt.Sprint(e.Packages), e.Status} },
				notes: func(e refreshEntry) {
					if e.Error != "" {
						printf(a.stderr, "%s: %s\n", e.Name, e.Error)
					}
				},
			})
			if err == nil && failed {
				return &exitError{code: exitFailure}
			}
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// completeRepos completes repository names.
func (a *app) completeRepos(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if err := a.loadConfig(); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	l, err := a.repoList()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, r := range l.Repos {
		names = append(names, r.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// searchEntry is `search --json`'s shape.
type searchEntry struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Repo        string `json:"repo"`
	Installed   string `json:"installed,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	Module      string `json:"module,omitempty"`
	UpdateURL   string `json:"update_url"`
}

func (a *app) searchCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "search QUERY...",
		Short: "Find packages in the enabled repositories by name, description, module or tag",
		Long: `search matches package names, display names and descriptions, and module
names, descriptions and tags, in every enabled repository (case-insensitive;
several words must all match). Hits are ranked: the exact name, a name that
starts with a word, a module's name, then any text. INSTALLED shows the
version installed in the roots. Exit status 1 when nothing matches.`,
		Example: `  modup search hello
  modup search clipboard history --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repos, err := a.enabledRepos()
			if err != nil {
				return err
			}
			query := strings.Join(args, " ")
			found := a.repoClient().Search(cmd.Context(), repos, query)
			for _, p := range found.Problems {
				a.warnLine(p.Error())
			}
			installed := a.installedVersions(cmd.Context())
			entries := make([]searchEntry, 0, len(found.Hits))
			for _, h := range found.Hits {
				entries = append(entries, searchEntry{Name: h.Name, Version: h.Version, Repo: h.Repo, Installed: installed[h.Name],
					DisplayName: h.DisplayName, Description: h.Description, Module: h.Module, UpdateURL: h.UpdateURL})
			}
			if len(entries) == 0 {
				if asJSON {
					if err := writeJSON(a.stdout, map[string]any{"packages": entries}); err != nil {
						return err
					}
				} else {
					printf(a.stderr, "modup: no package matches %q in %s\n", query, plural(len(repos), "repository"))
				}
				return &exitError{code: exitFailure}
			}
			return showRows(a, asJSON, entries, rowsView[searchEntry]{
				key:    "packages",
				header: []string{"NAME", "VERSION", "REPO", "INSTALLED", "DESCRIPTION", "MODULE"},
				cells: func(e searchEntry) []string {
					return []string{e.Name, e.Version, e.Repo, e.Installed, oneLine(e.Description, 60), e.Module}
				},
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// installedVersions maps the name of each installed package to its
// version, reading the roots without changing them; empty when there are
// no roots.
func (a *app) installedVersions(ctx context.Context) map[string]string {
	out := map[string]string{}
	roots, err := a.rootList()
	if err != nil {
		return out
	}
	pkgs, _ := pkgdir.ScanReadOnly(existing(roots))
	for _, p := range pkgs {
		if ctx.Err() != nil {
			break
		}
		v := p.Version()
		if v == "" {
			v = "?"
		}
		out[p.Name] = v
	}
	return out
}

// byName is an install argument naming a package of a repository.
type byName struct {
	repo, name, version string
}

// parseByName reads NAME, NAME@VERSION, REPO/NAME and REPO/NAME@VERSION;
// ok is false for a URL or a path (install URL).
func parseByName(arg string, isRepo func(string) bool) (byName, bool) {
	s := strings.TrimSpace(arg)
	if s == "" || strings.Contains(s, "://") || strings.ContainsAny(s[:1], `./~\`) || strings.Contains(s, `\`) ||
		(len(s) > 1 && s[1] == ':') {
		return byName{}, false
	}
	var b byName
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		s, b.version = s[:at], s[at+1:]
		if b.version == "" {
			return byName{}, false
		}
	}
	if r, n, ok := strings.Cut(s, "/"); ok {
		if !isRepo(r) || strings.Contains(n, "/") {
			return byName{}, false
		}
		b.repo, s = r, n
	}
	if !doc.ValidName(s) {
		return byName{}, false
	}
	b.name = s
	return b, true
}

// isRepo reports whether name is a configured repository (for REPO/NAME).
func (a *app) isRepo(name string) bool {
	l, err := a.repoList()
	if err != nil {
		return false
	}
	_, ok := l.Find(name)
	return ok
}

// listed is a package a repository lists (and the version asked for).
type listed struct {
	repo    repo.Repo
	pkg     doc.PackageSummary
	version string
}

// findListed finds package name in the enabled repositories (or in the one
// repository b names), saying which could not be asked.
func (a *app) findListed(ctx context.Context, b byName) ([]listed, error) {
	out, _, err := a.findListedUnread(ctx, b)
	return out, err
}

// findListedUnread is findListed that also names the repositories whose
// package list could not be used (their warning is printed).
func (a *app) findListedUnread(ctx context.Context, b byName) (out []listed, unread []string, err error) {
	l, err := a.repoList()
	if err != nil {
		return nil, nil, err
	}
	repos := l.Enabled()
	if b.repo != "" {
		r, err := l.Get(b.repo)
		if err != nil {
			return nil, nil, err
		}
		if !r.Enabled {
			return nil, nil, fmt.Errorf("repository %s is disabled: `modup repo enable %s` first", r.Name, r.Name)
		}
		repos = []repo.Repo{r}
	}
	for _, r := range repos {
		p, list, ok := a.repoClient().Package(ctx, r, b.name)
		if list.Err != nil {
			a.warnLine(list.Err.Error())
		}
		if list.Doc == nil {
			unread = append(unread, r.Name)
		}
		if ok {
			out = append(out, listed{repo: r, pkg: p})
		}
	}
	return out, unread, nil
}

// ambiguous is the error of a name several repositories list.
func ambiguous(name string, found []listed) error {
	var parts []string
	for _, f := range found {
		parts = append(parts, fmt.Sprintf("%s (%s %s from %s)", f.repo.Name, name, f.pkg.Version, f.pkg.UpdateURL))
	}
	return fmt.Errorf("%s is in %d repositories: %s; name one: modup install %s/%s", name, len(found), strings.Join(parts, ", "), found[0].repo.Name, name)
}

// namedArgs reads which install arguments name packages of repositories
// (by index in args); none when every one is a URL or a folder. A bare
// NAME that no repository lists but is a folder here is a folder, as
// before repositories.
func (a *app) namedArgs(ctx context.Context, args []string, f *changeFlags) (map[int]listed, error) {
	out := map[int]listed{}
	for i, arg := range args {
		b, ok := parseByName(arg, a.isRepo)
		if !ok {
			// REPO/NAME of a repository that is not configured, and no
			// such folder either: say so, not that a manifest is missing.
			if s, shaped := parseByName(arg, func(string) bool { return true }); shaped && s.repo != "" && !isDir(arg) {
				return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s: no repository is called %s (`modup repo list` shows them; a folder needs ./%s)", arg, s.repo, arg)}
			}
			continue
		}
		if b.version != "" && f.to != "" {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s names a version; leave out --to", arg)}
		}
		if b.version == "" {
			b.version = f.to
		}
		l, err := a.repoList()
		if err != nil {
			return nil, &exitError{code: exitFailure, err: err}
		}
		if len(l.Enabled()) == 0 && b.repo == "" {
			if isDir(arg) {
				continue
			}
			if _, err := a.enabledRepos(); err != nil {
				return nil, err
			}
		}
		found, unread, err := a.findListedUnread(ctx, b)
		switch {
		case err != nil:
			return nil, &exitError{code: exitFailure, err: err}
		case len(found) == 0 && b.repo == "" && b.version == "" && isDir(arg):
			continue
		case len(found) == 0 && len(unread) > 0:
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s: not found, and the index of %s cannot be used now (see the warning above); nothing was installed", b.name, strings.Join(unread, ", "))}
		case len(found) == 0:
			where := "no enabled repository lists it"
			if b.repo != "" {
				where = "repository " + b.repo + " does not list it"
			}
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s: %s (`modup search %s` finds packages by part of a name; a folder needs ./%s)", b.name, where, b.name, b.name)}
		case len(found) > 1:
			return nil, &exitError{code: exitFailure, err: ambiguous(b.name, found)}
		}
		found[0].version = b.version
		out[i] = found[0]
	}
	return out, nil
}

// maxDependencies bounds how many packages one install asks the
// repositories about for what the packages named require.
const maxDependencies = 500

// installNamed installs args, named (by index) packages of repositories
// and the others update_urls, planned together (updater.InstallCandidates):
// every installable version of each named package is a candidate, and so
// is every version of each package they require (or, with
// --with-recommends, recommend) that a repository lists and is not
// installed, so that dependencies from repositories install with them.
func (a *app) installNamed(ctx context.Context, root string, args []string, named map[int]listed, opts updater.SetOptions, f *changeFlags) []updater.Change {
	u := a.changer(f)
	var wants []resolve.Want
	var cands []updater.Candidate
	var changes []updater.Change
	failed := false
	offered := map[string]bool{}
	var queue []listed
	for i, arg := range args {
		it, ok := named[i]
		if !ok {
			cand, ch := u.CandidateAt(ctx, root, arg, f.to)
			changes = append(changes, ch)
			if ch.Status == updater.StatusFailed {
				failed = true
				continue
			}
			want := resolve.Want{Name: cand.Name}
			if f.to != "" {
				if v, err := updater.ParseVersion(cand.Release.Version); err == nil {
					want.Constraint = resolve.Exact(v)
				}
			}
			wants, cands, offered[cand.Name] = append(wants, want), append(cands, cand), true
			continue
		}
		want := resolve.Want{Name: it.pkg.Name}
		if it.version != "" {
			v, err := updater.ParseVersion(it.version)
			if err != nil {
				changes = append(changes, failedChange(it.pkg.Name, fmt.Errorf("%s@%s: %w", it.pkg.Name, it.version, err)))
				failed = true
				continue
			}
			want.Constraint = resolve.Exact(v)
			opts.To = it.version
		}
		more, err := a.repoCandidates(ctx, it)
		if err != nil {
			changes = append(changes, failedChange(it.pkg.Name, err))
			failed = true
			continue
		}
		changes = append(changes, updater.Change{Name: it.pkg.Name})
		wants, cands, offered[it.pkg.Name] = append(wants, want), append(cands, more...), true
		queue = append(queue, it)
	}
	if failed {
		for i, c := range changes {
			if c.Status != updater.StatusFailed {
				changes[i] = updater.Change{Name: c.Name, Status: updater.StatusSkipped, Reason: "not installed: another package of the request failed"}
			}
		}
		return changes
	}
	installed := a.installedVersions(ctx)
	cands = append(cands, a.dependencyCandidates(ctx, cands, offered, installed, opts.WithRecommends)...)
	return u.InstallCandidates(ctx, root, wants, cands, opts)
}

// dependencyCandidates are the candidates of what cands require (and
// recommend, with recommends) that is not installed nor offered already,
// from the repositories, breadth first: the requirer's repository first,
// else the first enabled repository that lists it.
func (a *app) dependencyCandidates(ctx context.Context, cands []updater.Candidate, offered map[string]bool, installed map[string]string, recommends bool) []updater.Candidate {
	var out []updater.Candidate
	todo := slices.Clone(cands)
	for len(todo) > 0 && len(offered) < maxDependencies {
		c := todo[0]
		todo = todo[1:]
		names := slices.Sorted(maps.Keys(c.Release.Requirements.Packages))
		if recommends {
			names = append(names, slices.Sorted(maps.Keys(c.Release.Requirements.Recommends))...)
		}
		for _, n := range names {
			if offered[n] || installed[n] != "" || !doc.ValidName(n) {
				continue
			}
			offered[n] = true
			found, err := a.findListed(ctx, byName{name: n})
			if err != nil || len(found) == 0 {
				continue // the solver says what is missing
			}
			pick := found[0]
			for _, f := range found {
				if f.repo.Name == c.Release.Repository {
					pick = f
				}
			}
			more, err := a.repoCandidates(ctx, pick)
			if err != nil {
				a.warnLine(err.Error())
				continue
			}
			out = append(out, more...)
			todo = append(todo, more...)
		}
	}
	return out
}

// repoCandidates are the installable versions of a listed package, newest
// first (just the one asked for, when it names a version).
func (a *app) repoCandidates(ctx context.Context, it listed) ([]updater.Candidate, error) {
	src := a.repoClient().Source(it.repo)
	q := sources.Query{Package: it.pkg.Name, UpdateURL: it.pkg.UpdateURL}
	rels, err := src.Versions(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []updater.Candidate
	for _, rel := range rels {
		if it.version != "" && sources.TrimV(rel.Version) != sources.TrimV(it.version) {
			continue
		}
		if _, err := updater.ParseVersion(rel.Version); err != nil {
			continue
		}
		out = append(out, updater.Candidate{Name: it.pkg.Name, UpdateURL: it.pkg.UpdateURL, Source: src, Query: q, Release: rel})
	}
	if len(out) == 0 {
		if it.version != "" {
			return nil, fmt.Errorf("%s: repository %s lists no installable version %s", it.pkg.Name, it.repo.Name, it.version)
		}
		return nil, fmt.Errorf("%s: repository %s lists no installable version of it", it.pkg.Name, it.repo.Name)
	}
	return out, nil
}

func failedChange(name string, err error) updater.Change {
	return updater.Change{Name: name, Status: updater.StatusFailed, Error: err.Error(), Err: err}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// repoInfoEntry is `info --json`'s shape for a package a repository lists.
type repoInfoEntry struct {
	doc.PackageInfo
	Repo      string `json:"repo"`
	RepoURL   string `json:"repo_url"`
	Installed bool   `json:"installed"`
}

// repoInfo shows what the repositories know of a package that is not
// installed, or says that none lists it; handled is false when there is
// no enabled repository to ask.
func (a *app) repoInfo(ctx context.Context, arg string, asJSON bool) (bool, error) {
	b, ok := parseByName(arg, a.isRepo)
	if !ok || b.version != "" {
		return false, nil
	}
	l, err := a.repoList()
	if err != nil || len(l.Enabled()) == 0 {
		return false, nil
	}
	found, err := a.findListed(ctx, b)
	if err != nil {
		return true, &exitError{code: exitFailure, err: err}
	}
	if len(found) == 0 {
		where := "no enabled repository lists it"
		if b.repo != "" {
			where = "repository " + b.repo + " does not list it"
		}
		return true, &exitError{code: exitFailure, err: fmt.Errorf("%s: %w (not installed, and %s: `modup search %s` finds packages by part of a name)", b.name, pkgdir.ErrNoPackage, where, b.name)}
	}
	var entries []repoInfoEntry
	var firstErr error
	for _, f := range found {
		info := a.repoClient().Info(ctx, f.repo, b.name)
		if info.Doc == nil {
			// Said, and the other repositories still shown.
			if firstErr == nil {
				firstErr = info.Err
			} else {
				a.warnLine(info.Err.Error())
			}
			continue
		}
		if info.Err != nil {
			a.warnLine(info.Err.Error())
		}
		entries = append(entries, repoInfoEntry{PackageInfo: *info.Doc, Repo: f.repo.Name, RepoURL: f.repo.Shown()})
	}
	switch {
	case len(entries) == 0:
		return true, &exitError{code: exitFailure, err: firstErr}
	case firstErr != nil:
		a.warnLine(firstErr.Error())
	}
	if asJSON {
		return true, writeJSON(a.stdout, map[string]any{"packages": entries})
	}
	for i, e := range entries {
		if i > 0 {
			printf(a.stdout, "\n")
		}
		a.printRepoInfo(e, len(entries) > 1)
	}
	return true, nil
}

func (a *app) printRepoInfo(e repoInfoEntry, several bool) {
	w := a.stdout
	printf(w, "%s (not installed; in repository %s)\n", e.Name, e.Repo)
	t := newTable(w)
	for _, f := range [][2]string{{"display_name", e.DisplayName}, {"description", oneLine(e.Description, 100)},
		{"maintainer", e.Maintainer}, {"url", e.URL}, {"update_url", e.UpdateURL}, {"repository", e.Repo + " (" + e.RepoURL + ")"},
		{"latest", e.Latest}} {
		if f[1] != "" {
			t.row("  "+f[0], f[1])
		}
	}
	t.flush()
	printf(w, "versions:\n")
	t = newTable(w)
	var latest *doc.Version
	for i, v := range e.Versions {
		if v.Version == e.Latest {
			latest = &e.Versions[i]
		}
		var notes []string
		if v.Prerelease {
			notes = append(notes, "prerelease")
		}
		if v.MirrorURL != "" {
			notes = append(notes, "mirrored")
		}
		for _, p := range v.Problems {
			if p.Blocking {
				notes = append(notes, "not installable: "+p.Check+": "+p.Detail)
			}
		}
		published := ""
		if !v.Published.IsZero() {
			published = v.Published.Local().Format(time.DateOnly)
		}
		t.row("  "+v.Version, published, fmt.Sprintf("%d B", v.Size), oneLine(strings.Join(notes, "; "), 80))
	}
	t.flush()
	if latest != nil {
		if len(latest.Modules) > 0 {
			printf(w, "modules of %s:\n", latest.Version)
			t = newTable(w)
			for _, m := range latest.Modules {
				t.row("  "+m.Name, m.Version, oneLine(m.Description, 60))
			}
			t.flush()
		}
		if m := latest.Manifest; len(m) > 0 {
			var fields struct {
				News string `json:"news"`
			}
			if json.Unmarshal(m, &fields) == nil && strings.TrimSpace(fields.News) != "" {
				printf(w, "news of %s:\n  %s\n", latest.Version, indent(strings.TrimSpace(fields.News)))
			}
		}
	}
	name := e.Name
	if several {
		name = e.Repo + "/" + e.Name
	}
	printf(w, "install it: modup install %s\n", name)
}

// availableEntry is `list --available` and `list --all`'s shape.
type availableEntry struct {
	Name        string         `json:"name"`
	Path        string         `json:"path,omitempty"`
	Installed   string         `json:"installed,omitempty"`
	Available   string         `json:"available,omitempty"`
	Repo        string         `json:"repo,omitempty"`
	Status      updater.Status `json:"status,omitempty"`
	Description string         `json:"description,omitempty"`
	UpdateURL   string         `json:"update_url,omitempty"`
}

// listAvailable is `list --available` (what the enabled repositories
// offer) and, with installed, `list --all` (installed and available
// together, one row per package and repository).
func (a *app) listAvailable(ctx context.Context, installed []pkgdir.Package, all, asJSON bool) error {
	repos, err := a.enabledRepos()
	if err != nil {
		return err
	}
	versions := map[string]string{}
	if !all {
		versions = a.installedVersions(ctx)
	}
	var entries []availableEntry
	offered := map[string]bool{}
	for _, r := range repos {
		list := a.repoClient().Packages(ctx, r)
		if list.Err != nil {
			a.warnLine(list.Err.Error())
		}
		if list.Doc == nil {
			continue
		}
		for _, p := range list.Doc.Packages {
			offered[p.Name] = true
			entries = append(entries, availableEntry{Name: p.Name, Available: p.Version, Repo: r.Name, Installed: versions[p.Name],
				Description: p.Description, UpdateURL: p.UpdateURL})
		}
	}
	if all {
		byName := map[string][]int{}
		for i, e := range entries {
			byName[e.Name] = append(byName[e.Name], i)
		}
		for _, p := range installed {
			r := updater.Describe(p)
			idx, ok := byName[p.Name]
			if !ok {
				entries = append(entries, availableEntry{Name: r.Name, Path: r.Path, Installed: r.Installed, Status: r.Status, UpdateURL: r.UpdateURL})
				continue
			}
			for _, i := range idx {
				entries[i].Path, entries[i].Installed, entries[i].Status = r.Path, r.Installed, r.Status
			}
		}
	}
	slices.SortStableFunc(entries, func(x, y availableEntry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), cmp.Compare(x.Repo, y.Repo))
	})
	if entries == nil {
		entries = []availableEntry{}
	}
	view := rowsView[availableEntry]{
		key:    "packages",
		none:   "no packages",
		header: []string{"NAME", "VERSION", "REPO", "INSTALLED", "DESCRIPTION"},
		cells: func(e availableEntry) []string {
			return []string{e.Name, e.Available, e.Repo, e.Installed, oneLine(e.Description, 60)}
		},
	}
	if all {
		view.header = []string{"NAME", "INSTALLED", "AVAILABLE", "REPO", "KIND"}
		view.cells = func(e availableEntry) []string {
			return []string{e.Name, e.Installed, e.Available, e.Repo, string(e.Status)}
		}
		view.statusCol = 5
	}
	return showRows(a, asJSON, entries, view)
}

// rootsResolve reports whether the roots can be named (a flag, the
// environment or the configuration file names some).
func (a *app) rootsResolve() bool {
	_, err := a.rootList()
	return err == nil
}
