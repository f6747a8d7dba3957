package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"github.com/modup/modup/trust"
)

// ErrInvalid is wrapped by every error Decode and Validate return for a
// document a client must not use.
var ErrInvalid = errors.New("invalid index document")

// Document is one of this package's documents.
type Document interface {
	// Validate checks the values a client relies on.
	Validate() error
}

var (
	_ Document = (*Root)(nil)
	_ Document = (*List)(nil)
	_ Document = (*PackageList)(nil)
	_ Document = (*ModuleList)(nil)
	_ Document = (*PackageInfo)(nil)
	_ Document = (*PackageInfos)(nil)
	_ Document = (*ModuleInfo)(nil)
)

// MaxSize is the largest document Decode reads (the package infos of a
// big index are the largest).
const MaxSize = 256 << 20

// Decode reads a document into d and validates it. Fields this version
// does not know are ignored (a newer index may add some); the values of
// the known ones must be valid. where names the document in errors (a URL
// or a file).
func Decode(data []byte, where string, d Document) error {
	if len(data) > MaxSize {
		return fmt.Errorf("%s: %w: larger than %d bytes", where, ErrInvalid, MaxSize)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return fmt.Errorf("%s: %w: got an HTML page, not JSON (is this the index's base URL?)", where, ErrInvalid)
	}
	if err := json.Unmarshal(data, d); err != nil {
		return fmt.Errorf("%s: %w: %s", where, ErrInvalid, jsonProblem(err))
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// jsonProblem words a decoding error for people: the field and what it
// holds instead of what an index has there, without Go's type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("%s holds %s, not %s (at byte %d)", field, jsonKind(te.Value), goKind(te.Type), te.Offset)
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}

// jsonKind names a JSON value as UnmarshalTypeError.Value does.
func jsonKind(v string) string {
	switch {
	case v == "object":
		return "an object"
	case v == "array":
		return "a list"
	case v == "string":
		return "a string"
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return v
}

// goKind names what a Go type expects in JSON.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return goKind(t.Elem())
	}
	return "another kind of value"
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidSHA256 reports whether s is a sha256 digest in lower-case hex.
func ValidSHA256(s string) bool { return hexSHA256.MatchString(s) }

func checkName(what, name string) error {
	if !ValidName(name) {
		return invalid("%s %q is not a valid name (letters, digits and . _ + -; no paths)", what, name)
	}
	return nil
}

func checkVersion(pkg, v string) error {
	if !ValidVersion(v) {
		return invalid("package %s: version %q is not a valid version", pkg, v)
	}
	return nil
}

func checkUpdateURL(pkg, u string) error {
	if strings.TrimSpace(u) == "" || strings.ContainsAny(u, "\r\n\x00") {
		return invalid("package %s: update_url %q", pkg, u)
	}
	return nil
}

func checkSize(pkg, v string, n int64) error {
	if n < 0 {
		return invalid("package %s %s: negative size %d", pkg, v, n)
	}
	return nil
}

// checkPayloadURL accepts absolute http, https and file URLs.
func checkPayloadURL(pkg, v, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return invalid("package %s %s: payload_url %q is not an absolute URL", pkg, v, raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		if u.Host == "" {
			return invalid("package %s %s: payload_url %q has no host", pkg, v, raw)
		}
	case "file":
	default:
		return invalid("package %s %s: payload_url %q: scheme %q (want https, http or file)", pkg, v, raw, u.Scheme)
	}
	return nil
}

// Validate implements Document.
func (r *Root) Validate() error {
	if r.Service != Service {
		return invalid("service is %q, not %q: not a modup index", r.Service, Service)
	}
	if r.Version < 1 {
		return invalid("format version %d", r.Version)
	}
	if r.Packages < 0 || r.Versions < 0 {
		return invalid("negative counts")
	}
	for _, s := range r.Sources {
		if strings.TrimSpace(s.UpdateURL) == "" {
			return invalid("a source without update_url")
		}
		if s.Name != "" {
			if err := checkName("package", s.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate implements Document.
func (l *List) Validate() error {
	for _, n := range l.Packages {
		if err := checkName("package", n); err != nil {
			return err
		}
	}
	for _, n := range l.Modules {
		if err := checkName("module", n); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements Document.
func (l *PackageList) Validate() error {
	seen := map[string]bool{}
	for _, p := range l.Packages {
		if err := checkName("package", p.Name); err != nil {
			return err
		}
		if seen[p.Name] {
			return invalid("package %s listed twice", p.Name)
		}
		seen[p.Name] = true
		if err := checkVersion(p.Name, p.Version); err != nil {
			return err
		}
		if err := checkUpdateURL(p.Name, p.UpdateURL); err != nil {
			return err
		}
		if !ValidSHA256(p.SHA256) {
			return invalid("package %s %s: sha256 %q is not a hex sha256", p.Name, p.Version, p.SHA256)
		}
		if err := checkSize(p.Name, p.Version, p.Size); err != nil {
			return err
		}
		for _, m := range p.Modules {
			if err := checkName("module", m); err != nil {
				return err
			}
		}
		if len(p.Requires) > 0 && !json.Valid(p.Requires) {
			return invalid("package %s: requires is not JSON", p.Name)
		}
	}
	return nil
}

// Validate implements Document.
func (l *ModuleList) Validate() error {
	for _, m := range l.Modules {
		if err := checkName("module", m.Name); err != nil {
			return err
		}
		if err := checkName("package", m.Package); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements Document.
func (p *PackageInfo) Validate() error {
	if err := checkName("package", p.Name); err != nil {
		return err
	}
	if err := checkUpdateURL(p.Name, p.UpdateURL); err != nil {
		return err
	}
	found := p.Latest == ""
	seen := map[string]bool{}
	for _, v := range p.Versions {
		if err := v.validate(p.Name); err != nil {
			return err
		}
		if seen[v.Version] {
			return invalid("package %s: version %s listed twice", p.Name, v.Version)
		}
		seen[v.Version] = true
		if v.Version == p.Latest {
			if !v.Installable() {
				return invalid("package %s: latest %s has a blocking problem", p.Name, p.Latest)
			}
			found = true
		}
	}
	if !found {
		return invalid("package %s: latest %s is not among its versions", p.Name, p.Latest)
	}
	return nil
}

func (v *Version) validate(pkg string) error {
	if err := checkVersion(pkg, v.Version); err != nil {
		return err
	}
	if err := checkPayloadURL(pkg, v.Version, v.PayloadURL); err != nil {
		return err
	}
	if v.MirrorURL != "" && v.MirrorURL != MirrorURL(pkg, v.Version) {
		return invalid("package %s %s: mirror_url %q: want %q, relative to the index", pkg, v.Version, v.MirrorURL, MirrorURL(pkg, v.Version))
	}
	if err := checkSize(pkg, v.Version, v.Size); err != nil {
		return err
	}
	switch {
	case ValidSHA256(v.SHA256):
	case v.SHA256 == "" && !v.Installable():
	default:
		return invalid("package %s %s: sha256 %q is not a hex sha256", pkg, v.Version, v.SHA256)
	}
	if len(v.Manifest) > 0 && !bytes.Equal(v.Manifest, []byte("null")) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v.Manifest, &obj) != nil {
			return invalid("package %s %s: manifest is not a JSON object", pkg, v.Version)
		}
	}
	for _, m := range v.Modules {
		if m.Name == "" || strings.ContainsAny(m.Name, `/\`) || m.Name == "." || m.Name == ".." {
			return invalid("package %s %s: module name %q is not a folder name", pkg, v.Version, m.Name)
		}
	}
	if v.PublicKey != "" {
		if _, err := trust.ParsePublicKey(v.PublicKey); err != nil {
			return invalid("package %s %s: public_key: %v", pkg, v.Version, err)
		}
	}
	if r := v.KeyRotation; r != nil {
		if _, err := trust.ParsePublicKey(r.New); err != nil {
			return invalid("package %s %s: key_rotation: new: %v", pkg, v.Version, err)
		}
		if _, err := trust.ParseSignature([]byte(r.Signature)); err != nil {
			return invalid("package %s %s: key_rotation: signature: %v", pkg, v.Version, err)
		}
	}
	for _, pr := range v.Problems {
		if pr.Check == "" {
			return invalid("package %s %s: a problem names no check", pkg, v.Version)
		}
	}
	return nil
}

// Validate implements Document.
func (p *PackageInfos) Validate() error {
	for i := range p.Packages {
		if err := p.Packages[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Validate implements Document.
func (m *ModuleInfo) Validate() error {
	if err := checkName("module", m.Name); err != nil {
		return err
	}
	for _, p := range m.Packages {
		if err := checkName("package", p.Package); err != nil {
			return err
		}
	}
	return nil
}
