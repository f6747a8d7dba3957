package github

import (
	"context"
	"fmt"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

var _ sources.ManifestReader = (*Source)(nil)

// ReleaseManifest implements sources.ManifestReader: the a2modsource.json
// published at rel's tag (rel.Tag, else either spelling of its version),
// read from the raw host, or through the contents API for a private
// repository, conditionally through q.Cache: a tag's file does not change,
// so asking again costs a 304 and no REST quota. It downloads no payload.
func (s *Source) ReleaseManifest(ctx context.Context, q sources.Query, rel sources.Release) (sources.Release, error) {
	r, err := s.repo(q)
	if err != nil {
		return sources.Release{}, err
	}
	out, first, found, err := sources.ManifestAtTag(rel, Kind, func(tag string) ([]byte, string, error) {
		if s.client.Authorized(s.contentsURL(r, tag)) && s.isPrivate(r) {
			if until, blocked := s.apiBlocked(); blocked {
				return nil, "", &sources.RateLimitError{Host: s.apiHost, Reset: until}
			}
			u := s.contentsURL(r, tag)
			body, _, err := s.client.FetchAccept(ctx, u, rawMediaType, q.Cache, manifest.MaxSize)
			s.noteRateLimit(err)
			return body, u, s.tokenRefused(err)
		}
		u := s.manifestURL(r, tag)
		body, _, err := s.client.Fetch(ctx, u, q.Cache, manifest.MaxSize)
		return body, u, s.tokenRefused(err)
	})
	switch {
	case err != nil:
		return sources.Release{}, fmt.Errorf("%s %s: the manifest at its tag: %w", q.Package, rel.Version, err)
	case !found:
		return sources.Release{}, &kindError{kind: sources.ErrNotFound,
			msg: fmt.Sprintf("%s %s: no %s at tag %s of %s (%s)", q.Package, rel.Version, sources.ManifestFile, first, r, redact.URL(s.manifestURL(r, first)))}
	}
	return out, nil
}
