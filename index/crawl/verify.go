package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/plaintext"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/release"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// check downloads one version, checks it as `modup release check` does,
// and returns what to record. A download that failed in a way that may
// pass later is an error (nothing is recorded; the next refresh tries
// again); anything wrong with the payload itself is recorded as the
// version's problems, so it is never downloaded again.
func (c *Crawler) check(ctx context.Context, src sources.Source, name string, cand candidate) (store.Version, bool, error) {
	dir, err := os.MkdirTemp(c.tempDir(), "check-*")
	if err != nil {
		return store.Version{}, false, fmt.Errorf("%s %s: %w", name, cand.key, err)
	}
	defer os.RemoveAll(dir)
	res := release.VerifyPayload(ctx, release.PayloadCheck{
		Source: src, Want: cand.want, Release: cand.rel, Dir: dir, MaxSize: c.maxSize(), DirName: name,
	})
	downloaded := res.Zip != ""
	if err := ctx.Err(); err != nil {
		return store.Version{}, downloaded, fmt.Errorf("%s %s: %w", name, cand.key, err)
	}
	if res.Retry {
		return store.Version{}, downloaded, fmt.Errorf("%s %s: %s", name, cand.key, stepDetail(res.Steps, release.StepDownload, release.StepArchive))
	}
	now := c.now()
	v := store.Version{
		Version:    cand.key,
		Tag:        cand.rel.Tag,
		Published:  cand.rel.Published,
		FirstSeen:  now,
		PayloadURL: payloadURL(src.Kind(), cand.rel.PayloadURL),
		Size:       res.Size,
		SHA256:     res.SHA256,
		Prerelease: cand.rel.Prerelease,
	}
	if v.Published.IsZero() {
		v.Published = now // a web or folder source: first seen
	}
	if !downloaded {
		v.Size = cand.rel.Size
	}
	if pv, err := updater.ParseVersion(cand.key); err != nil {
		v.Problems = append(v.Problems, doc.Problem{Check: release.StepVersion, Blocking: true, Detail: err.Error(),
			Hint: "modup never installs a version it cannot compare: publish it as MAJOR.MINOR.PATCH like 1.2.0"})
	} else if pv.Prerelease() != "" {
		v.Prerelease = true
	}
	if !doc.ValidVersion(cand.key) {
		v.Problems = append(v.Problems, doc.Problem{Check: release.StepVersion, Blocking: true,
			Detail: fmt.Sprintf("%q cannot be a version in an index (letters, digits and . _ + -)", cand.key)})
		v.Version = sanitizeVersion(cand.key)
	}
	stale := false
	if res.Root != "" {
		v.Manifest, stale = zipManifest(res.Root, cand.key)
		v.Modules = modules(res.Root)
	}
	for _, s := range res.Steps {
		if s.Status != release.Fail && s.Status != release.Warn {
			continue
		}
		p := doc.Problem{Check: s.Name, Blocking: s.Status == release.Fail, Detail: s.Detail, Hint: s.Hint}
		switch {
		case s.Name == release.StepZipManifest && stale:
			// Recorded under the release's version, as update installs it.
			p.Blocking = false
			p.Detail += "; recorded as " + cand.key + ", as modup update installs it"
		case s.Name == release.StepModules:
			p.Blocking = false // a2 shows the module as broken; the package installs
		case s.Name == release.StepSignature:
			// Whether a signature problem stops an install is the
			// client's to decide, by the key it pinned (if any).
			p.Blocking = false
		}
		v.Problems = append(v.Problems, p)
	}
	k := sourceKey(cand.want, cand.rel)
	v.PublicKey, v.KeyRotation = k.PublicKey, k.KeyRotation
	if c.Mirror != "" && downloaded && !v.Blocking() {
		sig, p, err := c.keepSignature(name, v.Version, verifyingKey(v.PublicKey, v.Manifest), res.Signature, res.Zip, res.SHA256)
		if err != nil {
			return store.Version{}, downloaded, err
		}
		v.Signature = sig
		if p != nil {
			v.Problems = addProblem(v.Problems, *p)
		}
		if err := c.place(res.Zip, name, v.Version); err != nil {
			return store.Version{}, downloaded, err
		}
		v.Mirrored = true
	}
	return v, downloaded, nil
}

