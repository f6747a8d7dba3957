package updater

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
)

// signedRelease is a release whose signature's trusted comment verified
// against a trusted key: what the zip must then verify with, and the pin
// to record once it is installed.
type signedRelease struct {
	sig trust.ReleaseSignature
	pin *pkgdir.Pin
}

// ReadPin is package name's pin in l: nil when the package has no install
// record, an unusable one (taken as none), or one that pins nothing.
func ReadPin(l pkgdir.Layout, name string) (*pkgdir.Pin, error) {
	rec, err := l.ReadRecord(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, pkgdir.ErrBadRecord) {
		// Taken as no record, as everywhere (the update warns about it and
		// replaces it): whatever it pinned is lost, and the next signed
		// release is trusted on first use again.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the key %s's releases must be signed with cannot be known", err, name)
	}
	return rec.Pin, nil
}

// verifySignature checks rel's signature as far as it can before the zip
// is downloaded. A package pinned to keys (pin) needs a signature by one of
// them, or by a key the manifest's key_rotation hands their trust to; an
// unpinned package whose release manifest names a public_key needs one by
// that key, which is then pinned (trust on first use); any other release
// is not checked (nil, nil). The signature's trusted comment must name
// the package, rel's version and the sha256 the release declares, and,
// unless the version was asked for (explicit), not be older than the
// newest release installed under the pin.
//
// On success rel.Signature is the fetched signature, so that a release
// checked once is not asked for it again; verifyZip checks the download
// against it.
func (u *Updater) verifySignature(ctx context.Context, src sources.Source, name string, pin *pkgdir.Pin, rel *sources.Release, explicit bool) (*signedRelease, error) {
	if pin == nil && rel.PublicKey == "" {
		return nil, nil
	}
	what := name + " " + rel.Version
	keys, next, err := trustedKeys(name, pin, rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// A key rotation signed by a pinned key hands its trust on.
	var rotated trust.PublicKey
	var rotationErr error
	if pin != nil && rel.KeyRotation != nil {
		newKey, signer, err := trust.Rotation{New: rel.KeyRotation.New, Signature: rel.KeyRotation.Signature}.Verify(keys)
		switch {
		case err != nil:
			rotationErr = err
		case !slices.ContainsFunc(keys, newKey.Equal):
			rotated = newKey
			keys = append(keys, newKey)
			u.logger().Debug("key rotation", "package", name, "version", rel.Version, "from", signer.ID(), "to", newKey.ID())
		}
	}

	sig := rel.Signature
	if sig == nil {
		if sig, err = fetchSignature(ctx, src, *rel); err != nil {
			if !errors.Is(err, sources.ErrNotFound) {
				return nil, fmt.Errorf("%s: fetch the signature: %w", what, err)
			}
			if pin == nil {
				return nil, fmt.Errorf("%s: %w (%v), but the release manifest names public_key %s; nothing was installed: ask the author to publish %s%s next to the zip",
					what, trust.ErrNoSignature, err, trust.DescribeKey(rel.PublicKey), sources.ZipName(rel.Version), sources.SignatureSuffix)
			}
			return nil, fmt.Errorf("%s: %w (%v); %s trusts key ID %s, so an unsigned release is refused and nothing was changed: ask the author to publish %s%s, or, if they stopped signing on purpose, `modup trust %s --reset` accepts unsigned releases again",
				what, trust.ErrNoSignature, err, name, trust.KeyIDs(keys), sources.ZipName(rel.Version), sources.SignatureSuffix, name)
		}
	}

	rs, err := trust.VerifyReleaseComment(keys, sig)
	switch {
	case errors.Is(err, trust.ErrUnknownKey):
		hint := fmt.Sprintf("if the author changed keys, get the new key from them (not from the release) and run `modup trust %s --key RW...`", name)
		if rotationErr != nil {
			hint += fmt.Sprintf(" (the manifest's key_rotation does not count: %v)", rotationErr)
		}
		return nil, fmt.Errorf("%s: %w; nothing was changed: %s", what, err, hint)
	case err != nil:
		return nil, fmt.Errorf("%s: %s: %w; nothing was changed: the release or its signature was altered, tell the author", what, signatureName(*rel), err)
	}
	c := rs.Claim
	// The package name signatures must carry: the pinned one, else (first
	// use, when the release's word is all there is) its manifest's.
	wantName := name
	switch {
	case pin != nil && pin.Name != "":
		wantName = pin.Name
	case pin == nil && rel.Name != "":
		wantName = rel.Name
	}
	switch {
	case c.Name != wantName:
		return nil, fmt.Errorf("%s: %w: it names package %q, not %q; nothing was changed (another package's release served for this one?)", what, trust.ErrMismatch, c.Name, wantName)
	case !sameVersion(c.Version, rel.Version):
		return nil, fmt.Errorf("%s: %w: it names version %s, not %s; nothing was changed (another release served under this version?)", what, trust.ErrMismatch, c.Version, rel.Version)
	case rel.SHA256 != "" && !strings.EqualFold(rel.SHA256, c.SHA256):
		return nil, fmt.Errorf("%s: %w: it names a zip with sha256 %s, but the release declares %s; nothing was changed (the zip or the manifest was replaced after signing)", what, trust.ErrMismatch, c.SHA256, strings.ToLower(rel.SHA256))
	case !explicit && pin != nil && c.Time.Before(pin.SignedAt):
		return nil, fmt.Errorf("%s: %w: signed at %s, the installed one at %s; an older signed release offered as an update (a replay?) is refused and nothing was changed; `modup update %s --to %s` installs it on purpose",
			what, trust.ErrReplayed, c.Time.Format(time.RFC3339), pin.SignedAt.Format(time.RFC3339), name, rel.Version)
	}
	rel.Signature = sig

	next.Name = wantName
	if !rotated.IsZero() {
		next.Keys, next.From, next.Since = []string{rotated.String()}, pkgdir.PinRotation, time.Now().UTC()
	}
	if c.Time.After(next.SignedAt) {
		next.SignedAt = c.Time
	}
	return &signedRelease{sig: rs, pin: next}, nil
}

// trustedKeys parses the keys rel must be signed with (the pin's, else
// the manifest's public_key) and starts the pin to record.
func trustedKeys(name string, pin *pkgdir.Pin, rel *sources.Release) ([]trust.PublicKey, *pkgdir.Pin, error) {
	if pin != nil {
		keys, err := trust.ParsePublicKeys(pin.Keys)
		if err != nil {
			return nil, nil, fmt.Errorf("the install record pins a key that does not parse (%v): set it again with `modup trust %s --key RW...`", err, name)
		}
		next := *pin
		next.Keys = slices.Clone(pin.Keys)
		return keys, &next, nil
	}
	k, err := trust.ParsePublicKey(rel.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("the release manifest's public_key: %w: %w; nothing was installed: ask the author to fix it", err, trust.ErrBadSignature)
	}
	return []trust.PublicKey{k}, &pkgdir.Pin{Keys: []string{k.String()}, From: pkgdir.PinFirstUse, Since: time.Now().UTC()}, nil
}

// fetchSignature asks src for rel's signature; a source that has no
// signatures has none (ErrNotFound).
func fetchSignature(ctx context.Context, src sources.Source, rel sources.Release) ([]byte, error) {
	ss, ok := src.(sources.SignatureSource)
	if !ok {
		return nil, fmt.Errorf("the %s source publishes no signatures: %w", src.Kind(), sources.ErrNotFound)
	}
	return ss.Signature(ctx, rel)
}

// verifyZip checks the downloaded zip against the signature whose comment
// verified before the download: the signature signs it, and its sha256 is
// the one the comment names. One read does both.
func verifyZip(name string, rel sources.Release, s *signedRelease, zipPath string) error {
	if s == nil {
		return nil
	}
	f, err := os.Open(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := s.sig.Verify([]trust.PublicKey{s.sig.Signer}, io.TeeReader(f, h)); err != nil {
		return fmt.Errorf("%s %s: %s: %w; nothing was changed: the zip or its signature was altered, tell the author", name, rel.Version, redact.URL(rel.PayloadURL), err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != s.sig.Claim.SHA256 {
		return fmt.Errorf("%s %s: %w: %s has sha256 %s, but the signature names %s; nothing was changed: the author signed with a wrong comment, tell them",
			name, rel.Version, trust.ErrMismatch, redact.URL(rel.PayloadURL), sum, s.sig.Claim.SHA256)
	}
	return nil
}

// pinAfter is the pin to record once a release is installed: the one its
// signature settled, else the one there was.
func pinAfter(pin *pkgdir.Pin, s *signedRelease) *pkgdir.Pin {
	if s != nil {
		return s.pin
	}
	return pin
}

// trustNote tells the user what a signed install did to the trust: the
// key pinned on first use or by a rotation, else the key that verified.
func trustNote(name string, before *pkgdir.Pin, s *signedRelease) string {
	if s == nil {
		return ""
	}
	signer := s.sig.Signer.ID()
	switch {
	case before == nil:
		return fmt.Sprintf("signed by key ID %s, now pinned (trust on first use: `modup trust %s` shows it; compare it with the author's)", signer, name)
	case !slices.Equal(before.Keys, s.pin.Keys): // only a rotation changes them here
		return fmt.Sprintf("signed by key ID %s; now trusts key ID %s, by a key rotation the previous key signed", signer, pinKeyIDs(s.pin))
	}
	return fmt.Sprintf("signature by key ID %s verified", signer)
}

func pinKeyIDs(pin *pkgdir.Pin) string {
	keys, err := trust.ParsePublicKeys(pin.Keys)
	if err != nil {
		return strings.Join(pin.Keys, ", ")
	}
	return trust.KeyIDs(keys)
}

func signatureName(rel sources.Release) string {
	if rel.SignatureURL != "" {
		return redact.URL(rel.SignatureURL)
	}
	return sources.ZipName(rel.Version) + sources.SignatureSuffix
}

// checkSignature is the check's early look at a release about to be
// offered: a signature that will be refused makes the status
// signature-invalid instead of update-available, without the zip being
// downloaded (its comment names the zip's sha256, compared with the one
// the release declares; a release that declares none is compared when
// the update downloads it).
func (u *Updater) checkSignature(ctx context.Context, src sources.Source, r *Result, rel *sources.Release) {
	p := r.Package
	if p.Root == "" || p.Name == "" {
		return
	}
	pin, err := ReadPin(p.Layout(), p.Name)
	if err == nil {
		_, err = u.verifySignature(ctx, src, p.Name, pin, rel, false)
	}
	switch {
	case err == nil:
	case trust.Failed(err):
		r.fail(StatusSignatureInvalid, err)
	default:
		r.fail(StatusError, err)
	}
}
