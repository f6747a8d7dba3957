// Package release holds modup's tools for package authors: Pack turns a
// package folder into a release folder (a2modsource.json next to
// <version>.zip), Handler serves such a folder over HTTP, and Check runs the
// client side of an update against a published release without installing
// anything, reporting every step.
//
// The package decides and reports; it never prints (cmd/modup does) and it
// never changes an installed package.
package release

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/updater"
)

// Bump kinds for PackOptions.Bump.
const (
	BumpPatch = "patch"
	BumpMinor = "minor"
	BumpMajor = "major"
)

// checkReleaseVersion accepts what a release may be called: strict semver
// (MAJOR.MINOR.PATCH, optional pre-release and build metadata), without a
// leading "v", so that the zip's name and the manifest agree with what
// every client compares.
func checkReleaseVersion(v string) error {
	if strings.TrimSpace(v) != v || v == "" {
		return fmt.Errorf("version %q: want MAJOR.MINOR.PATCH like 1.2.0", v)
	}
	if _, err := semver.StrictNewVersion(v); err != nil {
		if pv, perr := updater.ParseVersion(v); perr == nil {
			return fmt.Errorf("version %q is not semver: write it as %s", v, pv.String())
		}
		return fmt.Errorf("version %q is not semver: want MAJOR.MINOR.PATCH like 1.2.0", v)
	}
	return nil
}

// nextVersion is current bumped by kind ("patch", "minor", "major").
func nextVersion(current, kind string) (string, error) {
	cur, err := updater.ParseVersion(current)
	if err != nil {
		return "", fmt.Errorf("--bump %s: the package's version %w", kind, err)
	}
	var next semver.Version
	switch kind {
	case BumpPatch:
		next = cur.IncPatch()
	case BumpMinor:
		next = cur.IncMinor()
	case BumpMajor:
		next = cur.IncMajor()
	default:
		return "", fmt.Errorf("--bump %q: want patch, minor or major", kind)
	}
	return next.String(), nil
}
