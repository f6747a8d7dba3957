package trust

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"aead.dev/minisign"
)

// SignatureSuffix is appended to a signed file's name for its detached
// signature: 1.2.0.zip.minisig, as minisign names it.
const SignatureSuffix = ".minisig"

// MaxSignatureSize bounds what is read as a signature file.
const MaxSignatureSize = 16 << 10

// maxCommentSize is the longest trusted comment the minisign tool reads.
const maxCommentSize = 1023

// Signature is a parsed minisign signature. Parsing checks its form only;
// Verify and VerifyComment check it against keys.
type Signature struct {
	s   minisign.Signature
	raw []byte
}

// ParseSignature reads a minisign signature file.
func ParseSignature(data []byte) (Signature, error) {
	if len(data) > MaxSignatureSize {
		return Signature{}, fmt.Errorf("%d bytes is too large for a minisign signature: %w", len(data), ErrBadSignature)
	}
	var s minisign.Signature
	if err := s.UnmarshalText(data); err != nil {
		return Signature{}, fmt.Errorf("not a minisign signature (%v): %w", err, ErrBadSignature)
	}
	return Signature{s: s, raw: bytes.Clone(data)}, nil
}

// KeyID is the id of the key that claims to have made the signature.
func (s Signature) KeyID() string { return keyID(s.s.KeyID) }

// TrustedComment is the signed comment. It is authentic only once Verify
// or VerifyComment succeeded.
func (s Signature) TrustedComment() string { return s.s.TrustedComment }

// Bytes is the signature file as it was read.
func (s Signature) Bytes() []byte { return bytes.Clone(s.raw) }

// signer finds the key among keys whose id the signature names.
func (s Signature) signer(keys []PublicKey) (PublicKey, error) {
	for _, k := range keys {
		if k.k.ID() == s.s.KeyID {
			return k, nil
		}
	}
	if len(keys) == 0 {
		return PublicKey{}, fmt.Errorf("signed by key ID %s, and no key is trusted: %w", s.KeyID(), ErrUnknownKey)
	}
	return PublicKey{}, fmt.Errorf("signed by key ID %s, but the trusted key is %s: %w", s.KeyID(), KeyIDs(keys), ErrUnknownKey)
}

// VerifyComment checks the trusted comment against the key among keys
// that made the signature, without the signed file: the comment is then
// the signer's word, whatever file it came with. It returns the signer.
func (s Signature) VerifyComment(keys []PublicKey) (PublicKey, error) {
	k, err := s.signer(keys)
	if err != nil {
		return PublicKey{}, err
	}
	msg := append(s.s.Signature[:len(s.s.Signature):len(s.s.Signature)], s.s.TrustedComment...)
	if !ed25519.Verify(k.ed25519(), msg, s.s.CommentSignature[:]) {
		return PublicKey{}, fmt.Errorf("%w: the trusted comment's signature fails with key ID %s (the signature file was altered)", ErrBadSignature, k.ID())
	}
	return k, nil
}

// Verify checks that the signature signs everything r yields, and its
// trusted comment, with the key among keys that made it. It returns the
// signer.
func (s Signature) Verify(keys []PublicKey, r io.Reader) (PublicKey, error) {
	k, err := s.signer(keys)
	if err != nil {
		return PublicKey{}, err
	}
	if s.s.Algorithm != minisign.HashEdDSA {
		return PublicKey{}, fmt.Errorf("%w: a legacy minisign signature (made with -l): sign again without -l", ErrBadSignature)
	}
	mr := minisign.NewReader(r)
	if _, err := io.Copy(io.Discard, mr); err != nil {
		return PublicKey{}, err
	}
	if !mr.Verify(k.k, s.raw) {
		return PublicKey{}, fmt.Errorf("%w with key ID %s (the signed file or the signature was altered)", ErrBadSignature, k.ID())
	}
	return k, nil
}

// VerifyFile is Verify of the file at path.
func (s Signature) VerifyFile(keys []PublicKey, path string) (PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return PublicKey{}, err
	}
	defer f.Close()
	return s.Verify(keys, f)
}

