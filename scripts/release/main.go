// Command release builds modup's release assets: for each target an archive
// modup_<version>_<os>_<arch>.tar.gz (.zip for Windows) holding the
// executable (version, release repository and release key in -ldflags) and
// README.md, then checksums.txt (sha256sum's format) and its minisign
// signature checksums.txt.minisig, which `modup self-update` verifies with
// the key built into the binaries.
//
//	MODUP_RELEASE_KEY_FILE=~/.minisign/modup.key MODUP_RELEASE_KEY_PASSWORD=... \
//	  go run ./scripts/release -version 1.2.0 -out dist
//
// The secret key comes from MODUP_RELEASE_KEY_FILE (a minisign secret key
// file, encrypted with MODUP_RELEASE_KEY_PASSWORD or not) or from
// MODUP_RELEASE_KEY_SECRET (the file's contents, for CI secrets). -dry
// builds into a temporary folder (or -out) and, without a key, signs with a
// throw-away key generated for the run: CI runs it to prove the release
// still builds, archives, signs and verifies.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

// defaultTargets are the systems a release is built for.
var defaultTargets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	version := fs.String("version", "", "the version to release, e.g. 1.2.0 (required unless -dry)")
	out := fs.String("out", "", "where the assets go (default dist/; with -dry a temporary folder, removed after)")
	repo := fs.String("repo", "modup/modup", "the GitHub repository self-update reads releases from")
	targets := fs.String("targets", strings.Join(defaultTargets, ","), "comma-separated GOOS/GOARCH list")
	dry := fs.Bool("dry", false, "build, archive, sign and verify without a real key or version, into a temporary folder")
	pkg := fs.String("pkg", "./cmd/modup", "the package to build")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	opt := options{
		Version: strings.TrimPrefix(strings.TrimSpace(*version), "v"),
		Repo:    *repo,
		Out:     *out,
		Dry:     *dry,
		Targets: splitList(*targets),
		Build:   goBuild(*pkg),
		Log:     stdout,
	}
	key, err := loadKey(getenv, opt.Dry)
	if err != nil {
		return err
	}
	opt.Key = key
	if opt.Dry && opt.Version == "" {
		opt.Version = "0.0.0-dry"
	}
	if opt.Dry && opt.Out == "" {
		tmp, err := os.MkdirTemp("", "modup-release-dry-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		opt.Out = tmp
	}
	if opt.Out == "" {
		opt.Out = "dist"
	}
	_, err = release(ctx, opt)
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
