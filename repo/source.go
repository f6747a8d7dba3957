package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/gist"
)

// Kind is the kind of the repository source.
const Kind = "repo"

// Source answers for the packages of one repository from its index:
// Latest from list/packages.json (one document for every package),
// Resolve and Versions from the package's info document, Open from the
// repository's mirror when it has the zip, else from the author's
// payload URL. The updater verifies the index's sha256 and size of every
// download, wherever it came from.
type Source struct {
	c    *Client
	repo Repo
}

var (
	_ sources.Source          = (*Source)(nil)
	_ sources.Lister          = (*Source)(nil)
	_ sources.SignatureSource = (*Source)(nil)
	_ sources.Reshaper        = (*Source)(nil)
)

// Source is the source of r's packages.
func (c *Client) Source(r Repo) *Source { return &Source{c: c, repo: r} }

// Kind implements sources.Source.
func (*Source) Kind() string { return Kind }

// Repo is the repository s answers from.
func (s *Source) Repo() Repo { return s.repo }

// Origins of a release found in an index (sources.Release.Origin).
const (
	OriginIndex = "index"
)

// Release.Extra keys.
const (
	extraVia       = "via"        // the update_url whose source resolved the release (resolveAtOrigin)
	extraOrigin    = "origin"     // the author's payload URL, when PayloadURL is the mirror's
	extraStrict    = "mirror"     // "only": the repository was added with --mirror
	extraUpdateURL = "update_url" // the package's own, for its kind's layout (Reshape)
)

// Latest implements sources.Source: the newest installable version the
// repository's package list names.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	p, list, ok := s.c.Package(ctx, s.repo, q.Package)
	switch {
	case list.Doc == nil:
		return sources.Release{}, list.Err
	case !ok:
		return sources.Release{}, fmt.Errorf("%s: repository %s does not list it (any more): %w", q.Package, s.repo.Name, sources.ErrNotFound)
	}
	return sources.Release{
		Version: p.Version, Name: p.Name, SHA256: p.SHA256, Size: p.Size,
		SizeFrom: "repository " + s.repo.Name + "'s index", ManifestURL: redact.URL(s.repo.docURL(packagesDoc)),
		Published: p.Published, Origin: OriginIndex, Kind: Kind, Repository: s.repo.Name,
	}, nil
}

// Resolve implements sources.Source: the version want names (either
// spelling: 1.2.0 or v1.2.0) from the package's info document.
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	info := s.c.Info(ctx, s.repo, q.Package)
	if info.Doc == nil {
		return s.resolveAtOrigin(ctx, q, want, info.Err)
	}
	if !slices.ContainsFunc(info.Doc.Versions, func(v doc.Version) bool { return sameVersion(v.Version, want.Version) }) && info.Err == nil {
		// A copy younger than MaxAge may predate the package list that
		// named the version: ask once more.
		if again := s.c.info(ctx, s.repo, q.Package, 0); again.Doc != nil {
			info = again
		}
	}
	for _, v := range info.Doc.Versions {
		if !sameVersion(v.Version, want.Version) {
			continue
		}
		if !v.Installable() {
			return sources.Release{}, fmt.Errorf("%s %s: repository %s records a problem that keeps it from being installed: %s: %w",
				q.Package, v.Version, s.repo.Name, blocking(v), sources.ErrInvalid)
		}
		rel := s.release(*info.Doc, v)
		if want.Origin != "" && want.Origin != OriginIndex {
			rel.Origin = want.Origin
		}
		return rel, nil
	}
	return sources.Release{}, fmt.Errorf("%s: repository %s lists no installable version %s (nor %s): %w",
		q.Package, s.repo.Name, want.Version, sources.VersionSpellings(want.Version)[1], sources.ErrUnreleased)
}

// resolveAtOrigin resolves want at the package's own source when the
// repository cannot say where its zip is (its document of the package
// cannot be read, and the copy of its list that named the version is
// used): the download is still checked against the digest and size the
// list declares for that version. why is the repository's error; a
// document that is not an index's is refused, never worked around.
func (s *Source) resolveAtOrigin(ctx context.Context, q sources.Query, want sources.Release, why error) (sources.Release, error) {
	if errors.Is(why, doc.ErrInvalid) {
		return sources.Release{}, why // it answered, with what is not an index: refused
	}
	origin, err := s.origin(q.UpdateURL)
	if err != nil {
		return sources.Release{}, why
	}
	rel, err := origin.Resolve(ctx, q, sources.Release{Version: want.Version, Origin: "request"})
	if err != nil {
		return sources.Release{}, fmt.Errorf("%w; at its own source: %w", why, err)
	}
	if p, _, ok := s.c.Package(ctx, s.repo, q.Package); ok && sameVersion(p.Version, rel.Version) {
		rel.SHA256, rel.Size, rel.SizeFrom = p.SHA256, p.Size, "repository "+s.repo.Name+"'s index"
	}
	if rel.Extra == nil {
		rel.Extra = map[string]string{}
	}
	rel.Extra[extraVia] = q.UpdateURL
	rel.Repository = s.repo.Name
	s.c.logger().Warn("the repository cannot say where the zip is; resolved at the package's own source",
		"repo", s.repo.Name, "package", q.Package, "version", rel.Version, "error", why.Error())
	return rel, nil
}

// origin is the author's source of updateURL.
func (s *Source) origin(updateURL string) (sources.Source, error) {
	if s.c.Origins == nil {
		return nil, fmt.Errorf("no sources of the authors' kinds")
	}
	return s.c.Origins.For(updateURL)
}

// Versions implements sources.Lister: every installable version the
// repository knows, newest first.
func (s *Source) Versions(ctx context.Context, q sources.Query) ([]sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info := s.c.Info(ctx, s.repo, q.Package)
	if info.Doc == nil {
		return nil, info.Err
	}
	var out []sources.Release
	for _, v := range info.Doc.Versions {
		if v.Installable() {
			out = append(out, s.release(*info.Doc, v))
		}
	}
	return out, nil
}

func blocking(v doc.Version) string {
	var parts []string
	for _, p := range v.Problems {
		if p.Blocking {
			parts = append(parts, p.Check+": "+p.Detail)
		}
	}
	return strings.Join(parts, "; ")
}

// sameVersion compares versions as releases name them: with or without
// a leading "v".
func sameVersion(a, b string) bool { return sources.TrimV(a) == sources.TrimV(b) }

// release is version v of info as a resolved release.
func (s *Source) release(info doc.PackageInfo, v doc.Version) sources.Release {
	rel := sources.Release{
		Version: v.Version, Tag: v.Tag, Name: info.Name, Published: v.Published, Prerelease: v.Prerelease,
		Size: v.Size, SizeFrom: "repository " + s.repo.Name + "'s index", SHA256: v.SHA256,
		ManifestURL: redact.URL(s.repo.docURL(infoDoc(info.Name))),
		Origin:      OriginIndex, Kind: Kind, Repository: s.repo.Name, Resolved: true,
		Extra: map[string]string{extraUpdateURL: info.UpdateURL},
	}
	if m := versionManifest(v); m != nil {
		rel.News = m.News
		rel.PublicKey = strings.TrimSpace(m.PublicKey)
		rel.KeyRotation = m.KeyRotation
		rel.ManifestVersion = m.ManifestVersion
		rel.Requirements = m.Requirements
		rel.RequirementsKnown = true
		module := info.Name
		if raw, ok := m.Raw("module"); ok {
			var name string
			if json.Unmarshal(raw, &name) == nil && name != "" {
				module = name
			}
		} else if m.Name != "" {
			module = m.Name
		}
		rel.Extra[gist.ExtraModule] = module
	}
	// The key the author's source reports for the release (where `modup
	// pack --sign` writes it) is what a first install pins; the zip's own
	// manifest names it only when the author bumped the package.
	if v.PublicKey != "" {
		rel.PublicKey = v.PublicKey
	}
	if r := v.KeyRotation; r != nil {
		rel.KeyRotation = &manifest.KeyRotation{New: r.New, Signature: r.Signature}
	}
	origin := payloadPath(v.PayloadURL)
	mirror := s.repo.docURL(doc.MirrorURL(info.Name, v.Version))
	switch {
	case s.repo.Mirror:
		rel.PayloadURL = mirror
		rel.Extra[extraStrict] = "only"
	case v.MirrorURL != "":
		rel.PayloadURL = mirror
		rel.Extra[extraOrigin] = origin
	default:
		rel.PayloadURL = origin
	}
	rel.SignatureURL = origin + sources.SignatureSuffix
	return rel
}

// versionManifest parses the manifest the index kept of v (nil when it
// has none that parses: the release still installs; its news is unknown).
func versionManifest(v doc.Version) *manifest.Manifest {
	if len(v.Manifest) == 0 || bytes.Equal(v.Manifest, []byte("null")) {
		return nil
	}
	m, err := manifest.Parse(v.Manifest, "a2modsource.json of "+v.Version)
	if err != nil {
		return nil
	}
	return m
}

// payloadPath turns a file:// payload URL (a folder source's) into a
// path; others are returned as they are.
func payloadPath(u string) string {
	if !strings.HasPrefix(strings.ToLower(u), "file://") {
		return u
	}
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	path := p.Path
	if len(path) > 2 && path[0] == '/' && path[2] == ':' {
		path = path[1:] // file:///C:/x
	}
	return filepath.FromSlash(path)
}

