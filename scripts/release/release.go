package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/selfupdate"
)

// options are one release run's.
type options struct {
	Version string
	Repo    string
	Out     string
	Dry     bool
	Targets []string
	Key     minisign.PrivateKey
	// Build builds the executable for goos/goarch into exe with ldflags.
	Build func(ctx context.Context, goos, goarch, ldflags, exe string) error
	Log   io.Writer
}

// fixedTime is every archive entry's time: the same sources give the same
// archives.
var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// release builds, archives, sums and signs; it returns the asset names.
func release(ctx context.Context, o options) ([]string, error) {
	if _, err := semver.StrictNewVersion(o.Version); err != nil {
		return nil, fmt.Errorf("-version %q: want MAJOR.MINOR.PATCH like 1.2.0", o.Version)
	}
	if len(o.Targets) == 0 {
		return nil, errors.New("no -targets")
	}
	pub, ok := o.Key.Public().(minisign.PublicKey)
	if !ok {
		return nil, errors.New("the signing key has no public key")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "modup-release-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		readme = []byte("modup " + o.Version + "\n")
	}
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.selfRepo=%s -X main.releaseKey=%s", o.Version, o.Repo, pub.String())

	assets := map[string][]byte{}
	for _, target := range o.Targets {
		goos, goarch, ok := strings.Cut(target, "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("target %q: want GOOS/GOARCH", target)
		}
		bin := "modup"
		if goos == "windows" {
			bin += ".exe"
		}
		exe := filepath.Join(work, goos+"_"+goarch, bin)
		start := time.Now()
		if err := o.Build(ctx, goos, goarch, ldflags, exe); err != nil {
			return nil, fmt.Errorf("build %s: %w", target, err)
		}
		data, err := os.ReadFile(exe)
		if err != nil {
			return nil, err
		}
		name := selfupdate.ArchiveNames(o.Version, goos, goarch)[0]
		dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz")
		files := []file{{dir + "/" + bin, data, 0o755}, {dir + "/README.md", readme, 0o644}}
		if strings.HasSuffix(name, ".zip") {
			assets[name], err = zipFiles(files)
		} else {
			assets[name], err = tarGz(files)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "built %-40s %6.1f MB  %s\n", name, float64(len(assets[name]))/1e6, time.Since(start).Round(100*time.Millisecond))
	}
	names := slices.Sorted(maps.Keys(assets))
	var sums bytes.Buffer
	for _, n := range names {
		s := sha256.Sum256(assets[n])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), n)
	}
	sig := minisign.SignWithComments(o.Key, sums.Bytes(), "modup "+o.Version, "signature of modup "+o.Version+"'s checksums.txt")
	if !minisign.Verify(pub, sums.Bytes(), sig) {
		return nil, errors.New("the signature just made does not verify")
	}
	assets[selfupdate.ChecksumsFile] = sums.Bytes()
	assets[selfupdate.SignatureFile] = sig
	pubText, _ := pub.MarshalText()
	assets["modup.pub"] = append(pubText, '\n')
	for n, data := range assets {
		if err := os.WriteFile(filepath.Join(o.Out, n), data, 0o644); err != nil {
			return nil, err
		}
	}
	all := slices.Sorted(maps.Keys(assets))
	fmt.Fprintf(o.Log, "wrote %d files to %s, signed by key %X\n", len(all), o.Out, pub.ID())
	if o.Dry {
		fmt.Fprintln(o.Log, "dry run: signed with a throw-away key unless one was given; nothing to publish")
	} else {
		fmt.Fprintf(o.Log, "publish: a GitHub release v%s of %s with every file of %s attached\n", o.Version, o.Repo, o.Out)
	}
	return all, nil
}

type file struct {
	name string
	data []byte
	mode int64
}

func tarGz(files []file) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = fixedTime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: fixedTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipFiles(files []file) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: fixedTime}
		h.SetMode(os.FileMode(f.mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// goBuild builds pkg with the go command: no cgo, paths trimmed.
func goBuild(pkg string) func(ctx context.Context, goos, goarch, ldflags, exe string) error {
	return func(ctx context.Context, goos, goarch, ldflags, exe string) error {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", exe, pkg)
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
}

// loadKey reads the signing key: MODUP_RELEASE_KEY_FILE or
// MODUP_RELEASE_KEY_SECRET, decrypted with MODUP_RELEASE_KEY_PASSWORD when
// it is encrypted. A dry run without one gets a throw-away key.
func loadKey(getenv func(string) string, dry bool) (minisign.PrivateKey, error) {
	text := []byte(getenv("MODUP_RELEASE_KEY_SECRET"))
	if path := getenv("MODUP_RELEASE_KEY_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return minisign.PrivateKey{}, fmt.Errorf("MODUP_RELEASE_KEY_FILE: %w", err)
		}
		text = b
	}
	if len(bytes.TrimSpace(text)) == 0 {
		if !dry {
			return minisign.PrivateKey{}, errors.New("no signing key: set MODUP_RELEASE_KEY_FILE (a minisign secret key) or MODUP_RELEASE_KEY_SECRET, or pass -dry")
		}
		_, priv, err := minisign.GenerateKey(rand.Reader)
		return priv, err
	}
	if minisign.IsEncrypted(text) {
		key, err := minisign.DecryptKey(getenv("MODUP_RELEASE_KEY_PASSWORD"), text)
		if err != nil {
			return minisign.PrivateKey{}, fmt.Errorf("decrypt the signing key (MODUP_RELEASE_KEY_PASSWORD): %w", err)
		}
		return key, nil
	}
	var key minisign.PrivateKey
	if err := key.UnmarshalText(text); err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("the signing key: %w", err)
	}
	return key, nil
}
