package pkgdir

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
)

// The scan cache keeps, in <root>/.modup/cache/scan, what a scan of the
// root learned of each package's manifest: its bytes and decoded fields,
// keyed by the manifest's size, modification time, change time (where the
// system keeps one), inode and device. A scan stats each manifest and
// reads and parses only those whose key changed, so that listing an
// unchanged root of 10,000 packages reads one file instead of 10,000.
//
// What it sees: any write to a manifest changes its modification time
// (and on Unix its change time, which no tool can set back), a replaced
// manifest (an editor's or modup's atomic rename) has another inode, and
// a manifest whose key was still moving when the cache was written (within
// racyWindow of it, about the coarsest timestamp of common file systems)
// is not cached at all, so two writes in one timestamp tick are not
// mistaken for one.
//
// The corner it cannot see: on a system without change times (Windows),
// a rewrite in place that keeps the manifest's size and whose
// modification time is then set back to the old one (a copy tool that
// preserves times over an existing file). `touch` the manifest, or delete
// the cache file, and the next scan reads it again.
//
// A package's .git is looked up on every scan (a development checkout is
// never cached as anything), and so is everything else a scan reports.

// scanCacheFile is the cache's file in .modup/cache.
const scanCacheFile = "scan"

// scanMagic starts the file; its last byte is the format's version.
var scanMagic = []byte("modup-scan\x00\x02")

// maxScanCache bounds what is read of the cache (10,000 packages take a
// few MB).
const maxScanCache = 256 << 20

// racyWindow: a manifest changed this close to the cache's writing is not
// cached (FAT keeps modification times to 2 s).
const racyWindow = 2 * time.Second

// stamp is what the cache keys a manifest by.
type stamp struct {
	size, mtime, ctime int64 // times in Unix nanoseconds; ctime 0 where none
	ino, dev           uint64
}

// racy reports whether st changed within racyWindow of when (or after).
func (st stamp) racy(when time.Time) bool {
	limit := when.Add(-racyWindow).UnixNano()
	return st.mtime >= limit || st.ctime >= limit
}

// scanEntry is one package folder's cached manifest, and what its install
// record said (its stamp is rec; hasRec false when it had none).
type scanEntry struct {
	stamp   stamp
	summary manifest.Summary
	recState
}

// recState is what a scan knows of a package's install record.
type recState struct {
	rec    stamp
	hasRec bool
	note   RecordNote
}

// RecordNote is what a scan read of a package's install record: what list,
// check and the router ask of every package, so that a scan of thousands
// reads no record it read before (the scan cache keeps it).
type RecordNote struct {
	// Repo is the repository the package was installed from ("" for none).
	Repo string
	// Hold is its hold, nil when it is not held.
	Hold *Hold
}

// noteOf is the note of record rec.
func noteOf(rec Record) RecordNote { return RecordNote{Repo: rec.Repo, Hold: rec.Hold} }

// scanCache is one root's cache as read, and what the scan found.
type scanCache struct {
	l       Layout
	entries map[string]*scanEntry // by folder name
	// stat reads the packages' stamps (openDirStat; tests take away the
	// change time to show the corner the cache cannot see).
	stat statter
	// write is false when the scan must not change the root (completion).
	write bool
	// now is the clock that decides which entries are too recent to
	// cache (time.Now when nil).
	now func() time.Time
	// records is the root's installed/ (nil when there is none, or it
	// cannot be opened safely: then no package gets a note), open as a
	// folder too for stamps.
	records    *os.Root
	recordsDir *os.File
}

// openRecords opens installed/ for the notes (see RecordNote); ok is false
// when the notes cannot be taken (an unsafe .modup: every reader of a
// record then says why).
func (c *scanCache) openRecords() bool {
	r, err := c.l.OpenOwn(false, FolderInstalled)
	if errors.Is(err, fs.ErrNotExist) {
		return true // no records: every note is empty
	}
	if err != nil {
		return false
	}
	d, err := r.Open(".")
	if err != nil {
		r.Close()
		return false
	}
	c.records, c.recordsDir = r, d
	return true
}

func (c *scanCache) closeRecords() {
	if c.records != nil {
		c.recordsDir.Close()
		c.records.Close()
	}
}

