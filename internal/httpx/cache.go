package httpx

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/sources"
)

// The conditional-request cache of a root is one append-only file of
// self-checking records, <dir>/http.log, with an index in memory:
//
//	record  = magic "mdc1" | payload length (uint32 LE) | CRC-32C of payload (uint32 LE) | payload
//	payload = url | etag | last-modified | stored (varint, Unix ns) | body
//
// where each string is a uvarint length and its bytes. A Put appends one
// record with one write; a Get reads one record at its offset and checks
// magic, length, CRC and URL, so an entry is never served for another URL
// and a torn or stale record is a miss. The first run of a check therefore
// costs one write per package instead of creating a file per package, and a
// later run one read per package from an open file.
//
// The file is rewritten (compacted: the newest record of each URL, to a
// temporary file renamed over it) when it holds a corrupt record, or when
// dead records outweigh live ones. Several processes may share it: each
// appends whole records with O_APPEND, and one that finds the file replaced
// by another's compaction reloads its index. Entries lost to a race or a
// crash cost one full GET later; nothing is fsynced.
const (
	cacheLogName = "http.log"
	recordMagic  = "mdc1"
	headerSize   = 12
	// maxRecord bounds one record: a cached body is at most a manifest
	// (DefaultMaxFetch, or a caller's larger cap) plus its URL and validators.
	maxRecord = 16 << 20
	// maxLog bounds the file read back; anything larger is not a cache
	// modup wrote, and is started afresh.
	maxLog = 256 << 20
	// compactMin: files smaller than this are never compacted for dead
	// records alone.
	compactMin = 1 << 20
)

// cacheIdle: the file is closed after this long unused, so a daemon holds
// no descriptor between checks (and on Windows another process can replace
// it).
const cacheIdle = 2 * time.Second

// renameFile is (*os.Root).Rename; tests make it fail as Windows does when
// another process has the file open.
var renameFile = (*os.Root).Rename

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCacheCorrupt reports a record that fails its checks.
var ErrCacheCorrupt = errors.New("corrupt cache record")

// LogCache is a sources.Cache kept in one append-only file per folder.
type LogCache struct {
	dir, path string
	// openDir opens the folder (creating it when create is set); every
	// file of the cache is reached through it.
	openDir func(create bool) (*os.Root, error)

	mu    sync.Mutex
	f     *os.File
	id    os.FileInfo     // the file the index describes
	index map[string]span // URL → its newest record
	size  int64           // bytes of the file known to the index
	live  int64           // bytes of the indexed records
	used  time.Time
	timer *time.Timer
	// idleAfter is cacheIdle; a field, not a variable, so that a test can
	// shorten it for its own cache while other caches' timers run.
	idleAfter time.Duration
}

type span struct {
	off int64
	n   int64
}

// NewLogCache returns the cache kept in dir/http.log. Nothing is created
// until the first Put, which creates dir (0700) and its parents.
func NewLogCache(dir string) *LogCache {
	return NewLogCacheIn(dir, func(create bool) (*os.Root, error) {
		if create {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
		}
		return os.OpenRoot(dir)
	})
}

// NewLogCacheIn returns the cache kept in http.log of the folder that open
// opens (creating it when create is set); dir names that folder in
// messages. The caller decides how the folder is reached: modup's own
// folder in a root is opened without following links (pkgdir.Layout.OpenOwn).
func NewLogCacheIn(dir string, open func(create bool) (*os.Root, error)) *LogCache {
	return &LogCache{dir: dir, path: filepath.Join(dir, cacheLogName), openDir: open, idleAfter: cacheIdle}
}

// Get returns the entry stored for url. An unreadable or corrupt record is
// a miss.
func (c *LogCache) Get(url string) (sources.CacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.open(false); err != nil {
		return sources.CacheEntry{}, false
	}
	s, ok := c.index[url]
	if !ok {
		return sources.CacheEntry{}, false
	}
	buf := make([]byte, s.n)
	if _, err := c.f.ReadAt(buf, s.off); err != nil {
		return sources.CacheEntry{}, false
	}
	gotURL, e, err := decodeRecord(buf)
	if err != nil || gotURL != url || (e.ETag == "" && e.LastModified == "") {
		return sources.CacheEntry{}, false
	}
	return e, true
}

