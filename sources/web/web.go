// Package web is the source for any HTTP(S) folder: update_url/a2modsource.json
// is the pointer manifest and update_url/<version>.zip the payload.
package web

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// Kind is this source's name.
const Kind = "web"

// Source reads releases from a web folder.
type Source struct {
	client *httpx.Client
}

var (
	_ sources.Source          = (*Source)(nil)
	_ sources.Locator         = (*Source)(nil)
	_ sources.SignatureSource = (*Source)(nil)
)

// New returns a web source using client for every request.
func New(client *httpx.Client) *Source { return &Source{client: client} }

// Match accepts http:// and https:// URLs (whether plain http is allowed
// is the client's decision, made per request).
func Match(updateURL string) bool {
	u := strings.ToLower(strings.TrimSpace(updateURL))
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// Kind implements sources.Source.
func (*Source) Kind() string { return Kind }

// Locate implements sources.Locator.
func (s *Source) Locate(q sources.Query, version string) (string, string, error) {
	base := strings.TrimSpace(q.UpdateURL)
	if err := s.client.CheckURL(base); err != nil {
		return "", "", fmt.Errorf("%s: update_url %w", q.Package, err)
	}
	payload := ""
	if version != "" {
		payload = sources.JoinURL(base, sources.ZipName(version))
	}
	return sources.JoinURL(base, sources.ManifestFile), payload, nil
}

// Latest implements sources.Source with one conditional GET.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	u, _, err := s.Locate(q, "")
	if err != nil {
		return sources.Release{}, err
	}
	body, _, err := s.client.Fetch(ctx, u, q.Cache, manifest.MaxSize)
	if err != nil {
		shown := redact.URL(u)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sources.Release{}, fmt.Errorf("fetch %s: %w", shown, ctxErr)
		}
		if errors.Is(err, sources.ErrNotFound) {
			return sources.Release{}, fmt.Errorf("%s: no a2modsource.json at %s (is update_url the folder that holds it?): %w", q.Package, shown, sources.ErrNotFound)
		}
		return sources.Release{}, err // names the URL already
	}
	rel, _, err := sources.PointerRelease(body, u, Kind)
	return rel, err
}

// Resolve implements sources.Source: a release exists when <version>.zip
// answers, under either spelling of the version (1.2.0 or v1.2.0).
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	var payload string
	var size int64
	var err error
	for _, v := range sources.VersionSpellings(want.Version) {
		if _, payload, err = s.Locate(q, v); err != nil {
			return sources.Release{}, err
		}
		if size, err = s.client.Stat(ctx, payload); !errors.Is(err, sources.ErrNotFound) {
			break
		}
	}
	if errors.Is(err, sources.ErrNotFound) {
		_, asked, _ := s.Locate(q, want.Version)
		return sources.Release{}, fmt.Errorf("%s %s: %s is not there yet: %w", q.Package, want.Version, redact.URL(asked), sources.ErrUnreleased)
	}
	if err != nil {
		return sources.Release{}, fmt.Errorf("%s %s: %w", q.Package, want.Version, err)
	}
	rel := want
	rel.SHA256, rel.Size, rel.SizeFrom = sources.PointerFields(want)
	if rel.Size == 0 && size > 0 {
		rel.Size, rel.SizeFrom = size, "the server's answer to HEAD"
	}
	rel.PayloadURL = payload
	rel.SignatureURL = payload + sources.SignatureSuffix
	rel.Kind = Kind
	rel.Resolved = true
	return rel, nil
}

// Open implements sources.Source.
func (s *Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if r.PayloadURL == "" {
		return nil, fmt.Errorf("open %s: release not resolved", r.Version)
	}
	body, size, err := s.client.Open(ctx, r.PayloadURL)
	if err != nil {
		return nil, err
	}
	return &sources.Payload{Body: body, Size: size}, nil
}

// Signature implements sources.SignatureSource: <payload>.minisig next to
// the zip.
func (s *Source) Signature(ctx context.Context, r sources.Release) ([]byte, error) {
	if r.SignatureURL == "" {
		return nil, fmt.Errorf("signature of %s: release not resolved", r.Version)
	}
	body, _, err := s.client.Fetch(ctx, r.SignatureURL, nil, sources.MaxSignatureSize)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", redact.URL(r.SignatureURL), err)
	}
	return body, nil
}
