package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fuzzOptions keeps every fuzz run small.
var fuzzOptions = Options{Limits: Limits{MaxEntries: 1000, MaxBytes: 32 << 20}, Workers: 2}

// checkOutcome holds for any input: nothing outside dest; an error is one
// of the sentinels and leaves dest empty; a success names a root inside
// dest that holds the manifest.
func checkOutcome(t *testing.T, parent, dest string, res Result, err error) {
	t.Helper()
	checkContained(t, parent)
	if err != nil {
		if !errors.Is(err, ErrHostile) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoManifest) {
			t.Errorf("error matches no sentinel: %v", err)
		}
		checkEmptyDir(t, dest)
		return
	}
	rel, rerr := filepath.Rel(dest, res.Root)
	if rerr != nil || !filepath.IsLocal(rel) && rel != "." {
		t.Fatalf("Root %s is not inside dest %s", res.Root, dest)
	}
	fi, serr := os.Lstat(filepath.Join(res.Root, ManifestName))
	if serr != nil || !fi.Mode().IsRegular() {
		t.Fatalf("Root %s holds no regular %s: %v", res.Root, ManifestName, serr)
	}
}

// FuzzExtract feeds arbitrary bytes as a zip. Each run touches the file
// system (a few ms), and the fuzzer minimizes every new interesting input
// for up to a minute by default, during which the exec counter stands
// still; -fuzzminimizetime=10x keeps the fuzzer fuzzing:
//
//	go test -run='^$' -fuzz='^FuzzExtract$' -fuzztime=60s -fuzzminimizetime=10x ./internal/archive
func FuzzExtract(f *testing.F) {
	f.Add(zipOf(f, ManifestName, "{}"))
	f.Add(zipOf(f, "repo-1.2.0/", "", "repo-1.2.0/"+ManifestName, "{}", "repo-1.2.0/lib/a.ahk", "a"))
	// Seeds stay small: the fuzzer minimizes every new interesting input,
	// and minimizing a large one stalls the run for up to a minute.
	f.Add(zipOf(f, "p/"+ManifestName, `{"version":"1.0"}`, "p/a/b.ahk", "b", "p/a/c.ahk", "c", "p/run.sh", "#!/bin/sh"))
	dir := f.TempDir()
	writeTree(f, dir, packSource)
	var packed bytes.Buffer
	if _, err := Pack(f.Context(), &packed, dir, PackOptions{Prefix: "p"}); err != nil {
		f.Fatal(err)
	}
	f.Add(packed.Bytes())
	for _, c := range txtarCases(f) {
		f.Add(c.zip.build(f))
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))

	f.Fuzz(func(t *testing.T, data []byte) {
		parent, dest := newDest(t)
		res, err := Extract(t.Context(), bytes.NewReader(data), int64(len(data)), dest, fuzzOptions)
		checkOutcome(t, parent, dest, res, err)
	})
}

// FuzzExtractNames builds well-formed zips around two mutated names, a
// mutated declared size, mode and method, so the fuzzer spends its time on
// the checks rather than on finding the zip format.
func FuzzExtractNames(f *testing.F) {
	seeds := []struct {
		name1, name2 string
		content      []byte
		sizeDelta    int16
		mode         uint32
		method       uint8
	}{
		{ManifestName, "lib/a.ahk", []byte("{}"), 0, 0o100644, 8},
		{"pkg/" + ManifestName, "pkg/run.sh", []byte("{}"), 0, 0o100755, 0},
		{"../x", "a", []byte("x"), 0, 0, 8},
		{"A/" + ManifestName, "a/b", nil, 0, 0, 8},
		{"lib", "lib/x", []byte("x"), 0, 0o120777, 8},
		{"x", "X", []byte("x"), 5, 0, 8},
		{"nul.txt", "C:/x", []byte("x"), -1, 0, 0},
		{"a\x00b", "dir/", nil, 0, 0o040755, 8},
		{"\u212a", "k/" + ManifestName, []byte("k"), 0, 0, 8},
		{"a ", "a.", []byte("x"), 0, 0, 8},
	}
	for _, s := range seeds {
		f.Add(s.name1, s.name2, s.content, s.sizeDelta, s.mode, s.method)
	}
	f.Fuzz(func(t *testing.T, name1, name2 string, content []byte, sizeDelta int16, mode uint32, method uint8) {
		if len(content) > 1<<16 {
			content = content[:1<<16]
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		add := func(name string, data []byte, declared uint64, mode uint32, method uint16) {
			comp := data
			if method == zip.Deflate {
				var cb bytes.Buffer
				fw, _ := flate.NewWriter(&cb, flate.BestSpeed)
				fw.Write(data)
				fw.Close()
				comp = cb.Bytes()
			}
			h := &zip.FileHeader{Name: name, Method: method, CRC32: crc32.ChecksumIEEE(data),
				CompressedSize64: uint64(len(comp)), UncompressedSize64: declared}
			if mode != 0 {
				h.CreatorVersion = creatorUnix << 8
				h.ExternalAttrs = mode << 16
			}
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(name, "/") {
				w.Write(comp)
			}
		}
		m := uint16(zip.Deflate)
		if method%2 == 0 {
			m = zip.Store
		}
		declared := uint64(max(0, len(content)+int(sizeDelta)))
		if strings.HasSuffix(name1, "/") {
			content = nil
		}
		add(name1, content, declared, mode, m)
		add(name2, []byte("two"), 3, 0, zip.Deflate)
		add(path.Join(path.Dir(strings.TrimSuffix(name1, "/")), ManifestName), []byte("{}"), 2, 0, zip.Deflate)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()

		parent, dest := newDest(t)
		res, err := Extract(t.Context(), bytes.NewReader(data), int64(len(data)), dest, fuzzOptions)
		checkOutcome(t, parent, dest, res, err)

		// A name checkName rejects must reject the archive as hostile.
		for _, n := range []string{name1, name2} {
			if _, _, reason := checkName(n); reason != "" && !errors.Is(err, ErrHostile) {
				t.Fatalf("name %q is rejected by checkName (%s) but Extract said %v", n, reason, err)
			}
		}
		if err != nil {
			return
		}
		// Every extracted path is one of the entries or a parent of one.
		allowed := map[string]bool{}
		for _, n := range []string{name1, name2, path.Join(path.Dir(strings.TrimSuffix(name1, "/")), ManifestName)} {
			n = strings.TrimSuffix(n, "/")
			for ; n != "."; n = path.Dir(n) {
				allowed[n] = true
			}
		}
		for p := range snapshot(t, dest) {
			if !allowed[strings.TrimSuffix(p, "/")] {
				t.Errorf("extracted %q, which is no entry of the archive", p)
			}
		}
		if runtime.GOOS != "windows" && mode&0o111 != 0 && mode&unixTypeMask == unixRegular {
			if fi, err := os.Stat(filepath.Join(dest, filepath.FromSlash(name1))); err == nil && fi.Mode()&0o100 == 0 && !strings.HasSuffix(name1, "/") {
				t.Errorf("%s lost its exec bit: %v", name1, fi.Mode())
			}
		}
	})
}

// txtarCases parses every case in testdata (shared by the case test and the
// fuzz seeds).
func txtarCases(t testing.TB) []*caseSpec {
	t.Helper()
	var out []*caseSpec
	for _, dir := range []string{"hostile", "valid"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, parseCase(t, data))
		}
	}
	return out
}