// Put appends an entry for url; it replaces any earlier one.
func (c *LogCache) Put(url string, e sources.CacheEntry) error {
	rec, err := encodeRecord(url, e)
	if err != nil {
		return fmt.Errorf("cache %s: %w", url, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.open(true); err != nil {
		return fmt.Errorf("cache %s: %w", url, err)
	}
	if _, err := c.f.Write(rec); err != nil {
		return fmt.Errorf("cache %s: %w", c.path, err)
	}
	// With O_APPEND the offset is at the end of what was just written,
	// even when another process appended before it.
	end, err := c.f.Seek(0, io.SeekCurrent)
	if err != nil || end < int64(len(rec)) {
		end = c.size + int64(len(rec))
	}
	if old, ok := c.index[url]; ok {
		c.live -= old.n
	}
	c.index[url] = span{off: end - int64(len(rec)), n: int64(len(rec))}
	c.live += int64(len(rec))
	c.size = max(c.size+int64(len(rec)), end)
	if c.size >= compactMin && c.size-c.live > c.live {
		if r, err := c.openDir(false); err == nil {
			c.compact(r)
			r.Close()
		}
	}
	return nil
}

// Close closes the file; a later Get or Put opens it again.
func (c *LogCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeFile()
}

func (c *LogCache) closeFile() error {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}

// open makes c.f the open cache file, creating it when create is set, and
// (re)loads the index when the file is not the one it describes.
func (c *LogCache) open(create bool) error {
	c.used = time.Now()
	if c.f != nil {
		return nil
	}
	flag := os.O_RDWR | os.O_APPEND
	if create {
		flag |= os.O_CREATE
	}
	r, err := c.openDir(create)
	if err != nil {
		return err
	}
	defer r.Close()
	f, fi, err := c.openLog(r, flag)
	if err != nil {
		return err
	}
	c.f = f
	c.timer = time.AfterFunc(c.idleAfter, c.idle)
	if c.index != nil && c.id != nil && os.SameFile(c.id, fi) && fi.Size() >= c.size {
		return nil
	}
	if c.index == nil && fi.Size() == 0 {
		c.sweep(r)
	}
	return c.load(r, fi)
}

// openLog opens the log through an os.Root of its folder, so that a symlink
// put in its place cannot make modup write to a file outside the folder,
// and refuses anything but a regular file.
func (c *LogCache) openLog(r *os.Root, flag int) (*os.File, os.FileInfo, error) {
	f, err := r.OpenFile(cacheLogName, flag|fsutil.ONonblock, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s: %w", c.path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file; remove it", c.path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// idle closes the file once it has not been used for idleAfter.
func (c *LogCache) idle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return
	}
	if wait := c.idleAfter - time.Since(c.used); wait > 0 && c.timer != nil {
		c.timer.Reset(wait)
		return
	}
	c.closeFile()
}

// load reads the index of the open file. A corrupt record ends the
// readable part; the file is then compacted to that part, so that records
// appended later are found again.
func (c *LogCache) load(r *os.Root, fi os.FileInfo) error {
	c.index = map[string]span{}
	c.id, c.size, c.live = fi, 0, 0
	if fi.Size() > maxLog {
		return c.reset()
	}
	br := bufio.NewReaderSize(io.NewSectionReader(c.f, 0, fi.Size()), 64<<10)
	var off int64
	var hdr [headerSize]byte
	var payload []byte
	corrupt := false
	for off < fi.Size() {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			corrupt = true
			break
		}
		n, ok := checkHeader(hdr[:])
		if !ok {
			corrupt = true
			break
		}
		payload = slices.Grow(payload[:0], int(n))[:n]
		if _, err := io.ReadFull(br, payload); err != nil || crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[8:]) {
			corrupt = true
			break
		}
		url, _, ok := readString(payload)
		if !ok {
			corrupt = true
			break
		}
		size := headerSize + n
		if old, ok := c.index[url]; ok {
			c.live -= old.n
		}
		c.index[url] = span{off: off, n: size}
		c.live += size
		off += size
	}
	c.size = fi.Size()
	if corrupt {
		// Records appended after a corrupt one would never be read back:
		// rewrite the readable part, or at least cut the file there.
		// An append-only handle may not be allowed to truncate (Windows),
		// hence the second try through the path.
		if !c.compact(r) && c.f != nil && (c.f.Truncate(off) == nil || truncate(r, off) == nil) {
			c.size = off
		}
	} else if c.size >= compactMin && c.size-c.live > c.live {
		c.compact(r)
	}
	return nil
}

// reset starts an empty file in place of one that cannot be a cache.
func (c *LogCache) reset() error {
	if err := c.f.Truncate(0); err != nil {
		return fmt.Errorf("cache %s: %w", c.path, err)
	}
	fi, err := c.f.Stat()
	if err != nil {
		return err
	}
	c.index, c.id, c.size, c.live = map[string]span{}, fi, 0, 0
	return nil
}

