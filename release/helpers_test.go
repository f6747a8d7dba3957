package release

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/updater"
)

const greetModule = `[
  {"typ": "nfo", "author": "me", "description": "Says hello.", "version": "1.0.0"},
  {"typ": "include", "file": "greet.ahk"}
]
`

// newPackage writes a package folder "hello" of version under parent, with
// one module, and returns its path.
func newPackage(t testing.TB, parent, version, updateURL string) string {
	t.Helper()
	dir := filepath.Join(parent, "hello")
	testpkg.WriteTree(t, dir, map[string]string{
		"a2modsource.json": `{
  "name": "hello",
  "news": "Greets.",
  "update_url": "` + updateURL + `",
  "version": "` + version + `"
}
`,
		"greet/a2module.json": greetModule,
		"greet/greet.ahk":     "MsgBox hello " + version + "\n",
	})
	return dir
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zipFiles lists a zip's entries: name -> content (folders have "").
func zipFiles(t testing.TB, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		out[f.Name] = b.String()
	}
	return out
}

// buildZip makes a zip of the given entries in order (names as given,
// hostile ones included).
func buildZip(t testing.TB, entries [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testSources are the sources users' modup has, with fast retries and the
// environment env ("KEY=VALUE", e.g. a fake GitHub's).
func testSources(env ...string) *updater.Sources {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return updater.NewSources(updater.Config{
		Getenv:    func(k string) string { return vars[k] },
		UserAgent: "modup-test",
		HTTP:      &httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond},
	})
}

// check runs Check with a TempDir of its own and fails the test when
// Check leaves anything behind in it.
func check(t testing.TB, opt CheckOptions) Report {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "check-tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	opt.TempDir = tmp
	rep := Check(context.Background(), opt)
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("Check left %d entries in its temporary folder: %v", len(left), left[0].Name())
	}
	return rep
}

func step(t testing.TB, rep Report, name string) Step {
	t.Helper()
	i := slices.IndexFunc(rep.Steps, func(s Step) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no step %q in %+v", name, rep.Steps)
	}
	return rep.Steps[i]
}

// wantStep requires step name to have status st and its detail and hint
// to contain the given fragments.
func wantStep(t testing.TB, rep Report, name string, st Status, detail, hint string) {
	t.Helper()
	s := step(t, rep, name)
	if s.Status != st || !strings.Contains(s.Detail, detail) || !strings.Contains(s.Hint, hint) {
		t.Errorf("step %s = %s %q (hint %q)\nwant %s with detail containing %q and hint containing %q\nreport:\n%s",
			name, s.Status, s.Detail, s.Hint, st, detail, hint, dump(rep))
	}
}

func dump(rep Report) string {
	var b strings.Builder
	for _, s := range rep.Steps {
		b.WriteString("  " + strings.ToUpper(string(s.Status)) + " " + s.Name + ": " + s.Detail)
		if s.Hint != "" {
			b.WriteString(" | hint: " + s.Hint)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