// Sign signs everything r yields with key, prehashed as minisign does by
// default, with c as the trusted comment.
func Sign(key SecretKey, r io.Reader, c Comment) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	text := c.String()
	if len(text) > maxCommentSize {
		return nil, fmt.Errorf("trusted comment of %d bytes: the minisign tool reads at most %d", len(text), maxCommentSize)
	}
	mr := minisign.NewReader(r)
	if _, err := io.Copy(io.Discard, mr); err != nil {
		return nil, err
	}
	untrusted := "signature from modup secret key " + keyID(key.k.ID())
	return mr.SignWithComments(key.k, text, untrusted), nil
}

// SignRelease signs the zip at path as release version of package name,
// signed at now: the trusted comment is the ReleaseClaim, its sha256 that
// of the zip, computed in the same read.
func SignRelease(key SecretKey, path, name, version string, now time.Time) ([]byte, ReleaseClaim, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ReleaseClaim{}, err
	}
	defer f.Close()
	// The digest is needed in the comment before signing, so the zip is
	// read twice: once for sha256, once (prehashed) for the signature.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, ReleaseClaim{}, fmt.Errorf("read %s: %w", path, err)
	}
	claim := ReleaseClaim{Name: name, Version: version, SHA256: hex.EncodeToString(h.Sum(nil)), Time: now.UTC().Truncate(time.Second)}
	c, err := claim.Comment()
	if err != nil {
		return nil, ReleaseClaim{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, ReleaseClaim{}, err
	}
	sig, err := Sign(key, f, c)
	if err != nil {
		return nil, ReleaseClaim{}, fmt.Errorf("sign %s: %w", path, err)
	}
	return sig, claim, nil
}

// ReleaseSignature is a parsed release signature whose trusted comment
// verified: the signer's claim about one release.
type ReleaseSignature struct {
	Signature
	Signer PublicKey
	Claim  ReleaseClaim
}

// VerifyReleaseComment parses a release signature, checks its trusted
// comment against keys and reads the claim in it. The signed zip is
// checked later, with Signature.Verify, once it is downloaded.
func VerifyReleaseComment(keys []PublicKey, sig []byte) (ReleaseSignature, error) {
	s, err := ParseSignature(sig)
	if err != nil {
		return ReleaseSignature{}, err
	}
	k, err := s.VerifyComment(keys)
	if err != nil {
		return ReleaseSignature{}, err
	}
	claim, err := ParseReleaseClaim(s.TrustedComment())
	if err != nil {
		return ReleaseSignature{}, fmt.Errorf("%w: %w", err, ErrMismatch)
	}
	return ReleaseSignature{Signature: s, Signer: k, Claim: claim}, nil
}

// SignDocument signs doc (a small file served whole: an index, a list)
// with c as the trusted comment. Put FieldTime and, for a document that
// must not be served forever, FieldExpires in c.
func SignDocument(key SecretKey, doc []byte, c Comment) ([]byte, error) {
	return Sign(key, bytes.NewReader(doc), c)
}

// VerifyDocument checks that sig signs doc with one of keys, and that the
// trusted comment, when it carries an expires field, is not past it at
// now (ErrExpired: a mirror serving a frozen copy). It returns the
// comment and the signer.
func VerifyDocument(keys []PublicKey, doc, sig []byte, now time.Time) (Comment, PublicKey, error) {
	s, err := ParseSignature(sig)
	if err != nil {
		return nil, PublicKey{}, err
	}
	k, err := s.Verify(keys, bytes.NewReader(doc))
	if err != nil {
		return nil, PublicKey{}, err
	}
	c, err := ParseComment(s.TrustedComment())
	if err != nil {
		return nil, PublicKey{}, fmt.Errorf("%w: %w", err, ErrMismatch)
	}
	exp, ok, err := c.Time(FieldExpires)
	switch {
	case err != nil:
		return nil, PublicKey{}, fmt.Errorf("%w: %w", err, ErrMismatch)
	case ok && !now.Before(exp):
		return c, k, fmt.Errorf("signed document expired at %s (now %s): %w", exp.Format(TimeFormat), now.UTC().Format(TimeFormat), ErrExpired)
	}
	return c, k, nil
}
