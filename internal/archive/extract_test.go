package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// zipOf builds a well-formed zip of name -> content (folders end in '/').
func zipOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		h := &zip.FileHeader{Name: files[i], Method: zip.Deflate, Modified: fixedTime}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[i+1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func extractBytes(t testing.TB, ctx context.Context, z []byte, dest string, opt Options) (Result, error) {
	return Extract(ctx, bytes.NewReader(z), int64(len(z)), dest, opt)
}

// zerosDeflate returns a deflate stream that inflates to mib MiB of zeros,
// made by repeating one flushed block (whose back-references only ever see
// zeros), so building a 2 GiB bomb costs milliseconds.
func zerosDeflate(t testing.TB, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	fw.Write(zeros)
	fw.Flush()
	first := bytes.Clone(buf.Bytes())
	buf.Reset()
	fw.Write(zeros)
	fw.Flush()
	chunk := bytes.Clone(buf.Bytes())
	buf.Reset()
	fw.Close()
	tail := bytes.Clone(buf.Bytes())

	out := bytes.NewBuffer(make([]byte, 0, len(first)+(mib-1)*len(chunk)+len(tail)))
	out.Write(first)
	for range mib - 1 {
		out.Write(chunk)
	}
	out.Write(tail)
	return out.Bytes()
}

func TestZerosDeflate(t *testing.T) {
	// The trick itself must be right, or the bomb tests prove nothing.
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(zerosDeflate(t, 5))))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5<<20 || bytes.ContainsFunc(got, func(r rune) bool { return r != 0 }) {
		t.Fatalf("inflated %d bytes, want %d zeros", len(got), 5<<20)
	}
}

// bombZip is a zip with a manifest and one deflated entry "zeros.bin"
// holding the given stream, whose header declares declared bytes.
func bombZip(t testing.TB, stream []byte, declared uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(ManifestName)
	io.WriteString(w, "{}")
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               "zeros.bin",
		Method:             zip.Deflate,
		CompressedSize64:   uint64(len(stream)),
		UncompressedSize64: declared,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(stream)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractBomb(t *testing.T) {
	const gib2 = 2048 // MiB
	stream := zerosDeflate(t, gib2)
	t.Logf("2 GiB of zeros deflate to %d bytes (ratio %d:1)", len(stream), (2<<30)/len(stream))

	tests := []struct {
		name     string
		declared uint64
		limits   Limits
		want     error
		text     string
	}{
		{"declared honestly, default caps", 2 << 30, Limits{}, ErrTooLarge, "declared sizes add up to more than the limit of 2147483648 bytes"},
		{"declared honestly, ratio cap", 2 << 30, Limits{MaxBytes: 4 << 30}, ErrTooLarge, "exceeds the limit of 1000:1"},
		{"declared honestly, byte cap", 2 << 30, Limits{MaxBytes: 1 << 30, MaxRatio: 1 << 40}, ErrTooLarge, "more than the limit of 1073741824 bytes"},
		{"declared small", 1000, Limits{}, ErrCorrupt, "data is longer than the declared 1000 bytes"},
		{"declared just under the ratio exemption", 1<<20 - 1, Limits{}, ErrCorrupt, "data is longer than the declared 1048575 bytes"},
		{"declared 64 MiB with the ratio cap lifted", 64 << 20, Limits{MaxRatio: 1 << 40}, ErrCorrupt, "data is longer than the declared 67108864 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := bombZip(t, stream, tt.declared)
			parent, dest := newDest(t)
			_, err := extractBytes(t, t.Context(), z, dest, Options{Limits: tt.limits})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.text)
			}
			if tt.want == ErrTooLarge && !errors.Is(err, ErrHostile) {
				t.Errorf("a cap error must also match ErrHostile: %v", err)
			}
			checkContained(t, parent)
			checkEmptyDir(t, dest)
		})
	}
}

