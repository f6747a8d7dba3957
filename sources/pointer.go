package sources

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
)

// LooksLikeHTML reports whether b starts like an HTML page (after white
// space and a BOM): what captive portals and login pages answer with.
func LooksLikeHTML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	b = bytes.TrimLeft(b, " \t\r\n\f\v")
	return len(b) > 0 && b[0] == '<'
}

// PointerRelease parses a remote manifest (the author's pointer to the
// current release) read from where, into the Release that Latest returns.
func PointerRelease(body []byte, where, kind string) (Release, *manifest.Manifest, error) {
	where = redact.URL(where) // named in messages and kept as ManifestURL
	if LooksLikeHTML(body) {
		return Release{}, nil, fmt.Errorf("%s: got an HTML page instead of a2modsource.json (a login page or captive portal? check the update_url): %w", where, ErrInvalid)
	}
	m, err := manifest.Parse(body, where)
	if err != nil {
		return Release{}, nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	m.Version = strings.TrimSpace(m.Version)
	if m.Version == "" {
		return Release{}, nil, fmt.Errorf("%s names no version: a2modsource.json needs a \"version\" field: %w", where, ErrInvalid)
	}
	r := Release{
		Version:     m.Version,
		Name:        m.Name,
		News:        m.News,
		ManifestURL: where,
		SHA256:      strings.ToLower(strings.TrimSpace(m.SHA256)),
		Size:        m.ZipSize,
		SizeFrom:    "zip_size in a2modsource.json",
		Origin:      "manifest",
		Kind:        kind,
		PublicKey:   strings.TrimSpace(m.PublicKey),
		KeyRotation: m.KeyRotation,
		Pointer:     body,

		ManifestVersion:   m.ManifestVersion,
		Requirements:      m.Requirements,
		RequirementsKnown: true,
	}
	return r, m, nil
}

// PointerFields keeps the digest and size the pointer manifest declares only
// when they describe the version being resolved.
func PointerFields(want Release) (sha string, size int64, sizeFrom string) {
	if want.Origin != "manifest" {
		return "", 0, ""
	}
	return want.SHA256, want.Size, want.SizeFrom
}
