// Package manifest reads and writes a2's JSON files: a2modsource.json (the
// package manifest) and a2module.json (one per module).
//
// Reading is strict: a UTF-8 BOM is accepted, but trailing commas, duplicate
// keys, keys that differ from a known one only in case, null or mistyped
// known fields are errors that name the file and line:column. Writing keeps
// every field modup does not know, byte-stable in value, with 2-space indent
// and sorted keys as a2 writes them, and keeps the BOM if there was one.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/modup/modup/resolve"
)

// MaxSize is the largest manifest modup reads. Anything larger is not a
// manifest.
const MaxSize = 1 << 20

var bom = []byte{0xEF, 0xBB, 0xBF}

// SyntaxError is a JSON problem at a place in a file, or a field whose
// value is wrong there.
type SyntaxError struct {
	File string // file name or URL
	Line int    // 1-based
	Col  int    // 1-based, in bytes
	Msg  string
	// Key is the field's path for a requirement field
	// ("requires.packages.a2.modules"), else "".
	Key string
	// Err is the underlying error, when there is one (a
	// *resolve.ConstraintError).
	Err error
}

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Manifest is an a2modsource.json. The known fields are exposed; all others
// travel untouched in raw.
type Manifest struct {
	Name        string
	DisplayName string
	Description string
	News        string
	Maintainer  string
	URL         string
	UpdateURL   string
	MainBranch  string
	Version     string
	ZipSize     int64
	SHA256      string
	// PublicKey is the minisign public key ("RW...") that signs the
	// package's releases (a release manifest carries it).
	PublicKey string
	// KeyRotation hands the trust of the key that signed earlier releases
	// to PublicKey; nil when the manifest has none.
	KeyRotation *KeyRotation

	// ManifestVersion is manifest_version: 0 when absent (a2's format, as
	// 1), 2 with the requirement fields. See Supported.
	ManifestVersion int
	// Requirements are the requirement fields (requires, conflicts,
	// breaks, replaces, provides, recommends, suggests), decoded by Parse.
	// Set and Delete do not update them.
	Requirements resolve.Requirements

	file     string // as Parse was told, for Supported's error
	raw      map[string]json.RawMessage
	bom      bool
	trailing []byte // whitespace after the closing brace, kept on write
	// lazy, for a manifest made from a Summary, holds its bytes until raw
	// is needed (see members).
	lazy *lazyRaw
}

// knownString are the manifest's string fields and where they go.
func (m *Manifest) stringFields() map[string]*string {
	return map[string]*string{
		"name":          &m.Name,
		"display_name":  &m.DisplayName,
		"description":   &m.Description,
		"desc":          &m.Description,
		"news":          &m.News,
		"maintainer":    &m.Maintainer,
		"url":           &m.URL,
		"update_url":    &m.UpdateURL,
		"main_branch":   &m.MainBranch,
		"version":       &m.Version,
		"sha256":        &m.SHA256,
		"public_key":    &m.PublicKey,
		"maintainer_at": nil,
		"repo_url":      nil,
	}
}

// knownKeys are the keys whose case is checked.
var knownKeys = append([]string{"name", "display_name", "description", "desc", "news", "maintainer",
	"maintainer_at", "url", "repo_url", "update_url", "main_branch", "version", "zip_size", "sha256", "release",
	"public_key", "key_rotation"}, requirementKeys...)

// KeyRotation is a manifest's "key_rotation": {"new": "RW...", "signature":
// "<a minisign signature of new by the previous key>"}.
type KeyRotation struct {
	New       string `json:"new"`
	Signature string `json:"signature"`
}

// decodeKeyRotation reads key_rotation strictly: an object with exactly
// the string fields new and signature.
func decodeKeyRotation(v json.RawMessage) (*KeyRotation, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%s is not an object with \"new\" and \"signature\"", abbreviateRaw(v))
	}
	kr := &KeyRotation{}
	for key, dst := range map[string]*string{"new": &kr.New, "signature": &kr.Signature} {
		raw, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("no %q", key)
		}
		if err := decodeString(raw, dst); err != nil {
			return nil, fmt.Errorf("%q: %v", key, err)
		}
		delete(obj, key)
	}
	if len(obj) > 0 {
		extra := slices.Sorted(maps.Keys(obj))
		return nil, fmt.Errorf("unknown field %q (want only \"new\" and \"signature\")", extra[0])
	}
	return kr, nil
}

