package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/index/crawl"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/serve"
	"github.com/modup/modup/index/store"
)

func (a *app) indexCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "index",
		Short: "Build, refresh, mirror and serve an index of packages",
		Long: `index keeps an index of packages: it crawls a list of update_urls (the
same ones packages carry), records every published version in an embedded
database, optionally mirrors the release zips, and serves small JSON
documents that clients read instead of asking every author's host.

  modup index build  crawl once
  modup index serve  answer the documents over HTTP, refreshing in the background
  modup index export write the documents as a static tree for any static host
  modup index show   what the index holds and how each source fared`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(a.indexBuildCmd(), a.indexServeCmd(), a.indexExportCmd(), a.indexShowCmd())
	return c
}

// indexFlags are what every index command shares.
type indexFlags struct {
	db     string
	mirror string
}

// register adds --db, and --mirror when mirrorHelp says what it does.
func (f *indexFlags) register(c *cobra.Command, mirrorHelp string) {
	c.Flags().StringVar(&f.db, "db", "", "the index database file (required)")
	_ = c.MarkFlagFilename("db", "db")
	if mirrorHelp != "" {
		c.Flags().StringVar(&f.mirror, "mirror", "", mirrorHelp)
		_ = c.MarkFlagDirname("mirror")
	}
	_ = c.MarkFlagRequired("db")
}

// signFlags are the flags of commands that write an index's documents:
// --sign KEY signs them, --valid-for says for how long.
type signFlags struct {
	key      string
	validFor time.Duration
}

func (f *signFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.key, "sign", "", "sign the package list and every package's info with this secret key (modup key generate); its password from $"+envSigningPassword+" or the terminal")
	c.Flags().DurationVar(&f.validFor, "valid-for", publish.DefaultValidFor, "how long the signatures are valid: clients refuse an index whose signatures expired (a frozen mirror)")
	_ = c.MarkFlagFilename("sign", "key")
}

// signer loads the key of --sign; nil without it.
func (a *app) signer(f signFlags) (*publish.Signer, error) {
	if f.key == "" {
		return nil, nil
	}
	if f.validFor <= 0 {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--valid-for %s: want a positive duration such as 168h", f.validFor)}
	}
	k, err := a.loadSigningKey(f.key, envSigningPassword)
	if err != nil {
		return nil, &exitError{code: exitFailure, err: fmt.Errorf("--sign: %w", err)}
	}
	return &publish.Signer{Key: *k, ValidFor: f.validFor}, nil
}

// crawler is the index crawler wired to the same sources `modup check` uses.
func (a *app) crawler(st *store.Store, mirror string, concurrency int, timeout time.Duration, logger *slog.Logger) *crawl.Crawler {
	return &crawl.Crawler{Registry: a.sources(logger).Registry, Store: st, Mirror: mirror, Concurrency: concurrency, Timeout: timeout, Logger: logger}
}

func (a *app) indexBuildCmd() *cobra.Command {
	var (
		f           indexFlags
		sourcesFile string
		fromRoots   []string
		concurrency int
		timeout     time.Duration
		asJSON      bool
		signKey     string
	)
	c := &cobra.Command{
		Use:   "build --sources FILE --db FILE [--from-root ROOT] [--mirror DIR]",
		Short: "Crawl the sources once and record what they publish",
		Long: `build crawls every source once: the version each author points to, every
published version it can learn (GitHub: the releases list; web and folder
sources: the pointer, accumulating across builds), each version's zip
downloaded once, hashed and checked as modup release check does, its
a2modsource.json and modules recorded.

--sources is a text file, one update_url per line (# comments and blank
lines ignored); folder paths are relative to the file's folder and must
start with ./ or ../ when relative. --from-root ROOT (repeatable) adds the
update_urls of a root's packages. The index's sources become exactly these:
sources no longer listed are dropped. A source that fails records its error
and keeps its last good data.

Exit status: 0 when every source was read, 1 when any failed (each is
listed with its error).`,
		Example: `  modup index build --sources sources.txt --db index.db
  modup index build --from-root ~/a2/modules --db index.db --mirror ./mirror`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if signKey != "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("--sign: build writes only the database, and documents are signed where they are made: `modup index export --db DB DIR --sign %s` or `modup index serve --db DB --sign %s`", signKey, signKey)}
			}
			return a.indexBuild(cmd.Context(), f, sourcesFile, fromRoots, concurrency, timeout, asJSON)
		},
	}
	f.register(c, "keep every installable version's zip in DIR (served and exported under mirror/)")
	c.Flags().StringVar(&signKey, "sign", "", "not for build: export and serve sign (this says how)")
	_ = c.Flags().MarkHidden("sign")
	c.Flags().StringVar(&sourcesFile, "sources", "", "a file of update_urls, one per line")
	_ = c.MarkFlagFilename("sources")
	c.Flags().StringArrayVar(&fromRoots, "from-root", nil, "add the update_urls of a root's packages (repeatable)")
	_ = c.MarkFlagDirname("from-root")
	c.Flags().IntVar(&concurrency, "concurrency", crawl.DefaultConcurrency, "sources crawled at once")
	c.Flags().DurationVar(&timeout, "timeout", crawl.DefaultTimeout, "time limit of one source's refresh (its downloads included)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return c
}

