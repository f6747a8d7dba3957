package manifest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/modup/modup/resolve"
)

// SupportedVersion is the highest manifest_version this modup reads:
// 1 (or no manifest_version) is a2's format, 2 adds the requirement fields.
const SupportedVersion = 2

// ErrNewerManifest: the manifest's manifest_version is higher than this
// modup reads. The concrete error is a *VersionError.
var ErrNewerManifest = errors.New("needs a newer modup")

// VersionError is a manifest written for a newer modup.
type VersionError struct {
	File    string
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: manifest_version %d %s (this one reads up to %d): update modup", e.File, e.Version, ErrNewerManifest, SupportedVersion)
}

// Is makes errors.Is(err, ErrNewerManifest) true.
func (e *VersionError) Is(target error) bool { return target == ErrNewerManifest }

// The requirement fields (manifest_version 2). Keys that start with "@"
// are comments, inside these objects as at the top level: ignored, kept.
var requirementKeys = []string{"manifest_version", "requires", "conflicts", "breaks", "replaces", "provides", "recommends", "suggests"}

// Supported returns a *VersionError (errors.Is ErrNewerManifest) when the
// manifest is written for a newer modup. Such a manifest parses (its
// name, version and update_url are read as always), but its requirement
// fields are not: install refuses it with this error.
func (m *Manifest) Supported() error {
	if m.ManifestVersion > SupportedVersion {
		return &VersionError{File: m.file, Version: m.ManifestVersion}
	}
	return nil
}

// HasRequirements reports whether the manifest declares any requirement
// field (whatever its manifest_version).
func (m *Manifest) HasRequirements() bool {
	raw, _ := m.members()
	for _, k := range requirementKeys[1:] {
		if _, ok := raw[k]; ok {
			return true
		}
	}
	return false
}

// decodeRequirements reads manifest_version and the requirement fields of
// a manifest whose JSON is valid (body, without its BOM). Every problem is
// reported, each a *SyntaxError at the line and column of the value.
func (m *Manifest) decodeRequirements(body []byte, file string) error {
	d := reqDecoder{body: body, file: file, pkg: strings.TrimSpace(m.Name)}
	if v, ok := m.raw["manifest_version"]; ok {
		var n json.Number
		version, err := int64(0), errors.New("not a number")
		if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') && json.Unmarshal(v, &n) == nil {
			version, err = n.Int64()
		}
		if err != nil || version < 1 || version > 1<<20 {
			d.fail([]string{"manifest_version"}, nil, "manifest_version: %s is not a manifest version: write 2 (the requirement fields) or leave it out", v)
			return d.err()
		}
		m.ManifestVersion = int(version)
	}
	if m.ManifestVersion > SupportedVersion {
		return nil // its fields may mean something this modup does not know
	}
	r := &m.Requirements
	if v, ok := m.raw["requires"]; ok {
		d.requires(v, r)
	}
	r.Conflicts = d.constraintMap(m.raw, "conflicts")
	r.Breaks = d.constraintMap(m.raw, "breaks")
	r.Replaces = d.constraintMap(m.raw, "replaces")
	r.Recommends = d.constraintMap(m.raw, "recommends")
	r.Suggests = d.constraintMap(m.raw, "suggests")
	if v, ok := m.raw["provides"]; ok {
		r.Provides = d.names(v, []string{"provides"})
	}
	return d.err()
}

type reqDecoder struct {
	body []byte
	file string
	pkg  string
	errs []*SyntaxError
}

// fail records a problem with the value at path.
func (d *reqDecoder) fail(path []string, cause error, format string, args ...any) {
	line, col := lineCol(d.body, int64(locate(d.body, path))+1)
	msg := fmt.Sprintf(format, args...)
	if d.pkg != "" {
		msg = d.pkg + ": " + msg
	}
	d.errs = append(d.errs, &SyntaxError{File: d.file, Line: line, Col: col, Msg: msg, Key: keyPath(path), Err: cause})
}

