// Package testpkg builds the fixtures that tests of several packages share:
// package folders on disk, their manifests and their release zips. Only
// tests import it; it fails the test on any error instead of returning one.
package testpkg

import (
	"archive/zip"
	"bytes"
	"encoding/json"
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
	m := map[string]any{"name": name, "version": version, "description": "test package " + name}
	if updateURL != "" {
		m["update_url"] = updateURL
	}
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