func (a *app) indexBuild(ctx context.Context, f indexFlags, sourcesFile string, fromRoots []string, concurrency int, timeout time.Duration, asJSON bool) error {
	if sourcesFile == "" && len(fromRoots) == 0 {
		return &exitError{code: exitUsage, err: errors.New("index build: give --sources FILE or --from-root ROOT")}
	}
	var urls []string
	seen := map[string]bool{}
	add := func(list []string) {
		for _, u := range list {
			if !seen[u] {
				seen[u] = true
				urls = append(urls, u)
			}
		}
	}
	if sourcesFile != "" {
		list, err := crawl.ReadSources(sourcesFile)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		add(list)
	}
	for _, root := range fromRoots {
		list, bad, err := crawl.FromRoot(root)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--from-root: %w", err)}
		}
		for _, e := range bad {
			printf(a.stderr, "modup: skipped: %v\n", e)
		}
		add(list)
	}
	if len(urls) == 0 {
		// An empty list would empty the index: a wrong --from-root, most
		// likely.
		return &exitError{code: exitUsage, err: errors.New("index build: no update_url to crawl (the index is left as it was)")}
	}
	st, err := store.Open(ctx, f.db)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	defer st.Close()
	if _, _, err := st.SetSources(ctx, urls); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	rep, err := a.crawler(st, f.mirror, concurrency, timeout, a.logger).Run(ctx, urls)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if err := st.Checkpoint(ctx); err != nil {
		a.logger.Warn("checkpoint", "error", err)
	}
	if err := a.printCrawl(rep, asJSON); err != nil {
		return err
	}
	if !asJSON {
		snap, err := st.Snapshot(ctx)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		root := publish.Build(snap, publish.Options{}).Root()
		added, downloads := 0, 0
		for _, r := range rep.Results {
			added += r.Added
			downloads += r.Downloads
		}
		printf(a.stdout, "%s: %s, %s (%d new, %d downloaded); %d of %d sources failed; %s\n",
			f.db, plural(root.Packages, "package"), plural(root.Versions, "version"), added, downloads,
			rep.Failed(), len(rep.Results), rep.Took.Round(time.Millisecond))
	}
	if rep.Failed() > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