// TestExtractBytesWrittenCap checks the cap on bytes actually written, which
// an honest central directory never reaches: the plan is built by hand.
func TestExtractBytesWrittenCap(t *testing.T) {
	z := zipOf(t, ManifestName, "{}", "a.txt", strings.Repeat("a", 600), "b.txt", strings.Repeat("b", 600))
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := validate(t.Context(), zr, int64(len(z)), DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, dest := newDest(t)
	root, err := os.OpenRoot(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, err = p.write(t.Context(), root, Options{Workers: 1}, Limits{MaxBytes: 1000})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bytes written exceed the limit of 1000") {
		t.Fatalf("err = %v, want the written-bytes cap", err)
	}
}

func TestExtractOverlap(t *testing.T) {
	t.Run("duplicated central directory record", func(t *testing.T) {
		body := make([]byte, 4096)
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range body {
			body[i] = byte(rnd.Uint32())
		}
		z := zipOf(t, ManifestName, "{}", "data.bin", string(body))
		z = duplicateRecord(t, z, "data.bin", "copy.bin")
		expectOverlap(t, z, Limits{})
	})
	t.Run("many records share one kernel", func(t *testing.T) {
		// The non-recursive bomb: 200 names, one body of 1 MiB - 1 zeros
		// each (under the ratio exemption), 200 MiB declared from ~1 KiB.
		var kernel bytes.Buffer
		fw, _ := flate.NewWriter(&kernel, flate.BestCompression)
		fw.Write(make([]byte, 1<<20-1))
		fw.Close()
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(ManifestName)
		io.WriteString(w, "{}")
		w, _ = zw.CreateRaw(&zip.FileHeader{Name: "k000", Method: zip.Deflate,
			CompressedSize64: uint64(kernel.Len()), UncompressedSize64: 1<<20 - 1})
		w.Write(kernel.Bytes())
		zw.Close()
		z := buf.Bytes()
		for i := 1; i < 200; i++ {
			z = duplicateRecord(t, z, "k000", fmt.Sprintf("k%03d", i))
		}
		// The ratio cap of the whole archive refuses it first; lifted,
		// the overlap check must still catch it.
		_, dest := newDest(t)
		if _, err := extractBytes(t, t.Context(), z, dest, Options{}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("with default limits: err = %v, want ErrTooLarge (whole-archive ratio)", err)
		}
		expectOverlap(t, z, Limits{MaxTotalRatio: 1 << 40})
	})
	t.Run("empty entries sharing a local header", func(t *testing.T) {
		z := zipOf(t, ManifestName, "{}", "e1", "")
		z = duplicateRecord(t, z, "e1", "e2")
		expectOverlap(t, z, Limits{})
	})
}

func expectOverlap(t *testing.T, z []byte, lim Limits) {
	t.Helper()
	parent, dest := newDest(t)
	_, err := extractBytes(t, t.Context(), z, dest, Options{Limits: lim})
	var h *HostileError
	if !errors.As(err, &h) || !strings.Contains(h.Reason, "data overlaps entry") {
		t.Fatalf("err = %v, want an overlap HostileError", err)
	}
	checkContained(t, parent)
	checkEmptyDir(t, dest)
}

// manyFiles is a valid archive of n files in nested folders, wrapped like a
// GitHub tag archive, and the tree it should give.
func manyFiles(t testing.TB, n int) ([]byte, map[string]string) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(7, 7))
	want := map[string]string{}
	files := []string{"pkg-1.0/" + ManifestName, `{"version":"1.0"}`}
	for i := range n {
		name := fmt.Sprintf("pkg-1.0/d%d/e%d/f%04d.txt", i%7, i%3, i)
		// Cheap, compressible and different per file.
		word := fmt.Sprintf("%x ", rnd.Uint64())
		files = append(files, name, strings.Repeat(word, rnd.IntN(1000)))
	}
	for i := 0; i < len(files); i += 2 {
		want[files[i]] = files[i+1]
		for d := path.Dir(files[i]); d != "."; d = path.Dir(d) {
			want[d+"/"] = ""
		}
	}
	return zipOf(t, files...), want
}

