package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modup/modup/release"
	"github.com/modup/modup/sources/fs"
	"github.com/modup/modup/sources/gist"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/sources/web"
)

func (a *app) packCmd() *cobra.Command {
	var (
		opt        release.PackOptions
		gist       bool
		signKey    string
		rotateFrom string
	)
	c := &cobra.Command{
		Use:   "pack [DIR] [--version X | --bump patch|minor|major] [-o OUTDIR] [--sign KEY [--rotate-from OLD.key]]",
		Short: "Write a release of a package folder: <version>.zip and a2modsource.json",
		Long: `pack writes a release of the package in DIR (default: the current folder)
into a release folder, OUTDIR (default: DIR/../<name>-release):

  <version>.zip      the package, its a2modsource.json carrying <version>
  a2modsource.json   the package's manifest with version, sha256 and zip_size
                     of that zip: the file users' modup reads at update_url

The zip leaves out .git and .modup folders and whatever .modupignore lists,
and is reproducible: the same folder always packs to the same bytes. Earlier
zips in OUTDIR stay. A <version>.zip already in OUTDIR with other bytes is
refused: a published version never changes, bump it.

--version releases that version and leaves DIR untouched; --bump releases the
next patch, minor or major version and writes it into DIR/a2modsource.json
too (unknown fields and the byte-order mark are kept).

--gist checks that the package can be published as a gist (a2modsource.json
and one module folder with a2module.json and files, no sub-folders, named as
the manifest's "module" or its name) and says why not; when it fits, it
writes the gist's files, flat, into OUTDIR (default DIR/../<name>-gist).

--sign KEY (a secret key from modup key generate, or $MODUP_SIGNING_KEY)
signs the zip: <version>.zip.minisig beside it, whose trusted comment names
the package, the version, the zip's sha256 and the time, and public_key in
a2modsource.json (with --bump in DIR's manifest too). A password-protected
key's password comes from $MODUP_SIGNING_PASSWORD or the terminal.
--rotate-from OLD.key adds a key rotation: the new key signed by the old one,
so users who pinned the old key move to the new one ($MODUP_OLD_SIGNING_PASSWORD
for its password).`,
		Example: `  modup pack ./hello --bump minor
  modup pack ./hello --version 1.2.0 -o ./site/hello
  modup pack ./hello --bump patch --sign ~/.config/modup/modup.key
  modup pack ./hello --bump patch --sign new/modup.key --rotate-from old/modup.key
  modup pack ./greeter --gist --bump patch
  modup pack`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if opt.Version != "" && opt.Bump != "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("--version and --bump exclude each other")}
			}
			switch opt.Bump {
			case "", release.BumpPatch, release.BumpMinor, release.BumpMajor:
			default:
				return &exitError{code: exitUsage, err: fmt.Errorf("--bump %q: want patch, minor or major", opt.Bump)}
			}
			if gist {
				if signKey != "" {
					return &exitError{code: exitUsage, err: fmt.Errorf("--gist and --sign: a gist's revisions are not signed; publish signed releases as zips")}
				}
				res, err := release.PackGist(cmd.Context(), dir, opt)
				if err != nil {
					return &exitError{code: exitFailure, err: err}
				}
				a.printGist(res)
				return nil
			}
			if signKey == "" {
				signKey = a.getenv(envSigningKey)
			}
			if rotateFrom != "" && signKey == "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("--rotate-from needs --sign NEW.key: the key to hand the trust to")}
			}
			key, err := a.loadSigningKey(signKey, envSigningPassword)
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("--sign: %w", err)}
			}
			if key != nil {
				opt.Sign = &release.Signing{Key: *key}
				if opt.Sign.RotateFrom, err = a.loadSigningKey(rotateFrom, envOldSigningPassword); err != nil {
					return &exitError{code: exitFailure, err: fmt.Errorf("--rotate-from: %w", err)}
				}
			}
			res, err := release.Pack(cmd.Context(), dir, opt)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			a.printPack(dir, res)
			return nil
		},
	}
	c.Flags().StringVar(&signKey, "sign", "", "sign the release with this secret key (default $"+envSigningKey+")")
	c.Flags().StringVar(&rotateFrom, "rotate-from", "", "with --sign: hand the trust of this older key to the new one")
	c.Flags().StringVar(&opt.Version, "version", "", "release this version (DIR is left untouched)")
	c.Flags().StringVar(&opt.Bump, "bump", "", "release the next patch, minor or major version and write it into DIR's manifest")
	c.RegisterFlagCompletionFunc("bump", completeChoices("patch", "minor", "major"))
	c.Flags().StringVarP(&opt.OutDir, "output", "o", "", "the release folder (default DIR/../<name>-release, with --gist DIR/../<name>-gist)")
	c.Flags().BoolVar(&gist, "gist", false, "check that the package fits in a gist (one module, no sub-folders) and write the gist's files, flat, instead of a zip")
	return c
}