// loadNote reads package name's install record into e (from the cache
// entry old when its stamp did not change); ok is false when it cannot be
// read now (the package then gets no note).
func (c *scanCache) loadNote(name string, old *scanEntry, e *recState) bool {
	if c.records == nil {
		e.hasRec, e.note = false, RecordNote{}
		return true
	}
	file := name + ".json"
	st, err := recordStamp(c.recordsDir, c.records, file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.hasRec, e.note = false, RecordNote{}
		return true
	case err != nil:
		return false
	case old != nil && old.hasRec && old.rec == st:
		e.hasRec, e.rec, e.note = true, st, old.note
		return true
	}
	data, err := fsutil.ReadRegularIn(c.records, file, maxRecordSize)
	var rec Record
	if err != nil || json.Unmarshal(data, &rec) != nil {
		// An unusable record counts as none, as everywhere; not cached.
		e.hasRec, e.rec, e.note = true, stamp{size: -1}, RecordNote{}
		return true
	}
	e.hasRec, e.rec, e.note = true, st, noteOf(rec)
	return true
}

// load reads the root's cache; a missing, damaged or foreign one is empty.
func (c *scanCache) load() {
	c.entries = map[string]*scanEntry{}
	data, err := c.l.readOwn(maxScanCache, FolderCache, scanCacheFile)
	if err != nil {
		return
	}
	if entries, ok := decodeScanCache(data); ok {
		c.entries = entries
	}
}

// lookup returns the entry cached for folder name when its stamp is
// still st.
func (c *scanCache) lookup(name string, st stamp) (*scanEntry, bool) {
	e, ok := c.entries[name]
	if !ok || e.stamp != st {
		return nil, false
	}
	return e, true
}

// save writes the cache of what the scan found (fresh, by folder name),
// when it differs from what was read. Entries that changed too recently
// to be trusted are left out.
func (c *scanCache) save(fresh map[string]*scanEntry) {
	if !c.write {
		return
	}
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	for name, e := range fresh {
		if e.stamp.racy(now) || (e.hasRec && (e.rec.size < 0 || e.rec.racy(now))) {
			delete(fresh, name)
		}
	}
	if sameEntries(c.entries, fresh) {
		return
	}
	r, err := c.l.OpenOwn(true, FolderCache)
	if err != nil {
		return // an unsafe .modup is refused elsewhere; a cache is optional
	}
	defer r.Close()
	sweepScanTemps(r)
	// Not synced: a cache lost to a power cut costs one full scan.
	_ = fsutil.ReplaceFileIn(r, scanCacheFile, encodeScanCache(fresh), 0o600)
}

// sweepScanTemps removes the temporary files of a writer killed before
// its rename, once they are an hour old.
func sweepScanTemps(r *os.Root) {
	ents, err := fs.ReadDir(r.FS(), ".")
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !fsutil.IsTempName(e.Name(), "."+scanCacheFile+".tmp-", "") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
			r.Remove(e.Name())
		}
	}
}

func sameEntries(a, b map[string]*scanEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for name, e := range b {
		old, ok := a[name]
		if !ok || old.stamp != e.stamp || old.hasRec != e.hasRec || old.rec != e.rec {
			return false
		}
	}
	return true
}

// The file: scanMagic, the CRC-32 (IEEE) of the rest, then the entries,
// each the folder name, the stamp, the manifest's bytes, its fields and
// zip_size; strings are length-prefixed (uvarint), numbers varints.

func encodeScanCache(entries map[string]*scanEntry) []byte {
	var b []byte
	b = append(b, scanMagic...)
	b = append(b, 0, 0, 0, 0) // the CRC, below
	b = binary.AppendUvarint(b, uint64(len(entries)))
	str := func(s []byte) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for name, e := range entries {
		str([]byte(name))
		b = binary.AppendVarint(b, e.stamp.size)
		b = binary.AppendVarint(b, e.stamp.mtime)
		b = binary.AppendVarint(b, e.stamp.ctime)
		b = binary.AppendUvarint(b, e.stamp.ino)
		b = binary.AppendUvarint(b, e.stamp.dev)
		str(e.summary.Data)
		for _, f := range e.summary.Fields {
			str([]byte(f))
		}
		b = binary.AppendVarint(b, e.summary.ZipSize)
		flags := byte(0)
		if e.hasRec {
			flags |= 1
		}
		if e.note.Hold != nil {
			flags |= 2
		}
		b = append(b, flags)
		if e.hasRec {
			b = binary.AppendVarint(b, e.rec.size)
			b = binary.AppendVarint(b, e.rec.mtime)
			b = binary.AppendVarint(b, e.rec.ctime)
			b = binary.AppendUvarint(b, e.rec.ino)
			b = binary.AppendUvarint(b, e.rec.dev)
			str([]byte(e.note.Repo))
		}
		if e.note.Hold != nil {
			str([]byte(e.note.Hold.Reason))
			b = binary.AppendVarint(b, e.note.Hold.Since.UnixNano())
		}
	}
	binary.LittleEndian.PutUint32(b[len(scanMagic):], crc32.ChecksumIEEE(b[len(scanMagic)+4:]))
	return b
}