func (d *reqDecoder) err() error {
	slices.SortStableFunc(d.errs, func(a, b *SyntaxError) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// SyntaxErrors lists the *SyntaxErrors in err, also those joined by
// errors.Join (every requirement problem of a manifest).
func SyntaxErrors(err error) []*SyntaxError {
	var out []*SyntaxError
	var walk func(error)
	walk = func(e error) {
		if se, ok := e.(*SyntaxError); ok {
			out = append(out, se)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			if x := u.Unwrap(); x != nil {
				walk(x)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// keyPath writes a path as the messages do: requires.packages.a2.modules.
func keyPath(path []string) string { return strings.Join(path, ".") }

// members decodes a JSON object of a valid document into its keys (in
// order, comments left out) and values; a duplicate key and a value that
// is not an object are recorded.
func (d *reqDecoder) members(v json.RawMessage, path []string, want string) ([]string, map[string]json.RawMessage) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		d.fail(path, nil, "%s: %s, want %s", keyPath(path), describeRaw(v), want)
		return nil, nil
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for i = skipSpace(v, i+1); i < len(v) && v[i] != '}'; i = skipSpace(v, i) {
		end := skipString(v, i)
		key, err := unquote(v[i:end])
		start := skipSpace(v, end)
		i = skipValue(v, start)
		if err != nil || strings.HasPrefix(key, "@") {
			continue
		}
		if _, dup := vals[key]; dup {
			d.fail(path, nil, "%s: duplicate key %q", keyPath(path), key)
			continue
		}
		keys = append(keys, key)
		vals[key] = v[start:i]
	}
	return keys, vals
}

func (d *reqDecoder) requires(v json.RawMessage, r *resolve.Requirements) {
	path := []string{"requires"}
	keys, vals := d.members(v, path, `an object like {"a2": ">= 0.5", "packages": {"a2.modules": "^0.7"}}`)
	for _, k := range keys {
		p := append(slices.Clone(path), k)
		switch {
		case k == "packages":
			r.Packages = d.constraints(vals[k], p)
		case k == "platform":
			r.Platform = d.platform(vals[k], p)
		case strings.EqualFold(k, "packages") || strings.EqualFold(k, "platform"):
			d.fail(p, nil, "%s: key %q should be written %q", keyPath(path), k, strings.ToLower(k))
		default:
			if err := checkRefName(k); err != nil {
				d.fail(p, nil, "%s: host %v", keyPath(path), err)
				continue
			}
			if c, ok := d.constraint(vals[k], p); ok {
				if r.Hosts == nil {
					r.Hosts = map[string]resolve.Constraint{}
				}
				r.Hosts[k] = c
			}
		}
	}
}

func (d *reqDecoder) constraintMap(raw map[string]json.RawMessage, key string) map[string]resolve.Constraint {
	v, ok := raw[key]
	if !ok {
		return nil
	}
	return d.constraints(v, []string{key})
}

// constraints decodes {name: constraint}.
func (d *reqDecoder) constraints(v json.RawMessage, path []string) map[string]resolve.Constraint {
	keys, vals := d.members(v, path, `an object of package names and constraints like {"a2.modules": "^0.7"}`)
	out := map[string]resolve.Constraint{}
	for _, k := range keys {
		p := append(slices.Clone(path), k)
		if err := checkRefName(k); err != nil {
			d.fail(p, nil, "%s: %v", keyPath(path), err)
			continue
		}
		if c, ok := d.constraint(vals[k], p); ok {
			out[k] = c
		}
	}
	return out
}

func (d *reqDecoder) constraint(v json.RawMessage, path []string) (resolve.Constraint, bool) {
	var s string
	if err := decodeString(v, &s); err != nil {
		d.fail(path, nil, "%s: %v (a constraint like \">= 1.2\", \"^1.2\", \"~1.2\", \"1.2.*\" or \"*\")", keyPath(path), err)
		return resolve.Constraint{}, false
	}
	c, err := resolve.ParseConstraint(s)
	if err != nil {
		d.fail(path, err, "%s: %v", keyPath(path), err)
		return resolve.Constraint{}, false
	}
	return c, true
}

// names decodes a list of package names ("provides").
func (d *reqDecoder) names(v json.RawMessage, path []string) []string {
	var elems []json.RawMessage
	if err := json.Unmarshal(v, &elems); err != nil || bytes.Equal(v, []byte("null")) {
		d.fail(path, nil, `%s: %s, want a list of names like ["hotstrings"]`, keyPath(path), describeRaw(v))
		return nil
	}
	var out []string
	for i, e := range elems {
		p := append(slices.Clone(path), strconv.Itoa(i))
		var s string
		if err := decodeString(e, &s); err != nil {
			d.fail(p, nil, "%s: %v", keyPath(p), err)
			continue
		}
		if err := checkRefName(s); err != nil {
			d.fail(p, nil, "%s: %v", keyPath(p), err)
			continue
		}
		out = append(out, s)
	}
	return out
}

// platform decodes {"os": ..., "arch": ...}, each a name or a list of
// names, in Go's names or a common alias (macos, x86_64).
func (d *reqDecoder) platform(v json.RawMessage, path []string) resolve.Platforms {
	var p resolve.Platforms
	keys, vals := d.members(v, path, `an object like {"os": "windows", "arch": "amd64"}`)
	for _, k := range keys {
		kp := append(slices.Clone(path), k)
		var norm func(string) (string, error)
		var dst *[]string
		switch k {
		case "os":
			norm, dst = resolve.NormalizeOS, &p.OS
		case "arch":
			norm, dst = resolve.NormalizeArch, &p.Arch
		default:
			d.fail(kp, nil, "%s: unknown key %q (want os and arch)", keyPath(path), k)
			continue
		}
		var list []string
		var one string
		switch {
		case decodeString(vals[k], &one) == nil:
			list = []string{one}
		case json.Unmarshal(vals[k], &list) == nil && !bytes.Equal(vals[k], []byte("null")):
		default:
			d.fail(kp, nil, `%s: %s, want a name like "windows" or a list of names`, keyPath(kp), describeRaw(vals[k]))
			continue
		}
		for _, name := range list {
			n, err := norm(name)
			if err != nil {
				d.fail(kp, err, "%s: %v", keyPath(kp), err)
				continue
			}
			if !slices.Contains(*dst, n) {
				*dst = append(*dst, n)
			}
		}
	}
	return p
}

// checkRefName accepts what can name a package: not empty, no control
// characters, no surrounding spaces, no path separators.
func checkRefName(name string) error {
	switch {
	case name == "":
		return errors.New("an empty name")
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("name %q has spaces around it", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q is not a package name (no / or \\)", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("name %q contains a control character", name)
		}
	}
	return nil
}

func describeRaw(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case bytes.Equal(v, []byte("null")):
		return "null"
	case len(v) > 0 && v[0] == '"':
		return "a string"
	case len(v) > 0 && v[0] == '[':
		return "a list"
	case len(v) > 0 && v[0] == '{':
		return "an object"
	case len(v) > 40:
		return string(v[:40]) + "…"
	}
	return string(v)
}

// locate is the offset of the value at path in a valid JSON document: keys
// of objects, or indexes of arrays ("0", "1"). Where the path leaves the
// document, it is the offset of the last value found.
func locate(data []byte, path []string) int {
	i := skipSpace(data, 0)
	for _, key := range path {
		if i >= len(data) {
			return len(data)
		}
		switch data[i] {
		case '{':
			found := false
			for j := skipSpace(data, i+1); j < len(data) && data[j] != '}'; j = skipSpace(data, j) {
				end := skipString(data, j)
				k, err := unquote(data[j:end])
				start := skipSpace(data, end)
				if err == nil && k == key {
					i, found = start, true
					break
				}
				j = skipValue(data, start)
			}
			if !found {
				return i
			}
		case '[':
			n, err := strconv.Atoi(key)
			if err != nil {
				return i
			}
			j := skipSpace(data, i+1)
			for ; n > 0 && j < len(data) && data[j] != ']'; n-- {
				j = skipSpace(data, skipValue(data, j))
			}
			if j >= len(data) || data[j] == ']' {
				return i
			}
			i = j
		default:
			return i
		}
	}
	return i
}
