package repo

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// The cache of a repository is a folder of the user cache folder,
// <cache>/<name>/, holding each document read from it as decoded (gob,
// not JSON: a 10,000-package list is read in milliseconds, not a tenth of
// a second) with the validators of its last answer and when the
// repository last confirmed it, and state.json (the last refresh's error).
// A copy made for another URL under the same name is not used. Files are
// replaced by a rename, never synced: a cache lost costs one request.

// cacheMagic starts each cached document; its last line is the format.
const cacheMagic = "modup-repo-cache 1\n"

// maxCached bounds what is read of a cached document.
const maxCached = 512 << 20

// cached is one document as the cache keeps it.
type cached[T any] struct {
	// URL is where it was read.
	URL string
	// ETag and LastModified are the validators of an HTTP answer.
	ETag, LastModified string
	// Size and ModTime are a folder repository's file's, as read.
	Size    int64
	ModTime time.Time
	// Checked is when the repository last confirmed it (a 200, a 304, or
	// an unchanged file).
	Checked time.Time
	Doc     T
	// What a repository pinned to a key (Repo.Key) vouched for: the key
	// the signature verified with, the document's bytes as signed and
	// its signature (a 304 with a new signature is verified against
	// them), and the trusted comment's signing and expiry times. Key is
	// "" for a document that was not verified.
	Key               string
	Raw, Sig          []byte
	SignedAt, Expires time.Time
}

// cacheFile is where the document at path (relative to the index's base,
// "list/packages.json") of a repository is cached, in its folder dir.
func cacheFile(dir, path string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(path, ".json")+".gob"))
}

// readCached reads a cached document; a missing or unreadable one is nil
// (and so is every one without a cache folder, file "").
func readCached[T any](file string) *cached[T] {
	if file == "" {
		return nil
	}
	data, err := fsutil.ReadRegular(file, maxCached)
	if err != nil || !bytes.HasPrefix(data, []byte(cacheMagic)) {
		return nil
	}
	var c cached[T]
	if gob.NewDecoder(bytes.NewReader(data[len(cacheMagic):])).Decode(&c) != nil {
		return nil
	}
	return &c
}

// writeCached replaces a cached document (nothing without a cache folder,
// file "").
func writeCached[T any](file string, c *cached[T]) error {
	if file == "" {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString(cacheMagic)
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("cache %s: %w", file, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("cache %s: %w", file, err)
	}
	return fsutil.ReplaceFile(file, buf.Bytes(), 0o600)
}

// repoState is state.json: how the repository's last refresh went.
type repoState struct {
	URL string `json:"url"`
	// Error is the last refresh's error, "" when it went well; ErrorAt
	// when it happened.
	Error   string    `json:"error,omitempty"`
	ErrorAt time.Time `json:"error_at,omitzero"`
	// Confirmed is when the repository last confirmed each cached
	// document (by path) without sending it again: a 304, or an
	// unchanged file. It overrides an older Checked of the document.
	Confirmed map[string]time.Time `json:"confirmed,omitempty"`
}

const stateFile = "state.json"

func readState(dir string) repoState {
	var s repoState
	if dir == "" {
		return s
	}
	data, err := fsutil.ReadRegular(filepath.Join(dir, stateFile), 1<<20)
	if err != nil || json.Unmarshal(data, &s) != nil {
		return repoState{}
	}
	return s
}

func writeState(dir string, s repoState) error {
	if dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return fsutil.ReplaceFile(filepath.Join(dir, stateFile), append(data, '\n'), 0o600)
}

// removeCache deletes a repository's cache folder (repo remove). Only a
// folder is removed, never what a link there points to.
func removeCache(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return os.Remove(dir)
	}
	return os.RemoveAll(dir)
}
