package trust

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// CommentPrefix starts every trusted comment in modup's form.
const CommentPrefix = "modup"

// Field names of a release claim, in the order they are written.
const (
	FieldName    = "name"
	FieldVersion = "version"
	FieldSHA256  = "sha256"
	FieldTime    = "time"
	// FieldExpires is when a signed document stops being valid.
	FieldExpires = "expires"
)

// TimeFormat is how times are written in trusted comments: RFC 3339 in
// UTC, to the second.
const TimeFormat = "2006-01-02T15:04:05Z"

// Field is one key=value pair of a trusted comment.
type Field struct {
	Key, Value string
}

// Comment is a trusted comment in modup's form: the word "modup", then
// key=value fields separated by single spaces, in a stable order:
//
//	modup name=a2.modules version=0.7.1 sha256=9f86d0...0a08 time=2026-11-30T09:00:00Z
//
// Keys are lower-case letters, digits and '_'. A value is written as it is
// unless it holds a space, '%', '=', a control character or non-ASCII;
// those bytes are percent-encoded (%20). Readers ignore keys they do not
// know, so later versions can add fields; a key given twice is an error.
type Comment []Field

var commentKey = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// String writes c in modup's form.
func (c Comment) String() string {
	var b strings.Builder
	b.WriteString(CommentPrefix)
	for _, f := range c {
		b.WriteByte(' ')
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(escapeValue(f.Value))
	}
	return b.String()
}

// Get is the value of key.
func (c Comment) Get(key string) (string, bool) {
	for _, f := range c {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Time is the value of key read as a time in TimeFormat (or any RFC 3339
// time). It reports false when key is absent.
func (c Comment) Time(key string) (time.Time, bool, error) {
	v, ok := c.Get(key)
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("trusted comment field %s=%q is not a time like 2026-11-30T09:00:00Z", key, v)
	}
	return t.UTC(), true, nil
}

// check refuses what String could not write back: bad keys, duplicates.
func (c Comment) check() error {
	seen := map[string]bool{}
	for _, f := range c {
		if !commentKey.MatchString(f.Key) {
			return fmt.Errorf("trusted comment key %q: want lower-case letters, digits and _", f.Key)
		}
		if seen[f.Key] {
			return fmt.Errorf("trusted comment names %s twice", f.Key)
		}
		seen[f.Key] = true
	}
	return nil
}

// ParseComment reads a trusted comment in modup's form.
func ParseComment(s string) (Comment, error) {
	rest, ok := strings.CutPrefix(s, CommentPrefix+" ")
	if !ok {
		if s == CommentPrefix {
			return Comment{}, nil
		}
		return nil, fmt.Errorf("trusted comment %q is not in modup's form (%q followed by key=value fields)", abbreviateComment(s), CommentPrefix)
	}
	var c Comment
	for _, tok := range strings.Split(rest, " ") {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, fmt.Errorf("trusted comment %q: %q is not key=value", abbreviateComment(s), tok)
		}
		uv, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("trusted comment %q: field %s: %w", abbreviateComment(s), k, err)
		}
		c = append(c, Field{Key: k, Value: uv})
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if ch <= ' ' || ch >= 0x7f || ch == '%' || ch == '=' {
			fmt.Fprintf(&b, "%%%02X", ch)
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func abbreviateComment(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ReleaseClaim is what a release signature vouches for: this zip (by its
// sha256) is release Version of package Name, signed at Time.
type ReleaseClaim struct {
	Name    string
	Version string
	SHA256  string // lower-case hex
	Time    time.Time
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Comment is c as a trusted comment.
func (c ReleaseClaim) Comment() (Comment, error) {
	switch {
	case c.Name == "":
		return nil, errors.New("release claim without a package name")
	case c.Version == "":
		return nil, errors.New("release claim without a version")
	case !hexSHA256.MatchString(c.SHA256):
		return nil, fmt.Errorf("release claim sha256 %q: want 64 lower-case hex digits", c.SHA256)
	case c.Time.IsZero():
		return nil, errors.New("release claim without a signing time")
	}
	return Comment{
		{FieldName, c.Name},
		{FieldVersion, c.Version},
		{FieldSHA256, c.SHA256},
		{FieldTime, c.Time.UTC().Format(TimeFormat)},
	}, nil
}

// ParseReleaseClaim reads a release claim from a trusted comment; every
// field is required.
func ParseReleaseClaim(comment string) (ReleaseClaim, error) {
	c, err := ParseComment(comment)
	if err != nil {
		return ReleaseClaim{}, err
	}
	var rc ReleaseClaim
	for _, f := range []struct {
		key string
		dst *string
	}{{FieldName, &rc.Name}, {FieldVersion, &rc.Version}, {FieldSHA256, &rc.SHA256}} {
		v, ok := c.Get(f.key)
		if !ok || v == "" {
			return ReleaseClaim{}, fmt.Errorf("trusted comment %q names no %s: not a release signature in modup's form", abbreviateComment(comment), f.key)
		}
		*f.dst = v
	}
	rc.SHA256 = strings.ToLower(rc.SHA256)
	if !hexSHA256.MatchString(rc.SHA256) {
		return ReleaseClaim{}, fmt.Errorf("trusted comment field sha256=%q: want 64 hex digits", rc.SHA256)
	}
	t, ok, err := c.Time(FieldTime)
	switch {
	case err != nil:
		return ReleaseClaim{}, err
	case !ok:
		return ReleaseClaim{}, fmt.Errorf("trusted comment %q names no time: not a release signature in modup's form", abbreviateComment(comment))
	}
	rc.Time = t
	return rc, nil
}