func abbreviateRaw(v json.RawMessage) string {
	if len(v) > 40 {
		return string(v[:40]) + "…"
	}
	return string(v)
}

// Parse decodes a manifest. file names the source in errors.
//
// The requirement fields are checked too: a constraint that does not
// parse, a platform modup does not know, a mistyped value are errors
// naming the file, line:column, the package, the key and the text; all of
// a manifest's such problems are reported together (errors.Join of
// *SyntaxError). A manifest_version above SupportedVersion parses, with
// its requirement fields left alone; see Supported.
func Parse(data []byte, file string) (*Manifest, error) {
	m := &Manifest{file: file}
	body := data
	if bytes.HasPrefix(body, bom) {
		m.bom = true
		body = body[len(bom):]
	}
	raw, err := decodeObject(body, file)
	if err != nil {
		return nil, err
	}
	m.raw = raw
	m.trailing = trailingSpace(body)
	for key := range raw {
		for _, k := range knownKeys {
			if key != k && strings.EqualFold(key, k) {
				return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("key %q should be written %q", key, k)}
			}
		}
	}
	for key, dst := range m.stringFields() {
		v, ok := raw[key]
		if !ok || dst == nil {
			continue
		}
		if err := decodeString(v, dst); err != nil {
			return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("field %q: %v", key, err)}
		}
	}
	if v, ok := raw["description"]; ok {
		_ = decodeString(v, &m.Description) // "description" wins over "desc"
	}
	if v, ok := raw["zip_size"]; ok {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil || bytes.Equal(v, []byte("null")) {
			return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("field \"zip_size\": %s is not a number", v)}
		}
		size, err := n.Int64()
		if err != nil || size < 0 {
			return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("field \"zip_size\": %s is not a byte count", v)}
		}
		m.ZipSize = size
	}
	if v, ok := raw["key_rotation"]; ok {
		kr, err := decodeKeyRotation(v)
		if err != nil {
			return nil, &SyntaxError{File: file, Msg: fmt.Sprintf("field \"key_rotation\": %v", err)}
		}
		m.KeyRotation = kr
	}
	if err := m.decodeRequirements(body, file); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeString(v json.RawMessage, dst *string) error {
	if bytes.Equal(v, []byte("null")) {
		return errors.New("null, want a string")
	}
	if len(v) < 2 || v[0] != '"' {
		return fmt.Errorf("%s, want a string", v)
	}
	s, err := unquote(v)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// decodeObject decodes a JSON object into its raw members, rejecting
// duplicate keys and anything after the object. A valid document (the
// common case: every manifest of every scan) is split by splitObject; the
// token decoder runs only to position the error of an invalid one.
func decodeObject(data []byte, file string) (map[string]json.RawMessage, error) {
	if json.Valid(data) {
		if out, ok := splitObject(data); ok {
			return out, nil
		}
	}
	return decodeTokens(data, file)
}

// splitObject splits a document that json.Valid accepted into the raw
// members of its top-level object. The values are copied out of data
// (into one allocation). It reports !ok when the document is not an object
// or repeats a key; decodeTokens then words the error.
func splitObject(data []byte) (map[string]json.RawMessage, bool) {
	// The document is valid, so skipping white space and separators
	// alike walks from one key or value to the next.
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	buf := bytes.Clone(data)
	out := map[string]json.RawMessage{}
	for i = skipSpace(data, i+1); data[i] != '}'; i = skipSpace(data, i) {
		keyEnd := skipString(data, i)
		key, err := unquote(data[i:keyEnd])
		if err != nil {
			return nil, false
		}
		if _, dup := out[key]; dup {
			return nil, false
		}
		start := skipSpace(data, keyEnd)
		i = skipValue(data, start)
		out[key] = json.RawMessage(buf[start:i:i])
	}
	return out, true
}

// unquote decodes a JSON string literal; one without escapes needs no
// decoder (json.Valid has ruled out control characters, and json.Unmarshal
// would replace invalid UTF-8, which the slow path then does).
func unquote(lit []byte) (string, error) {
	inner := lit[1 : len(lit)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(lit, &s)
	return s, err
}

// skipString returns the offset after the string literal starting at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the offset after the (valid) value starting at i.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			i = skipString(data, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// decodeTokens is decodeObject by json.Decoder tokens, which know where an
// error is.
func decodeTokens(data []byte, file string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	at := func(err error) error {
		// The token reader reports where it stood, not where the bad byte
		// is; the full scanner knows the exact byte.
		var v any
		if uerr := json.Unmarshal(data, &v); uerr != nil {
			var se *json.SyntaxError
			if errors.As(uerr, &se) {
				return positioned(data, file, uerr, 0)
			}
		}
		return positioned(data, file, err, dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &SyntaxError{File: file, Msg: "empty file, want a JSON object"}
		}
		return nil, at(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, positioned(data, file, fmt.Errorf("want a JSON object, found %s", describeToken(tok)), dec.InputOffset())
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		keyStart := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, at(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, at(fmt.Errorf("want an object key, found %s", describeToken(tok)))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, at(err)
		}
		if _, dup := out[key]; dup {
			return nil, positioned(data, file, fmt.Errorf("duplicate key %q", key), int64(skipSpace(data, int(keyStart)))+1)
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, at(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("unexpected data after the JSON object")
		}
		return nil, at(err)
	}
	return out, nil
}

// skipSpace returns the offset of the first byte at or after off that is not
// white space or a separator.
func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("string %q", t)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", t)
	}
}

// positioned turns a decoding error into a SyntaxError with line:column.
// offset is the decoder's position when nothing more precise is known.
func positioned(data []byte, file string, err error, offset int64) error {
	msg := err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
		msg = se.Error()
	case errors.As(err, &te):
		offset = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		offset = int64(len(data))
		msg = "unexpected end of file (is the JSON cut short?)"
	}
	line, col := lineCol(data, offset)
	return &SyntaxError{File: file, Line: line, Col: col, Msg: msg}
}

// lineCol returns the 1-based line and column of the byte before offset
// (the decoder reports offsets just past the offending byte).
func lineCol(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	pos := int(offset) - 1
	if pos < 0 {
		pos = 0
	}
	line, col := 1, 1
	for i := 0; i < pos && i < len(data); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func trailingSpace(body []byte) []byte {
	trimmed := bytes.TrimRight(body, " \t\r\n")
	return append([]byte(nil), body[len(trimmed):]...)
}

// Raw returns the raw JSON of key, if present.
func (m *Manifest) Raw(key string) (json.RawMessage, bool) {
	raw, _ := m.members()
	v, ok := raw[key]
	return v, ok
}

// Keys lists every key of the manifest, sorted.
func (m *Manifest) Keys() []string {
	raw, _ := m.members()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Set stores a value under key (a known field is updated too). Setting a
// string known field keeps the struct and the raw map in step.
func (m *Manifest) Set(key string, value any) error {
	b, err := marshalValue(value)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	m.own()
	if m.raw == nil {
		m.raw = map[string]json.RawMessage{}
	}
	m.raw[key] = b
	if dst, ok := m.stringFields()[key]; ok && dst != nil {
		if s, ok := value.(string); ok {
			*dst = s
		}
	}
	if key == "zip_size" {
		switch n := value.(type) {
		case int64:
			m.ZipSize = n
		case int:
			m.ZipSize = int64(n)
		}
	}
	if key == "key_rotation" {
		kr, err := decodeKeyRotation(b)
		if err != nil {
			delete(m.raw, key)
			return fmt.Errorf("set key_rotation: %w", err)
		}
		m.KeyRotation = kr
	}
	return nil
}

// Delete removes key.
func (m *Manifest) Delete(key string) {
	m.own()
	delete(m.raw, key)
	if dst, ok := m.stringFields()[key]; ok && dst != nil {
		*dst = ""
	}
	if key == "zip_size" {
		m.ZipSize = 0
	}
	if key == "key_rotation" {
		m.KeyRotation = nil
	}
}

// HasBOM reports whether the file started with a UTF-8 byte-order mark.
func (m *Manifest) HasBOM() bool { return m.hasBOM() }

// Marshal encodes the manifest as a2 writes it: sorted keys, 2-space indent,
// unknown fields kept as they were, the BOM kept if it was there.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	if m.hasBOM() {
		buf.Write(bom)
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	raw, trailing := m.members()
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	if err := enc.Encode(raw); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	out := bytes.TrimRight(buf.Bytes(), "\n")
	return append(out, trailing...), nil
}

// New returns an empty manifest (no BOM, trailing newline) for modup to fill.
func New() *Manifest {
	return &Manifest{raw: map[string]json.RawMessage{}, trailing: []byte("\n")}
}

func marshalValue(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
