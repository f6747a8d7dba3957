// Package selfupdate keeps modup itself current: it reads modup's releases
// from a GitHub repository, picks the archive for this system
// (modup_<version>_<os>_<arch>.zip or .tar.gz), verifies it against the
// release's checksums.txt, whose minisign signature must verify with the
// release key built into the binary, and replaces the running executable
// atomically. A binary installed by a package manager is left to it.
package selfupdate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"aead.dev/minisign"
	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources"
)

// Outcomes callers branch on with errors.Is.
var (
	// ErrManaged: the executable belongs to a package manager, which is
	// the one to update it (the *ManagedError names its command).
	ErrManaged = errors.New("installed by a package manager")
	// ErrVerify: an archive, checksums.txt or its signature did not verify.
	ErrVerify = errors.New("release does not verify")
	// ErrNoRelease: no release (or none of the version asked for) exists,
	// or it has no archive for this system.
	ErrNoRelease = errors.New("no such release")
	// ErrNoKey: the binary carries no release key to verify with.
	ErrNoKey = errors.New("no release key")
)

// File names in a release besides the archives.
const (
	ChecksumsFile = "checksums.txt"
	SignatureFile = "checksums.txt.minisig"
)

const (
	maxAPIResponse = 32 << 20
	maxChecksums   = 1 << 20
	maxSignature   = 64 << 10
	// MaxArchive caps an archive's download (modup is about 10 MB).
	MaxArchive = 256 << 20
	maxPages   = 10
)

// Config says where modup's releases are and what is running.
type Config struct {
	// Repo is "OWNER/REPO" on GitHub.
	Repo string
	// PublicKey is the minisign public key releases are signed with: its
	// base64 line, or the whole .pub file.
	PublicKey string
	// Current is the running modup's version.
	Current string
	// GOOS and GOARCH pick the archive.
	GOOS, GOARCH string
	// APIURL and WebURL are GitHub's (github.Config's); Client is GitHub's
	// client, whose token reaches the API alone.
	APIURL string
	Client *httpx.Client
}

// Release is one release of modup and what this system needs of it.
type Release struct {
	Version    string // without a leading "v"
	Tag        string
	Notes      string
	Prerelease bool
	Archive    Asset // for this system
	Checksums  Asset
	Signature  Asset
}

// Asset is one downloadable file of a release.
type Asset struct {
	Name string
	URL  string
	Size int64
}

// Updater finds, verifies and installs releases of modup.
type Updater struct {
	cfg    Config
	key    minisign.PublicKey
	hasKey bool
}