// plural writes "1 package", "2 packages" ("repository", "repositories").
func plural(n int, what string) string {
	switch {
	case n == 1:
		return fmt.Sprintf("1 %s", what)
	case strings.HasSuffix(what, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (a *app) printCrawl(rep crawl.Report, asJSON bool) error {
	return showRows(a, asJSON, rep.Results, rowsView[crawl.Result]{
		key:    "sources",
		header: []string{"NAME", "VERSIONS", "NEW", "SOURCE", "UPDATE_URL"},
		none:   "no sources",
		cells: func(r crawl.Result) []string {
			return []string{r.Name, fmt.Sprint(r.Versions), fmt.Sprint(r.Added), r.Kind, r.UpdateURL}
		},
		notes: func(r crawl.Result) {
			if r.Err != "" {
				printf(a.stdout, "error: %s: %s\n", r.UpdateURL, r.Err)
			}
		},
	})
}

func (a *app) indexServeCmd() *cobra.Command {
	var (
		f           indexFlags
		sf          signFlags
		addr        string
		refresh     time.Duration
		concurrency int
		timeout     time.Duration
	)
	c := &cobra.Command{
		Use:   "serve --db FILE [--mirror DIR] [--addr 127.0.0.1:8090] [--refresh 1h]",
		Short: "Answer the index's documents over HTTP, refreshing in the background",
		Long: `serve answers the index's documents, read-only: /, /list, /list/packages,
/list/modules, /info/packages, /info/packages/NAME, /info/modules/NAME and,
with --mirror, /mirror/NAME/VERSION.zip; each document also at its path plus
.json (as an export names its files), with ETag, Last-Modified, 304s and
gzip. Every --refresh (with about ±10% jitter; 0 = never) it refreshes the
index's sources in the background; requests are answered from the last
committed data meanwhile. --addr 127.0.0.1:0 picks a free port (printed).
Ctrl-C stops it.

--sign KEY signs /list/packages and every /info/packages/NAME (their
signatures at the .json path plus .minisig), valid for --valid-for (7 days);
the index signs again after each refresh and whenever half of that has
passed, so it never serves an expired signature. Users pin the key with
modup repo add NAME URL --key RW....`,
		Example: `  modup index serve --db index.db
  modup index serve --db index.db --mirror ./mirror --addr 0.0.0.0:8090 --refresh 30m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := a.signer(sf)
			if err != nil {
				return err
			}
			return a.indexServe(cmd.Context(), f, signer, addr, refresh, concurrency, timeout)
		},
	}
	f.register(c, "serve the mirrored zips kept in DIR (the build's --mirror)")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on (port 0 picks a free one)")
	c.Flags().DurationVar(&refresh, "refresh", time.Hour, "how often the sources are refreshed (0: never)")
	c.Flags().IntVar(&concurrency, "concurrency", crawl.DefaultConcurrency, "sources refreshed at once")
	c.Flags().DurationVar(&timeout, "timeout", crawl.DefaultTimeout, "time limit of one source's refresh")
	sf.register(c)
	return c
}

func (a *app) indexServe(ctx context.Context, f indexFlags, signer *publish.Signer, addr string, every time.Duration, concurrency int, timeout time.Duration) error {
	a.untilStopped = true // a signal is how it ends: exit 0
	if every < 0 {
		return &exitError{code: exitUsage, err: errors.New("--refresh must be 0 (never) or a positive duration")}
	}
	st, err := store.OpenExisting(ctx, f.db)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	defer st.Close()
	logger := a.infoLogger()
	srv, err := serve.New(ctx, st, serve.Options{Mirror: f.mirror, Logger: logger, Signer: signer})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("index serve: %w", err)}
	}
	url := "http://" + displayAddr(ln.Addr()) + "/"
	root := srv.Root()
	printf(a.stdout, "serving %s: %s, %s\n", f.db, plural(root.Packages, "package"), plural(root.Versions, "version"))
	printf(a.stdout, "url: %s\n", url)
	if every > 0 {
		printf(a.stdout, "refresh: every %s (±10%%)\n", every)
	} else {
		printf(a.stdout, "refresh: never\n")
	}
	printf(a.stdout, "press Ctrl-C to stop\n")

	rctx, stopRefresh := context.WithCancel(ctx)
	refreshDone := make(chan struct{})
	go func() {
		defer close(refreshDone)
		if every > 0 {
			a.refreshLoop(rctx, st, srv, f.mirror, every, concurrency, timeout, logger)
		}
	}()
	err = a.serveUntil(ctx, ln, srv, logger, "index serve")
	stopRefresh()
	<-refreshDone
	if err != nil {
		return err
	}
	printf(a.stdout, "stopped\n")
	return nil
}

// refreshLoop refreshes the index's sources every interval, with jitter,
// until ctx ends, and has the server pick up what changed.
func (a *app) refreshLoop(ctx context.Context, st *store.Store, srv *serve.Server, mirror string, every time.Duration, concurrency int, timeout time.Duration, logger *slog.Logger) {
	c := a.crawler(st, mirror, concurrency, timeout, logger)
	last := srv.Root().Generated
	if snap, err := st.Snapshot(ctx); err == nil {
		last = snap.Refreshed
	}
	for {
		wait := crawl.NextRefresh(last, every, time.Now(), rand.Float64)
		logger.Debug("next refresh", "in", wait.Round(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		urls, err := st.SourceURLs(ctx)
		if err != nil {
			logger.Warn("refresh", "error", err)
			last = time.Now()
			continue
		}
		rep, err := c.Run(ctx, urls)
		last = time.Now()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			logger.Warn("refresh", "error", err)
			continue
		}
		logger.Info("refresh", "sources", len(urls), "failed", rep.Failed(), "changed", rep.Changed, "duration", rep.Took.Round(time.Millisecond))
		if err := srv.Reload(ctx); err != nil {
			logger.Warn("refresh", "error", err)
		}
	}
}

func (a *app) indexExportCmd() *cobra.Command {
	var f indexFlags
	var sf signFlags
	c := &cobra.Command{
		Use:   "export --db FILE DIR [--mirror DIR]",
		Short: "Write the index's documents as a static file tree",
		Long: `export writes every document the server answers as a file under DIR:
index.json, list.json, list/packages.json, list/modules.json,
info/packages.json, info/packages/NAME.json, info/modules/NAME.json and,
with --mirror, mirror/NAME/VERSION.zip. Clients read the .json names, so
DIR uploaded to any static host, CDN or bucket is an index. Files whose
content did not change are left as they are; each gets its document's
modification time; documents of packages no longer in the index are
removed.

--sign KEY signs list/packages.json and every info/packages/NAME.json (a
.minisig beside each), valid for --valid-for (7 days): export again (and
upload) before then, or clients refuse the index as frozen and check the
authors' sources directly.`,
		Example: `  modup index export --db index.db ./public
  modup index export --db index.db ./public --mirror ./mirror`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			signer, err := a.signer(sf)
			if err != nil {
				return err
			}
			snap, err := readIndex(ctx, f.db)
			if err != nil {
				return err
			}
			site := publish.Build(snap, publish.Options{Mirror: f.mirror != ""})
			rep, err := publish.Export(ctx, site, &publish.Writer{Signer: signer}, args[0], f.mirror)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			printf(a.stdout, "exported %s to %s: %d written, %d unchanged, %d removed", plural(rep.Written+rep.Unchanged, "file"), args[0], rep.Written, rep.Unchanged, rep.Removed)
			if signer != nil {
				printf(a.stdout, "; signed by key ID %s until %s", signer.Key.Public().ID(), time.Now().Add(signer.ValidForOrDefault()).UTC().Format(time.DateTime))
			}
			if f.mirror != "" {
				printf(a.stdout, "; %s", plural(rep.Zips, "mirrored zip"))
				if rep.Signatures > 0 {
					printf(a.stdout, " (%d signed)", rep.Signatures)
				}
			}
			printf(a.stdout, "\n")
			return nil
		},
	}
	f.register(c, "copy the mirrored zips kept in DIR (the build's --mirror) into the export")
	sf.register(c)
	return c
}

func (a *app) indexShowCmd() *cobra.Command {
	var (
		f      indexFlags
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "show --db FILE [--json]",
		Short: "Show the index's sources, counts, last refresh and errors",
		Long:  `show prints every source with its package, version count, last good read and error, then the totals. --json prints the / document.`,
		Example: `  modup index show --db index.db
  modup index show --db index.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := readIndex(cmd.Context(), f.db)
			if err != nil {
				return err
			}
			root := publish.Build(snap, publish.Options{}).Root()
			if asJSON {
				return writeJSON(a.stdout, root)
			}
			counts := map[string]int{}
			for _, s := range snap.Sources {
				counts[s.UpdateURL] = len(s.Versions)
			}
			t := newTable(a.stdout, "NAME", "VERSIONS", "LAST_OK", "UPDATE_URL")
			for _, s := range root.Sources {
				t.row(s.Name, fmt.Sprint(counts[s.UpdateURL]), when(&s.LastOK), s.UpdateURL)
			}
			if err := t.flush(); err != nil {
				return err
			}
			for _, s := range root.Sources {
				if s.LastError != "" {
					printf(a.stdout, "error: %s: %s\n", s.UpdateURL, s.LastError)
				}
			}
			printf(a.stdout, "%s, %s from %s; data changed %s; last refresh %s\n",
				plural(root.Packages, "package"), plural(root.Versions, "version"), plural(len(root.Sources), "source"),
				when(&snap.Generated), when(&snap.Refreshed))
			return nil
		},
	}
	f.register(c, "")
	c.Flags().BoolVar(&asJSON, "json", false, "print the / document")
	return c
}

// readIndex reads a snapshot of the index a build made.
func readIndex(ctx context.Context, db string) (*store.Snapshot, error) {
	st, err := store.OpenExisting(ctx, db)
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	defer st.Close()
	snap, err := st.Snapshot(ctx)
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	return snap, nil
}
