// Package selfupdatetest builds signed releases of modup for tests of
// self-update: archives named as the release script names them, holding an
// executable, with checksums.txt and its minisign signature.
package selfupdatetest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/modup/modup/selfupdate"
)

// Key is a throw-away release key.
type Key struct {
	Public  minisign.PublicKey
	Private minisign.PrivateKey
}

// NewKey generates a key.
func NewKey(t testing.TB) Key {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Key{Public: pub, Private: priv}
}

// PublicText is the public key's base64 line, as -X main.releaseKey and
// MODUP_RELEASE_KEY take it.
func (k Key) PublicText() string { return k.Public.String() }

// Archive packs exe as the executable of a release archive named name
// (.zip or .tar.gz), in a folder as release archives hold it.
func Archive(t testing.TB, name string, exe []byte) []byte {
	t.Helper()
	bin := "modup"
	if strings.Contains(name, "_windows_") {
		bin = "modup.exe"
	}
	return ArchiveAs(t, name, bin, exe)
}

// ArchiveAs is Archive with the executable named bin.
func ArchiveAs(t testing.TB, name, bin string, exe []byte) []byte {
	t.Helper()
	dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz")
	var buf bytes.Buffer
	if strings.HasSuffix(name, ".zip") {
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: dir + "/" + bin, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(exe)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{{dir + "/README.md", []byte("modup\n")}, {dir + "/" + bin, exe}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Checksums writes checksums.txt for files (name -> content), as
// sha256sum does, sorted by name.
func Checksums(files map[string][]byte) []byte {
	var b strings.Builder
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	return []byte(b.String())
}

// Assets are a whole release's files: an archive of exe for each of
// targets ("linux/amd64", ...), checksums.txt listing them and its
// signature by key.
func Assets(t testing.TB, key Key, version string, exe []byte, targets ...string) map[string][]byte {
	t.Helper()
	assets := map[string][]byte{}
	for _, target := range targets {
		goos, goarch, _ := strings.Cut(target, "/")
		name := selfupdate.ArchiveNames(version, goos, goarch)[0]
		assets[name] = Archive(t, name, exe)
	}
	key.SignInto(assets)
	return assets
}

// SignInto adds checksums.txt listing every other file of assets, and its
// signature by k.
func (k Key) SignInto(assets map[string][]byte) {
	delete(assets, selfupdate.ChecksumsFile)
	delete(assets, selfupdate.SignatureFile)
	sums := Checksums(assets)
	assets[selfupdate.ChecksumsFile] = sums
	assets[selfupdate.SignatureFile] = minisign.Sign(k.Private, sums)
}
