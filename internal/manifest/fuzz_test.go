package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// knownFields are the decoded fields a round trip must keep.
func knownFields(m *Manifest) [11]any {
	return [11]any{m.Name, m.DisplayName, m.Description, m.News, m.Maintainer, m.URL,
		m.UpdateURL, m.MainBranch, m.Version, m.ZipSize, m.SHA256}
}

// addFixtures seeds f with every real a2 manifest and module file in
// testdata/a2 (besides the corpus in testdata/fuzz).
func addFixtures(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "a2", "*", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse: Parse never panics; an error is a *SyntaxError naming the
// file, with a position inside the data; a manifest it accepts survives
// Marshal → Parse with the same known fields, keys, raw values and BOM,
// and a second Marshal gives the same bytes.
//
//	go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=60s ./internal/manifest
func FuzzParse(f *testing.F) {
	addFixtures(f, "a2modsource.json")
	for _, s := range []string{
		`{"version": "1.0.0", "update_url": "https://github.com/o/r", "zip_size": 12, "sha256": "AB"}`,
		"\xEF\xBB\xBF{\"name\": \"x\", \"custom\": {\"a\": [1, 2.50, null]}}\n\n",
		`{"desc": "old", "description": "new"}`,
		`{"version": "1", "version": "2"}`,
		`{"Version": "1"}`,
		`{"version": null}`,
		`{"zip_size": 1e3}`,
		`{"a": "\u2028<>&", "\u00e9": "\ud800"}`,
		`<!DOCTYPE html><html></html>`,
		`{}`,
		"{\n  \"version\": \"0.1\",\n}\n",
		withRequirements,
		`{"manifest_version": 2, "requires": {"a2": ">= 0.5", "@c": 1, "packages": {"x": "^1 || ~2.1"}, "platform": {"os": ["win64", "linux"]}}}`,
		`{"manifest_version": 3, "requires": 7}`,
		`{"requires": {"packages": {"a": "^^1", "b": 2}}, "provides": ["x", null]}`,
		`{"conflicts": {"a": "*", "a": "1"}, "breaks": [], "replaces": {"b": "1.0 - 2.0"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "pkg/a2modsource.json"
		m, err := Parse(data, file)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
			}
			if se.File != file {
				t.Fatalf("error names %q, want %q", se.File, file)
			}
			if se.Line < 0 || se.Col < 0 || se.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("position %d:%d outside the data (%d lines)", se.Line, se.Col, bytes.Count(data, []byte("\n"))+1)
			}
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted manifest: %v", err)
		}
		m2, err := Parse(out, file)
		if err != nil {
			t.Fatalf("Parse(Marshal(m)) = %v\ninput:  %q\noutput: %q", err, data, out)
		}
		if a, b := knownFields(m), knownFields(m2); a != b {
			t.Fatalf("known fields changed in a round trip:\n%v\n%v", a, b)
		}
		if m.ManifestVersion != m2.ManifestVersion || reqString(m.Requirements) != reqString(m2.Requirements) {
			t.Fatalf("requirements changed in a round trip:\n%d %s\n%d %s", m.ManifestVersion, reqString(m.Requirements), m2.ManifestVersion, reqString(m2.Requirements))
		}
		if !slices.Equal(m.Keys(), m2.Keys()) {
			t.Fatalf("keys changed in a round trip: %q → %q", m.Keys(), m2.Keys())
		}
		if m.HasBOM() != m2.HasBOM() {
			t.Fatalf("BOM %v → %v", m.HasBOM(), m2.HasBOM())
		}
		for _, k := range m.Keys() {
			v1, _ := m.Raw(k)
			v2, _ := m2.Raw(k)
			var c1, c2 bytes.Buffer
			if json.Compact(&c1, v1) != nil || json.Compact(&c2, v2) != nil || !bytes.Equal(c1.Bytes(), c2.Bytes()) {
				// Escapes may be spelled differently; the decoded value may not.
				var d1, d2 any
				if json.Unmarshal(v1, &d1) != nil || json.Unmarshal(v2, &d2) != nil || !jsonEqual(d1, d2) {
					t.Fatalf("value of %q changed: %s → %s", k, v1, v2)
				}
			}
		}
		out2, err := m2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not stable: %v\n%q\n%q", err, out, out2)
		}
	})
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// FuzzParseModule: ParseModule never panics, and an error names the file.
//
//	go test -run='^$' -fuzz='^FuzzParseModule$' -fuzztime=60s ./internal/manifest
func FuzzParseModule(f *testing.F) {
	addFixtures(f, "*.a2module.json")
	for _, s := range []string{
		`[{"typ": "nfo", "version": 1.2, "tags": ["a"]}]`,
		`[{"typ": "hotkey"}, {"typ": "nfo", "version": null}]`,
		`[{"typ": "nfo", "tags": "notalist"}]`,
		"\xEF\xBB\xBF[]",
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "mod/a2module.json"
		m, err := ParseModule(data, file)
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) && se.File != file {
				t.Fatalf("error names %q, want %q", se.File, file)
			}
			return
		}
		if m == nil {
			t.Fatal("nil module without an error")
		}
	})
}

// FuzzDecodeObject: the fast split of valid documents and the token
// decoder agree on every input: the same members, or the same error.
//
//	go test -run='^$' -fuzz='^FuzzDecodeObject$' -fuzztime=60s ./internal/manifest
func FuzzDecodeObject(f *testing.F) {
	addFixtures(f, "a2modsource.json")
	for _, s := range []string{
		`{}`, ` { } `, `[]`, `"x"`, `{"a":1,"b":[1,{"c":"}"}],"d":{"e":[]}}`,
		`{"a": "x\"y", "b": "\\", "c": -1.5e3, "d": true, "e": null}`,
		`{"a": 1, "a": 2}`, `{"a": 1, "\u0061": 2}`, "{\"\xff\": 1, \"\xfe\": 2}",
		`{"a":{"a":1,"a":2}}`, "{\n\t\"version\" :\r\n \"1.0\" \n}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "a2modsource.json"
		got, gotErr := decodeObject(data, file)
		want, wantErr := decodeTokens(data, file)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("decodeObject error %v, token decoder %v", gotErr, wantErr)
		}
		if gotErr != nil {
			if gotErr.Error() != wantErr.Error() {
				t.Fatalf("errors differ:\n fast:  %v\n token: %v", gotErr, wantErr)
			}
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d members, token decoder %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("member %q = %q, token decoder %q", k, got[k], v)
			}
		}
	})
}
