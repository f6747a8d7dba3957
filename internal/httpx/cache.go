package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/sources"
)

// maxCacheFile bounds what DirCache reads back; anything larger is not an
// entry it wrote (manifests are capped far below).
const maxCacheFile = 16 << 20

// DirCache is a sources.Cache kept as one small JSON file per URL in dir,
// named by the sha256 of the URL. dir is created on the first Put; files are
// replaced atomically, without fsync. An unreadable or corrupt entry is a
// miss.
func DirCache(dir string) sources.Cache {
	return &dirCache{dir: dir}
}

type dirCache struct {
	dir string
}

// cacheFile is the stored form: the URL is kept so that an entry is never
// served for another URL, and so that a person can tell what a file is.
type cacheFile struct {
	URL string `json:"url"`
	sources.CacheEntry
}

func (d *dirCache) path(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(d.dir, hex.EncodeToString(sum[:])+".json")
}

func (d *dirCache) Get(url string) (sources.CacheEntry, bool) {
	b, ok := readCacheFile(d.path(url))
	if !ok {
		return sources.CacheEntry{}, false
	}
	var f cacheFile
	if err := json.Unmarshal(b, &f); err != nil || f.URL != url {
		return sources.CacheEntry{}, false
	}
	if f.ETag == "" && f.LastModified == "" {
		return sources.CacheEntry{}, false
	}
	return f.CacheEntry, true
}

func (d *dirCache) Put(url string, e sources.CacheEntry) error {
	b, err := json.Marshal(cacheFile{URL: url, CacheEntry: e})
	if err != nil {
		return fmt.Errorf("cache %s: %w", url, err)
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return fmt.Errorf("cache %s: %w", url, err)
	}
	// Replaced atomically but not fsynced: an entry lost to a crash costs
	// one full GET later, while an fsync per entry costs a disk flush per
	// package on every check.
	if err := fsutil.ReplaceFile(d.path(url), b, 0o600); err != nil {
		return fmt.Errorf("cache %s: %w", url, err)
	}
	return nil
}

// readCacheFile reads a regular file of at most maxCacheFile bytes with one
// open: a check reads one entry per package. ONonblock keeps a FIFO from
// blocking the open; its type is refused right after.
func readCacheFile(path string) ([]byte, bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|fsutil.ONonblock, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxCacheFile {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil || len(b) > maxCacheFile {
		return nil, false
	}
	return b, true
}
