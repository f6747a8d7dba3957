// Package trust signs and verifies modup releases (and, later, index
// documents) with minisign keys, through aead.dev/minisign, so that authors
// may also use the minisign tool and its files.
//
// A release signature is a detached minisign signature of <version>.zip
// (prehashed, as minisign makes by default) whose trusted comment is in
// modup's form (see Comment): "modup name=NAME version=VERSION sha256=HEX
// time=RFC3339". The trusted comment is signed with the file, so a
// signature vouches for exactly one package, version and zip.
//
// The package neither prints nor reads the environment; callers pass
// passwords and clocks in.
package trust

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"aead.dev/minisign"
)

// Outcomes callers branch on with errors.Is.
var (
	// ErrNoSignature: the release has no signature where one is required.
	ErrNoSignature = errors.New("no signature")
	// ErrBadSignature: the signature is malformed or does not verify (the
	// signed file or the signature was altered).
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnknownKey: the signature was made by a key that is not trusted.
	ErrUnknownKey = errors.New("signed by a key that is not trusted")
	// ErrMismatch: the signature is valid but its trusted comment names
	// another package, version or zip.
	ErrMismatch = errors.New("signature is for another release")
	// ErrReplayed: the signature is older than the newest one installed.
	ErrReplayed = errors.New("signed before the installed release")
	// ErrExpired: a signed document is past its expires time.
	ErrExpired = errors.New("expired")
	// ErrWrongPassword: the secret key could not be decrypted.
	ErrWrongPassword = errors.New("wrong password")
)

// Failed reports whether err is a signature that cannot be trusted, for
// any of the reasons above (a wrong password is not one).
func Failed(err error) bool {
	for _, target := range []error{ErrNoSignature, ErrBadSignature, ErrUnknownKey, ErrMismatch, ErrReplayed, ErrExpired} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// PublicKey is a minisign public key.
type PublicKey struct {
	k minisign.PublicKey
}

// ParsePublicKey reads a public key as minisign writes it: the base64 line
// ("RW..."), or a whole .pub file (an untrusted comment line, then the
// key).
func ParsePublicKey(s string) (PublicKey, error) {
	var k minisign.PublicKey
	text := strings.TrimSpace(s)
	if text == "" {
		return PublicKey{}, errors.New("empty public key: want a minisign public key like RWQ...")
	}
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return PublicKey{}, fmt.Errorf("public key %q is not a minisign public key (want the RW... line of a .pub file): %w", abbreviate(text), err)
	}
	return PublicKey{k: k}, nil
}

// String is the key as minisign prints it: "RW" followed by base64.
func (k PublicKey) String() string { return k.k.String() }

// ID is the key id as minisign prints it: 16 upper-case hex digits.
func (k PublicKey) ID() string { return keyID(k.k.ID()) }

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return k.k.Equal(o.k) }

// IsZero reports whether k is the zero PublicKey (no key).
func (k PublicKey) IsZero() bool { return k.k.Equal(minisign.PublicKey{}) }

// MarshalFile is the key as a minisign .pub file.
func (k PublicKey) MarshalFile() []byte {
	text, _ := k.k.MarshalText() // never fails
	return append(text, '\n')
}

// ed25519 is the raw Ed25519 key inside: the last 32 bytes of the encoded
// key (2 bytes of algorithm, 8 of key id, then the key).
func (k PublicKey) ed25519() ed25519.PublicKey {
	raw, err := base64.StdEncoding.DecodeString(k.k.String())
	if err != nil || len(raw) != 2+8+ed25519.PublicKeySize {
		return nil // a parsed key always encodes to this size
	}
	return ed25519.PublicKey(raw[10:])
}

func keyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// DescribeKey names a public key given as text in messages: "ID X" for a
// minisign key, else the text quoted with what is wrong with it.
func DescribeKey(s string) string {
	if k, err := ParsePublicKey(s); err == nil {
		return "ID " + k.ID()
	}
	return fmt.Sprintf("%q (not a minisign key)", s)
}

// ParsePublicKeys parses several keys, naming the one that does not parse.
func ParsePublicKeys(keys []string) ([]PublicKey, error) {
	out := make([]PublicKey, 0, len(keys))
	for _, s := range keys {
		k, err := ParsePublicKey(s)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// KeyIDs lists the ids of keys, for messages.
func KeyIDs(keys []PublicKey) string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID()
	}
	return strings.Join(ids, ", ")
}

// SecretKey is a minisign secret key, decrypted.
type SecretKey struct {
	k minisign.PrivateKey
}

// Public is the key's public half.
func (k SecretKey) Public() PublicKey {
	return PublicKey{k: k.k.Public().(minisign.PublicKey)}
}

// GenerateKey makes a new key pair from the system's random source.
func GenerateKey() (PublicKey, SecretKey, error) {
	pub, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		return PublicKey{}, SecretKey{}, fmt.Errorf("generate key: %w", err)
	}
	return PublicKey{k: pub}, SecretKey{k: priv}, nil
}

// MarshalSecretKey is k as a minisign secret key file, encrypted with
// password (scrypt, at minisign's cost: about a second and 1 GiB of
// memory), or unencrypted when password is "".
func MarshalSecretKey(k SecretKey, password string) ([]byte, error) {
	if password == "" {
		text, err := k.k.MarshalText()
		if err != nil {
			return nil, err
		}
		// The library's first line says "encrypted" either way; it is
		// free text, so say what the file is.
		_, key, _ := bytes.Cut(text, []byte("\n"))
		return append([]byte("untrusted comment: minisign secret key, not password-protected\n"), append(key, '\n')...), nil
	}
	text, err := minisign.EncryptKey(password, k.k)
	if err != nil {
		return nil, fmt.Errorf("encrypt secret key: %w", err)
	}
	return append(text, '\n'), nil
}

// IsEncrypted reports whether a secret key file is password-protected.
func IsEncrypted(data []byte) bool { return minisign.IsEncrypted(data) }

// ParseSecretKey reads a minisign secret key file. An encrypted one is
// decrypted with password(), which is called only then.
func ParseSecretKey(data []byte, password func() (string, error)) (SecretKey, error) {
	if !minisign.IsEncrypted(data) {
		var k minisign.PrivateKey
		if err := k.UnmarshalText(data); err != nil {
			return SecretKey{}, fmt.Errorf("not a minisign secret key: %w", err)
		}
		return SecretKey{k: k}, nil
	}
	if password == nil {
		return SecretKey{}, errors.New("the secret key is password-protected and no password was given")
	}
	pw, err := password()
	if err != nil {
		return SecretKey{}, err
	}
	k, err := minisign.DecryptKey(pw, data)
	if err != nil {
		return SecretKey{}, fmt.Errorf("decrypt the secret key: %w", ErrWrongPassword)
	}
	return SecretKey{k: k}, nil
}

// abbreviate shortens what a user passed as a key for an error message.
func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
