package pkgdir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/modup/modup/internal/fsutil"
)

// This file holds the names modup gives to things inside .modup/, and the
// rule that keeps tmp/ and staging/ sweepable: whatever belongs to package
// NAME lives under tmp/NAME/ or staging/NAME/, is created while NAME's lock
// is held, and is removed by Recover once nobody holds that lock.

// InstalledDir holds one install record per package: installed/<name>.json.
func (l Layout) InstalledDir() string { return filepath.Join(l.Dir(), FolderInstalled) }

// JournalPath is the journal of an unfinished change of package name.
func (l Layout) JournalPath(name string) string {
	return filepath.Join(l.JournalDir(), name+".json")
}

// RecordPath is the install record of package name.
func (l Layout) RecordPath(name string) string {
	return filepath.Join(l.InstalledDir(), name+".json")
}

// NewStaging creates a fresh empty folder, staging/<name>/new-<digits>,
// to extract a release of package name into. It gets 0777 less the umask:
// extracted from a zip without a wrapper folder (everything `modup pack`
// writes), it becomes the package folder. Hold the package's lock while it
// is in use: Recover removes it otherwise.
func (l Layout) NewStaging(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	r, err := l.OpenOwn(true, FolderStaging, name)
	if err != nil {
		return "", fmt.Errorf("create staging folder of %s: %w", name, err)
	}
	defer r.Close()
	dir, err := fsutil.MkdirTempIn(r, stagingNew.prefix, 0o777)
	if err != nil {
		return "", fmt.Errorf("create staging folder of %s: %w", name, err)
	}
	return l.absPath(filepath.Join(r.Name(), dir))
}

// CreateTemp creates a new file for package name under tmp/<name>/, e.g.
// for a download in progress. pattern is one of the names the sweep
// recognises ("download-*.zip"). Hold the package's lock while it is in
// use: Recover removes it otherwise.
func (l Layout) CreateTemp(name, pattern string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	prefix, suffix, _ := strings.Cut(pattern, "*")
	if tempPattern := (tempPattern{prefix, suffix}); !slices.Contains(ownTemps[FolderTmp], tempPattern) {
		return nil, fmt.Errorf("create temporary file of %s: %q is not a name modup sweeps", name, pattern)
	}
	r, err := l.OpenOwn(true, FolderTmp, name)
	if err != nil {
		return nil, fmt.Errorf("create temporary file of %s: %w", name, err)
	}
	defer r.Close()
	f, _, err := fsutil.CreateTempIn(r, prefix, suffix, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create temporary file of %s: %w", name, err)
	}
	return f, nil
}

// RemoveTemp deletes a download or a staging folder of package name made
// by CreateTemp or NewStaging (a tree made writable where it must be),
// then the package's folder in tmp/ or staging/ if that is left empty, so
// that nothing of a finished or failed change stays in .modup. The caller
// holds the package's lock.
func (l Layout) RemoveTemp(path string) error {
	abs, err := l.absPath(path)
	if err != nil {
		return err
	}
	if err := l.removeTree(abs); err != nil {
		return err
	}
	for _, dir := range []string{l.TmpDir(), l.StagingDir()} {
		if stop, err := l.absPath(dir); err == nil && strings.HasPrefix(abs, stop+string(filepath.Separator)) {
			removeEmptyParents(abs, stop)
		}
	}
	return nil
}

// CheckName reports whether name can be a package folder name that modup
// manages: one path element, not hidden, no control characters, nothing
// Windows would refuse or read as a device.
func CheckName(name string) error {
	bad := func(why string) error { return fmt.Errorf("package name %q: %s", name, why) }
	switch {
	case name == "":
		return bad("empty")
	case name == "." || name == "..":
		return bad("not a folder name")
	case strings.HasPrefix(name, "."):
		return bad("hidden folders are not packages")
	case strings.ContainsAny(name, `/\:`):
		return bad("must be a single folder name")
	case len(name) > 200:
		return bad("too long")
	case strings.HasSuffix(name, " "):
		return bad("ends with a space")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return bad("contains a control character or invalid UTF-8")
		}
	}
	if !filepath.IsLocal(name) {
		return bad("reserved name")
	}
	return nil
}

// versionDirName turns a version string into a safe single path component
// for backups/<name>/<version>/: letters, digits and . _ + - are kept,
// anything else becomes '_'; the result never starts with '.', never ends
// with '.', holds no '~' (used for ~2, ~3 suffixes) and is at most 64 bytes.
func versionDirName(version string) string {
	var b strings.Builder
	for _, r := range version {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)), r == '.', r == '_', r == '+', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := b.String()
	if strings.HasPrefix(s, ".") {
		s = "_" + s[1:]
	}
	if strings.HasSuffix(s, ".") {
		s = s[:len(s)-1] + "_"
	}
	if s == "" {
		s = "unknown"
	}
	if !filepath.IsLocal(s) || !isPortableName(s) {
		s = "_" + s
	}
	return s
}

// isPortableName reports whether s avoids Windows device names (CON,
// NUL.txt, COM1...), which filepath.IsLocal only checks on Windows.
func isPortableName(s string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(s), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return false
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' {
		return false
	}
	return true
}

// absPath makes p absolute and clean.
func (l Layout) absPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", p, err)
	}
	return abs, nil
}

// relPath returns p relative to the root with '/' separators, for the
// journal: relative paths survive the root being moved or mounted elsewhere
// and are easy to check for staying inside it.
func (l Layout) relPath(p string) (string, error) {
	root, err := l.absPath(l.Root)
	if err != nil {
		return "", err
	}
	abs, err := l.absPath(p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is not inside root %s", p, root)
	}
	return filepath.ToSlash(rel), nil
}

// within reports whether the root-relative slash path rel lies strictly
// inside the root-relative slash folder dir.
func within(rel, dir string) bool {
	return filepath.IsLocal(filepath.FromSlash(rel)) && strings.HasPrefix(rel, dir+"/") && len(rel) > len(dir)+1
}

// fromRel turns a journal path back into an absolute path.
func (l Layout) fromRel(rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("journal path %q leaves the root", rel)
	}
	return l.absPath(filepath.Join(l.Root, filepath.FromSlash(rel)))
}
