// Package doc is the contract between a modup index and its clients: the
// JSON documents an index serves and exports, their paths, and the checks a
// client makes when it reads one.
//
// Both sides import this package and nothing else of the other: the index
// service (crawl, store, publish, serve) writes these documents, the client
// side (repositories, search, install by name) reads them with Decode,
// which rejects a document whose values a client must not trust: a package
// name that is a path, a digest that is not hex, a mirror URL that leaves
// the index.
//
// Every document is served at its path and at its path plus ".json"; an
// export names its files by the latter, so a served index and an exported
// folder on a static host answer the same bytes at the same names. The
// root document's file is "index.json".
package doc

import (
	"encoding/json"
	"time"
)

// Service is the "service" field of the root document.
const Service = "modup-index"

// FormatVersion is the "version" field of the root document: the version
// of this set of documents. A client refuses an index whose format is newer
// than the one it knows.
const FormatVersion = 1

// Root is the document at "/" (file "index.json"): what the index holds
// and how each source fared.
type Root struct {
	Service string `json:"service"`
	Version int    `json:"version"`
	// Generated is when the index data last changed (a build or refresh
	// that learned something), not when the document was served.
	Generated time.Time `json:"generated"`
	Packages  int       `json:"packages"`
	Versions  int       `json:"versions"`
	Sources   []Source  `json:"sources"`
	// PublicKey is the key that signs the index's documents, and Expires
	// when their signatures end (a signed index re-signs before then).
	// Both are empty for an unsigned index; the signatures themselves
	// (FileName + SignatureSuffix, whose trusted comment names the
	// document and its expiry) are what a client trusts, not these.
	PublicKey string     `json:"public_key,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// Source is one crawled update_url in the root document.
type Source struct {
	UpdateURL string `json:"update_url"`
	// Name is the package the source publishes ("" until it was read once).
	Name string `json:"name,omitempty"`
	// LastOK is when the source was last read without an error.
	LastOK time.Time `json:"last_ok,omitzero"`
	// LastError is the last refresh's error, worded as `modup check`
	// words it; "" when the last refresh went well.
	LastError string `json:"last_error,omitempty"`
}

// List is the document at "/list": every package and module name.
type List struct {
	Packages []string `json:"packages"`
	Modules  []string `json:"modules"`
}

// PackageList is the document at "/list/packages": the newest installable
// version of each package, everything a client needs to check or search
// all packages in one request.
type PackageList struct {
	Generated time.Time        `json:"generated"`
	Packages  []PackageSummary `json:"packages"`
}

// PackageSummary is one package in PackageList.
type PackageSummary struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name,omitempty"`
	Description string    `json:"description,omitempty"`
	Version     string    `json:"version"`
	Published   time.Time `json:"published,omitzero"`
	UpdateURL   string    `json:"update_url"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	Modules     []string  `json:"modules"`
	// Requires is the version's manifest "requires" field, as published.
	Requires json.RawMessage `json:"requires,omitempty"`
}

// ModuleList is the document at "/list/modules".
type ModuleList struct {
	Modules []ModuleSummary `json:"modules"`
}

// ModuleSummary is one module of a package's newest installable version;
// Version is the module's own (its a2module.json's).
type ModuleSummary struct {
	Name        string   `json:"name"`
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// PackageInfo is the document at "/info/packages/NAME": a package and
// every version the index knows, newest first.
type PackageInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	Maintainer  string `json:"maintainer,omitempty"`
	UpdateURL   string `json:"update_url"`
	// Latest is the version a client installs: the newest installable one
	// the author's pointer reaches; "" when none is installable.
	Latest   string    `json:"latest,omitempty"`
	Versions []Version `json:"versions"`
}

// PackageInfos is the document at "/info/packages": every package's info
// (or, served with ?names=a,b, those named).
type PackageInfos struct {
	Packages []PackageInfo `json:"packages"`
}

// Version is one published version of a package.
type Version struct {
	Version   string    `json:"version"`
	Tag       string    `json:"tag,omitempty"`
	Published time.Time `json:"published,omitzero"`
	// PayloadURL is where the author publishes the zip (a file:// URL for
	// a folder source).
	PayloadURL string `json:"payload_url"`
	// MirrorURL is the index's copy, relative to the index's base URL
	// ("mirror/NAME/VERSION.zip"); "" when not mirrored.
	MirrorURL string `json:"mirror_url,omitempty"`
	Size      int64  `json:"size"`
	// SHA256 is the hex digest of the zip as downloaded by the index; ""
	// only when it could not be downloaded (a blocking problem says why).
	SHA256     string `json:"sha256"`
	Prerelease bool   `json:"prerelease,omitempty"`
	// Manifest is the version's whole a2modsource.json as found in its
	// zip (null when the zip holds none that parses).
	Manifest json.RawMessage `json:"manifest"`
	Modules  []Module        `json:"modules"`
	// Problems are what `modup release check` finds wrong with the
	// version; one that is Blocking keeps it from being installed.
	Problems []Problem `json:"problems"`
	// PublicKey is the minisign key ("RW...") that signs the release, as
	// its author's source reports it (the release folder's
	// a2modsource.json, which `modup pack --sign` writes); "" when the
	// source names none. A client falls back to Manifest's public_key.
	PublicKey string `json:"public_key,omitempty"`
	// KeyRotation is the release's key_rotation as its author's source
	// reports it, nil when none.
	KeyRotation *KeyRotation `json:"key_rotation,omitempty"`
}

// KeyRotation is a manifest's key_rotation: the new public key, signed by
// the old secret key.
type KeyRotation struct {
	New       string `json:"new"`
	Signature string `json:"signature"`
}

// Installable reports whether a client may install v: no blocking problem.
func (v Version) Installable() bool {
	for _, p := range v.Problems {
		if p.Blocking {
			return false
		}
	}
	return true
}

// Module is one module folder of a version.
type Module struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name,omitempty"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	Author      string   `json:"author,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// Problem is one failed or warning step of `modup release check`.
type Problem struct {
	// Check is the release-check step ("archive", "checksum",
	// "zip-manifest", "modules", "download").
	Check    string `json:"check"`
	Blocking bool   `json:"blocking"`
	Detail   string `json:"detail"`
	Hint     string `json:"hint,omitempty"`
}

// ModuleInfo is the document at "/info/modules/NAME": the packages holding
// a module of that name (in their newest installable versions).
type ModuleInfo struct {
	Name     string          `json:"name"`
	Packages []ModulePackage `json:"packages"`
}

// ModulePackage is one package in ModuleInfo; Version and Description are
// the module's (its a2module.json's).
type ModulePackage struct {
	Package     string `json:"package"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}