// truncate cuts the log at off through a handle that may write anywhere.
func truncate(r *os.Root, off int64) error {
	f, err := r.OpenFile(cacheLogName, os.O_WRONLY|fsutil.ONonblock, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(off)
}

// compact rewrites the file with the indexed records only, and reports
// whether it did. On failure the old file stays in use: compaction only
// saves space and load time.
func (c *LogCache) compact(r *os.Root) bool {
	tmpName := fmt.Sprintf("%s.%016x.tmp", cacheLogName, rand.Uint64())
	tmp, err := r.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false
	}
	defer r.Remove(tmpName)
	type entry struct {
		url string
		span
	}
	entries := make([]entry, 0, len(c.index))
	for url, s := range c.index {
		entries = append(entries, entry{url, s})
	}
	slices.SortFunc(entries, func(a, b entry) int { return int(a.off - b.off) })
	w := bufio.NewWriterSize(tmp, 64<<10)
	index := make(map[string]span, len(entries))
	var off int64
	buf := []byte{}
	for _, e := range entries {
		buf = slices.Grow(buf[:0], int(e.n))[:e.n]
		if _, err := c.f.ReadAt(buf, e.off); err != nil {
			continue
		}
		if url, _, err := decodeRecord(buf); err != nil || url != e.url {
			// Another process truncated or rewrote the file under us.
			continue
		}
		if _, err := w.Write(buf); err != nil {
			tmp.Close()
			return false
		}
		index[e.url] = span{off: off, n: e.n}
		off += e.n
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return false
	}
	if err := tmp.Close(); err != nil {
		return false
	}
	// Replaced by a rename, not fsynced: a crash leaves the old file or
	// the new one, and either is a valid cache. The old file is closed
	// first: Windows refuses to replace a file that is open.
	c.f.Close()
	c.f = nil
	renamed := renameFile(r, tmpName, cacheLogName) == nil
	f, fi, err := c.openLog(r, os.O_RDWR|os.O_APPEND)
	if err != nil {
		// Nothing usable is open: the next Get or Put opens and loads
		// whatever is there.
		c.closeFile()
		c.index, c.id = nil, nil
		return false
	}
	c.f = f
	if !renamed {
		// The old file, open again; its index still holds.
		return false
	}
	c.index, c.id, c.size, c.live = index, fi, off, off
	return true
}

// sweep removes what earlier versions and interrupted compactions left in
// the cache folder: one JSON file per URL (named by its sha256) and
// temporary files older than an hour. Only names modup makes are touched.
func (c *LogCache) sweep(r *os.Root) {
	ents, err := fs.ReadDir(r.FS(), ".")
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		old := len(name) == 64+len(".json") && strings.HasSuffix(name, ".json") && isHex(name[:64])
		tmp := strings.HasPrefix(name, cacheLogName+".") && strings.HasSuffix(name, ".tmp")
		if !e.Type().IsRegular() || (!old && !tmp) {
			continue
		}
		if tmp {
			if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < time.Hour {
				continue
			}
		}
		r.Remove(name)
	}
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// encodeRecord returns the record of url and e.
func encodeRecord(url string, e sources.CacheEntry) ([]byte, error) {
	n := 5*binary.MaxVarintLen64 + len(url) + len(e.ETag) + len(e.LastModified) + len(e.Body)
	if headerSize+n > maxRecord {
		return nil, fmt.Errorf("entry of %d bytes is larger than the cache takes", n)
	}
	b := make([]byte, headerSize, headerSize+n)
	copy(b, recordMagic)
	for _, s := range []string{url, e.ETag, e.LastModified} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var stored int64
	if !e.Stored.IsZero() {
		stored = e.Stored.UnixNano()
	}
	b = binary.AppendVarint(b, stored)
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	b = append(b, e.Body...)
	payload := b[headerSize:]
	binary.LittleEndian.PutUint32(b[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(payload, castagnoli))
	return b, nil
}

// checkHeader returns the payload length of a record header.
func checkHeader(h []byte) (int64, bool) {
	if string(h[:4]) != recordMagic {
		return 0, false
	}
	n := int64(binary.LittleEndian.Uint32(h[4:]))
	return n, n > 0 && headerSize+n <= maxRecord
}

// decodeRecord checks a whole record and returns its URL and entry.
func decodeRecord(b []byte) (string, sources.CacheEntry, error) {
	var e sources.CacheEntry
	if len(b) < headerSize {
		return "", e, ErrCacheCorrupt
	}
	n, ok := checkHeader(b)
	if !ok || int64(len(b)) != headerSize+n {
		return "", e, ErrCacheCorrupt
	}
	p := b[headerSize:]
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return "", e, ErrCacheCorrupt
	}
	url, p, ok := readString(p)
	if !ok {
		return "", e, ErrCacheCorrupt
	}
	if e.ETag, p, ok = readString(p); !ok {
		return "", e, ErrCacheCorrupt
	}
	if e.LastModified, p, ok = readString(p); !ok {
		return "", e, ErrCacheCorrupt
	}
	stored, k := binary.Varint(p)
	if k <= 0 {
		return "", e, ErrCacheCorrupt
	}
	p = p[k:]
	if stored != 0 {
		e.Stored = time.Unix(0, stored).UTC()
	}
	// The body is the tail of b, which the caller does not reuse.
	body, rest, ok := readBytes(p)
	if !ok || len(rest) != 0 {
		return "", e, ErrCacheCorrupt
	}
	e.Body = body
	return url, e, nil
}

// readBytes reads a uvarint length and that many bytes.
func readBytes(p []byte) ([]byte, []byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, false
	}
	return p[k : k+int(n) : k+int(n)], p[k+int(n):], true
}

// readString is readBytes for a string field.
func readString(p []byte) (string, []byte, bool) {
	b, rest, ok := readBytes(p)
	return string(b), rest, ok
}
