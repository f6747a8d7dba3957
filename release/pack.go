package release

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// Outcomes of Pack callers branch on with errors.Is.
var (
	// ErrReleased: <version>.zip is already in the release folder with other
	// bytes. A published version must never change; the fix is a new version.
	ErrReleased = errors.New("version already released with other content")
	// ErrOlder: the release folder already points to a newer version.
	ErrOlder = errors.New("release folder points to a newer version")
)

// PackOptions say which version to pack and where. The zero value packs the
// package's own version into the default release folder.
type PackOptions struct {
	// Version is the version to release. It leaves the package folder
	// untouched.
	Version string
	// Bump is "patch", "minor" or "major": release the next version after
	// the package's, and write it into the package's own manifest.
	Bump string
	// OutDir is the release folder; "" means <parent of dir>/<name>-release.
	OutDir string
	// Sign, when set, signs the release (see sign.go).
	Sign *Signing
}

// PackResult says what Pack wrote.
type PackResult struct {
	Name      string // the manifest's name, else the folder's
	Dir       string // the package folder (absolute)
	UpdateURL string // the package manifest's update_url
	Version   string // the version released
	Previous  string // the package manifest's version before Pack
	Bumped    bool   // the package's manifest now says Version

	OutDir       string   // the release folder (absolute)
	ZipPath      string   // OutDir/<version>.zip
	ManifestPath string   // OutDir/a2modsource.json
	SHA256       string   // hex digest of the zip
	Size         int64    // bytes of the zip
	Files        int      // files in the zip
	Reused       bool     // the zip was already there with exactly these bytes
	Kept         []string // other <version>.zip files in OutDir, left as they were

	Signature *SignResult // how the release was signed; nil when unsigned
	Warnings  []string    // what users' modup will make of it, worth a look
	// OwnPublicKey is the package manifest's public_key after Pack (on
	// GitHub, the file users read).
	OwnPublicKey string
}

// readPackage reads the manifest of the package folder dir, made
// absolute; a folder without one is not a package.
func readPackage(dir string) (string, *manifest.Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	m, err := pkgdir.ReadManifest(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("%s holds no %s: not a package folder", abs, pkgdir.ManifestFile)
	}
	return abs, m, err
}

// DefaultOutDir is the release folder Pack uses for the package in dir
// named name: a sibling folder "<name>-release".
func DefaultOutDir(dir, name string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(dir)), name+"-release")
}

// Pack writes a release of the package in dir: OutDir/<version>.zip holding
// the package (its manifest carrying version), and OutDir/a2modsource.json,
// the package's manifest with version, sha256 and zip_size of that zip.
//
// The zip is deterministic (archive.Pack): packing the same folder twice
// gives the same bytes. .git and .modup folders and what .modupignore lists
// are left out, and so is OutDir when it lies inside dir. The manifest in
// the zip has no sha256 or zip_size: it cannot describe the zip holding it.
//
// Pack refuses a version that is not strict semver, an existing
// <version>.zip with other bytes (ErrReleased), and a release folder that
// already points to a newer version (ErrOlder). Earlier zips in OutDir stay.
// Only with Bump is the package's own manifest rewritten (version, and
// sha256 and zip_size when it already declares them; unknown fields and the
// BOM are kept), after the release is written.
func Pack(ctx context.Context, dir string, opt PackOptions) (PackResult, error) {
	var res PackResult
	abs, m, err := readPackage(dir)
	if err != nil {
		return res, err
	}
	res.Dir = abs
	if err := m.Supported(); err != nil {
		return res, fmt.Errorf("pack %s: %w", abs, err)
	}
	res.Name = cmp.Or(strings.TrimSpace(m.Name), filepath.Base(abs))
	res.UpdateURL = m.UpdateURL
	res.Previous = m.Version

	if res.Version, err = releaseVersion(abs, m, opt); err != nil {
		return res, err
	}

	out := opt.OutDir
	if out == "" {
		if err := pkgdir.CheckName(res.Name); err != nil {
			return res, fmt.Errorf("no default release folder for %s: pass -o DIR", err)
		}
		out = DefaultOutDir(abs, res.Name)
	}
	if out, err = filepath.Abs(out); err != nil {
		return res, err
	}
	res.OutDir = out
	exclude, err := outsidePackage(abs, out)
	if err != nil {
		return res, err
	}
	if err := checkNotOlder(out, res.Version); err != nil {
		return res, err
	}
	if res.Warnings, err = checkSigning(m, out, opt.Sign); err != nil {
		return res, err
	}

	inZip, err := clone(m)
	if err != nil {
		return res, err
	}
	if err := inZip.Set("version", res.Version); err != nil {
		return res, err
	}
	inZip.Delete("sha256")
	inZip.Delete("zip_size")
	inZipData, err := inZip.Marshal()
	if err != nil {
		return res, err
	}

	if err := os.MkdirAll(out, 0o777); err != nil { // less the umask, as mkdir(1)
		return res, fmt.Errorf("create release folder: %w", err)
	}
	res.ZipPath = filepath.Join(out, sources.ZipName(res.Version))
	res.ManifestPath = filepath.Join(out, sources.ManifestFile)
	if err := writeZip(ctx, abs, archive.PackOptions{
		Exclude: exclude,
		Replace: map[string][]byte{archive.ManifestName: inZipData},
	}, &res); err != nil {
		return res, err
	}

	pub, err := clone(m)
	if err != nil {
		return res, err
	}
	if err := setRelease(pub, res.Version, res.SHA256, res.Size); err != nil {
		return res, err
	}
	if opt.Sign != nil {
		sr, err := sign(&res, pub, m, *opt.Sign)
		if err != nil {
			return res, err
		}
		res.Signature = &sr
	} else {
		pub.Delete("key_rotation") // hands on trust in no key
		if !res.Reused {
			if err := removeStaleSignature(res.ZipPath); err != nil {
				return res, err
			}
		}
	}
	data, err := pub.Marshal()
	if err != nil {
		return res, err
	}
	if err := fsutil.WriteFileAtomic(res.ManifestPath, data, 0o666); err != nil {
		return res, err
	}
	res.Kept, _ = otherZips(out, filepath.Base(res.ZipPath))

	if opt.Bump != "" {
		if err := m.Set("version", res.Version); err != nil {
			return res, err
		}
		_, hasSHA := m.Raw("sha256")
		_, hasSize := m.Raw("zip_size")
		if hasSHA {
			_ = m.Set("sha256", res.SHA256)
		}
		if hasSize {
			_ = m.Set("zip_size", res.Size)
		}
		if err := carrySigning(m, pub); err != nil {
			return res, err
		}
		if err := pkgdir.WriteManifest(abs, m); err != nil {
			return res, fmt.Errorf("release %s written to %s, but the package's manifest still says %s: %w (set its version by hand)", res.Version, out, res.Previous, err)
		}
		res.Bumped = true
	}
	res.OwnPublicKey = m.PublicKey
	return res, nil
}

