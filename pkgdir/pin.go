package pkgdir

import (
	"errors"
	"os"
	"time"
)

// How a pin's keys came to be trusted (Pin.From).
const (
	// PinFirstUse: the release manifest's public_key at the first install
	// (or first update) that saw one: trust on first use.
	PinFirstUse = "first-use"
	// PinByHand: `modup trust NAME --key`.
	PinByHand = "trust"
	// PinRotation: a key rotation signed by the key pinned before.
	PinRotation = "rotation"
)

// Pin is what modup trusts to sign a package's releases, kept in its
// install record: every later install must be signed by one of Keys, with
// a trusted comment naming Name, and (unless asked for by version) signed
// no earlier than SignedAt.
type Pin struct {
	// Keys are the trusted minisign public keys ("RW..."), usually one.
	Keys []string `json:"keys"`
	// Name is the package name release signatures must name.
	Name string `json:"name"`
	// From says how the keys came to be trusted (PinFirstUse, PinByHand,
	// PinRotation).
	From string `json:"from"`
	// Since is when the keys were pinned.
	Since time.Time `json:"since"`
	// SignedAt is the signing time of the newest release installed under
	// the pin, zero before the first: an older signed release is a replay.
	SignedAt time.Time `json:"signed_at,omitzero"`
}

// keepPin carries the current record's pin into rec, which is about to
// replace it (a rollback): restoring files never changes what is trusted.
// An unusable record pins nothing that can be known; a rollback, being the
// way back, is not refused for it.
func (l Layout) keepPin(name string, rec *Record) error {
	cur, err := l.ReadRecord(name)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ErrBadRecord):
		return nil
	case err != nil:
		return err
	}
	rec.Pin = cur.Pin
	return nil
}

// SetPin replaces package name's pin (nil forgets it) and keeps the rest
// of its install record. A package installed without modup, or whose
// record is unusable (ErrBadRecord), gets a record holding only its
// version (from version) and the pin. The caller holds the package's lock.
func (l Layout) SetPin(name, version string, pin *Pin) error {
	return l.changeRecord(name, version, pin != nil, func(r *Record) { r.Pin = pin })
}