func (a *app) printPack(dir string, res release.PackResult) {
	kind := ""
	if res.UpdateURL != "" {
		if src, err := a.updater().Sources.Registry.For(res.UpdateURL); err == nil {
			kind = src.Kind()
		}
	}
	own := filepath.Join(res.Dir, "a2modsource.json")
	zip := filepath.Base(res.ZipPath)
	if res.Signature != nil {
		zip += " and " + filepath.Base(res.Signature.SignaturePath)
	}

	w := a.stdout
	verb := "wrote"
	if res.Reused {
		verb = "kept (same bytes)"
	}
	printf(w, "packed %s %s (%d files)\n", res.Name, res.Version, res.Files)
	printf(w, "  %s %s\n", verb, res.ZipPath)
	printf(w, "    sha256   %s\n    zip_size %d\n", res.SHA256, res.Size)
	if sr := res.Signature; sr != nil {
		verb := "signed"
		if sr.Reused {
			verb = "kept (valid)"
		}
		printf(w, "  %s %s (key ID %s)\n", verb, sr.SignaturePath, sr.KeyID)
	}
	printf(w, "  wrote %s\n", res.ManifestPath)
	if sr := res.Signature; sr != nil {
		printf(w, "    public_key %s\n", sr.PublicKey)
		if sr.RotatedFrom != "" {
			printf(w, "    key_rotation from key ID %s\n", sr.RotatedFrom)
		}
	}
	for _, warning := range res.Warnings {
		printf(a.stderr, "modup: warning: %s\n", warning)
	}
	if res.Bumped {
		printf(w, "  bumped %s: %s -> %s\n", own, res.Previous, res.Version)
	}
	if len(res.Kept) > 0 {
		printf(w, "  earlier releases kept: %s\n", strings.Join(res.Kept, ", "))
	}
	if sr := res.Signature; sr != nil && kind == github.Kind && res.OwnPublicKey != sr.PublicKey {
		printf(a.stderr, "modup: warning: %s does not name public_key %s: on GitHub users read that file, so add it there (--bump does) or they never learn the key\n", own, sr.PublicKey)
	}
	if !res.Bumped && res.Previous != res.Version {
		why := "keep the package folder in step with its releases"
		if kind == github.Kind {
			why = "users read it from the default branch and never see " + res.Version + " until it is pushed"
		}
		printf(a.stderr, "modup: warning: %s still says %q: bump it too (--bump, or by hand); %s\n", own, res.Previous, why)
	}

	printf(w, "next steps:\n")
	printf(w, "  1. try the update locally: modup serve %s\n", res.OutDir)
	printf(w, "     and in another terminal: modup install http://127.0.0.1:8080 --root ./try  (later: modup update NAME --root ./try)\n")
	switch kind {
	case github.Kind:
		printf(w, "  2. publish: a GitHub release tagged %s with %s attached, then push a2modsource.json (version %s) to the default branch\n",
			res.Version, zip, res.Version)
	case web.Kind:
		printf(w, "  2. publish: upload %s first, then a2modsource.json, to %s\n", zip, res.UpdateURL)
	case "":
		printf(w, "  2. publish: set update_url in %s to where releases go (a GitHub repository, a web folder or a folder), then upload %s and a2modsource.json there\n", own, zip)
	default:
		where := res.UpdateURL
		if f, err := fs.Folder(res.UpdateURL, res.Dir); err == nil {
			where = f
		}
		if where == res.OutDir {
			printf(w, "  2. publish: done, update_url is this release folder\n")
		} else {
			printf(w, "  2. publish: copy %s first, then a2modsource.json, to %s\n", zip, where)
		}
	}
	printf(w, "  3. check what users get: modup release check %s\n", dir)
}

func (a *app) printGist(res release.GistResult) {
	w := a.stdout
	fmt.Fprintf(w, "gist files of %s %s (module %s/)\n", res.Name, res.Version, res.Module)
	for _, f := range res.Files {
		fmt.Fprintf(w, "  wrote %s\n", filepath.Join(res.OutDir, f))
	}
	if res.Bumped {
		fmt.Fprintf(w, "  bumped %s: %s -> %s\n", filepath.Join(res.Dir, "a2modsource.json"), res.Previous, res.Version)
	}
	for _, f := range res.Stale {
		fmt.Fprintf(a.stderr, "modup: warning: %s is no longer in the package: delete it from the gist too\n", filepath.Join(res.OutDir, f))
	}
	if res.UpdateURL == "" || !a.isGist(res.UpdateURL) {
		fmt.Fprintf(a.stderr, "modup: warning: update_url %q is not a gist: set it to https://gist.github.com/USER/ID so users' modup reads the gist\n", res.UpdateURL)
	}
	fmt.Fprintln(w, "next steps:")
	fmt.Fprintf(w, "  1. publish: put these files in the gist as one revision (git clone the gist, copy them in, commit, push);\n")
	fmt.Fprintf(w, "     the revision that changes \"version\" is the release of %s\n", res.Version)
	fmt.Fprintf(w, "  2. check what users get: modup release check %s\n", res.Dir)
}

func (a *app) isGist(updateURL string) bool {
	src, err := a.updater().Sources.Registry.For(updateURL)
	return err == nil && src.Kind() == gist.Kind
}