// Open implements sources.Source: the repository's mirror when it has the
// zip (with --mirror, only there), else the author's payload URL.
func (s *Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if r.PayloadURL == "" {
		return nil, fmt.Errorf("open %s: release not resolved", r.Version)
	}
	if via := r.Extra[extraVia]; via != "" {
		origin, err := s.origin(via)
		if err != nil {
			return nil, err
		}
		return origin.Open(ctx, r)
	}
	p, err := s.open(ctx, r.PayloadURL)
	origin := r.Extra[extraOrigin]
	if err != nil && origin != "" && errors.Is(err, sources.ErrNotFound) {
		s.c.logger().Warn("not in the repository's mirror; downloading from the author's host",
			"repo", s.repo.Name, "package", r.Name, "version", r.Version, "mirror", redact.URL(r.PayloadURL), "error", err.Error())
		return s.open(ctx, origin)
	}
	if err != nil && r.Extra[extraStrict] != "" && errors.Is(err, sources.ErrNotFound) {
		return nil, fmt.Errorf("%w (repository %s was added with --mirror: zips come from its mirror only)", err, s.repo.Name)
	}
	return p, err
}

// open streams a zip at u: an http(s) URL, or a file.
func (s *Source) open(ctx context.Context, u string) (*sources.Payload, error) {
	if err := s.mayName(u); err != nil {
		return nil, err
	}
	if isURL(u) {
		body, size, err := s.c.HTTP.Open(ctx, u)
		if err != nil {
			return nil, err
		}
		return &sources.Payload{Body: body, Size: size}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := openRegular(u)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sources.Payload{Body: f, Size: st.Size()}, nil
}

// mayName refuses a file named by a repository on the web: what a remote
// index says must not make modup read files of this machine (an index
// built from folder sources names them; only its mirror, or a folder
// repository on a share, can serve those zips).
func (s *Source) mayName(u string) error {
	if isURL(u) || s.repo.Folder() {
		return nil
	}
	return fmt.Errorf("repository %s is on the web, and names a file of this machine, %s: refused (only a repository in a folder may name files; the index's mirror would serve the zip): %w",
		s.repo.Name, u, sources.ErrInvalid)
}

func isURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// openRegular opens a regular file (a named pipe or device named like a
// zip must not hang or flood modup).
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, sources.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, sources.ErrInvalid)
	}
	return os.Open(path)
}

// Signature implements sources.SignatureSource: <zip>.minisig beside the
// zip the release downloads from (the mirror's, then the author's).
func (s *Source) Signature(ctx context.Context, r sources.Release) ([]byte, error) {
	if via := r.Extra[extraVia]; via != "" {
		origin, err := s.origin(via)
		if err != nil {
			return nil, err
		}
		ss, ok := origin.(sources.SignatureSource)
		if !ok {
			return nil, fmt.Errorf("the %s source publishes no signatures: %w", origin.Kind(), sources.ErrNotFound)
		}
		return ss.Signature(ctx, r)
	}
	var urls []string
	if r.PayloadURL != "" && r.PayloadURL+sources.SignatureSuffix != r.SignatureURL {
		urls = append(urls, r.PayloadURL+sources.SignatureSuffix)
	}
	if r.SignatureURL != "" && r.Extra[extraStrict] == "" {
		urls = append(urls, r.SignatureURL)
	}
	var err error
	for _, u := range urls {
		var data []byte
		if data, err = s.small(ctx, u); err == nil {
			return data, nil
		}
		if !errors.Is(err, sources.ErrNotFound) {
			return nil, err
		}
	}
	if err == nil {
		err = fmt.Errorf("signature of %s: %w", r.Version, sources.ErrNotFound)
	}
	return nil, err
}

// small reads a signature at u.
func (s *Source) small(ctx context.Context, u string) ([]byte, error) {
	if err := s.mayName(u); err != nil {
		return nil, err
	}
	if isURL(u) {
		body, _, err := s.c.HTTP.Fetch(ctx, u, nil, sources.MaxSignatureSize)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", redact.URL(u), err)
		}
		return body, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := fsutil.ReadRegular(u, sources.MaxSignatureSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", u, sources.ErrNotFound)
	}
	return data, err
}

// Reshape implements sources.Reshaper: a payload is laid out as the
// package's own kind of source lays it out (a gist's flat archive).
func (s *Source) Reshape(r sources.Release) func(name string, dir bool) (string, error) {
	if s.c.Origins == nil {
		return nil
	}
	u := r.Extra[extraUpdateURL]
	if via := r.Extra[extraVia]; via != "" {
		u = via
	}
	origin, err := s.c.Origins.For(u)
	if err != nil {
		return nil
	}
	return sources.RenameFor(origin, r)
}
