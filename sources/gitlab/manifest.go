package gitlab

import (
	"context"
	"fmt"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/sources"
)

var _ sources.ManifestReader = (*Source)(nil)

// ReleaseManifest implements sources.ManifestReader: the a2modsource.json
// at rel's tag (rel.Tag, else either spelling of its version), from the
// web host's raw files, or through the repository files API for a private
// project, conditionally through q.Cache (a tag's file does not change:
// asking again is a 304). It downloads no payload; the updater reads what
// an older release requires with it when the newest does not fit.
func (s *Source) ReleaseManifest(ctx context.Context, q sources.Query, rel sources.Release) (sources.Release, error) {
	h, p, err := s.find(q.UpdateURL)
	if err != nil {
		return sources.Release{}, err
	}
	out, first, found, err := sources.ManifestAtTag(rel, Kind, func(tag string) ([]byte, string, error) {
		u, apiURL := h.rawURL(p, tag), h.filesURL(p, tag)
		if h.cfg.Client.Authorized(apiURL) && h.isPrivate(p) {
			if until, blocked := s.apiBlocked(h); blocked {
				return nil, "", h.rateLimited(until)
			}
			body, _, err := h.cfg.Client.Fetch(ctx, apiURL, q.Cache, manifest.MaxSize)
			s.noteRateLimit(h, err)
			return body, apiURL, h.tokenRefused(err)
		}
		body, _, err := h.cfg.Client.Fetch(ctx, u, q.Cache, manifest.MaxSize)
		if err == nil && sources.LooksLikeHTML(body) {
			err = sources.KindErrorf(sources.ErrNotFound, "%s: an HTML page (a sign-in page?), not %s", u, sources.ManifestFile)
		}
		return body, u, err
	})
	switch {
	case err != nil:
		return sources.Release{}, fmt.Errorf("%s %s: the manifest at its tag: %w", q.Package, rel.Version, err)
	case !found:
		return sources.Release{}, sources.KindErrorf(sources.ErrNotFound, "%s %s: no %s at tag %s of %s (%s)",
			q.Package, rel.Version, sources.ManifestFile, first, p, h.rawURL(p, first))
	}
	return out, nil
}
