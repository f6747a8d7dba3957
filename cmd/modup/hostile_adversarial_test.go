package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/faults"
	"github.com/modup/modup/internal/testpkg"
)

// TestHostileArchivesEndToEnd serves the hostile archives of
// internal/archive/testdata/hostile as a release through the fault server
// and runs `modup update` on each: it must fail naming the package, leave
// the installed version as it was, write nothing anywhere outside
// .modup (not beside the root, not at an absolute path an entry names)
// and leave nothing in .modup/tmp or .modup/staging. Cases whose
// directives need archive's own test builder (central directory lies,
// custom limits) are left to internal/archive.
func TestHostileArchivesEndToEnd(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "archive", "testdata", "hostile", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no hostile cases: %v", err)
	}
	base := t.TempDir()
	rel := filepath.Join(base, "release")
	advPublish(t, rel, advFaultPkg, "2.0.0", map[string]advFiles{"2.0.0": advTree(advFaultPkg, "2.0.0", "", 5, 64)})
	srv := faults.New(t, rel)
	root := filepath.Join(base, "root")
	old := advTree(advFaultPkg, "1.0.0", srv.URL, 5, 64)
	advWrite(t, filepath.Join(root, advFaultPkg), old)
	hashes := map[string]string{"1.0.0": advHash(t, old)}
	before := advSnapshot(t, base)

	tried, skipped := 0, []string{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		z, absolute, why := advBuildTxtarZip(data)
		if why != "" {
			skipped = append(skipped, name+" ("+why+")")
			continue
		}
		tried++
		t.Run(name, func(t *testing.T) {
			var missing []string
			for _, p := range absolute {
				if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
					missing = append(missing, p)
				}
			}
			srv.Inject("/2.0.0.zip", faults.Replace(name, z))
			code, out, errOut := advRun(t.Context(), nil, "update", advFaultPkg, "--root", root)
			if code != exitFailure || !strings.Contains(errOut, advFaultPkg+": ") {
				t.Errorf("update: exit %d, want 1 and an error naming %s\n%s%s", code, advFaultPkg, out, errOut)
			}
			if left := advLeftovers(root); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if v, problems := advCheckPackage(t.Context(), root, advFaultPkg, hashes); v != "1.0.0" || len(problems) > 0 {
				t.Errorf("installed: %q %v", v, problems)
			}
			after := advSnapshot(t, base)
			for p, w := range before {
				if after[p] != w {
					t.Errorf("%s changed", p)
				}
			}
			for p := range after {
				if _, ok := before[p]; !ok {
					t.Errorf("%s appeared", p)
				}
			}
			for _, p := range missing {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the absolute entry %s was written", p)
				}
			}
			t.Logf("%s", strings.TrimSpace(advFirstLine(errOut, advFaultPkg+": ")))
		})
	}
	t.Logf("%d hostile archives tried end to end; %d left to internal/archive: %s", tried, len(skipped), strings.Join(skipped, ", "))
	if tried < 50 {
		t.Errorf("only %d hostile archives tried", tried)
	}
}

// advSnapshot lists every path below dir except inside .modup folders
// (where modup may keep caches and records), with file contents.
func advSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".modup" {
			return fs.SkipDir
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		default:
			out[rel] = d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// advBuildTxtarZip builds the zip a hostile txtar case describes (see
// internal/archive/helpers_test.go for the format), for the directives
// that need no surgery on the finished zip. why says why a case is left
// out; absolute lists the absolute paths its entries name.
func advBuildTxtarZip(data []byte) (z []byte, absolute []string, why string) {
	type entry struct {
		key, name string
		data      []byte
		method    uint16
		mode      uint32
		declared  *uint64
		crc       *uint32
		flags     uint16
	}
	var entries []*entry
	var comment strings.Builder
	var cur *entry
	for line := range strings.Lines(string(data)) {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) >= 6 {
			n := strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			cur = &entry{key: n, name: n, method: zip.Deflate}
			entries = append(entries, cur)
			continue
		}
		if cur == nil {
			comment.WriteString(line)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	each := func(key string, fn func(*entry)) {
		for _, e := range entries {
			if e.key == key {
				fn(e)
			}
		}
	}
	raw, truncate := false, 0
	for line := range strings.Lines(comment.String()) {
		line = strings.TrimSpace(line)
		verb, rest, _ := strings.Cut(line, " ")
		args := strings.Fields(rest)
		num := func(s string) uint64 {
			v, _ := strconv.ParseUint(s, 0, 64)
			return v
		}
		switch verb {
		case "", "want:", "entry:":
		case "mode":
			each(args[0], func(e *entry) { e.mode = uint32(num(args[1])) })
		case "method":
			m := map[string]uint16{"store": zip.Store, "deflate": zip.Deflate}
			v, ok := m[args[1]]
			if !ok {
				v = uint16(num(args[1]))
			}
			each(args[0], func(e *entry) { e.method = v })
		case "declare-size":
			v := num(args[1])
			each(args[0], func(e *entry) { e.declared = &v })
		case "crc":
			v := uint32(num(args[1]))
			each(args[0], func(e *entry) { e.crc = &v })
		case "flags":
			each(args[0], func(e *entry) { e.flags = uint16(num(args[1])) })
		case "zeros":
			each(args[0], func(e *entry) { e.data = make([]byte, num(args[1])) })
		case "raw-name":
			key, q, _ := strings.Cut(rest, " ")
			s, err := strconv.Unquote(q)
			if err != nil {
				return nil, nil, "bad raw-name"
			}
			each(key, func(e *entry) { e.name = s })
		case "copies":
			// N entries sharing the file's data, named NAME-0001.ext ...
			var out []*entry
			for _, e := range entries {
				if e.key != args[0] {
					out = append(out, e)
					continue
				}
				ext := path.Ext(e.name)
				for i := 1; i <= int(num(args[1])); i++ {
					cp := *e
					cp.name = fmt.Sprintf("%s-%04d%s", strings.TrimSuffix(e.name, ext), i, ext)
					out = append(out, &cp)
				}
			}
			entries = out
		case "raw-zip":
			raw = true
		case "truncate":
			truncate = int(num(args[0]))
		default:
			if strings.HasPrefix(verb, "#") {
				continue
			}
			return nil, nil, verb
		}
	}
	if raw {
		return entries[0].data, nil, ""
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var packer testpkg.Packer // copies share their data: compress it once
	for _, e := range entries {
		if strings.HasPrefix(e.name, "/") {
			absolute = append(absolute, e.name)
		}
		if strings.HasSuffix(e.name, "/") {
			e.method = zip.Store
		}
		pk := packer.Pack(e.data, e.method == zip.Deflate)
		comp := pk.Data
		h := &zip.FileHeader{Name: e.name, Method: e.method, Modified: time.Date(2020, 2, 2, 0, 0, 0, 0, time.UTC),
			CRC32: pk.CRC, CompressedSize64: uint64(len(comp)), UncompressedSize64: uint64(len(e.data)), Flags: e.flags}
		if e.mode != 0 {
			h.CreatorVersion = 3 << 8 // Unix
			h.ExternalAttrs = e.mode << 16
		}
		if e.declared != nil {
			h.UncompressedSize64 = *e.declared
		}
		if e.crc != nil {
			h.CRC32 = *e.crc
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			return nil, nil, fmt.Sprintf("zip: %v", err)
		}
		w.Write(comp)
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Sprintf("zip: %v", err)
	}
	z = buf.Bytes()
	return z[:len(z)-truncate], absolute, ""
}
