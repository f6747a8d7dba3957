package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modup/modup/index/doc"
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

// ContentType is what a document is served as.
const ContentType = "application/json; charset=utf-8"

// Writer turns a document into the files that carry it: today the
// document's ".json" file. It is the one place where that happens, for the
// server and for export alike, so that anything a document gains on its
// way out is added here once: signatures beside each document
// ("NAME.json.minisig") and an "expires" field come here when an index is
// signed.
type Writer struct{}

// Files returns the files of the document d at path, modified when its
// content last changed.
func (w *Writer) Files(path string, d doc.Document, modified time.Time) ([]File, error) {
	body, err := Encode(d)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	return []File{{Name: doc.FileName(path), Body: body, Modified: modified}}, nil
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
