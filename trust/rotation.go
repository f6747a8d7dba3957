package trust

import (
	"fmt"
	"strings"
	"time"
)

// FieldNewKey names the new key in a rotation statement's trusted comment.
const FieldNewKey = "key_rotation"

// Rotation is a key rotation statement, as a release manifest carries it
// in "key_rotation": the new public key, signed by the old secret key. A
// client that trusts the old key may then trust the new one.
//
// The signed message is the new key as written in New ("RW..."), and the
// trusted comment is "modup key_rotation=RW... time=...": the statement
// cannot be taken for a release signature, nor moved to another key.
type Rotation struct {
	New       string `json:"new"`
	Signature string `json:"signature"`
}

// Rotate makes the statement handing old's trust to newKey.
func Rotate(old SecretKey, newKey PublicKey, now time.Time) (Rotation, error) {
	if old.Public().Equal(newKey) {
		return Rotation{}, fmt.Errorf("key rotation from key ID %s to itself", newKey.ID())
	}
	c := Comment{{FieldNewKey, newKey.String()}, {FieldTime, now.UTC().Format(TimeFormat)}}
	sig, err := Sign(old, strings.NewReader(newKey.String()), c)
	if err != nil {
		return Rotation{}, err
	}
	return Rotation{New: newKey.String(), Signature: string(sig)}, nil
}

// Verify checks the statement against trusted keys: it must be signed by
// one of them, over New, with a trusted comment naming New. It returns the
// new key and the old one that signed it. A statement signed by any other
// key is ErrUnknownKey (a forged rotation).
func (r Rotation) Verify(trusted []PublicKey) (newKey, signer PublicKey, err error) {
	newKey, err = ParsePublicKey(r.New)
	if err != nil {
		return PublicKey{}, PublicKey{}, fmt.Errorf("key_rotation: %w: %w", err, ErrBadSignature)
	}
	s, err := ParseSignature([]byte(r.Signature))
	if err != nil {
		return PublicKey{}, PublicKey{}, fmt.Errorf("key_rotation to key ID %s: %w", newKey.ID(), err)
	}
	signer, err = s.Verify(trusted, strings.NewReader(r.New))
	if err != nil {
		return PublicKey{}, PublicKey{}, fmt.Errorf("key_rotation to key ID %s: %w", newKey.ID(), err)
	}
	c, err := ParseComment(s.TrustedComment())
	if err != nil {
		return PublicKey{}, PublicKey{}, fmt.Errorf("key_rotation to key ID %s: %w: %w", newKey.ID(), err, ErrMismatch)
	}
	if named, _ := c.Get(FieldNewKey); strings.TrimSpace(named) != strings.TrimSpace(r.New) {
		return PublicKey{}, PublicKey{}, fmt.Errorf("key_rotation to key ID %s: its trusted comment names another key (%q): %w", newKey.ID(), abbreviate(named), ErrMismatch)
	}
	return newKey, signer, nil
}
