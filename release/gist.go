package release

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
)

// ErrNotGist: the package does not fit in a gist (one module, no folders).
var ErrNotGist = errors.New("the package does not fit in a gist")

// GistResult says what PackGist wrote.
type GistResult struct {
	Name      string // the manifest's name, else the folder's
	Dir       string // the package folder (absolute)
	UpdateURL string
	Version   string // the version released
	Previous  string // the package manifest's version before
	Bumped    bool   // the package's manifest now says Version
	Module    string // the module folder, whose files go to the gist

	OutDir string   // the gist folder (absolute)
	Files  []string // the gist's files as written, a2modsource.json first
	// Stale are files in OutDir that are no longer in the package: remove
	// them from the gist too.
	Stale []string
}

// DefaultGistDir is the folder PackGist writes a package's gist files to:
// a sibling folder "<name>-gist".
func DefaultGistDir(dir, name string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dir)), name+"-gist")
}

// PackGist checks that the package in dir fits in a gist (a2modsource.json
// and one module folder holding a2module.json and files, no sub-folders,
// the folder named as users' modup names it) and writes the gist's files,
// flat, into OutDir (default DefaultGistDir): the manifest carrying the
// version, and the module's files. A package that does not fit is an error
// wrapping ErrNotGist that lists every reason and what to do. The same
// exclusions as Pack apply (.git, .modup, .modupignore).
func PackGist(ctx context.Context, dir string, opt PackOptions) (GistResult, error) {
	var res GistResult
	abs, m, err := readPackage(dir)
	if err != nil {
		return res, err
	}
	res.Dir = abs
	res.Name = cmp.Or(strings.TrimSpace(m.Name), filepath.Base(abs))
	res.UpdateURL, res.Previous = m.UpdateURL, m.Version
	if res.Version, err = releaseVersion(abs, m, opt); err != nil {
		return res, err
	}
	out := opt.OutDir
	if out == "" {
		if err := pkgdir.CheckName(res.Name); err != nil {
			return res, fmt.Errorf("no default gist folder for %s: pass -o DIR", err)
		}
		out = DefaultGistDir(abs, res.Name)
	}
	if out, err = filepath.Abs(out); err != nil {
		return res, err
	}
	res.OutDir = out
	exclude, err := outsidePackage(abs, out)
	if err != nil {
		return res, err
	}
	module, files, err := gistFiles(ctx, abs, m, exclude)
	if err != nil {
		return res, err
	}
	res.Module = module

	pub, err := clone(m)
	if err != nil {
		return res, err
	}
	if err := pub.Set("version", res.Version); err != nil {
		return res, err
	}
	pub.Delete("sha256") // a gist's archive is built by GitHub: no digest to declare
	pub.Delete("zip_size")
	data, err := pub.Marshal()
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, fmt.Errorf("create gist folder: %w", err)
	}
	names := slices.Sorted(maps.Keys(files))
	res.Files = append([]string{sources.ManifestFile}, names...)
	if err := fsutil.WriteFileAtomic(filepath.Join(out, sources.ManifestFile), data, 0o644); err != nil {
		return res, err
	}
	for _, name := range names {
		if err := fsutil.WriteFileAtomic(filepath.Join(out, name), files[name], 0o644); err != nil {
			return res, err
		}
	}
	res.Stale = staleFiles(out, res.Files)

	if opt.Bump != "" {
		if err := m.Set("version", res.Version); err != nil {
			return res, err
		}
		if err := pkgdir.WriteManifest(abs, m); err != nil {
			return res, fmt.Errorf("gist files of %s written to %s, but the package's manifest still says %s: %w (set its version by hand)", res.Version, out, res.Previous, err)
		}
		res.Bumped = true
	}
	return res, nil
}

// gistFiles packs dir as Pack would (same exclusions, same refusals),
// checks that what it holds fits in a gist and returns the module folder
// and its files by name.
func gistFiles(ctx context.Context, dir string, m *manifest.Manifest, exclude func(string, bool) bool) (string, map[string][]byte, error) {
	var buf bytes.Buffer
	if _, err := archive.Pack(ctx, &buf, dir, archive.PackOptions{Exclude: exclude}); err != nil {
		return "", nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return "", nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	var problems, folders []string
	files := map[string]map[string][]byte{} // folder -> file -> content
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		parts := strings.Split(name, "/")
		isDir := strings.HasSuffix(f.Name, "/")
		switch {
		case len(parts) == 1 && isDir:
			folders = append(folders, name)
			files[name] = map[string][]byte{}
		case len(parts) == 1 && (name == sources.ManifestFile || name == ".modupignore"):
		case len(parts) == 1:
			problems = append(problems, fmt.Sprintf("%s: a gist package holds only %s and one module folder; move it into the module folder, or list it in .modupignore", name, sources.ManifestFile))
		case len(parts) == 2 && isDir:
			problems = append(problems, fmt.Sprintf("%s/: gists have no folders; move its files up into %s/, or list it in .modupignore", name, parts[0]))
		case len(parts) == 2:
			content, err := readZipFile(f)
			if err != nil {
				return "", nil, fmt.Errorf("pack %s: %w", dir, err)
			}
			files[parts[0]][parts[1]] = content
			if parts[1] == sources.ManifestFile {
				problems = append(problems, fmt.Sprintf("%s: in a gist, a module file of this name would be taken for the package's manifest; rename it", name))
			}
		}
	}
	var module string
	switch len(folders) {
	case 0:
		problems = append(problems, fmt.Sprintf("no module folder: a gist package holds %s and one module folder with %s and its files", sources.ManifestFile, pkgdir.ModuleFile))
	case 1:
		module = folders[0]
		if _, ok := files[module][pkgdir.ModuleFile]; !ok {
			problems = append(problems, fmt.Sprintf("%s/ holds no %s: it is not a module", module, pkgdir.ModuleFile))
		}
		if p := moduleNameProblem(m, module); p != "" {
			problems = append(problems, p)
		}
	default:
		problems = append(problems, fmt.Sprintf("%d module folders (%s): a gist holds one module; publish the others as gists of their own, or publish this package from a GitHub or GitLab repository", len(folders), strings.Join(folders, ", ")))
	}
	if len(problems) > 0 {
		return "", nil, fmt.Errorf("%s: %w:\n  - %s", dir, ErrNotGist, strings.Join(problems, "\n  - "))
	}
	return module, files[module], nil
}

// moduleNameProblem says what to change when users' modup would name the
// module folder otherwise than folder: it uses the manifest's "module",
// else its name.
func moduleNameProblem(m *manifest.Manifest, folder string) string {
	var field string
	if raw, ok := m.Raw("module"); ok {
		if err := json.Unmarshal(raw, &field); err != nil {
			return fmt.Sprintf("%s: \"module\" must be a string (the module folder's name, %q)", pkgdir.ManifestFile, folder)
		}
	}
	switch {
	case field != "" && field != folder:
		return fmt.Sprintf("%s says \"module\": %q but the module folder is %s/: make them the same", pkgdir.ManifestFile, field, folder)
	case field == "" && strings.TrimSpace(m.Name) != folder:
		return fmt.Sprintf("users' modup names the module folder after the package (%q) unless the manifest says otherwise: add \"module\": %q to %s", m.Name, folder, pkgdir.ManifestFile)
	}
	return ""
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// staleFiles lists the regular, non-hidden files in out that are not in
// keep, sorted.
func staleFiles(out string, keep []string) []string {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && !strings.HasPrefix(n, ".") && !slices.Contains(keep, n) {
			stale = append(stale, n)
		}
	}
	return stale
}
