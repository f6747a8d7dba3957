// Package testpkg builds the fixtures that tests of several packages share:
// package folders on disk, their manifests and their release zips. Only
// tests import it; it fails the test on any error instead of returning one.
package testpkg

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Manifest is an a2modsource.json as a2 writes it (sorted keys, 2-space
// indent, a description); an empty updateURL leaves the field out.
func Manifest(name, version, updateURL string) string {
	return ManifestWith(name, version, updateURL, nil)
}

// ManifestWith is Manifest with more fields (requirement fields, say:
// "manifest_version": 2, "requires": {"a2": ">= 0.6"}).
func ManifestWith(name, version, updateURL string, fields map[string]any) string {
	m := map[string]any{"name": name, "version": version, "description": "test package " + name}
	if updateURL != "" {
		m["update_url"] = updateURL
	}
	maps.Copy(m, fields)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

// WriteFile writes content to path, creating its folder.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteTree writes files (slash path -> content) below dir.
func WriteTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
}

// Zip builds a zip of files (slash path -> content), each named under
// prefix ("" or "dir/"). The same files make the same bytes: entries are
// sorted and carry one fixed time.
func Zip(t testing.TB, prefix string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Packed is an entry's data as a hand-built zip stores it.
type Packed struct {
	Data []byte // compressed, or the data itself when stored
	CRC  uint32 // CRC-32 of the uncompressed data
}

// Packer compresses entries for zips built record by record (with
// zip.Writer.CreateRaw), once per backing array: the 1,500 names of a zip
// bomb that share one slice of zeros cost one compression.
type Packer struct {
	memo map[packKey]Packed
}

type packKey struct {
	data    *byte
	n       int
	deflate bool
}

// Pack returns data deflated at best compression (or as it is when
// deflate is false) and its CRC-32.
func (p *Packer) Pack(data []byte, deflate bool) Packed {
	k := packKey{n: len(data), deflate: deflate}
	if len(data) > 0 {
		k.data = &data[0]
		if pk, ok := p.memo[k]; ok {
			return pk
		}
	}
	pk := Packed{Data: data, CRC: crc32.ChecksumIEEE(data)}
	if deflate {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		fw.Write(data)
		fw.Close()
		pk.Data = b.Bytes()
	}
	if k.data != nil {
		if p.memo == nil {
			p.memo = map[packKey]Packed{}
		}
		p.memo[k] = pk
	}
	return pk
}
