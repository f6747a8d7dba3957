package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modup/modup/resolve"
)

// The example, as a2 writes files (sorted keys, 2-space indent).
const withRequirements = `{
  "@comment": "keys that start with @ are comments",
  "breaks": {
    "a2.modules": "< 0.6"
  },
  "conflicts": {
    "old.tools": "*"
  },
  "manifest_version": 2,
  "name": "a2.tools",
  "provides": [
    "hotstrings"
  ],
  "recommends": {
    "a2.modlab": "*"
  },
  "replaces": {
    "ol.modules": "*"
  },
  "requires": {
    "@why": "a2 0.5 brought the module API",
    "a2": ">= 0.5.0",
    "packages": {
      "a2.modules": "^0.7"
    },
    "platform": {
      "arch": "amd64",
      "os": "windows"
    }
  },
  "suggests": {
    "a2.extras": ">= 1"
  },
  "version": "1.4.0"
}
`

// reqString is a canonical text of requirements, for comparisons.
func reqString(r resolve.Requirements) string {
	var b strings.Builder
	m := func(name string, m map[string]resolve.Constraint) {
		for _, k := range sortedKeys(m) {
			fmt.Fprintf(&b, "%s %s %s\n", name, k, m[k])
		}
	}
	m("host", r.Hosts)
	m("requires", r.Packages)
	m("conflicts", r.Conflicts)
	m("breaks", r.Breaks)
	m("replaces", r.Replaces)
	m("recommends", r.Recommends)
	m("suggests", r.Suggests)
	fmt.Fprintf(&b, "provides %v\nplatform %v %v\n", r.Provides, r.Platform.OS, r.Platform.Arch)
	return b.String()
}

func sortedKeys(m map[string]resolve.Constraint) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestParseRequirements(t *testing.T) {
	m, err := Parse([]byte(withRequirements), "a2modsource.json")
	if err != nil {
		t.Fatal(err)
	}
	want := `host a2 >= 0.5.0
requires a2.modules ^0.7
conflicts old.tools *
breaks a2.modules < 0.6
replaces ol.modules *
recommends a2.modlab *
suggests a2.extras >= 1
provides [hotstrings]
platform [windows] [amd64]
`
	if got := reqString(m.Requirements); got != want {
		t.Errorf("requirements:\n%s\nwant:\n%s", got, want)
	}
	if m.ManifestVersion != 2 || m.Supported() != nil || !m.HasRequirements() {
		t.Errorf("manifest_version %d, supported %v, has requirements %v", m.ManifestVersion, m.Supported(), m.HasRequirements())
	}
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, []byte(withRequirements)) {
		t.Errorf("round trip changed bytes:\n%s", out)
	}
	if err := m.Set("version", "1.5.0"); err != nil {
		t.Fatal(err)
	}
	out, _ = m.Marshal()
	if want := strings.Replace(withRequirements, `"1.4.0"`, `"1.5.0"`, 1); string(out) != want {
		t.Errorf("after Set, the comments and requirements changed:\n%s", out)
	}
	plain, err := Parse([]byte(`{"name": "x", "version": "1.0.0"}`), "m.json")
	if err != nil || plain.HasRequirements() || plain.ManifestVersion != 0 || plain.Supported() != nil || !plain.Requirements.IsZero() {
		t.Errorf("a manifest without requirements: %+v, %v", plain, err)
	}
}

func TestParseRequirementsWithoutManifestVersion(t *testing.T) {
	m, err := Parse([]byte(`{"name": "x", "requires": {"packages": {"y": "^1"}}}`), "m.json")
	if err != nil || m.Requirements.Packages["y"].String() != "^1" || m.ManifestVersion != 0 {
		t.Errorf("requirements are read whatever the manifest_version: %+v, %v", m, err)
	}
}

func TestParseNewerManifestVersion(t *testing.T) {
	in := `{"name": "x", "version": "1.0.0", "manifest_version": 3, "requires": {"packages": "a new form"}}`
	m, err := Parse([]byte(in), "pkg/a2modsource.json")
	if err != nil {
		t.Fatalf("a newer manifest must still parse (list and check show it): %v", err)
	}
	err = m.Supported()
	var ve *VersionError
	if !errors.Is(err, ErrNewerManifest) || !errors.As(err, &ve) || ve.Version != 3 {
		t.Fatalf("Supported() = %v", err)
	}
	if want := "pkg/a2modsource.json: manifest_version 3 needs a newer modup (this one reads up to 2): update modup"; err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	if m.Name != "x" || m.Version != "1.0.0" || !m.Requirements.IsZero() {
		t.Errorf("got %+v", m)
	}
}

func TestParseRequirementErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // every error line, in order
	}{
		{
			name: "a constraint that does not parse",
			in:   "{\n  \"name\": \"a2.tools\",\n  \"requires\": {\n    \"packages\": {\n      \"a2.modules\": \"^^0.7\"\n    }\n  }\n}",
			want: []string{`a2modsource.json:5:21: a2.tools: requires.packages.a2.modules: "^^0.7": "^0.7" is not a version (one operator per comparison, like >=1.2 or ^1.2)`},
		},
		{
			name: "every problem, in the order of the file",
			in:   `{"name": "a2.tools", "conflicts": {"x": "=>1"}, "requires": {"a2": "", "platform": {"os": "widnows", "cpu": "x"}}, "provides": ["ok", 7]}`,
			want: []string{
				`a2modsource.json:1:41: a2.tools: conflicts.x: "=>1": unknown operator "=>" (write ">=")`,
				`a2modsource.json:1:68: a2.tools: requires.a2: "": empty constraint: write "*" for any version`,
				`a2modsource.json:1:91: a2.tools: requires.platform.os: unknown operating system "widnows" (want one of Go's names: aix, android, darwin, dragonfly, freebsd, illumos, ios, js, linux, netbsd, openbsd, plan9, solaris, wasip1, windows)`,
				`a2modsource.json:1:109: a2.tools: requires.platform: unknown key "cpu" (want os and arch)`,
				`a2modsource.json:1:135: a2.tools: provides.1: 7, want a string`,
			},
		},
		{
			name: "no name: the package is left out",
			in:   `{"breaks": {"y": 5}}`,
			want: []string{`a2modsource.json:1:18: breaks.y: 5, want a string (a constraint like ">= 1.2", "^1.2", "~1.2", "1.2.*" or "*")`},
		},
		{
			name: "requires is not an object",
			in:   `{"requires": ">= 1"}`,
			want: []string{`a2modsource.json:1:14: requires: a string, want an object like {"a2": ">= 0.5", "packages": {"a2.modules": "^0.7"}}`},
		},
		{
			name: "packages is a list",
			in:   `{"requires": {"packages": ["a"]}}`,
			want: []string{`a2modsource.json:1:27: requires.packages: a list, want an object of package names and constraints like {"a2.modules": "^0.7"}`},
		},
		{
			name: "a null constraint",
			in:   `{"suggests": {"x": null}}`,
			want: []string{`a2modsource.json:1:20: suggests.x: null, want a string (a constraint like ">= 1.2", "^1.2", "~1.2", "1.2.*" or "*")`},
		},
		{
			name: "provides is not a list",
			in:   `{"provides": "hotstrings"}`,
			want: []string{`a2modsource.json:1:14: provides: a string, want a list of names like ["hotstrings"]`},
		},
		{
			name: "a duplicate key inside",
			in:   `{"recommends": {"x": "*", "x": "^1"}}`,
			want: []string{`a2modsource.json:1:16: recommends: duplicate key "x"`},
		},
		{
			name: "a key in another case",
			in:   `{"requires": {"Packages": {}}}`,
			want: []string{`a2modsource.json:1:27: requires: key "Packages" should be written "packages"`},
		},
		{
			name: "a bad name",
			in:   `{"replaces": {" x": "*"}, "requires": {"": "1"}}`,
			want: []string{
				`a2modsource.json:1:21: replaces: name " x" has spaces around it`,
				`a2modsource.json:1:44: requires: host an empty name`,
			},
		},
		{
			name: "a manifest_version that is not one",
			in:   `{"manifest_version": "2"}`,
			want: []string{`a2modsource.json:1:22: manifest_version: "2" is not a manifest version: write 2 (the requirement fields) or leave it out`},
		},
		{
			name: "manifest_version zero",
			in:   `{"manifest_version": 0}`,
			want: []string{`a2modsource.json:1:22: manifest_version: 0 is not a manifest version: write 2 (the requirement fields) or leave it out`},
		},
		{
			name: "manifest_version 1.5",
			in:   `{"manifest_version": 1.5}`,
			want: []string{`a2modsource.json:1:22: manifest_version: 1.5 is not a manifest version: write 2 (the requirement fields) or leave it out`},
		},
		{
			name: "a top-level key in another case",
			in:   `{"Requires": {}}`,
			want: []string{`a2modsource.json: key "Requires" should be written "requires"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "a2modsource.json")
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != "a2modsource.json" {
				t.Errorf("not a *SyntaxError naming the file: %v", err)
			}
		})
	}
}

func TestRequirementErrorUnwraps(t *testing.T) {
	_, err := Parse([]byte(`{"name": "p", "requires": {"packages": {"q": "^^1"}}}`), "m.json")
	var ce *resolve.ConstraintError
	var se *SyntaxError
	if !errors.As(err, &ce) || ce.Text != "^^1" || !errors.As(err, &se) || se.Key != "requires.packages.q" {
		t.Errorf("got %v", err)
	}
}

func TestParsePlatformForms(t *testing.T) {
	tests := []struct {
		in       string
		os, arch []string
	}{
		{`{"os": "Windows"}`, []string{"windows"}, nil},
		{`{"os": ["windows", "macOS", "darwin"], "arch": ["x86_64", "aarch64"]}`, []string{"windows", "darwin"}, []string{"amd64", "arm64"}},
		{`{"@note": "a2 runs on windows", "arch": "x64"}`, nil, []string{"amd64"}},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(`{"requires": {"platform": `+tt.in+`}}`), "m.json")
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		p := m.Requirements.Platform
		if !slices.Equal(p.OS, tt.os) || !slices.Equal(p.Arch, tt.arch) {
			t.Errorf("%s: got %v %v", tt.in, p.OS, p.Arch)
		}
	}
}