func TestExtractWorkersAndDurable(t *testing.T) {
	z, want := manyFiles(t, 300)
	for _, opt := range []Options{
		{Workers: 1},
		{Workers: 3, Durable: true},
		{Workers: 64},
		{},
		{Durable: true},
	} {
		t.Run(fmt.Sprintf("workers=%d,durable=%v", opt.Workers, opt.Durable), func(t *testing.T) {
			parent, dest := newDest(t)
			res, err := extractBytes(t, t.Context(), z, dest, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkContained(t, parent)
			if res.Root != filepath.Join(dest, "pkg-1.0") {
				t.Errorf("Root = %s", res.Root)
			}
			got := snapshot(t, dest)
			if len(got) != len(want) {
				t.Errorf("%d paths extracted, want %d", len(got), len(want))
			}
			var total int64
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%s: content differs (%d bytes, want %d)", p, len(got[p]), len(w))
				}
				total += int64(len(w))
			}
			if res.Files != 301 || res.Bytes != total {
				t.Errorf("Result = %+v, want 301 files, %d bytes", res, total)
			}
		})
	}
}

// cancelAfter cancels a context after n reads of the archive.
type cancelAfter struct {
	r      io.ReaderAt
	n      atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	if c.n.Add(-1) == 0 {
		c.cancel()
	}
	return c.r.ReadAt(p, off)
}

func TestExtractCancel(t *testing.T) {
	z, _ := manyFiles(t, 300)
	// Reads during validation: one per local header, plus the directory.
	zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	for _, after := range []int64{1, 400, 500} {
		t.Run(fmt.Sprintf("after %d reads", after), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancelAfter{r: bytes.NewReader(z), cancel: cancel}
			r.n.Store(after)
			if after == 1 {
				cancel() // before Extract starts
			}
			parent, dest := newDest(t)
			_, err := Extract(ctx, r, int64(len(z)), dest, Options{Workers: 4})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			checkContained(t, parent)
			checkEmptyDir(t, dest)
		})
	}
	if len(zr.File) < 300 {
		t.Fatal("archive too small for the cancel points")
	}
}

func TestExtractDest(t *testing.T) {
	z := zipOf(t, ManifestName, "{}")
	t.Run("not empty", func(t *testing.T) {
		dest := t.TempDir()
		keep := filepath.Join(dest, "keep.txt")
		os.WriteFile(keep, []byte("mine"), 0o644)
		_, err := extractBytes(t, t.Context(), z, dest, Options{})
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("err = %v, want a not-empty error", err)
		}
		if b, _ := os.ReadFile(keep); string(b) != "mine" {
			t.Errorf("existing file changed: %q", b)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := extractBytes(t, t.Context(), z, filepath.Join(t.TempDir(), "nope"), Options{})
		if err == nil {
			t.Fatal("Extract into a missing folder succeeded")
		}
	})
	t.Run("relative", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		os.Mkdir("out", 0o755)
		res, err := extractBytes(t, t.Context(), z, "out", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "out"); !filepath.IsAbs(res.Root) || res.Root != want {
			t.Errorf("Root = %q, want %q", res.Root, want)
		}
	})
}

func TestExtractFile(t *testing.T) {
	z, want := manyFiles(t, 20)
	zipPath := filepath.Join(t.TempDir(), "1.0.zip")
	if err := os.WriteFile(zipPath, z, 0o644); err != nil {
		t.Fatal(err)
	}
	_, dest := newDest(t)
	res, err := ExtractFile(t.Context(), zipPath, dest, Options{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, dest); len(got) != len(want) || res.Files != 21 {
		t.Errorf("extracted %d paths (%d files), want %d paths, 21 files", len(got), res.Files, len(want))
	}

	_, dest = newDest(t)
	_, err = ExtractFile(t.Context(), filepath.Dir(zipPath), dest, Options{})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ExtractFile(folder) = %v, want a not-a-regular-file error", err)
	}
	_, err = ExtractFile(t.Context(), filepath.Join(t.TempDir(), "missing.zip"), dest, Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ExtractFile(missing) = %v, want ErrNotExist", err)
	}
}