// addProblem adds p to problems; a step that already has a problem gets
// p's detail added to its own.
func addProblem(problems []doc.Problem, p doc.Problem) []doc.Problem {
	for i := range problems {
		if problems[i].Check == p.Check {
			if !strings.Contains(problems[i].Detail, p.Detail) {
				problems[i].Detail += "; " + p.Detail
			}
			return problems
		}
	}
	return append(problems, p)
}

// sanitizeVersion keeps a version that cannot be a file name recordable
// (it is blocked, so never mirrored or offered).
func sanitizeVersion(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r < 0x80 && (r == '.' || r == '_' || r == '+' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r|0x20 && r|0x20 <= 'z')) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "._+-")
	if s == "" {
		s = "0"
	}
	return s
}

func stepDetail(steps []release.Step, names ...string) string {
	for _, n := range names {
		for _, s := range steps {
			if s.Name == n && s.Status == release.Fail {
				return s.Detail
			}
		}
	}
	return "download failed"
}

// zipManifest reads the version's a2modsource.json as found in its zip,
// and reports whether it names another version than the release's (a
// stale manifest).
func zipManifest(root, version string) ([]byte, bool) {
	data, err := os.ReadFile(filepath.Join(root, pkgdir.ManifestFile))
	if err != nil || len(data) > manifest.MaxSize {
		return nil, false
	}
	m, err := manifest.Parse(data, pkgdir.ManifestFile)
	if err != nil {
		return nil, false
	}
	// The document carries it as JSON: without a BOM.
	data = []byte(strings.TrimPrefix(string(data), "\uFEFF"))
	cmp, err := updater.CompareVersions(m.Version, version)
	stale := (err != nil && strings.TrimSpace(m.Version) != version) || (err == nil && cmp != 0)
	return data, stale
}

// modules reads the modules of an extracted package, descriptions as
// plain text.
func modules(root string) []doc.Module {
	mods, err := pkgdir.Modules(root)
	if err != nil {
		return nil
	}
	out := make([]doc.Module, 0, len(mods))
	for _, m := range mods {
		dm := doc.Module{Name: m.Name}
		if m.Err == nil {
			dm.DisplayName = plaintext.Of(m.DisplayName)
			dm.Version = m.Version
			dm.Description = plaintext.Of(m.Description)
			dm.Author = plaintext.Of(m.Author)
			for _, t := range m.Tags {
				if t = strings.TrimSpace(t); t != "" {
					dm.Tags = append(dm.Tags, t)
				}
			}
		}
		out = append(out, dm)
	}
	return out
}

// place moves a checked zip into the mirror as NAME/VERSION.zip.
func (c *Crawler) place(zip, name, version string) error {
	dir := filepath.Join(c.Mirror, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	dst := filepath.Join(dir, version+".zip")
	if err := syncFile(zip); err != nil {
		return fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	if err := os.Rename(zip, dst); err != nil {
		return fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	return fsutil.SyncDir(dir)
}

// syncFile makes a zip durable before it is named in the mirror (and,
// once the version is committed, named by the index).
func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mirrorKnown copies a version recorded before mirroring was asked for
// into the mirror: downloaded once more, and kept only when its sha256 is
// the recorded one.
func (c *Crawler) mirrorKnown(ctx context.Context, src sources.Source, name, version string, kv store.KnownVersion) (bool, error) {
	dst := filepath.Join(c.Mirror, name, version+".zip")
	if sum, err := fsutil.FileSHA256(dst); err == nil && sum == kv.SHA256 {
		return false, nil // already there (a crawl killed before it recorded it)
	}
	p, err := src.Open(ctx, recordedRelease(src, version, kv))
	if err != nil {
		return false, fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	defer p.Body.Close()
	f, err := os.CreateTemp(c.tempDir(), "mirror-*.zip")
	if err != nil {
		return false, fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(p.Body, c.maxSize()+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return true, fmt.Errorf("mirror %s %s: download %s: %w", name, version, kv.PayloadURL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != kv.SHA256 {
		return true, fmt.Errorf("mirror %s %s: %s now has sha256 %s, but %s was recorded when the index first saw it: a published version changed; not mirrored",
			name, version, kv.PayloadURL, got, kv.SHA256)
	}
	return true, c.place(f.Name(), name, version)
}

// filePath turns a file:// payload URL back into a path.
func filePath(u string) string {
	p, ok := strings.CutPrefix(u, "file://")
	if !ok {
		return u
	}
	if len(p) > 2 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // /C:/x
	}
	if un, err := url.PathUnescape(p); err == nil {
		p = un
	}
	return filepath.FromSlash(p)
}
