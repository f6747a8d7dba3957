package archive

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// IgnoreFile lists, in a package folder, what Pack leaves out.
const IgnoreFile = ".modupignore"

// packTime is the timestamp of every entry Pack writes.
var packTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// alwaysExcluded are base names Pack never packs, at any depth.
var alwaysExcluded = []string{".git", ".modup"}

// PackOptions tune Pack. The zero value packs dir's files at the top level.
type PackOptions struct {
	Prefix  string                            // folder prefix inside the zip ("" = files at top level)
	Exclude func(rel string, isDir bool) bool // extra exclusions (rel uses '/')
	Replace map[string][]byte                 // rel path -> content to write instead of the file on disk (added when absent)
}

// packEntry is one entry to write, by its path relative to dir.
type packEntry struct {
	rel     string
	dir     bool
	perm    fs.FileMode
	content []byte // from Replace; nil means read rel from disk
	replace bool
}

// Pack writes dir to w as a deterministic zip: entries sorted by name,
// explicit folder entries, timestamps fixed at 2000-01-01 UTC, deflate,
// modes 0644 or 0755 (the executable bit is kept). It leaves out .git and
// .modup at any depth, whatever .modupignore in dir lists (see
// parseIgnore) and whatever opt.Exclude rejects. It refuses symlinks,
// other non-regular files and names Extract would reject, naming the path.
// The same input always gives the same bytes.
func Pack(ctx context.Context, w io.Writer, dir string, opt PackOptions) (files int, err error) {
	prefix, err := checkPrefix(opt.Prefix)
	if err != nil {
		return 0, fmt.Errorf("pack %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("pack: %w", err)
	}
	defer root.Close()
	rules, err := readIgnore(root)
	if err != nil {
		return 0, fmt.Errorf("pack %s: %w", dir, err)
	}

	entries, err := collect(ctx, root, rules, opt)
	if err != nil {
		return 0, fmt.Errorf("pack %s: %w", dir, err)
	}

	zw := zip.NewWriter(w)
	buf := make([]byte, copyBufSize)
	if prefix != "" {
		if err := writeDirEntry(zw, prefix); err != nil {
			return 0, fmt.Errorf("pack %s: %w", dir, err)
		}
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("pack %s: %w", dir, err)
		}
		name := path.Join(prefix, e.rel)
		if e.dir {
			err = writeDirEntry(zw, name)
		} else {
			err = writeFileEntry(zw, root, name, e, buf)
			files++
		}
		if err != nil {
			return 0, fmt.Errorf("pack %s: %w", dir, err)
		}
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("pack %s: %w", dir, err)
	}
	return files, nil
}

func checkPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	clean, _, reason := checkName(p)
	if reason != "" {
		return "", fmt.Errorf("prefix %q: %s", p, reason)
	}
	return clean, nil
}

// collect walks dir and returns the entries to pack, sorted by name.
func collect(ctx context.Context, root *os.Root, rules []ignoreRule, opt PackOptions) ([]packEntry, error) {
	byRel := map[string]*packEntry{}
	nodes := map[string]*node{}
	add := func(e *packEntry) error {
		name := e.rel
		if e.dir {
			name += "/"
		}
		if _, _, reason := checkName(name); reason != "" {
			return fmt.Errorf("%s: name would be rejected on extraction: %s", e.rel, reason)
		}
		if err := register(nodes, e.rel, e.rel, e.dir); err != nil {
			var h *HostileError
			if errors.As(err, &h) {
				return fmt.Errorf("%s: %s", e.rel, h.Reason)
			}
			return err
		}
		byRel[e.rel] = e
		return nil
	}

	err := fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		isDir := d.IsDir()
		if excluded(rel, isDir, rules, opt.Exclude) {
			if isDir {
				return fs.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case isDir:
			return add(&packEntry{rel: rel, dir: true})
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: is a symbolic link; only regular files and folders can be packed", rel)
		case t != 0:
			return fmt.Errorf("%s: is not a regular file (%v)", rel, t)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		perm := fs.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			perm = 0o755
		}
		return add(&packEntry{rel: rel, perm: perm})
	})
	if err != nil {
		return nil, err
	}

	for _, rel := range slices.Sorted(maps.Keys(opt.Replace)) {
		content := opt.Replace[rel]
		if e, ok := byRel[rel]; ok {
			if e.dir {
				return nil, fmt.Errorf("replace %s: is a folder", rel)
			}
			e.content, e.replace = content, true
			continue
		}
		// Not on disk (or excluded): add it, with any missing parents.
		clean, dir, reason := checkName(rel)
		if reason != "" || dir {
			return nil, fmt.Errorf("replace %q: not a valid file name: %s", rel, cmp.Or(reason, "trailing slash"))
		}
		for p := path.Dir(clean); p != "."; p = path.Dir(p) {
			if e, ok := byRel[p]; ok && e.dir {
				break
			}
			if err := add(&packEntry{rel: p, dir: true}); err != nil {
				return nil, fmt.Errorf("replace %s: %w", rel, err)
			}
		}
		if err := add(&packEntry{rel: clean, perm: 0o644, content: content, replace: true}); err != nil {
			return nil, fmt.Errorf("replace %s: %w", rel, err)
		}
	}

	entries := make([]packEntry, 0, len(byRel))
	for _, e := range byRel {
		entries = append(entries, *e)
	}
	slices.SortFunc(entries, func(a, b packEntry) int { return strings.Compare(entryName(a), entryName(b)) })
	return entries, nil
}