// TestWriteThroughRoot shows the second line of defence: even a plan that
// validation should never produce cannot write outside dest.
func TestWriteThroughRoot(t *testing.T) {
	z := zipOf(t, ManifestName, "{}")
	zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	parent, dest := newDest(t)
	if runtime.GOOS != "windows" {
		if err := os.Symlink(parent, filepath.Join(dest, "link")); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"../escape.txt", "../../../escape.txt", "link/escape.txt", "/tmp/modup-archive-root-escape.txt"} {
		p := &plan{files: []fileJob{{f: zr.File[0], name: name, perm: 0o644, size: int64(zr.File[0].UncompressedSize64)}}}
		if _, err := p.write(t.Context(), root, Options{}, DefaultLimits()); err == nil {
			t.Errorf("write %q succeeded", name)
		}
	}
	os.Remove(filepath.Join(dest, "link"))
	checkContained(t, parent)
	if _, err := os.Lstat("/tmp/modup-archive-root-escape.txt"); err == nil {
		t.Error("absolute name written")
	}
}

func TestLimitsDefaults(t *testing.T) {
	d := DefaultLimits()
	if d.MaxEntries != 100_000 || d.MaxBytes != 2<<30 || d.MaxRatio != 1000 || d.MaxTotalRatio != 100 {
		t.Errorf("DefaultLimits() = %+v", d)
	}
	if got := (Limits{MaxBytes: 5}).withDefaults(); got != (Limits{MaxEntries: 100_000, MaxBytes: 5, MaxRatio: 1000, MaxTotalRatio: 100}) {
		t.Errorf("withDefaults kept zero fields: %+v", got)
	}
	if got := (Limits{MaxEntries: -1, MaxBytes: -1, MaxRatio: -1, MaxTotalRatio: -1}).withDefaults(); got != d {
		t.Errorf("withDefaults kept negative fields: %+v", got)
	}
}

func TestHostileError(t *testing.T) {
	tests := []struct {
		err               *HostileError
		msg               string
		hostile, tooLarge bool
	}{
		{hostile("../x", "%s", `".." path component`), `hostile archive: entry "../x": ".." path component`, true, false},
		{tooLarge("big", "too big"), `archive exceeds limits: entry "big": too big`, true, true},
		{tooLarge("", "5 entries"), `archive exceeds limits: 5 entries`, true, true},
	}
	for _, tt := range tests {
		var err error = fmt.Errorf("update x: %w", tt.err)
		if got := tt.err.Error(); got != tt.msg {
			t.Errorf("Error() = %q, want %q", got, tt.msg)
		}
		if errors.Is(err, ErrHostile) != tt.hostile || errors.Is(err, ErrTooLarge) != tt.tooLarge {
			t.Errorf("%v: Is(ErrHostile) = %v, Is(ErrTooLarge) = %v", err, errors.Is(err, ErrHostile), errors.Is(err, ErrTooLarge))
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNoManifest) {
			t.Errorf("%v matches an unrelated sentinel", err)
		}
		var h *HostileError
		if !errors.As(err, &h) || h != tt.err {
			t.Errorf("errors.As failed for %v", err)
		}
	}
}

