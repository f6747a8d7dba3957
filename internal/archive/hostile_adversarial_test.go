package archive

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reliabilityHazards maps each archive hazard of RELIABILITY.md ("Hostile
// archives") to the cases in testdata that inject it. A hazard with no
// case, or a case that no longer exists, fails TestHostileCoverage.
var reliabilityHazards = []struct {
	hazard string
	cases  []string // testdata/<dir>/<name>.txtar
}{
	{"names with ..", []string{"hostile/dotdot-leading", "hostile/dotdot-middle", "hostile/dotdot-last", "hostile/dotdot-folder-entry", "hostile/dotdot-alone", "hostile/backslash-dotdot"}},
	{"absolute paths", []string{"hostile/absolute", "hostile/absolute-root", "hostile/absolute-unc"}},
	{`C:\ or C:/`, []string{"hostile/drive-backslash", "hostile/drive-slash", "hostile/drive-relative"}},
	{"backslashes", []string{"hostile/backslash", "hostile/backslash-dotdot"}},
	{"NUL or control characters", []string{"hostile/nul-char", "hostile/control-char", "hostile/del-char", "hostile/newline"}},
	{"symlinks", []string{"hostile/symlink", "hostile/symlink-folder", "hostile/symlink-manifest"}},
	{"FIFOs", []string{"hostile/fifo"}},
	{"devices (and sockets, unknown types)", []string{"hostile/block-device", "hostile/char-device", "hostile/socket", "hostile/unknown-type"}},
	{"setuid/setgid stripped, executable bit kept", []string{"valid/modes"}},
	{"zip bomb: entry count", []string{"hostile/too-many-entries"}},
	{"zip bomb: total uncompressed size", []string{"hostile/too-many-bytes"}},
	{"zip bomb: bytes actually written (also TestExtractBytesWrittenCap)", []string{"hostile/lie-shorter", "hostile/lie-after-valid"}},
	{"zip bomb: compression ratio (of an entry, and of the whole archive)", []string{"hostile/ratio", "hostile/ratio-default", "hostile/ratio-total", "hostile/ratio-total-padded"}},
	{"zip bomb: overlapping entries (also TestExtractOverlap)", []string{"hostile/overlap"}},
	{"duplicate names", []string{"hostile/duplicate-file", "hostile/duplicate-folder", "hostile/duplicate-manifest"}},
	{"names that collide case-insensitively", []string{"hostile/case-files", "hostile/case-folders", "hostile/case-file-folder", "hostile/case-kelvin", "hostile/case-manifest", "hostile/normalization-files", "hostile/normalization-case-folders"}},
	{"a file and a folder of the same name", []string{"hostile/file-then-folder", "hostile/folder-then-file", "hostile/folder-entry-then-file", "hostile/folder-with-data", "hostile/folder-mode-with-data"}},
	{"GitHub's <repo>-<tag>/ wrapper located", []string{"valid/github-wrapper", "valid/shallowest", "hostile/ambiguous-root"}},
	{"a zip without a2modsource.json", []string{"hostile/no-manifest", "hostile/manifest-folder", "hostile/empty-archive"}},
	{"truncated zips", []string{"hostile/truncated", "hostile/truncated-data", "hostile/lie-longer"}},
	{"corrupt zips, a flipped byte", []string{"hostile/flipped-byte", "hostile/flipped-deflate", "hostile/crc", "hostile/not-a-zip", "hostile/empty-file"}},
	// Beyond the list: names Windows (where a2 runs) reads otherwise.
	{"Windows device names, forbidden characters, trailing dots and spaces, streams", []string{"hostile/reserved-con", "hostile/reserved-nul-ext", "hostile/windows-chars", "hostile/trailing-dot", "hostile/colon-stream"}},
}

// TestHostileCoverage checks that every archive hazard RELIABILITY.md
// names has cases, then extracts every case in testdata once more and
// counts, for each, the check that nothing was written outside the
// staging folder (below it, beside it, or at an absolute path an entry
// names).
func TestHostileCoverage(t *testing.T) {
	mapped := map[string]bool{}
	for _, h := range reliabilityHazards {
		if len(h.cases) == 0 {
			t.Errorf("hazard %q has no case", h.hazard)
		}
		for _, c := range h.cases {
			mapped[c] = true
			data, err := os.ReadFile(filepath.Join("testdata", c+".txtar"))
			if err != nil {
				t.Errorf("hazard %q: %v", h.hazard, err)
				continue
			}
			spec := parseCase(t, data)
			if strings.HasPrefix(c, "hostile/") && spec.want == "ok" {
				t.Errorf("hazard %q: %s is accepted", h.hazard, c)
			}
		}
	}

	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	checked, rejected, unmapped := 0, 0, 0
	for _, file := range files {
		name := filepath.ToSlash(strings.TrimSuffix(strings.TrimPrefix(file, "testdata"+string(filepath.Separator)), ".txtar"))
		if !mapped[name] {
			unmapped++
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := parseCase(t, data)
		z := c.zip.build(t)
		var absent []string
		for _, e := range c.zip.entries {
			if strings.HasPrefix(e.name, "/") {
				if _, err := os.Lstat(e.name); errors.Is(err, fs.ErrNotExist) {
					absent = append(absent, e.name)
				}
			}
		}
		parent, dest := newDest(t)
		_, err = Extract(t.Context(), bytes.NewReader(z), int64(len(z)), dest, Options{Limits: c.limits})
		if (err != nil) != (c.want != "ok") {
			t.Errorf("%s: Extract = %v, want %s", name, err, c.want)
		}
		if err != nil {
			rejected++
			checkEmptyDir(t, dest)
		}
		checkContained(t, parent)
		for _, p := range absent {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: the absolute entry %s was written", name, p)
			}
		}
		checked++
	}
	t.Logf("%d hazards of RELIABILITY.md covered; %d archive cases (%d rejected), each checked for writes outside the staging folder (%d checks); %d cases beyond the hazard map",
		len(reliabilityHazards), len(files), rejected, checked, unmapped)
	if checked != len(files) || checked == 0 {
		t.Errorf("%d of %d cases checked", checked, len(files))
	}
}
