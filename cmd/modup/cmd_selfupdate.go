package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modup/modup/selfupdate"
	"github.com/modup/modup/sources/github"
)

// Where modup's own releases are and the key they are signed with, set at
// build time (scripts/release does):
//
//	-ldflags "-X main.selfRepo=OWNER/REPO -X main.releaseKey=RW..."
//
// --repo and --release-key (MODUP_SELF_REPO, MODUP_RELEASE_KEY,
// self_update.repo and self_update.release_key in the configuration file)
// override them: forks, mirrors, tests.
var (
	selfRepo   = "modup/modup"
	releaseKey = ""
)

// removeOldExecutable removes what a self-update on Windows moved aside
// while it ran (nothing to do elsewhere).
func removeOldExecutable() {
	if exe, err := os.Executable(); err == nil {
		_ = selfupdate.RemoveOld(exe)
	}
}

func (a *app) selfUpdateCmd() *cobra.Command {
	var check bool
	var to, repo, key string
	c := &cobra.Command{
		Use:   "self-update [--check] [--to VERSION]",
		Short: "Update modup itself to its newest release",
		Long: `self-update installs modup's newest release over the running executable:
it reads the releases of ` + selfRepo + ` on GitHub, downloads the archive for
this system (modup_<version>_<os>_<arch>.tar.gz or .zip), verifies it against
the release's checksums.txt, whose minisign signature must verify with the
release key built into this modup, and replaces the executable atomically
(on Windows the running file is moved aside and removed at the next start).

A modup installed by a package manager (/usr/bin, Homebrew, Scoop, ...) is
left to it: self-update says which command updates it.

--check only says whether a newer modup exists: exit status 100 when one
does (like check), 0 when this one is the newest. --to installs exactly that
version, older ones too.`,
		Example: `  modup self-update --check
  modup self-update
  modup self-update --to 1.2.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.selfUpdate(cmd, check, strings.TrimSpace(to), cmp.Or(strings.TrimSpace(repo), selfRepo), cmp.Or(strings.TrimSpace(key), releaseKey))
		},
	}
	c.Flags().BoolVar(&check, "check", false, "only say whether a newer modup exists (exit status 100 when one does)")
	c.Flags().StringVar(&to, "to", "", "install exactly this version")
	// A fork or a mirror of modup's releases: also $MODUP_SELF_REPO and
	// $MODUP_RELEASE_KEY, or self_update.repo and self_update.release_key
	// in the configuration file.
	c.Flags().StringVar(&repo, "repo", "", "the GitHub repository of modup's releases, OWNER/REPO (default "+selfRepo+")")
	c.Flags().StringVar(&key, "release-key", "", "the minisign public key modup's releases are signed with (default: the one built in)")
	return c
}

func (a *app) selfUpdate(cmd *cobra.Command, check bool, to, repo, key string) error {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("find the running executable: %w", err)}
	}
	if command, managed := selfupdate.ManagedBy(exe); managed && !check {
		return &exitError{code: exitFailure, err: &selfupdate.ManagedError{Path: exe, Command: command}}
	}
	u, err := selfupdate.New(selfupdate.Config{
		Repo:      repo,
		PublicKey: key,
		Current:   modupVersion(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		APIURL:    github.ConfigFromEnv(a.getenv).APIURL,
		Client:    a.updater().Sources.Client,
	})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	rel, err := u.Find(cmd.Context(), to)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	current := modupVersion()
	newer := u.Newer(rel)
	same := strings.TrimPrefix(current, "v") == rel.Version
	w := a.stdout
	switch {
	case check && newer:
		fmt.Fprintf(w, "modup %s -> %s available (modup self-update installs it)\n", current, rel.Version)
		return &exitError{code: exitAvailable}
	case check:
		fmt.Fprintf(w, "modup %s is up to date (newest release: %s)\n", current, rel.Version)
		return nil
	case same || (to == "" && !newer):
		fmt.Fprintf(w, "modup %s is up to date (newest release: %s)\n", current, rel.Version)
		return nil
	}
	fmt.Fprintf(a.stderr, "downloading %s\n", rel.Archive.Name)
	if err := u.Install(cmd.Context(), rel, exe); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	fmt.Fprintf(w, "updated modup %s -> %s (%s)\n", current, rel.Version, exe)
	if notes := strings.TrimSpace(rel.Notes); notes != "" {
		fmt.Fprintf(w, "\n%s\n", notes)
	}
	return nil
}
