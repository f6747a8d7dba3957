package github

import (
	"context"
	"errors"
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
	tags := sources.VersionSpellings(rel.Version)
	if rel.Tag != "" {
		tags = []string{rel.Tag}
	}
	for _, tag := range tags {
		if !sources.ValidTagVersion(tag) {
			return sources.Release{}, fmt.Errorf("%s: tag %q: %w", q.Package, tag, sources.ErrInvalid)
		}
		u := s.manifestURL(r, tag)
		var body []byte
		if s.client.Authorized(s.contentsURL(r, tag)) && s.isPrivate(r) {
			if until, blocked := s.apiBlocked(); blocked {
				return sources.Release{}, fmt.Errorf("%s %s: %w", q.Package, rel.Version, &sources.RateLimitError{Host: s.apiHost, Reset: until})
			}
			u = s.contentsURL(r, tag)
			body, _, err = s.client.FetchAccept(ctx, u, rawMediaType, q.Cache, manifest.MaxSize)
			s.noteRateLimit(err)
		} else {
			body, _, err = s.client.Fetch(ctx, u, q.Cache, manifest.MaxSize)
		}
		if errors.Is(err, sources.ErrNotFound) {
			continue
		}
		if err != nil {
			return sources.Release{}, fmt.Errorf("%s %s: the manifest at tag %s: %w", q.Package, rel.Version, tag, s.tokenRefused(err))
		}
		at, _, err := sources.PointerRelease(body, u, Kind)
		if err != nil {
			return sources.Release{}, err
		}
		out := rel
		out.ManifestVersion, out.Requirements, out.RequirementsKnown = at.ManifestVersion, at.Requirements, true
		return out, nil
	}
	return sources.Release{}, &kindError{kind: sources.ErrNotFound,
		msg: fmt.Sprintf("%s %s: no %s at tag %s of %s (%s)", q.Package, rel.Version, sources.ManifestFile, tags[0], r, redact.URL(s.manifestURL(r, tags[0])))}
}
