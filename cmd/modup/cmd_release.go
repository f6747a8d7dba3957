package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/release"
	"github.com/modup/modup/updater"
)

func (a *app) releaseCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "release",
		Short: "Tools for package authors: check a published release",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	c.AddCommand(a.releaseCheckCmd())
	return c
}

func (a *app) releaseCheckCmd() *cobra.Command {
	var (
		asJSON  bool
		maxSize int64
	)
	c := &cobra.Command{
		Use:   "check [DIR|URL]",
		Short: "Run an update against the published release, installing nothing, and report each step",
		Long: `release check does what users' modup does on an update, against the
release as published, and installs nothing: it reads the remote manifest,
finds the release, downloads it (same caps and stall watchdog), extracts it
into a throw-away folder (deleted afterwards) and checks what it finds:

  manifest       the remote a2modsource.json is reachable and valid JSON
  version        its version is semver
  requirements   its requirement fields (requires, conflicts, breaks, ...)
                 parse, and this modup reads its manifest_version
  release        a release of that version is published (GitHub: a
                 non-draft release with that tag; web or folder: <version>.zip)
  download       the zip downloads within the size cap
  archive        the zip is safe to extract
  zip-manifest   the zip's a2modsource.json says the same version
  checksum       the declared sha256 and zip_size match the zip
  signature      <version>.zip.minisig verifies with the manifest's
                 public_key, for this package, version and zip (prints the
                 key id); fails when public_key is named and no signature is
                 published
  modules        every module's a2module.json parses
  newer-release  GitHub: no published release is newer than the manifest
  local-copy     the local package folder is not ahead of the release

The argument is a package folder (default: the current folder; its
update_url is checked and the folder compared with the release), a release
folder as modup pack writes it, or an update_url (https://..., file://...).

Exit status: 0 when no check fails (warnings allowed), 1 otherwise.`,
		Example: `  modup release check ./hello
  modup release check https://github.com/ewerybody/a2.modules
  modup release check http://127.0.0.1:8080 --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			dir, url, err := release.Target(arg)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			rep := release.Check(cmd.Context(), release.CheckOptions{
				Sources:   a.updater().Sources,
				Dir:       dir,
				UpdateURL: url,
				MaxSize:   maxSize,
			})
			if err := cmd.Context().Err(); err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.stdout, rep); err != nil {
					return err
				}
			} else {
				a.printReleaseCheck(dir, url, rep)
			}
			if !rep.OK {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().Var(newSizeFlag(&maxSize, updater.DefaultMaxSize), "max-size", "largest download accepted (512MiB, 1GB, ...)")
	return c
}

func (a *app) printReleaseCheck(dir, url string, rep release.Report) {
	w := a.stdout
	if dir != "" {
		printf(w, "release check of the package in %s\n", dir)
	} else {
		printf(w, "release check of %s\n", redact.URL(url))
	}
	t := newTable(w)
	for _, s := range rep.Steps {
		line := s.Detail
		if s.Hint != "" {
			line += ": " + s.Hint
		}
		t.row(strings.ToUpper(string(s.Status)), s.Name, line)
	}
	t.flush()
	fails, warns := 0, 0
	for _, s := range rep.Steps {
		switch s.Status {
		case release.Fail:
			fails++
		case release.Warn:
			warns++
		}
	}
	switch {
	case fails > 0:
		printf(w, "%d check(s) failed: users cannot update to this release as published\n", fails)
	case warns > 0:
		printf(w, "release OK, with %d warning(s)\n", warns)
	default:
		printf(w, "release OK\n")
	}
}
