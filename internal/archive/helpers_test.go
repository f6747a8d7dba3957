package archive

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
)

// A test case file is txtar: a comment of directives, then "-- name --"
// marker lines each followed by that file's content. The parser is a few
// lines, so the test needs no dependency.
type txtarFile struct {
	name string
	data []byte
}

func parseTxtar(data []byte) (comment string, files []txtarFile) {
	var cur *txtarFile
	var head strings.Builder
	for line := range strings.Lines(string(data)) {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) >= 6 {
			files = append(files, txtarFile{name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			cur = &files[len(files)-1]
			continue
		}
		if cur == nil {
			head.WriteString(line)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	return head.String(), files
}

// zipSpec is an archive to build, entry by entry, with the lies a test wants.
type zipSpec struct {
	entries  []*entrySpec
	prepend  []byte
	truncate int  // bytes cut from the end
	raw      bool // the archive is entries[0].data verbatim
}

type entrySpec struct {
	key      string // the txtar file name, which directives use
	name     string // the name written to the zip
	data     []byte
	method   uint16
	mode     uint32 // Unix mode incl. type bits; 0 = none (MS-DOS attributes)
	declared *uint64
	declComp *uint64
	crc      *uint32
	flags    uint16
	point    *entrySpec // reuse this entry's local header (central directory lie)
	flip     bool       // flip the first byte of the compressed data
}

func (s *zipSpec) entry(name string) []*entrySpec {
	var out []*entrySpec
	for _, e := range s.entries {
		if e.key == name {
			out = append(out, e)
		}
	}
	return out
}

var fixedTime = time.Date(2020, 2, 2, 0, 0, 0, 0, time.UTC)

// build writes the archive. Every entry goes through CreateRaw so that sizes,
// checksums and flags are exactly what the spec says.
func (s *zipSpec) build(t testing.TB) []byte {
	t.Helper()
	if s.raw {
		return slices.Clone(s.entries[0].data)
	}
	var buf bytes.Buffer
	buf.Write(s.prepend)
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(len(s.prepend)))
	var packer testpkg.Packer // copies of one entry share their data: compress it once
	for _, e := range s.entries {
		if strings.HasSuffix(e.name, "/") {
			e.method = zip.Store // folders carry no data
		}
		pk := packer.Pack(e.data, e.method == zip.Deflate)
		comp := pk.Data
		h := &zip.FileHeader{
			Name:               e.name,
			Method:             e.method,
			Modified:           fixedTime,
			CRC32:              pk.CRC,
			CompressedSize64:   uint64(len(comp)),
			UncompressedSize64: uint64(len(e.data)),
			Flags:              e.flags,
		}
		if e.mode != 0 {
			h.CreatorVersion = creatorUnix << 8
			h.ExternalAttrs = e.mode << 16
		}
		if e.declared != nil {
			h.UncompressedSize64 = *e.declared
		}
		if e.crc != nil {
			h.CRC32 = *e.crc
		}
		if e.declComp != nil {
			h.CompressedSize64 = *e.declComp
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatalf("build zip: %v", err)
		}
		if len(comp) > 0 {
			if _, err := w.Write(comp); err != nil {
				t.Fatalf("build zip: %v", err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("build zip: %v", err)
	}
	z := buf.Bytes()
	for _, e := range s.entries {
		if e.point != nil {
			z = pointAt(t, z, e.name, e.point.name)
		}
		if e.flip {
			zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				if f.Name == e.name {
					off, err := f.DataOffset()
					if err != nil {
						t.Fatal(err)
					}
					z[off] ^= 0xff
				}
			}
		}
	}
	return z[:len(z)-s.truncate]
}

// cdRecord is one central directory record in a built zip (no zip64).
type cdRecord struct {
	off  int // of the record in the archive
	size int
	name string
}

// centralDir finds the central directory records of a zip built by build.
func centralDir(t testing.TB, z []byte) (recs []cdRecord, eocd int) {
	t.Helper()
	eocd = bytes.LastIndex(z, []byte("PK\x05\x06"))
	if eocd < 0 {
		t.Fatal("no end of central directory")
	}
	n := int(binary.LittleEndian.Uint16(z[eocd+10:]))
	off := int(binary.LittleEndian.Uint32(z[eocd+16:]))
	for range n {
		if string(z[off:off+4]) != "PK\x01\x02" {
			t.Fatalf("bad central directory record at %d", off)
		}
		nl := int(binary.LittleEndian.Uint16(z[off+28:]))
		el := int(binary.LittleEndian.Uint16(z[off+30:]))
		cl := int(binary.LittleEndian.Uint16(z[off+32:]))
		size := 46 + nl + el + cl
		recs = append(recs, cdRecord{off: off, size: size, name: string(z[off+46 : off+46+nl])})
		off += size
	}
	return recs, eocd
}

// pointAt makes the central directory record of name use target's local
// header, and copies target's sizes and checksum, as overlap bombs do.
func pointAt(t testing.TB, z []byte, name, target string) []byte {
	t.Helper()
	recs, _ := centralDir(t, z)
	var from, to *cdRecord
	for i := range recs {
		switch recs[i].name {
		case name:
			from = &recs[i]
		case target:
			to = &recs[i]
		}
	}
	if from == nil || to == nil {
		t.Fatalf("point %s %s: entry not found", name, target)
	}
	// CRC-32, compressed and uncompressed sizes (16..28), local header offset (42..46).
	copy(z[from.off+16:from.off+28], z[to.off+16:to.off+28])
	copy(z[from.off+42:from.off+46], z[to.off+42:to.off+46])
	return z
}

// duplicateRecord appends to the central directory a copy of name's record
// renamed to newName (same length), pointing at the same local header: the
// classic overlapping-entries bomb.
func duplicateRecord(t testing.TB, z []byte, name, newName string) []byte {
	t.Helper()
	if len(name) != len(newName) {
		t.Fatal("duplicateRecord needs names of equal length")
	}
	recs, eocd := centralDir(t, z)
	var rec []byte
	for _, r := range recs {
		if r.name == name {
			rec = slices.Clone(z[r.off : r.off+r.size])
		}
	}
	if rec == nil {
		t.Fatalf("duplicateRecord: %s not found", name)
	}
	copy(rec[46:], newName)
	out := slices.Clone(z[:eocd])
	out = append(out, rec...)
	end := slices.Clone(z[eocd:])
	n := binary.LittleEndian.Uint16(end[10:]) + 1
	binary.LittleEndian.PutUint16(end[8:], n)
	binary.LittleEndian.PutUint16(end[10:], n)
	binary.LittleEndian.PutUint32(end[12:], binary.LittleEndian.Uint32(end[12:])+uint32(len(rec)))
	return append(out, end...)
}

// parseSpec turns a txtar test case into expectations and an archive spec.
type caseSpec struct {
	desc      string
	want      string // ok, hostile, toolarge, corrupt, nomanifest
	wantText  string // substring of the error message
	wantEntry *string
	root      string
	limits    Limits
	modes     map[string]fs.FileMode // want-mode
	zip       zipSpec
}

func parseCase(t testing.TB, data []byte) *caseSpec {
	t.Helper()
	comment, files := parseTxtar(data)
	c := &caseSpec{modes: map[string]fs.FileMode{}}
	for _, f := range files {
		c.zip.entries = append(c.zip.entries, &entrySpec{key: f.name, name: f.name, data: f.data, method: zip.Deflate})
	}
	entries := func(name string) []*entrySpec {
		es := c.zip.entry(name)
		if len(es) == 0 {
			t.Fatalf("directive names unknown file %q", name)
		}
		return es
	}
	for line := range strings.Lines(comment) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if c.desc == "" {
				c.desc = strings.TrimSpace(line[1:])
			}
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		args := strings.Fields(rest)
		need := func(n int) {
			if len(args) != n {
				t.Fatalf("directive %q: want %d arguments", line, n)
			}
		}
		num := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 0, 64)
			if err != nil {
				t.Fatalf("directive %q: %v", line, err)
			}
			return v
		}
		switch verb {
		case "want:":
			if len(args) == 0 {
				t.Fatalf("directive %q: empty", line)
			}
			c.want = args[0]
			switch c.want {
			case "ok":
				if len(args) != 3 || args[1] != "root" {
					t.Fatalf("directive %q: want `want: ok root <rel>`", line)
				}
				c.root = args[2]
			case "hostile", "toolarge", "corrupt":
				q := strings.TrimSpace(strings.TrimPrefix(rest, c.want))
				s, err := strconv.Unquote(q)
				if err != nil {
					t.Fatalf("directive %q: want a quoted message: %v", line, err)
				}
				c.wantText = s
			case "nomanifest":
			default:
				t.Fatalf("directive %q: unknown outcome", line)
			}
		case "entry:":
			s, err := strconv.Unquote(rest)
			if err != nil {
				t.Fatalf("directive %q: %v", line, err)
			}
			c.wantEntry = &s
		case "mode":
			need(2)
			for _, e := range entries(args[0]) {
				e.mode = uint32(num(args[1]))
			}
		case "method":
			need(2)
			m := map[string]uint16{"store": zip.Store, "deflate": zip.Deflate}
			v, ok := m[args[1]]
			if !ok {
				v = uint16(num(args[1]))
			}
			for _, e := range entries(args[0]) {
				e.method = v
			}
		case "declare-size":
			need(2)
			v := num(args[1])
			for _, e := range entries(args[0]) {
				e.declared = &v
			}
		case "declare-compressed":
			need(2)
			v := num(args[1])
			for _, e := range entries(args[0]) {
				e.declComp = &v
			}
		case "crc":
			need(2)
			v := uint32(num(args[1]))
			for _, e := range entries(args[0]) {
				e.crc = &v
			}
		case "flags":
			need(2)
			for _, e := range entries(args[0]) {
				e.flags = uint16(num(args[1]))
			}
		case "raw-name":
			file, q, _ := strings.Cut(rest, " ")
			s, err := strconv.Unquote(q)
			if err != nil {
				t.Fatalf("directive %q: %v", line, err)
			}
			for _, e := range entries(file) {
				e.name = s
			}
		case "zeros":
			need(2)
			n := num(args[1])
			for _, e := range entries(args[0]) {
				e.data = make([]byte, n)
			}
		case "point":
			need(2)
			target := entries(args[1])[0]
			for _, e := range entries(args[0]) {
				e.point = target
			}
		case "flip-data":
			need(1)
			for _, e := range entries(args[0]) {
				e.flip = true
			}
		case "copies":
			// copies FILE N: FILE stands for N entries sharing its data,
			// named FILE-0001 ... FILE-N (before the extension).
			need(2)
			n := int(num(args[1]))
			var out []*entrySpec
			for _, e := range c.zip.entries {
				if e.key != args[0] {
					out = append(out, e)
					continue
				}
				for i := 1; i <= n; i++ {
					cp := *e
					cp.name = copyName(e.name, i)
					out = append(out, &cp)
				}
			}
			c.zip.entries = out
		case "truncate":
			need(1)
			c.zip.truncate = int(num(args[0]))
		case "raw-zip":
			c.zip.raw = true
		case "prepend":
			s, err := strconv.Unquote(rest)
			if err != nil {
				t.Fatalf("directive %q: %v", line, err)
			}
			c.zip.prepend = []byte(s)
		case "limits":
			for _, a := range args {
				k, v, _ := strings.Cut(a, "=")
				switch k {
				case "entries":
					c.limits.MaxEntries = int(num(v))
				case "bytes":
					c.limits.MaxBytes = int64(num(v))
				case "ratio":
					c.limits.MaxRatio = int64(num(v))
				case "total-ratio":
					c.limits.MaxTotalRatio = int64(num(v))
				default:
					t.Fatalf("directive %q: unknown limit %q", line, k)
				}
			}
		case "want-mode":
			need(2)
			c.modes[args[0]] = fs.FileMode(num(args[1]))
		default:
			t.Fatalf("unknown directive %q", line)
		}
	}
	if c.want == "" {
		t.Fatal("case has no want: line")
	}
	return c
}

// newDest makes dest three levels below a fresh temp folder, so that an
// escape with "../" lands somewhere snapshot can see.
func newDest(t testing.TB) (parent, dest string) {
	parent = t.TempDir()
	dest = filepath.Join(parent, "a", "b", "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	return parent, dest
}

// snapshot lists every path below dir, '/'-separated, folders with a
// trailing '/', files with their content; symlinks and others by type.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			out[rel+"/"] = ""
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		default:
			out[rel] = fmt.Sprintf("<%v>", d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkContained fails when anything exists below parent that is not dest
// itself, its two parents, or inside dest.
func checkContained(t testing.TB, parent string) {
	t.Helper()
	for p := range snapshot(t, parent) {
		switch {
		case p == "a/", p == "a/b/", p == "a/b/dest/", strings.HasPrefix(p, "a/b/dest/"):
		default:
			t.Errorf("written outside dest: %s", p)
		}
	}
}

// checkEmptyDir fails unless dir exists and is empty.
func checkEmptyDir(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("dest: %v", err)
	}
	for _, e := range ents {
		t.Errorf("dest not empty after a rejected archive: %s", e.Name())
	}
}

// copyName is the name of copy i of an entry (the copies directive):
// "zeros.bin" -> "zeros-0001.bin".
func copyName(name string, i int) string {
	ext := path.Ext(name)
	return fmt.Sprintf("%s-%04d%s", strings.TrimSuffix(name, ext), i, ext)
}