// releaseVersion is the version opt asks to release of the package in dir
// whose manifest is m: --version, --bump's next one, else m's own.
func releaseVersion(dir string, m *manifest.Manifest, opt PackOptions) (string, error) {
	var v string
	var err error
	switch {
	case opt.Version != "" && opt.Bump != "":
		return "", errors.New("--version and --bump exclude each other")
	case opt.Bump != "":
		v, err = nextVersion(m.Version, opt.Bump)
	case opt.Version != "":
		v = opt.Version
	default:
		v = m.Version
		if v == "" {
			return "", fmt.Errorf("%s has no version: pass --version 1.0.0 or --bump", filepath.Join(dir, pkgdir.ManifestFile))
		}
	}
	if err != nil {
		return "", err
	}
	return v, checkReleaseVersion(v)
}

// clone is an independent copy of m (fields, unknown fields, BOM).
func clone(m *manifest.Manifest) (*manifest.Manifest, error) {
	data, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	return manifest.Parse(data, pkgdir.ManifestFile)
}

func setRelease(m *manifest.Manifest, version, sha string, size int64) error {
	for _, kv := range []struct {
		k string
		v any
	}{{"version", version}, {"sha256", sha}, {"zip_size", size}} {
		if err := m.Set(kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}

// outsidePackage refuses a release folder that is the package folder or
// holds it, and returns an exclusion keeping a release folder inside the
// package out of the zip.
func outsidePackage(dir, out string) (func(string, bool) bool, error) {
	rel, err := filepath.Rel(out, dir)
	if err == nil && (rel == "." || filepath.IsLocal(rel)) {
		return nil, fmt.Errorf("release folder %s would hold the package folder %s: choose another -o", out, dir)
	}
	inner, err := filepath.Rel(dir, out)
	if err != nil || !filepath.IsLocal(inner) {
		return nil, nil
	}
	inner = filepath.ToSlash(inner)
	return func(rel string, isDir bool) bool {
		return rel == inner // an excluded folder is not entered
	}, nil
}

// checkNotOlder refuses to point a release folder back to an older version.
func checkNotOlder(out, version string) error {
	cur, err := pkgdir.ReadManifest(out)
	if err != nil || cur.Version == "" {
		return nil // no release yet (or an unreadable one, which Pack replaces)
	}
	c, err := updater.CompareVersions(version, cur.Version)
	if err != nil || c >= 0 {
		return nil
	}
	return fmt.Errorf("%s points to %s, newer than %s: packing %s would move users back (%w); release a version above %s",
		filepath.Join(out, sources.ManifestFile), cur.Version, version, version, ErrOlder, cur.Version)
}

// writeZip packs dir into a temporary file in res.OutDir, hashing as it
// writes, and moves it to res.ZipPath unless a zip of that version is
// already there: with the same bytes it is kept (Reused), with other bytes
// it is ErrReleased.
func writeZip(ctx context.Context, dir string, opt archive.PackOptions, res *PackResult) (err error) {
	tmp, err := os.CreateTemp(res.OutDir, "."+filepath.Base(res.ZipPath)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // gone after the rename; removed on every other path
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	res.Files, err = archive.Pack(ctx, cw, dir, opt)
	if err != nil {
		return err
	}
	if runtime.GOOS != "windows" {
		// os.CreateTemp made it 0600: a published zip is for everyone
		// to read, 0666 less the umask as any new file.
		if err := tmp.Chmod(fsutil.Perm(0o666)); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.Size = cw.n

	existing, err := fsutil.FileSHA256(res.ZipPath)
	switch {
	case err == nil && existing == res.SHA256:
		res.Reused = true
		return nil
	case err == nil:
		return fmt.Errorf("%s already exists with other content (sha256 %s, the new zip's is %s): %w; bump the version (modup pack %s --bump patch)",
			res.ZipPath, short(existing), short(res.SHA256), ErrReleased, dir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := fsutil.RenameNoReplace(tmp.Name(), res.ZipPath); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	return fsutil.SyncDir(res.OutDir)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// otherZips lists the <version>.zip files of out besides except, sorted.
func otherZips(out, except string) ([]string, error) {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".zip") && !strings.HasPrefix(n, ".") && n != except {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// short is the first 12 hex digits of a digest, for messages.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