// errScanCache: the cache file is damaged (it is then ignored and
// rewritten).
var errScanCache = errors.New("damaged scan cache")

// decodeScanCache reads what encodeScanCache wrote. The strings share one
// copy of the file.
func decodeScanCache(data []byte) (map[string]*scanEntry, bool) {
	head := len(scanMagic) + 4
	if len(data) < head || !bytes.Equal(data[:len(scanMagic)], scanMagic) ||
		binary.LittleEndian.Uint32(data[len(scanMagic):]) != crc32.ChecksumIEEE(data[head:]) {
		return nil, false
	}
	d := scanDecoder{text: string(data[head:]), raw: data[head:]}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.raw)) {
		return nil, false
	}
	out := make(map[string]*scanEntry, n)
	all := make([]scanEntry, n)
	for i := range n {
		name := d.str()
		e := &all[i]
		e.stamp.size = d.varint()
		e.stamp.mtime = d.varint()
		e.stamp.ctime = d.varint()
		e.stamp.ino = d.uvarint()
		e.stamp.dev = d.uvarint()
		e.summary.Data = d.bytes()
		for i := range e.summary.Fields {
			e.summary.Fields[i] = d.str()
		}
		e.summary.ZipSize = d.varint()
		flags := d.byte()
		if flags&1 != 0 {
			e.hasRec = true
			e.rec.size = d.varint()
			e.rec.mtime = d.varint()
			e.rec.ctime = d.varint()
			e.rec.ino = d.uvarint()
			e.rec.dev = d.uvarint()
			e.note.Repo = d.str()
		}
		if flags&2 != 0 {
			e.note.Hold = &Hold{Reason: d.str(), Since: time.Unix(0, d.varint()).UTC()}
		}
		if d.err != nil || CheckName(name) != nil || flags > 3 {
			return nil, false
		}
		out[name] = e
	}
	if d.off != len(d.raw) {
		return nil, false
	}
	return out, true
}

// scanDecoder reads the cache's fields; the first problem sticks.
type scanDecoder struct {
	text string // the same bytes as raw, for strings without copies
	raw  []byte
	off  int
	err  error
}

func (d *scanDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.raw[d.off:])
	if n <= 0 {
		d.err = errScanCache
		return 0
	}
	d.off += n
	return v
}

func (d *scanDecoder) byte() byte {
	if d.err != nil || d.off >= len(d.raw) {
		d.err = errScanCache
		return 0
	}
	d.off++
	return d.raw[d.off-1]
}

func (d *scanDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.raw[d.off:])
	if n <= 0 {
		d.err = errScanCache
		return 0
	}
	d.off += n
	return v
}

// span returns where the next string lies.
func (d *scanDecoder) span() (int, int) {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.raw)-d.off) {
		d.err = errScanCache
		return 0, 0
	}
	start := d.off
	d.off += int(n)
	return start, d.off
}

func (d *scanDecoder) str() string {
	a, b := d.span()
	return d.text[a:b]
}

func (d *scanDecoder) bytes() []byte {
	a, b := d.span()
	return d.raw[a:b:b]
}

// statter reads what a scan looks at in each package folder of a root.
type statter interface {
	// manifest is the stamp of <root>/<name>/a2modsource.json (a link
	// followed, as the manifest is read); an error wrapping
	// fs.ErrNotExist when there is none.
	manifest(name string) (stamp, error)
	// dev reports whether <root>/<name>/.git exists.
	dev(name string) bool
	close()
}

// pathStat is a statter by paths, with what os.Stat knows.
type pathStat struct{ root string }

func (s pathStat) manifest(name string) (stamp, error) {
	fi, err := os.Stat(filepath.Join(s.root, name, ManifestFile))
	if err != nil {
		return stamp{}, err
	}
	st := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if !fi.Mode().IsRegular() {
		st.size = -1 // never matches what a regular manifest was cached as
	}
	return st, nil
}

func (s pathStat) dev(name string) bool { return isDev(filepath.Join(s.root, name)) }

func (pathStat) close() {}

// isHidden reports names a scan skips.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }
