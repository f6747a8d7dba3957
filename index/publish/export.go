package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/fsutil"
)

// ExportReport says what an export did.
type ExportReport struct {
	// Written files had new content; Unchanged ones were left as they
	// were; Removed are documents and zips of packages no longer in the
	// index.
	Written, Unchanged, Removed int
	// Zips is how many mirrored zips the export holds, Signatures how
	// many of them have their signature beside them.
	Zips, Signatures int
}

// Export writes every document of the site into dir as the static tree a
// server answers (index.json, list.json, list/packages.json,
// info/packages/NAME.json, ...), each file replaced atomically and given
// its document's modification time, so that a static host's Last-Modified
// tells what a served index's would. With mirror set (the crawl's mirror
// folder) the mirrored zips are copied to dir/mirror/NAME/VERSION.zip,
// each checked against its recorded sha256. Documents and zips that an
// earlier export wrote for packages no longer in the index are removed;
// nothing else in dir is touched.
func Export(ctx context.Context, site *Site, w *Writer, dir, mirror string) (ExportReport, error) {
	var rep ExportReport
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, fmt.Errorf("export: %w", err)
	}
	keep := map[string]bool{}
	for _, p := range site.Paths() {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d, mod, _ := site.Document(p)
		files, err := w.Files(p, d, mod)
		if err != nil {
			return rep, err
		}
		for _, f := range files {
			keep[f.Name] = true
			wrote, err := writeFile(dir, f)
			if err != nil {
				return rep, err
			}
			if wrote {
				rep.Written++
			} else {
				rep.Unchanged++
			}
		}
	}
	if mirror != "" {
		for key, sum := range site.MirroredZips() {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			name, version, _ := strings.Cut(key, "/")
			rel := doc.MirrorURL(name, version)
			keep[rel] = true
			if err := copyChecked(filepath.Join(mirror, filepath.FromSlash(strings.TrimPrefix(rel, "mirror/"))), filepath.Join(dir, filepath.FromSlash(rel)), sum, true); err != nil {
				return rep, err
			}
			rep.Zips++
			sigSum, ok := site.MirroredSignature(name, version)
			if !ok {
				continue
			}
			sigRel := rel + doc.SignatureSuffix
			keep[sigRel] = true
			if err := copyChecked(filepath.Join(mirror, filepath.FromSlash(strings.TrimPrefix(sigRel, "mirror/"))), filepath.Join(dir, filepath.FromSlash(sigRel)), sigSum, false); err != nil {
				return rep, err
			}
			rep.Signatures++
		}
	}
	n, err := prune(dir, keep, mirror != "")
	rep.Removed = n
	return rep, err
}

// writeFile writes f under dir unless it already holds that content, and
// sets its modification time.
func writeFile(dir string, f File) (bool, error) {
	p := filepath.Join(dir, filepath.FromSlash(f.Name))
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Body) {
		return false, setTime(p, f)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return false, fmt.Errorf("export: %w", err)
	}
	if err := fsutil.ReplaceFile(p, f.Body, 0o644); err != nil {
		return false, fmt.Errorf("export %s: %w", p, err)
	}
	return true, setTime(p, f)
}

func setTime(p string, f File) error {
	if f.Modified.IsZero() {
		return nil
	}
	if err := os.Chtimes(p, f.Modified, f.Modified); err != nil {
		return fmt.Errorf("export %s: %w", p, err)
	}
	return nil
}

// copyChecked copies a mirrored file (a zip, or its signature) into the
// export, checking the copy against the recorded sha256, unless the export
// holds it already: a zip of the same size (published versions never
// change; sameSize), or a file with that sha256.
func copyChecked(src, dst, sum string, sameSize bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("export the mirror: %w (is --mirror the folder the index was built with?)", err)
	}
	if dt, err := os.Stat(dst); err == nil && dt.Size() == st.Size() {
		if sameSize {
			return nil
		}
		if got, err := fsutil.FileSHA256(dst); err == nil && got == sum {
			return nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("export the mirror: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("export the mirror: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".mirror-*")
	if err != nil {
		return fmt.Errorf("export the mirror: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export the mirror: copy %s: %w", src, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("export the mirror: %s has sha256 %s, the index recorded %s: the mirror was changed; rebuild it", src, got, sum)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("export the mirror: %w", err)
	}
	return nil
}

// prune removes the documents and zips an earlier export wrote that the
// index no longer has: *.json under info/packages and info/modules, and,
// when the mirror is exported, *.zip under mirror/NAME/.
func prune(dir string, keep map[string]bool, mirror bool) (int, error) {
	n := 0
	sweep := func(sub, ext string, depth int) error {
		base := filepath.Join(dir, filepath.FromSlash(sub))
		return filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if os.IsNotExist(err) && p == base {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if strings.Count(strings.TrimPrefix(rel, sub), "/") > depth {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !strings.HasSuffix(rel, ext) || keep[rel] {
				return nil
			}
			if err := os.Remove(p); err != nil {
				return err
			}
			n++
			return nil
		})
	}
	for _, sub := range []string{"info/packages", "info/modules"} {
		if err := sweep(sub, ".json", 0); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
	}
	// Signatures of packages gone, or of an index no longer signed: a
	// signature left behind would vouch for nothing and then expire.
	for _, sub := range []string{"info/packages", "list"} {
		if err := sweep(sub, ".json"+doc.SignatureSuffix, 0); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
	}
	if mirror {
		for _, ext := range []string{".zip", ".zip" + doc.SignatureSuffix} {
			if err := sweep("mirror", ext, 1); err != nil {
				return n, fmt.Errorf("export: %w", err)
			}
		}
	}
	return n, nil
}
