package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/release"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

// sourceKey is the signing key the author's source reports for a release:
// the pointer's when it names the release (want), else the release's own
// (rel, as a Lister reports it). A key or rotation that does not parse is
// left out (clients refuse a document carrying one); the release check
// records it as a problem of the version.
func sourceKey(want, rel sources.Release) store.Key {
	var k store.Key
	for _, r := range []sources.Release{want, rel} {
		if key := strings.TrimSpace(r.PublicKey); key != "" && k.PublicKey == "" {
			if _, err := trust.ParsePublicKey(key); err == nil {
				k.PublicKey = key
			}
		}
		if r.KeyRotation != nil && k.KeyRotation == nil && validRotation(r.KeyRotation) {
			k.KeyRotation = &doc.KeyRotation{New: r.KeyRotation.New, Signature: r.KeyRotation.Signature}
		}
	}
	return k
}

func validRotation(r *manifest.KeyRotation) bool {
	_, err := trust.ParsePublicKey(r.New)
	if err != nil {
		return false
	}
	_, err = trust.ParseSignature([]byte(r.Signature))
	return err == nil
}

// verifyingKey is the key a version's signature must verify with before
// it is mirrored: the one the author's source reports, else the one in
// the version's own manifest (as clients pick it); "" when neither names
// one.
func verifyingKey(recorded string, zipManifest []byte) string {
	if recorded != "" {
		return recorded
	}
	if len(zipManifest) == 0 {
		return ""
	}
	m, err := manifest.Parse(zipManifest, "a2modsource.json")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(m.PublicKey)
}

// verifySignature checks sig as users' modup checks a release's: signed
// by key, and its trusted comment naming package name, version and the
// zip's sha256; and the zip at zipPath verifies with it.
func verifySignature(key string, sig []byte, zipPath, name, version, sum string) error {
	if len(sig) > sources.MaxSignatureSize {
		return fmt.Errorf("larger than %d bytes: not a signature", sources.MaxSignatureSize)
	}
	k, err := trust.ParsePublicKey(key)
	if err != nil {
		return fmt.Errorf("the release's public_key: %w", err)
	}
	keys := []trust.PublicKey{k}
	rs, err := trust.VerifyReleaseComment(keys, sig)
	if err != nil {
		return err
	}
	var bad []string
	if rs.Claim.Name != name {
		bad = append(bad, fmt.Sprintf("names package %q, not %q", rs.Claim.Name, name))
	}
	if cmp, err := updater.CompareVersions(rs.Claim.Version, version); err != nil || cmp != 0 {
		bad = append(bad, fmt.Sprintf("names version %s, not %s", rs.Claim.Version, version))
	}
	if rs.Claim.SHA256 != sum {
		bad = append(bad, fmt.Sprintf("names sha256 %s, not the zip's %s", rs.Claim.SHA256, sum))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	if _, err := rs.VerifyFile(keys, zipPath); err != nil {
		return err
	}
	return nil
}

// keepSignature mirrors a version's signature beside its zip, once it
// verifies with the version's key (zipPath is the checked zip). It returns
// what to record as the version's Signature (the signature's sha256, or
// store.NoSignature) and, when a signature was published that does not
// verify, the problem to record.
func (c *Crawler) keepSignature(name, version, key string, sig []byte, zipPath, sum string) (string, *doc.Problem, error) {
	if sig == nil || key == "" {
		// Unsigned, or signed with no key to check it against (the
		// release check warns of that): nothing a client could verify.
		return store.NoSignature, nil, nil
	}
	file := sources.ZipName(version) + sources.SignatureSuffix
	if err := verifySignature(key, sig, zipPath, name, version, sum); err != nil {
		return store.NoSignature, &doc.Problem{Check: release.StepSignature, Detail: file + ": " + err.Error() + "; not mirrored",
			Hint: "the author signs the zip they publish with the key the manifest names (`modup pack --sign KEY`)"}, nil
	}
	dir := filepath.Join(c.Mirror, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, file), sig, 0o644); err != nil {
		return "", nil, fmt.Errorf("mirror %s %s: %w", name, version, err)
	}
	s := sha256.Sum256(sig)
	return hex.EncodeToString(s[:]), nil, nil
}

// mirrorKnownSignature looks once for the signature of a mirrored version
// recorded before its key was known or its signature mirrored.
func (c *Crawler) mirrorKnownSignature(ctx context.Context, src sources.Source, name, version string, rel sources.Release, kv store.KnownVersion) (string, *doc.Problem, error) {
	ss, ok := src.(sources.SignatureSource)
	if !ok {
		return store.NoSignature, nil, nil
	}
	sig, err := ss.Signature(ctx, rel)
	switch {
	case errors.Is(err, sources.ErrNotFound):
		return store.NoSignature, nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("mirror %s %s: signature: %w", name, version, err)
	}
	return c.keepSignature(name, version, kv.PublicKey, sig, filepath.Join(c.Mirror, name, sources.ZipName(version)), kv.SHA256)
}
