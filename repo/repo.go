// Package repo is the client side of package indexes: the repositories a
// user adds (repos.json next to the configuration file, and the file's
// [[repo]] tables), a cache of each repository's documents under the user
// cache folder, search over what they offer, and a source that answers
// Latest, Resolve and Versions from an index, so that the packages
// installed from a repository are checked with one conditional request
// for all of them instead of one per package at each author's host.
//
// A repository is the base URL of an index, served by `modup index serve`
// or exported to any static host, or the folder of an export on a share.
// What it says is read with index/doc's Decode (strict: a name that is a
// path, a digest that is not hex, a mirror URL that leaves the index are
// refused, naming the repository and the document). This package never
// writes package folders: installing is the updater's.
package repo

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/config"
	"github.com/modup/modup/internal/redact"
)

// Repo is one repository.
type Repo struct {
	// Name is what the user calls it: `modup install NAME/PACKAGE`.
	Name string `json:"name"`
	// URL is the index's base: an https:// URL, an http:// one on
	// loopback, or a folder (absolute).
	URL string `json:"url"`
	// Enabled is false for a repository that is listed but never asked.
	Enabled bool `json:"enabled"`
	// Mirror downloads every zip from the repository's mirror, never from
	// the authors' hosts (machines that cannot reach them).
	Mirror bool `json:"mirror,omitempty"`
	// Key, when set, is the public key ("RW...") that signs the index:
	// the documents modup acts on (the package list, each package's info)
	// are used only when their signature verifies with it and has not
	// expired.
	Key string `json:"key,omitempty"`
	// Added is when `modup repo add` added it.
	Added time.Time `json:"added,omitzero"`
	// From says where the repository is declared: "" for repos.json,
	// else "FILE:LINE" of the configuration file's [[repo]] table.
	From string `json:"-"`
}

// Folder reports whether the repository is a folder (an export on a
// share) rather than a URL.
func (r Repo) Folder() bool {
	return config.RepoURLIsFolder(r.URL) || strings.HasPrefix(strings.ToLower(r.URL), "file://")
}

// path is the folder of a folder repository.
func (r Repo) path() string {
	if !strings.HasPrefix(strings.ToLower(r.URL), "file://") {
		return r.URL
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return r.URL
	}
	p := u.Path
	if len(p) > 2 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/x
	}
	return filepath.FromSlash(p)
}

// docURL is where the document at path (relative, '/'-separated:
// "list/packages.json") of the repository is: a URL, or a file.
func (r Repo) docURL(path string) string {
	if r.Folder() {
		return filepath.Join(r.path(), filepath.FromSlash(path))
	}
	return strings.TrimRight(r.URL, "/") + "/" + path
}

// Shown is the repository's URL as messages show it (a password
// redacted).
func (r Repo) Shown() string { return redact.URL(r.URL) }

// CheckName says whether name can name a repository.
func CheckName(name string) error { return config.CheckRepoName(name) }

// Normalize checks a repository's URL and returns it as kept: a folder
// made absolute (relative to the working folder), a URL with a trailing
// slash. allowHTTP accepts plain http:// beyond loopback (--allow-http).
func Normalize(raw string, allowHTTP bool) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("no URL: give the index's base URL (https://...) or the folder of an export")
	}
	if config.RepoURLIsFolder(s) {
		abs, err := filepath.Abs(s)
		if err != nil {
			return "", fmt.Errorf("folder %s: %w", s, err)
		}
		return abs, nil
	}
	if err := config.CheckRepoURL(s); err != nil {
		u, perr := url.Parse(s)
		if !allowHTTP || perr != nil || u.Scheme != "http" || u.Host == "" {
			return "", fmt.Errorf("%w (pass --allow-http for plain http beyond loopback)", err)
		}
	}
	if strings.HasPrefix(strings.ToLower(s), "file://") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q: %w", redact.URL(s), redact.Error(err))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: a repository's URL is the index's base, without ?query or #fragment", redact.URL(s))
	}
	return strings.TrimRight(s, "/") + "/", nil
}
