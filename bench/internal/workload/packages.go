package workload

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PackageName is the folder name of the i-th package of a generated root.
func PackageName(i int) string { return fmt.Sprintf("pkg%05d", i) }

// ManifestJSON is the a2modsource.json of a package at version, updated
// from updateURL ("" for none).
func ManifestJSON(name, version, updateURL string, extra map[string]any) []byte {
	m := map[string]any{
		"name":        name,
		"version":     version,
		"description": "Generated package " + name + " for modup's benchmarks.",
		"maintainer":  "modup bench",
	}
	if updateURL != "" {
		m["update_url"] = updateURL
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// WritePackage writes one small installed package: its manifest and one
// module with a script.
func WritePackage(dir, name, version, updateURL string) error {
	mod := filepath.Join(dir, "main")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), ManifestJSON(name, version, updateURL, nil), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mod, "a2module.json"), []byte(`{"display_name": "main", "version": "`+version+`"}`+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(mod, "main.ahk"), []byte("; "+name+"\nMsgBox, hello from "+name+"\n"), 0o644)
}

// WriteRoot fills root with n packages at version 1.0.0 whose update_url
// is baseURL + "/p/<name>/", the synthetic folders of the bench server.
func WriteRoot(root string, n int, baseURL string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	base := strings.TrimRight(baseURL, "/")
	for i := range n {
		name := PackageName(i)
		if err := WritePackage(filepath.Join(root, name), name, "1.0.0", base+"/p/"+name+"/"); err != nil {
			return err
		}
	}
	return nil
}

// Small is a small release zip and its digest.
type Small struct {
	Data   []byte
	SHA256 string
}

// SmallZip is the release zip of a small package at version: its manifest
// and one module (an a2module.json and a script), about 1 KB.
func SmallZip(name, version string) Small {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(n string, data []byte) {
		w, _ := zw.Create(n)
		w.Write(data)
	}
	add("a2modsource.json", ManifestJSON(name, version, "", nil))
	add("main/a2module.json", []byte(`[{"typ": "nfo", "display_name": "main", "version": "`+version+`", "description": "The <b>main</b> module of `+name+`.", "author": "modup bench", "tags": ["bench"]}]`+"\n"))
	add("main/main.ahk", []byte("; "+name+"\nMsgBox, hello from "+name+"\n"))
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	return Small{Data: buf.Bytes(), SHA256: hex.EncodeToString(sum[:])}
}
