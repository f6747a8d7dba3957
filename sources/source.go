// Package sources declares the contract every update source fulfils and the
// registry that picks a source for a package's update_url.
//
// A source answers three questions, cheapest first:
//
//   - Latest: which version does the author point to right now? (one small,
//     conditional request; no release look-up)
//   - Resolve: is that version released, and where is its payload? (only
//     asked when the answer can change what the user sees)
//   - Open: stream the payload.
//
// Sources never touch package folders; they are given what they need in a
// Query.
package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/trust"
)

// Sentinel outcomes callers branch on with errors.Is.
var (
	// ErrNotFound: the remote manifest (or the named thing) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnreleased: the manifest names a version that has no published
	// release (nothing to download yet).
	ErrUnreleased = errors.New("no published release")
	// ErrRateLimited: the remote refused because a quota is spent. The
	// concrete error is a *RateLimitError carrying the reset time.
	ErrRateLimited = errors.New("rate limited")
	// ErrInsecure: a plain-http URL that is not loopback, without --allow-http.
	ErrInsecure = errors.New("insecure url")
	// ErrUnsupported: no source accepts this update_url.
	ErrUnsupported = errors.New("unsupported update_url")
	// ErrInvalid: the remote answered with something that is not what was
	// asked for (an HTML page instead of a manifest, a bad manifest).
	ErrInvalid = errors.New("invalid response")
)

// RateLimitError says until when a remote refuses requests.
type RateLimitError struct {
	Host  string
	Reset time.Time // zero when unknown
}