// New checks cfg and returns an Updater. A malformed key is an error
// wrapping ErrNoKey; without a key, releases can be found but Install
// refuses them (nothing could be verified).
func New(cfg Config) (*Updater, error) {
	if cfg.Client == nil {
		return nil, errors.New("selfupdate: Config.Client is nil")
	}
	owner, repo, ok := strings.Cut(strings.TrimSpace(cfg.Repo), "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("modup's release repository %q is not OWNER/REPO (set MODUP_SELF_REPO)", cfg.Repo)
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/") + "/"
	u := &Updater{cfg: cfg}
	if k := strings.TrimSpace(cfg.PublicKey); k != "" {
		if err := u.key.UnmarshalText([]byte(k)); err != nil {
			return nil, fmt.Errorf("the release key %q: %v: %w", k, err, ErrNoKey)
		}
		u.hasKey = true
	}
	return u, nil
}

// ArchiveNames are the names of this system's archive of version, the
// preferred one first (zip on Windows, tar.gz elsewhere).
func ArchiveNames(version, goos, goarch string) []string {
	base := fmt.Sprintf("modup_%s_%s_%s", sources.TrimV(version), goos, goarch)
	if goos == "windows" {
		return []string{base + ".zip", base + ".tar.gz"}
	}
	return []string{base + ".tar.gz", base + ".zip"}
}

// Find returns the release to install: version to (either spelling), or,
// when to is "", the newest release that is not a pre-release.
func (u *Updater) Find(ctx context.Context, to string) (Release, error) {
	var rels []apiRelease
	if to != "" {
		for _, tag := range sources.VersionSpellings(strings.TrimSpace(to)) {
			var rel apiRelease
			err := u.getJSON(ctx, u.repoAPI()+"/releases/tags/"+url.PathEscape(tag), &rel)
			if errors.Is(err, sources.ErrNotFound) {
				continue
			}
			if err != nil {
				return Release{}, err
			}
			if !rel.Draft {
				rels = append(rels, rel)
				break
			}
		}
		if len(rels) == 0 {
			return Release{}, fmt.Errorf("%s has no release %s: %w", u.cfg.Repo, to, ErrNoRelease)
		}
	} else {
		all, err := u.list(ctx)
		if err != nil {
			return Release{}, err
		}
		rels = newestStable(all)
		if len(rels) == 0 {
			return Release{}, fmt.Errorf("%s has no published release of modup: %w", u.cfg.Repo, ErrNoRelease)
		}
	}
	return u.fromAPI(rels[0])
}

// Newer reports whether rel is newer than the running version.
func (u *Updater) Newer(rel Release) bool {
	have, err := semver.NewVersion(u.cfg.Current)
	if err != nil {
		return true // a build of unknown version: any release is worth having
	}
	want, err := semver.NewVersion(rel.Version)
	return err == nil && want.GreaterThan(have)
}

func (u *Updater) repoAPI() string {
	owner, repo, _ := strings.Cut(u.cfg.Repo, "/")
	return u.cfg.APIURL + "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo)
}

// list pages through the releases.
func (u *Updater) list(ctx context.Context) ([]apiRelease, error) {
	var all []apiRelease
	for page := 1; page <= maxPages; page++ {
		var rels []apiRelease
		if err := u.getJSON(ctx, fmt.Sprintf("%s/releases?per_page=100&page=%d", u.repoAPI(), page), &rels); err != nil {
			if errors.Is(err, sources.ErrNotFound) {
				return nil, fmt.Errorf("no GitHub repository %s (modup's releases; set MODUP_SELF_REPO): %w", u.cfg.Repo, ErrNoRelease)
			}
			return nil, err
		}
		all = append(all, rels...)
		if len(rels) < 100 {
			break
		}
	}
	return all, nil
}

// newestStable is the published, non-pre-release releases whose tags are
// versions, newest version first.
func newestStable(all []apiRelease) []apiRelease {
	type ver struct {
		v   *semver.Version
		rel apiRelease
	}
	var vs []ver
	for _, r := range all {
		v, err := semver.NewVersion(r.TagName)
		if err != nil || r.Draft || r.Prerelease || v.Prerelease() != "" {
			continue
		}
		vs = append(vs, ver{v, r})
	}
	slices.SortFunc(vs, func(a, b ver) int { return b.v.Compare(a.v) })
	out := make([]apiRelease, len(vs))
	for i, v := range vs {
		out[i] = v.rel
	}
	return out
}

func (u *Updater) fromAPI(r apiRelease) (Release, error) {
	rel := Release{Version: sources.TrimV(r.TagName), Tag: r.TagName, Notes: r.Body, Prerelease: r.Prerelease}
	find := func(name string) (Asset, bool) {
		for _, a := range r.Assets {
			if a.Name == name && a.BrowserDownloadURL != "" {
				return Asset{Name: a.Name, URL: a.BrowserDownloadURL, Size: a.Size}, true
			}
		}
		return Asset{}, false
	}
	names := ArchiveNames(rel.Version, u.cfg.GOOS, u.cfg.GOARCH)
	var ok bool
	for _, n := range names {
		if rel.Archive, ok = find(n); ok {
			break
		}
	}
	if !ok {
		return Release{}, fmt.Errorf("release %s of %s has no archive for %s/%s (%s): %w", r.TagName, u.cfg.Repo, u.cfg.GOOS, u.cfg.GOARCH, strings.Join(names, " or "), ErrNoRelease)
	}
	if rel.Checksums, ok = find(ChecksumsFile); !ok {
		return Release{}, fmt.Errorf("release %s of %s has no %s to verify with: %w", r.TagName, u.cfg.Repo, ChecksumsFile, ErrVerify)
	}
	if rel.Signature, ok = find(SignatureFile); !ok {
		return Release{}, fmt.Errorf("release %s of %s has no %s (the signature of %s): %w", r.TagName, u.cfg.Repo, SignatureFile, ChecksumsFile, ErrVerify)
	}
	return rel, nil
}

func (u *Updater) getJSON(ctx context.Context, rawURL string, v any) error {
	body, _, err := u.cfg.Client.FetchAccept(ctx, rawURL, "application/vnd.github+json", nil, maxAPIResponse)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: not the expected JSON: %v: %w", rawURL, err, sources.ErrInvalid)
	}
	return nil
}

type apiRelease struct {
	TagName    string `json:"tag_name"`
	Body       string `json:"body"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
	Assets     []struct {
		Name               string `json:"name"`
		Size               int64  `json:"size"`
		BrowserDownloadURL string `json:"browser_download_url"`
	} `json:"assets"`
}