func entryName(e packEntry) string {
	if e.dir {
		return e.rel + "/"
	}
	return e.rel
}

func excluded(rel string, isDir bool, rules []ignoreRule, extra func(string, bool) bool) bool {
	if slices.Contains(alwaysExcluded, path.Base(rel)) {
		return true
	}
	for _, r := range rules {
		if r.match(rel, isDir) {
			return true
		}
	}
	return extra != nil && extra(rel, isDir)
}

func writeDirEntry(zw *zip.Writer, name string) error {
	h := &zip.FileHeader{Name: name + "/", Method: zip.Store, Modified: packTime}
	h.SetMode(fs.ModeDir | 0o755)
	_, err := zw.CreateHeader(h)
	return err
}

func writeFileEntry(zw *zip.Writer, root *os.Root, name string, e packEntry, buf []byte) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: packTime}
	h.SetMode(e.perm)
	var src io.Reader
	if e.replace {
		src = bytes.NewReader(e.content)
	} else {
		f, err := root.Open(e.rel)
		if err != nil {
			return err
		}
		defer f.Close()
		// The walk saw a regular file; make sure it still is one.
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: is not a regular file (%v)", e.rel, fi.Mode().Type())
		}
		src = f
	}
	zf, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(zf, src, buf); err != nil {
		return fmt.Errorf("%s: %w", e.rel, err)
	}
	return nil
}

// ignoreRule is one line of .modupignore.
type ignoreRule struct {
	pattern  string
	dirOnly  bool // the line ended in '/'
	anchored bool // the pattern holds a '/': matched against the whole path from dir
}

func (r ignoreRule) match(rel string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	target := rel
	if !r.anchored {
		target = path.Base(rel)
	}
	ok, _ := path.Match(r.pattern, target) // patterns were checked when parsed
	return ok
}

func readIgnore(root *os.Root) ([]ignoreRule, error) {
	fi, err := root.Lstat(IgnoreFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: is not a regular file", IgnoreFile)
	}
	data, err := root.ReadFile(IgnoreFile)
	if err != nil {
		return nil, err
	}
	return parseIgnore(data)
}

// parseIgnore reads gitignore-like rules: one glob per line (path.Match
// syntax, so '*' never crosses a '/' and '**' is not special), '#' starts a
// comment line, blank lines are skipped, a trailing '/' matches folders only,
// a pattern without '/' matches the base name at any depth, and a pattern
// with '/' is anchored at the package folder (a leading '/' is optional).
// An excluded folder excludes everything below it. Negation ('!') is not
// supported and is an error rather than silently ignored.
func parseIgnore(data []byte) ([]ignoreRule, error) {
	var rules []ignoreRule
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '!' {
			return nil, fmt.Errorf("%s:%d: negation (!) is not supported", IgnoreFile, i+1)
		}
		var r ignoreRule
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if strings.Contains(line, "/") {
			r.anchored = true
			line = strings.TrimLeft(line, "/")
		}
		if line == "" {
			return nil, fmt.Errorf("%s:%d: empty pattern", IgnoreFile, i+1)
		}
		if _, err := path.Match(line, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad pattern %q: %w", IgnoreFile, i+1, line, err)
		}
		r.pattern = line
		rules = append(rules, r)
	}
	return rules, nil
}