func (e *RateLimitError) Error() string {
	if e.Reset.IsZero() {
		return fmt.Sprintf("%s: rate limit exceeded", e.Host)
	}
	return fmt.Sprintf("%s: rate limit exceeded until %s", e.Host, e.Reset.Local().Format(time.DateTime))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Query is what a source needs to know about one package.
type Query struct {
	// Package is the package name, used in error messages.
	Package string
	// UpdateURL is the manifest's update_url, as written.
	UpdateURL string
	// Dir is the package folder; the filesystem source resolves relative
	// update_urls against it. Empty for a package not installed yet.
	Dir string
	// MainBranch is the manifest's main_branch (GitHub), may be empty.
	MainBranch string
	// Cache keeps validators of conditional requests; may be nil.
	Cache Cache
}

// Release describes one version of a package as a source knows it. Latest
// fills Version and the manifest fields; Resolve fills the rest, so that no
// later step asks the source twice.
type Release struct {
	// Version is the version as the remote manifest (or --to) names it.
	Version string `json:"version"`
	// Tag is the tag the release was found under (GitHub), e.g. "v1.2.0".
	Tag string `json:"tag,omitempty"`
	// Name is the manifest's name field.
	Name string `json:"name,omitempty"`
	// News is the manifest's news: what the author wrote for users in
	// a2modsource.json (a2 shows it).
	News string `json:"news,omitempty"`
	// ReleaseNotes is the release's own text (a GitHub release body, a
	// GitLab release description), when the source has one.
	ReleaseNotes string `json:"release_notes,omitempty"`
	// NotesUnavailable is set when release notes could not be fetched
	// (API rate-limited or unreachable).
	NotesUnavailable bool `json:"notes_unavailable,omitempty"`
	// ManifestURL is where the pointer manifest was read.
	ManifestURL string `json:"manifest_url,omitempty"`
	// PayloadURL is where the zip is; set by Resolve.
	PayloadURL string `json:"payload_url,omitempty"`
	// Size of the zip in bytes when known (asset size, manifest zip_size), else 0.
	Size int64 `json:"size,omitempty"`
	// SizeFrom says who declared Size, for messages ("zip_size in
	// a2modsource.json", "the release asset", "the server").
	SizeFrom string `json:"-"`
	// SHA256 is the hex digest of the zip when declared, else "".
	SHA256 string `json:"sha256,omitempty"`
	// Prerelease and Draft mirror GitHub's release flags.
	Prerelease bool `json:"prerelease,omitempty"`
	Draft      bool `json:"draft,omitempty"`
	// Origin says where Version came from: "manifest", "release", "tag-archive", "request".
	Origin string `json:"origin,omitempty"`
	// Kind is the source kind that produced this release.
	Kind string `json:"source,omitempty"`
	// Repository names the repository (package index) the release was
	// found in; "" when an author's own source answered. The install
	// record keeps it, so that the package's later checks ask the same
	// repository.
	Repository string `json:"repository,omitempty"`
	// PublicKey is the manifest's public_key: the minisign key that signs
	// the package's releases ("RW..."), "" when it names none.
	PublicKey string `json:"public_key,omitempty"`
	// KeyRotation is the manifest's key_rotation, nil when it has none.
	KeyRotation *manifest.KeyRotation `json:"-"`
	// SignatureURL is where the payload's detached signature
	// (<payload>.minisig) is, when the source has one; set by Resolve,
	// which finds it without another request where it can. Signature
	// fetches it.
	SignatureURL string `json:"signature_url,omitempty"`
	// Signature is the detached signature once fetched (the updater keeps
	// it here so that a checked release is not asked for it again).
	Signature []byte `json:"-"`
	// Published is when the release was published, when the source knows
	// (a GitHub release's published_at); zero otherwise.
	Published time.Time `json:"published,omitzero"`
	// Pointer is the pointer manifest as Latest read it, byte for byte, so
	// that a caller recording the manifest (the index) need not read it
	// again.
	Pointer []byte `json:"-"`
	// Resolved is true once Resolve found a payload.
	Resolved bool `json:"-"`
	// Extra holds source-specific data Open needs (kept out of JSON).
	Extra map[string]string `json:"-"`
	// ManifestVersion and Requirements are the pointer manifest's
	// manifest_version and requirement fields: what this release needs,
	// known without downloading it (`modup pack` writes them into the
	// release's manifest).
	ManifestVersion int                  `json:"manifest_version,omitempty"`
	Requirements    resolve.Requirements `json:"-"`
	// RequirementsKnown says that ManifestVersion and Requirements are this
	// version's own (read from its manifest), not merely absent: a release
	// listed by Versions is not known until a ManifestReader reads it.
	RequirementsKnown bool `json:"-"`
}

// Payload is an open stream of a release's zip.
type Payload struct {
	Body io.ReadCloser
	// Size is the length announced by the remote (Content-Length, file
	// size), or -1 when unknown.
	Size int64
}

// Source is one kind of update source.
type Source interface {
	// Kind names the source kind ("github", "web", "fs").
	Kind() string
	// Latest reads the remote manifest: the version the author points to.
	Latest(ctx context.Context, q Query) (Release, error)
	// Resolve finds the published release of want.Version: its payload URL,
	// size, digest, notes and flags. It returns an error wrapping
	// ErrUnreleased when no release of that version is published.
	Resolve(ctx context.Context, q Query, want Release) (Release, error)
	// Open streams the payload of a resolved release.
	Open(ctx context.Context, r Release) (*Payload, error)
}

// SignatureSource is implemented by sources that can fetch a release's
// detached minisign signature, published next to its payload as
// <version>.zip.minisig.
type SignatureSource interface {
	// Signature fetches the signature of a resolved release, at most
	// MaxSignatureSize bytes. It returns an error wrapping ErrNotFound when
	// the release has none.
	Signature(ctx context.Context, r Release) ([]byte, error)
}

// MaxSignatureSize bounds a signature file.
const MaxSignatureSize = trust.MaxSignatureSize

// SignatureSuffix names a payload's signature: "<payload>.minisig".
const SignatureSuffix = trust.SignatureSuffix

// Locator describes where a source would read, for `modup info`.
type Locator interface {
	// Locate returns the manifest URL and the payload URL for version
	// (version may be "" when unknown).
	Locate(q Query, version string) (manifestURL, payloadURL string, err error)
}

// Cache stores validators (ETag, Last-Modified) and the body of small
// conditional GETs, keyed by URL.
type Cache interface {
	Get(url string) (CacheEntry, bool)
	Put(url string, e CacheEntry) error
}

// CacheEntry is one cached response.
type CacheEntry struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Body         []byte    `json:"body"`
	Stored       time.Time `json:"stored"`
}

// ManifestReader is implemented by sources that can read the
// a2modsource.json a release was published with without downloading its
// payload (GitHub: the raw file at its tag). The updater asks it for the
// requirements of older releases when the newest one does not fit.
type ManifestReader interface {
	// ReleaseManifest returns rel with ManifestVersion and Requirements
	// read from its own manifest (RequirementsKnown set). An error wrapping
	// ErrNotFound means the release has no manifest there.
	ReleaseManifest(ctx context.Context, q Query, rel Release) (Release, error)
}

// Lister is implemented by sources that can list every published release
// (GitHub releases, GitLab releases, gist revisions, an index). The solver,
// `--to`, held-back fall-backs and the index crawler use it, so no caller
// special-cases a source kind. Sources that only know their pointer (a web
// or folder source) do not implement it.
type Lister interface {
	// Versions lists the published releases, newest first, each with what
	// Resolve would fill (payload URL, size, digest, notes, flags). Drafts
	// are left out; prereleases are included and marked.
	Versions(ctx context.Context, q Query) ([]Release, error)
}
