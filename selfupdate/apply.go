package selfupdate

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"aead.dev/minisign"
)

// Install downloads rel's archive, verifies it (the signature of
// checksums.txt with the release key, then the archive's sha256 listed
// there), takes the modup executable out of it and puts it in exe's place
// atomically. exe is the running executable's path with links resolved.
// Nothing is changed unless everything verifies; the temporary files live
// beside exe and are removed on every path.
func (u *Updater) Install(ctx context.Context, rel Release, exe string) error {
	if cmd, managed := ManagedBy(exe); managed {
		return &ManagedError{Path: exe, Command: cmd}
	}
	if !u.hasKey {
		return fmt.Errorf("this modup was built without a release key, so no download can be verified: %w (install a release build, or set MODUP_RELEASE_KEY to the minisign public key of %s's releases)", ErrNoKey, u.cfg.Repo)
	}
	sums, err := u.fetch(ctx, rel.Checksums, maxChecksums)
	if err != nil {
		return err
	}
	sig, err := u.fetch(ctx, rel.Signature, maxSignature)
	if err != nil {
		return err
	}
	if !minisign.Verify(u.key, sums, sig) {
		return fmt.Errorf("%s of modup %s: the signature in %s does not verify with the release key: %w (the release was not made by modup's maintainers, or is damaged; nothing was changed)",
			ChecksumsFile, rel.Version, SignatureFile, ErrVerify)
	}
	want, err := checksumOf(sums, rel.Archive.Name)
	if err != nil {
		return fmt.Errorf("modup %s: %w", rel.Version, err)
	}

	dir := filepath.Dir(exe)
	archive, err := os.CreateTemp(dir, ".modup-download-*")
	if err != nil {
		return fmt.Errorf("download modup %s next to %s: %w (is the folder writable?)", rel.Version, exe, err)
	}
	defer func() {
		archive.Close()
		os.Remove(archive.Name())
	}()
	got, n, err := u.download(ctx, rel.Archive, archive)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: sha256 %s, but %s lists %s: %w (nothing was changed)", rel.Archive.URL, got, ChecksumsFile, want, ErrVerify)
	}
	newExe, err := os.CreateTemp(dir, ".modup-new-*")
	if err != nil {
		return err
	}
	defer func() {
		newExe.Close()
		os.Remove(newExe.Name()) // gone after the rename
	}()
	if err := extractBinary(archive, n, rel.Archive.Name, newExe); err != nil {
		return fmt.Errorf("modup %s: %s: %w", rel.Version, rel.Archive.Name, err)
	}
	if err := newExe.Sync(); err != nil {
		return err
	}
	if err := newExe.Close(); err != nil {
		return err
	}
	if err := os.Chmod(newExe.Name(), 0o755); err != nil {
		return err
	}
	return replace(newExe.Name(), exe)
}

func (u *Updater) fetch(ctx context.Context, a Asset, limit int64) ([]byte, error) {
	body, _, err := u.cfg.Client.Fetch(ctx, a.URL, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", a.Name, err)
	}
	return body, nil
}

// download streams a into w, capped at MaxArchive, and returns its sha256
// and length.
func (u *Updater) download(ctx context.Context, a Asset, w io.Writer) (string, int64, error) {
	body, _, err := u.cfg.Client.Open(ctx, a.URL)
	if err != nil {
		return "", 0, fmt.Errorf("download %s: %w", a.Name, err)
	}
	defer body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(body, MaxArchive+1))
	if err != nil {
		return "", 0, fmt.Errorf("download %s: %w", a.URL, err)
	}
	if n > MaxArchive {
		return "", 0, fmt.Errorf("%s is larger than %d bytes: not a modup release", a.URL, MaxArchive)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checksumOf finds name's sha256 in a checksums.txt ("<hex>  <name>" a line,
// as sha256sum writes it).
func checksumOf(sums []byte, name string) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && strings.TrimPrefix(fields[1], "*") == name {
			sum := strings.ToLower(fields[0])
			if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
				return "", fmt.Errorf("%s: malformed sha256 %q for %s: %w", ChecksumsFile, fields[0], name, ErrVerify)
			}
			return sum, nil
		}
	}
	return "", fmt.Errorf("%s does not list %s: %w", ChecksumsFile, name, ErrVerify)
}

// binaryNames are the executable's names in an archive.
var binaryNames = []string{"modup", "modup.exe"}

// extractBinary copies the modup executable (at the top of the archive or
// in one folder) from the archive in r (n bytes) to w.
func extractBinary(r io.ReaderAt, n int64, name string, w io.Writer) error {
	isBinary := func(entry string) bool {
		entry = strings.TrimPrefix(entry, "./")
		return strings.Count(entry, "/") <= 1 && slices.Contains(binaryNames, path.Base(entry))
	}
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.NewReader(r, n)
		if err != nil {
			return fmt.Errorf("not a zip: %w", err)
		}
		for _, f := range zr.File {
			if f.Mode().IsRegular() && isBinary(f.Name) {
				if f.UncompressedSize64 > MaxArchive {
					return fmt.Errorf("%s is larger than %d bytes", f.Name, MaxArchive)
				}
				rc, err := f.Open()
				if err != nil {
					return err
				}
				defer rc.Close()
				_, err = io.Copy(w, io.LimitReader(rc, MaxArchive))
				return err
			}
		}
		return errors.New("holds no modup executable")
	}
	gz, err := gzip.NewReader(io.NewSectionReader(r, 0, n))
	if err != nil {
		return fmt.Errorf("not a .tar.gz: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return errors.New("holds no modup executable")
		}
		if err != nil {
			return fmt.Errorf("not a .tar.gz: %w", err)
		}
		if h.Typeflag == tar.TypeReg && isBinary(h.Name) {
			if h.Size > MaxArchive {
				return fmt.Errorf("%s is larger than %d bytes", h.Name, MaxArchive)
			}
			_, err := io.Copy(w, io.LimitReader(tr, h.Size))
			return err
		}
	}
}