// TestTotalRatioBoundary checks where the ratio cap of a whole archive
// starts: archives that expand to less than 64 MiB are never judged by it,
// whatever their ratio; from 64 MiB on, the whole must stay within
// MaxTotalRatio. Only validation runs: nothing is written.
func TestTotalRatioBoundary(t *testing.T) {
	tests := []struct {
		name    string
		entries int // of almost 1 MiB of zeros each (1011:1)
		limits  Limits
		wantErr bool
	}{
		{name: "just under 64 MiB at 1011:1 is exempt", entries: 64, wantErr: false},
		{name: "65 MiB at 1011:1 is refused", entries: 65, wantErr: true},
		{name: "65 MiB within a raised cap", entries: 65, limits: Limits{MaxTotalRatio: 2000}, wantErr: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &caseSpec{}
			data := make([]byte, 1<<20-1)
			c.zip.entries = append(c.zip.entries, &entrySpec{name: ManifestName, data: []byte("{}"), method: zip.Deflate})
			for i := 1; i <= tt.entries; i++ {
				c.zip.entries = append(c.zip.entries, &entrySpec{name: copyName("zeros.bin", i), data: data, method: zip.Deflate})
			}
			z := c.zip.build(t)
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = validate(t.Context(), zr, int64(len(z)), tt.limits.withDefaults(), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("validate = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "for a whole archive")) {
				t.Errorf("validate = %v, want ErrTooLarge for the whole archive", err)
			}
		})
	}
}

// TestLongNamesInErrors: an entry 1,000 folders deep is named in a message
// of a few lines (its start, its end and its length), not 12 KB of it.
func TestLongNamesInErrors(t *testing.T) {
	deep := strings.Repeat("folder-name/", 1000)
	tests := []struct {
		name  string
		files []string
		want  []string // in the message
	}{
		{name: "hostile name", files: []string{ManifestName, "{}", deep + "bad\\x.txt", "x"},
			want: []string{`entry "folder-name/folder-name/`, `folder-name/bad\\x.txt" (12009 bytes)`, "backslash in name"}},
		{name: "case collision of two deep names", files: []string{ManifestName, "{}", deep + "A.txt", "x", deep + "a.txt", "y"},
			want: []string{`folder-name/A.txt" (12005 bytes) and "folder-name/`, `folder-name/a.txt" (12005 bytes) collide`}},
		{name: "ends in a dot", files: []string{ManifestName, "{}", strings.Repeat("é", 120) + "./x", "x"},
			want: []string{`path component "éé`, `éé." (241 bytes) ends in a dot`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dest := newDest(t)
			_, err := extractBytes(t, t.Context(), zipOf(t, tt.files...), dest, Options{})
			if !errors.Is(err, ErrHostile) {
				t.Fatalf("Extract = %v, want a hostile archive", err)
			}
			msg := err.Error()
			if len(msg) > 500 {
				t.Errorf("message of %d bytes: %.200s…", len(msg), msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if !utf8.ValidString(msg) {
				t.Errorf("message %q is not valid UTF-8: a cut fell inside a rune", msg)
			}
		})
	}
}

// With GODEBUG=zipinsecurepath=0 archive/zip returns ErrInsecurePath along
// with a usable reader; Extract must still apply its own checks.
func TestExtractInsecurePathGODEBUG(t *testing.T) {
	t.Setenv("GODEBUG", "zipinsecurepath=0")
	z := zipOf(t, ManifestName, "{}", "../evil.txt", "x")
	if _, err := zip.NewReader(bytes.NewReader(z), int64(len(z))); !errors.Is(err, zip.ErrInsecurePath) {
		t.Fatalf("GODEBUG not in effect: zip.NewReader = %v", err)
	}
	parent, dest := newDest(t)
	_, err := extractBytes(t, t.Context(), z, dest, Options{})
	var h *HostileError
	if !errors.As(err, &h) || h.Entry != "../evil.txt" {
		t.Fatalf("err = %v, want a HostileError for ../evil.txt", err)
	}
	checkContained(t, parent)
	checkEmptyDir(t, dest)

	_, dest = newDest(t)
	if _, err := extractBytes(t, t.Context(), zipOf(t, ManifestName, "{}"), dest, Options{}); err != nil {
		t.Fatalf("valid archive: %v", err)
	}
}
