package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/trust"
)

// File is one file of an index as a static host serves it.
type File struct {
	// Name is relative to the index's base, '/'-separated
	// ("list/packages.json").
	Name string
	Body []byte
	// Modified is when the content last changed (Last-Modified).
	Modified time.Time
}

// ContentType is what a document is served as, SignatureContentType what
// its signature is (minisign signatures are text).
const (
	ContentType          = "application/json; charset=utf-8"
	SignatureContentType = "text/plain; charset=utf-8"
)

// Writer turns a document into the files that carry it: the document's
// ".json" file and, in a signed index, the signature beside it. It is the
// one place where that happens, for the server and for export alike.
type Writer struct {
	// Signer, when set, signs the documents clients act on (doc.Signed):
	// each gets a detached minisign signature, FILE.json.minisig, whose
	// trusted comment names the document and when the signature expires.
	Signer *Signer
}

// DefaultValidFor is how long an index's signatures are valid.
const DefaultValidFor = 7 * 24 * time.Hour

// Signer signs an index's documents.
type Signer struct {
	Key trust.SecretKey
	// ValidFor is how long a signature stays valid (default
	// DefaultValidFor): a mirror that stops following the index serves
	// signatures that expire, so clients notice it froze.
	ValidFor time.Duration
	// Now is the signing time (default time.Now).
	Now func() time.Time
}

// Comment fields of a signed index document (see doc.SignatureFieldDoc).
const (
	FieldDoc       = doc.SignatureFieldDoc
	FieldGenerated = doc.SignatureFieldGenerated
)

// ValidForOrDefault is how long the signer's signatures are valid.
func (s *Signer) ValidForOrDefault() time.Duration { return s.validFor() }

func (s *Signer) validFor() time.Duration {
	if s.ValidFor > 0 {
		return s.ValidFor
	}
	return DefaultValidFor
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// Files returns the files of the document d at path, modified when its
// content last changed.
func (w *Writer) Files(path string, d doc.Document, modified time.Time) ([]File, error) {
	var signedAt time.Time
	if w.Signer != nil {
		signedAt = w.Signer.now()
		if r, ok := d.(*doc.Root); ok {
			// The root says which key signs the index and until when.
			root := *r
			exp := signedAt.Add(w.Signer.validFor())
			root.PublicKey, root.Expires = w.Signer.Key.Public().String(), &exp
			d, modified = &root, signedAt
		}
	}
	body, err := Encode(d)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	files := []File{{Name: doc.FileName(path), Body: body, Modified: modified}}
	if w.Signer == nil || !doc.Signed(path) {
		return files, nil
	}
	c := trust.Comment{
		{Key: FieldDoc, Value: path},
		{Key: trust.FieldTime, Value: signedAt.Format(trust.TimeFormat)},
		{Key: trust.FieldExpires, Value: signedAt.Add(w.Signer.validFor()).Format(trust.TimeFormat)},
	}
	if g := generatedOf(d); !g.IsZero() {
		c = append(c, trust.Field{Key: FieldGenerated, Value: g.UTC().Format(trust.TimeFormat)})
	}
	sig, err := trust.SignDocument(w.Signer.Key, body, c)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", path, err)
	}
	return append(files, File{Name: doc.FileName(path) + doc.SignatureSuffix, Body: sig, Modified: signedAt}), nil
}

// generatedOf is the generation time a document carries, if any.
func generatedOf(d doc.Document) time.Time {
	if pl, ok := d.(*doc.PackageList); ok {
		return pl.Generated
	}
	return time.Time{}
}

// Encode is a document's JSON: compact, UTF-8, HTML characters left as
// they are, one trailing newline.
func Encode(d doc.Document) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
