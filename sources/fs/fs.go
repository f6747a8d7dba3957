// Package fs is the filesystem source: an update_url that is a folder path
// (absolute, or relative to the package folder) or a file:// URL, holding
// a2modsource.json and <version>.zip files side by side.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// Kind is this source's name.
const Kind = "fs"

// Source reads releases from a folder.
type Source struct{}

var (
	_ sources.Source          = (*Source)(nil)
	_ sources.Locator         = (*Source)(nil)
	_ sources.SignatureSource = (*Source)(nil)
)

// New returns the filesystem source.
func New() *Source { return &Source{} }

// Kind implements sources.Source.
func (*Source) Kind() string { return Kind }

var driveLetter = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

// Match accepts file:// URLs and paths: anything without a URL scheme.
func Match(updateURL string) bool {
	u := strings.TrimSpace(updateURL)
	if strings.HasPrefix(strings.ToLower(u), "file://") || driveLetter.MatchString(u) {
		return true
	}
	return !strings.Contains(u, "://") && u != ""
}

// Folder returns the folder an update_url names, resolved against the
// package folder dir when relative.
func Folder(updateURL, dir string) (string, error) {
	u := strings.TrimSpace(updateURL)
	if strings.HasPrefix(strings.ToLower(u), "file://") {
		parsed, err := url.Parse(u)
		if err != nil {
			return "", fmt.Errorf("update_url %q: %w", redact.URL(updateURL), redact.Error(err))
		}
		if parsed.Host != "" && parsed.Host != "localhost" {
			return "", fmt.Errorf("update_url %q: file URLs on other hosts are not supported: %w", redact.URL(updateURL), sources.ErrUnsupported)
		}
		p := parsed.Path
		if p == "" {
			// filepath.Clean would make it ".": the working folder.
			return "", fmt.Errorf("update_url %q: the file URL names no folder: %w", redact.URL(updateURL), sources.ErrUnsupported)
		}
		if runtime.GOOS == "windows" && len(p) > 2 && p[0] == '/' && p[2] == ':' {
			p = p[1:] // file:///C:/x
		}
		return filepath.Clean(filepath.FromSlash(p)), nil
	}
	if runtime.GOOS != "windows" && driveLetter.MatchString(u) {
		// Not absolute here: it would be read relative to the working folder.
		return "", fmt.Errorf("update_url %q is a Windows path, which does not exist on %s: %w", redact.URL(updateURL), runtime.GOOS, sources.ErrUnsupported)
	}
	p := filepath.FromSlash(u)
	if !filepath.IsAbs(p) && !driveLetter.MatchString(u) {
		base := dir
		if base == "" {
			wd, err := os.Getwd()
			if err != nil {
				return "", err
			}
			base = wd
		}
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p), nil
}

// Locate implements sources.Locator.
func (*Source) Locate(q sources.Query, version string) (string, string, error) {
	dir, err := Folder(q.UpdateURL, q.Dir)
	if err != nil {
		return "", "", err
	}
	payload := ""
	if version != "" {
		payload = filepath.Join(dir, sources.ZipName(version))
	}
	return filepath.Join(dir, sources.ManifestFile), payload, nil
}

// Latest implements sources.Source.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	path, _, err := s.Locate(q, "")
	if err != nil {
		return sources.Release{}, err
	}
	f, _, err := openRegular(path)
	if err != nil {
		return sources.Release{}, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, manifest.MaxSize+1))
	if err != nil {
		return sources.Release{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(body) > manifest.MaxSize {
		return sources.Release{}, fmt.Errorf("%s is larger than %d bytes: not a manifest: %w", path, manifest.MaxSize, sources.ErrInvalid)
	}
	rel, _, err := sources.PointerRelease(body, path, Kind)
	return rel, err
}

// Resolve implements sources.Source: the release exists when
// <version>.zip is a regular file next to the manifest, under either
// spelling of the version (1.2.0 or v1.2.0).
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	var payload string
	var st os.FileInfo
	var err error
	for _, v := range sources.VersionSpellings(want.Version) {
		if _, payload, err = s.Locate(q, v); err != nil {
			return sources.Release{}, err
		}
		if st, err = os.Stat(payload); !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return sources.Release{}, fmt.Errorf("%s: no %s next to the manifest: %w", q.Package, sources.ZipName(want.Version), sources.ErrUnreleased)
	}
	if err != nil {
		return sources.Release{}, fmt.Errorf("stat %s: %w", payload, err)
	}
	if !st.Mode().IsRegular() {
		return sources.Release{}, fmt.Errorf("%s is not a regular file: %w", payload, sources.ErrInvalid)
	}
	rel := want
	rel.SHA256, rel.Size, rel.SizeFrom = sources.PointerFields(want)
	if rel.Size == 0 {
		rel.Size, rel.SizeFrom = st.Size(), "the file's size"
	}
	rel.PayloadURL = payload
	rel.SignatureURL = payload + sources.SignatureSuffix
	rel.Kind = Kind
	rel.Resolved = true
	return rel, nil
}

// Open implements sources.Source.
func (*Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, size, err := openRegular(r.PayloadURL)
	if err != nil {
		return nil, err
	}
	return &sources.Payload{Body: f, Size: size}, nil
}

// Signature implements sources.SignatureSource: <payload>.minisig next to
// the zip, a regular file.
func (*Source) Signature(ctx context.Context, r sources.Release) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.SignatureURL == "" {
		return nil, fmt.Errorf("signature of %s: release not resolved", r.Version)
	}
	data, err := fsutil.ReadRegular(r.SignatureURL, sources.MaxSignatureSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", r.SignatureURL, sources.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, sources.ErrInvalid)
	}
	return data, nil
}

// openRegular opens path only when it is a regular file, so that a FIFO or
// a device named like a release never hangs or floods modup.
func openRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", path, sources.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file: %w", path, sources.ErrInvalid)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, st.Size(), nil
}
