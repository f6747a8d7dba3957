package archive

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestExtractCases runs every archive in testdata/hostile and testdata/valid.
// Each case's comment says what Extract must answer; see parseCase for the
// directives.
func TestExtractCases(t *testing.T) {
	var files []string
	for _, dir := range []string{"hostile", "valid"} {
		m, err := filepath.Glob(filepath.Join("testdata", dir, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	counts := map[string]int{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := parseCase(t, data)
		counts[c.want]++
		name := strings.TrimSuffix(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			runCase(t, c)
		})
	}
	rejected := len(files) - counts["ok"]
	t.Logf("%d archive cases: %d rejected (%v), %d valid", len(files), rejected, counts, counts["ok"])
	if rejected < 35 {
		t.Errorf("only %d rejected-archive cases; the suite is meant to cover every rule", rejected)
	}
	if counts["ok"] < 5 {
		t.Errorf("only %d valid cases", counts["ok"])
	}
}

func runCase(t *testing.T, c *caseSpec) {
	z := c.zip.build(t)
	parent, dest := newDest(t)

	// Absolute entry names must not appear on the real file system.
	var absent []string
	for _, e := range c.zip.entries {
		if filepath.IsAbs(e.name) || strings.HasPrefix(e.name, "/") {
			if _, err := os.Lstat(e.name); errors.Is(err, fs.ErrNotExist) {
				absent = append(absent, e.name)
			}
		}
	}
	defer func() {
		for _, p := range absent {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("absolute entry %s was written", p)
				os.RemoveAll(p)
			}
		}
	}()

	res, err := Extract(t.Context(), bytes.NewReader(z), int64(len(z)), dest, Options{Limits: c.limits})
	checkContained(t, parent)
	if c.want != "ok" {
		checkEmptyDir(t, dest)
	}

	switch c.want {
	case "ok":
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		checkValid(t, c, dest, res)
		return
	case "nomanifest":
		if !errors.Is(err, ErrNoManifest) {
			t.Fatalf("err = %v, want ErrNoManifest", err)
		}
		if errors.Is(err, ErrHostile) || errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v also matches ErrHostile or ErrCorrupt", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Extract succeeded (root %s), want %s %q", res.Root, c.want, c.wantText)
	}
	if !strings.Contains(err.Error(), c.wantText) {
		t.Errorf("err = %q, want it to contain %q", err, c.wantText)
	}
	switch c.want {
	case "hostile", "toolarge":
		var h *HostileError
		if !errors.As(err, &h) || !errors.Is(err, ErrHostile) {
			t.Fatalf("err = %v (%T), want a *HostileError", err, err)
		}
		if tl := errors.Is(err, ErrTooLarge); tl != (c.want == "toolarge") {
			t.Errorf("errors.Is(err, ErrTooLarge) = %v for a %s case", tl, c.want)
		}
		if errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v also matches ErrCorrupt", err)
		}
		if c.wantEntry != nil && h.Entry != *c.wantEntry {
			t.Errorf("HostileError.Entry = %q, want %q", h.Entry, *c.wantEntry)
		}
	case "corrupt":
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
		if errors.Is(err, ErrHostile) {
			t.Errorf("err = %v also matches ErrHostile", err)
		}
	}
}

// checkValid compares the extracted tree with the archive's entries.
func checkValid(t *testing.T, c *caseSpec, dest string, res Result) {
	want := map[string]string{}
	files, bytes := 0, int64(0)
	for _, e := range c.zip.entries {
		name := strings.TrimSuffix(e.name, "/")
		if strings.HasSuffix(e.name, "/") || e.mode&0o170000 == 0o040000 {
			want[name+"/"] = ""
		} else {
			want[name] = string(e.data)
			files++
			bytes += int64(len(e.data))
		}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			want[d+"/"] = ""
		}
	}
	got := snapshot(t, dest)
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("missing %s", p)
		} else if g != w {
			t.Errorf("%s = %q, want %q", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s", p)
		}
	}
	wantRoot := filepath.Join(dest, filepath.FromSlash(c.root))
	if res.Root != wantRoot {
		t.Errorf("Root = %s, want %s", res.Root, wantRoot)
	}
	if _, err := os.Stat(filepath.Join(res.Root, ManifestName)); err != nil {
		t.Errorf("root holds no manifest: %v", err)
	}
	if res.Files != files || res.Bytes != bytes {
		t.Errorf("Result = %d files, %d bytes; want %d, %d", res.Files, res.Bytes, files, bytes)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for p := range got {
		if strings.HasSuffix(p, "/") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dest, p))
		if err != nil {
			t.Fatal(err)
		}
		wantMode, ok := c.modes[p]
		if !ok {
			wantMode = fi.Mode() & 0o755 // only 0644 or 0755 allowed below
		}
		if m := fi.Mode(); m != wantMode || (m != 0o644 && m != 0o755) {
			t.Errorf("%s: mode %v, want %v (0644 or 0755 only)", p, m, wantMode)
		}
	}
	for p := range c.modes {
		if _, ok := got[p]; !ok {
			t.Errorf("want-mode %s: no such file", p)
		}
	}
}
