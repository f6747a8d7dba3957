package release

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
)

// Signing says how Pack signs a release.
type Signing struct {
	// Key signs the zip; its public half goes into the release manifest.
	Key trust.SecretKey
	// RotateFrom, when set, signs a key rotation from it to Key into the
	// release manifest: users who pinned RotateFrom's key then pin Key's.
	RotateFrom *trust.SecretKey
	// Now is the signing time (default time.Now).
	Now func() time.Time
}

// SignResult says what signing wrote.
type SignResult struct {
	SignaturePath string // <zip>.minisig
	Reused        bool   // the signature was there already, valid for this zip and key
	KeyID         string
	PublicKey     string
	RotatedFrom   string // the old key's id when the manifest carries a rotation
}

// checkSigning refuses a pack whose signing does not fit the manifests
// users read, before anything is written: an unsigned pack of a package
// whose own manifest names a public_key, a signed one of a package without
// a name (the signature names it). What users would refuse but the author
// may mean (a new key without a rotation, stopping signing) is warned
// about.
func checkSigning(m *manifest.Manifest, out string, s *Signing) (warnings []string, err error) {
	var published string // the key users pinned from the release folder
	var publishedRot *manifest.KeyRotation
	if cur, err := pkgdir.ReadManifest(out); err == nil {
		published, publishedRot = cur.PublicKey, cur.KeyRotation
	}
	own := m.PublicKey
	if s == nil {
		if own != "" {
			return nil, fmt.Errorf("%s names public_key %s: its users trust that key and refuse an unsigned release; pack with --sign KEY (or delete public_key from the manifest to stop signing)",
				pkgdir.ManifestFile, trust.DescribeKey(own))
		}
		if published != "" {
			warnings = append(warnings, fmt.Sprintf("the release folder's %s named public_key %s, and this release is unsigned: users who trust that key will refuse it until they run `modup trust NAME --reset`",
				sources.ManifestFile, trust.DescribeKey(published)))
		}
		return warnings, nil
	}
	if m.Name == "" {
		return nil, fmt.Errorf("%s has no name, and a signature names the package it is for: add \"name\"", pkgdir.ManifestFile)
	}
	key := s.Key.Public()
	if s.RotateFrom != nil {
		return nil, nil
	}
	for _, prev := range []string{own, published} {
		if prev == "" || sameKey(prev, key) {
			continue
		}
		if publishedRot != nil && sameKey(publishedRot.New, key) {
			continue // rotated to this key before: the rotation is kept
		}
		if m.KeyRotation != nil && sameKey(m.KeyRotation.New, key) {
			continue
		}
		return []string{fmt.Sprintf("users trust key %s, and this release is signed by key ID %s: they will refuse it; publish a rotation with --rotate-from OLD.key, or, if the old key is lost, tell users to check your new key with you and run `modup trust NAME --key %s`",
			trust.DescribeKey(prev), key.ID(), key.String())}, nil
	}
	return nil, nil
}

// sign signs the packed zip and completes the release manifest pub:
// public_key, and key_rotation (a new one with RotateFrom; one that hands
// trust to this key is carried forward from the package's or the release
// folder's manifest, so users who skip the rotating release still move;
// any other is dropped).
func sign(res *PackResult, pub, own *manifest.Manifest, s Signing) (SignResult, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	key := s.Key.Public()
	out := SignResult{SignaturePath: res.ZipPath + sources.SignatureSuffix, KeyID: key.ID(), PublicKey: key.String()}
	if keepSignature(out.SignaturePath, key, res) {
		out.Reused = true
	} else {
		sig, _, err := trust.SignRelease(s.Key, res.ZipPath, res.Name, res.Version, now())
		if err != nil {
			return out, err
		}
		if err := fsutil.WriteFileAtomic(out.SignaturePath, sig, 0o644); err != nil {
			return out, err
		}
	}
	if err := pub.Set("public_key", key.String()); err != nil {
		return out, err
	}
	rot, err := rotation(res.OutDir, own, key, s, now)
	if err != nil {
		return out, err
	}
	if rot == nil {
		pub.Delete("key_rotation")
		return out, nil
	}
	if err := pub.Set("key_rotation", *rot); err != nil {
		return out, err
	}
	if s.RotateFrom != nil {
		out.RotatedFrom = s.RotateFrom.Public().ID()
	}
	return out, nil
}

// rotation is the key_rotation the release manifest carries, nil for none.
func rotation(outDir string, own *manifest.Manifest, key trust.PublicKey, s Signing, now func() time.Time) (*manifest.KeyRotation, error) {
	if s.RotateFrom != nil {
		r, err := trust.Rotate(*s.RotateFrom, key, now())
		if err != nil {
			return nil, fmt.Errorf("--rotate-from: %w", err)
		}
		return &manifest.KeyRotation{New: r.New, Signature: r.Signature}, nil
	}
	candidates := []*manifest.KeyRotation{own.KeyRotation}
	if cur, err := pkgdir.ReadManifest(outDir); err == nil {
		candidates = append(candidates, cur.KeyRotation)
	}
	for _, kr := range candidates {
		if kr != nil && sameKey(kr.New, key) {
			return kr, nil
		}
	}
	return nil, nil
}

// keepSignature reports whether the signature at path already signs the
// packed zip as this release with key (a zip packed again to the same
// bytes keeps its signature).
func keepSignature(path string, key trust.PublicKey, res *PackResult) bool {
	data, err := fsutil.ReadRegular(path, trust.MaxSignatureSize)
	if err != nil {
		return false
	}
	rs, err := trust.VerifyReleaseComment([]trust.PublicKey{key}, data)
	if err != nil || rs.Claim.Name != res.Name || rs.Claim.Version != res.Version || rs.Claim.SHA256 != res.SHA256 {
		return false
	}
	_, err = rs.VerifyFile([]trust.PublicKey{key}, res.ZipPath)
	return err == nil
}

// carrySigning writes the release manifest's public_key and key_rotation
// into the package's own (on --bump): on GitHub that file is the one users
// read.
func carrySigning(own, pub *manifest.Manifest) error {
	own.Delete("public_key")
	own.Delete("key_rotation")
	if pub.PublicKey != "" {
		if err := own.Set("public_key", pub.PublicKey); err != nil {
			return err
		}
	}
	if pub.KeyRotation != nil {
		return own.Set("key_rotation", *pub.KeyRotation)
	}
	return nil
}

// removeStaleSignature deletes a signature left beside a zip packed
// unsigned: it would name another zip, or a key the author dropped.
func removeStaleSignature(zipPath string) error {
	err := os.Remove(zipPath + sources.SignatureSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func sameKey(a string, b trust.PublicKey) bool {
	k, err := trust.ParsePublicKey(a)
	return err == nil && k.Equal(b)
}
