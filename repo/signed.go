package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
)

// A repository added with a key (`modup repo add NAME URL --key RW...`,
// or key in its [[repo]] table) is a signed index's: the documents modup
// acts on, the package list and each package's info, are used only when
// the signature published beside each (FILE.json.minisig, made by `modup
// index serve|export --sign`) verifies with that key, names that
// document, is not older than the copy held, and has not expired. A copy
// that fails any of these is never used, not even from the cache: the
// packages installed from the repository are then checked at their
// authors' sources, and modup says why. Expiry is what keeps a mirror or
// a proxy from freezing clients on old versions: an index that is not
// re-signed stops being believed.
//
// The other documents (the root, the module list that search reads) are
// not signed; they decide nothing that is installed.

// signedPath is the index path ("/list/packages") of the document file
// ("list/packages.json"), and whether a signed index signs it.
func signedPath(file string) (string, bool) {
	p := "/" + strings.TrimSuffix(file, ".json")
	return p, doc.Signed(p)
}

// pinned reports whether r's document file must verify with r's key.
func (r Repo) pinned(file string) bool {
	if r.Key == "" {
		return false
	}
	_, ok := signedPath(file)
	return ok
}

// KeyID is the id of the key r is pinned to ("" when none, or when it
// does not parse).
func (r Repo) KeyID() string {
	if r.Key == "" {
		return ""
	}
	k, err := trust.ParsePublicKey(r.Key)
	if err != nil {
		return ""
	}
	return k.ID()
}

// usable says why the copy mem of r's document file cannot be used at
// now, nil when it can (or when r is not pinned to a key).
func usable[T any](r Repo, file string, mem *cached[T], now time.Time) error {
	if mem == nil || !r.pinned(file) {
		return nil
	}
	switch {
	case mem.Key != r.Key:
		return fmt.Errorf("repository %s: %s: the copy held was not verified with the repository's key: %w", r.Name, redact.URL(r.docURL(file)), trust.ErrNoSignature)
	case !now.Before(mem.Expires):
		return fmt.Errorf("repository %s: %s: its signature %w at %s (%s ago) and the index has not been signed again since: a mirror or a proxy serving a frozen copy, or an index no longer refreshed",
			r.Name, redact.URL(r.docURL(file)), trust.ErrExpired, mem.Expires.UTC().Format(time.RFC3339), Ago(now.Sub(mem.Expires)))
	}
	return nil
}

// signature reads the signature published beside r's document file.
func (c *Client) signature(ctx context.Context, r Repo, file string) ([]byte, error) {
	where := r.docURL(file) + doc.SignatureSuffix
	var data []byte
	var err error
	if r.Folder() {
		data, err = fsutil.ReadRegular(where, trust.MaxSignatureSize)
	} else {
		data, _, err = c.HTTP.Fetch(ctx, where, nil, trust.MaxSignatureSize)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, sources.ErrNotFound):
		return nil, fmt.Errorf("repository %s: %s: %w: the repository is pinned to key ID %s, and an index signed with it publishes FILE%s beside each document (was it exported or served without --sign?)",
			r.Name, redact.URL(where), trust.ErrNoSignature, r.KeyID(), doc.SignatureSuffix)
	case err != nil:
		return nil, fmt.Errorf("repository %s: %s: %w", r.Name, redact.URL(where), redact.Error(err))
	}
	return data, nil
}

// verify checks data, r's document file as the repository gives it now,
// against its signature sig: made by r's key, naming this document, not
// expired, and not older than the copy held (old, when it was verified
// with the same key: an older signature is a replay of what the index
// said before). It records what it vouched for in next.
func verify[T any](r Repo, file string, data, sig []byte, old, next *cached[T], now time.Time) error {
	key, err := trust.ParsePublicKey(r.Key)
	if err != nil {
		return fmt.Errorf("repository %s: key: %w", r.Name, err)
	}
	where := redact.URL(r.docURL(file))
	c, _, err := trust.VerifyDocument([]trust.PublicKey{key}, data, sig, now)
	switch {
	case errors.Is(err, trust.ErrUnknownKey):
		return fmt.Errorf("repository %s: %s: %w: if the index's operator changed keys, check the new one with them, then `modup repo remove %s` and `modup repo add %s URL --key RW...`",
			r.Name, where, err, r.Name, r.Name)
	case errors.Is(err, trust.ErrExpired):
		return fmt.Errorf("repository %s: %s: %w: a mirror or a proxy serving a frozen copy, or an index no longer refreshed", r.Name, where, err)
	case err != nil:
		return fmt.Errorf("repository %s: %s: %w", r.Name, where, err)
	}
	path, _ := signedPath(file)
	if got, _ := c.Get(doc.SignatureFieldDoc); got != path {
		return fmt.Errorf("repository %s: %s: %w: its signature is of %q, not %q (a document served in place of another)", r.Name, where, trust.ErrMismatch, got, path)
	}
	signed, ok, err := c.Time(trust.FieldTime)
	if err != nil || !ok {
		return fmt.Errorf("repository %s: %s: %w: the signature's trusted comment has no time", r.Name, where, trust.ErrMismatch)
	}
	expires, ok, err := c.Time(trust.FieldExpires)
	if err != nil || !ok {
		return fmt.Errorf("repository %s: %s: %w: the signature's trusted comment has no expires (a document signed for ever could freeze clients)", r.Name, where, trust.ErrMismatch)
	}
	if old != nil && old.Key == r.Key && signed.Before(old.SignedAt) {
		return fmt.Errorf("repository %s: %s: %w: signed at %s, and the copy held was signed at %s: an older index served again (a replay?) is refused",
			r.Name, where, trust.ErrReplayed, signed.UTC().Format(time.RFC3339), old.SignedAt.UTC().Format(time.RFC3339))
	}
	next.Key, next.Raw, next.Sig = r.Key, bytes.Clone(data), bytes.Clone(sig)
	next.SignedAt, next.Expires = signed, expires
	return nil
}
