package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "a2", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRealManifests(t *testing.T) {
	tests := []struct {
		file    string
		name    string
		version string
		update  string
		branch  string
		bom     bool
	}{
		{"a2.modules/a2modsource.json", "a2.modules", "0.7.2", "https://github.com/ewerybody/a2.modules", "", true},
		{"a2.modlab/a2modsource.json", "a2.modlab", "0.4.1", "https://github.com/a2script/a2.modlab", "main", true},
		{"ol.modules/a2modsource.json", "ol.modules", "0.0.1", "https://github.com/lipkau/ol.modules", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(fixture(t, tt.file), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != tt.name || m.Version != tt.version || m.UpdateURL != tt.update || m.MainBranch != tt.branch || m.HasBOM() != tt.bom {
				t.Errorf("got name=%q version=%q update=%q branch=%q bom=%v", m.Name, m.Version, m.UpdateURL, m.MainBranch, m.HasBOM())
			}
		})
	}
}

func TestTrailingCommaNamesLineAndColumn(t *testing.T) {
	_, err := Parse(fixture(t, "debug.module/a2modsource.json"), "debug.module/a2modsource.json")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("want *SyntaxError, got %v", err)
	}
	// The trailing comma ends line 8; the parser trips on the "}" of line 9.
	if se.Line != 9 || se.Col != 1 || !strings.HasPrefix(se.Error(), "debug.module/a2modsource.json:9:1:") {
		t.Errorf("got %v (line %d col %d)", se, se.Line, se.Col)
	}
}

// Writing back an unchanged a2-written manifest reproduces it byte for byte.
func TestRoundTripIsByteStable(t *testing.T) {
	for _, f := range []string{"a2.modules/a2modsource.json", "a2.modlab/a2modsource.json"} {
		in := fixture(t, f)
		m, err := Parse(in, f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Errorf("%s: round trip changed bytes:\n%q\n%q", f, in, out)
		}
	}
}

func TestSetKeepsUnknownFieldsAndBOM(t *testing.T) {
	in := []byte("\xEF\xBB\xBF{\n  \"custom\": {\"b\": 1, \"a\": \"<x>\"},\n  \"version\": \"0.1.0\",\n  \"weird\": 1.50\n}")
	m, err := Parse(in, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set("version", "0.2.0"); err != nil {
		t.Fatal(err)
	}
	out, _ := m.Marshal()
	want := "\xEF\xBB\xBF{\n  \"custom\": {\n    \"b\": 1,\n    \"a\": \"<x>\"\n  },\n  \"version\": \"0.2.0\",\n  \"weird\": 1.50\n}"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if m.Version != "0.2.0" {
		t.Errorf("Version = %q", m.Version)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"duplicate key", "{\n\"version\": \"1\",\n\"version\": \"2\"}", `m.json:3:1: duplicate key "version"`},
		{"null version", `{"version": null}`, `field "version": null`},
		{"number version", `{"version": 1.2}`, `field "version": 1.2, want a string`},
		{"case folded", `{"Version": "1.0"}`, `key "Version" should be written "version"`},
		{"array", `[1]`, "want a JSON object"},
		{"html", "<!doctype html><html></html>", "m.json:1:1: invalid character '<'"},
		{"empty", "", "empty file"},
		{"cut short", `{"version": "1.0"`, "m.json:1:17: unexpected end of JSON input"},
		{"trailing data", `{"version": "1.0"} {}`, "m.json:1:20: invalid character '{' after top-level value"},
		{"bad zip_size", `{"zip_size": "big"}`, `field "zip_size"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "m.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseModule(t *testing.T) {
	m, err := ParseModule(fixture(t, "a2.modlab/hashTest.a2module.json"), "hashTest/a2module.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "0.1" || m.Author != "eric" || len(m.Tags) != 3 || m.Tags[2] != "wip" {
		t.Errorf("got %+v", m)
	}
	if _, err := ParseModule([]byte(`[{"typ": "hotkey"}]`), "x"); err == nil {
		t.Error("a module without nfo parsed")
	}
	if _, err := ParseModule([]byte("[\n{\"typ\": \"nfo\",}\n]"), "x/a2module.json"); err == nil || !strings.Contains(err.Error(), "x/a2module.json:2:") {
		t.Errorf("want line:col error, got %v", err)
	}
}
