package pkgdir

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
)

// The scan cache keeps, in <root>/.modup/cache/scan, what a scan of the
// root learned: the root's package folders, and of each its manifest's
// bytes and decoded fields, keyed by the manifest's size, modification
// time, change time (where the system keeps one), inode and device, and
// what its install record says. A scan stats each manifest and reads and
// parses only those whose key changed, so that listing an unchanged root
// of 10,000 packages reads one file instead of 10,000.
//
// What it sees: any write to a manifest changes its modification time
// (and on Unix its change time, which no tool can set back), a replaced
// manifest (an editor's or modup's atomic rename) has another inode, and
// a manifest whose key was still moving when the cache was written (within
// racyWindow of it, about the coarsest timestamp of common file systems)
// is not cached at all, so two writes in one timestamp tick are not
// mistaken for one.
//
// Two folders are keyed the same way, where the system keeps change times
// (Linux, macOS): while the root folder's stamp is the one the cache was
// written with, no folder was added, removed or renamed in it, and the
// cache's list of folders is used instead of listing the root; while
// installed/'s stamp is unchanged, no install record was written (modup
// replaces records by a rename, which moves it), and the notes the cache
// keeps are used without looking at the records.
//
// The corners it cannot see: on a system without change times (Windows),
// a rewrite in place that keeps the manifest's size and whose
// modification time is then set back to the old one (a copy tool that
// preserves times over an existing file); `touch` the manifest, or delete
// the cache file, and the next scan reads it again. And an install record
// in .modup/installed/ edited in place by hand (not by modup): the scan
// keeps the repository and hold it noted until any record of the root is
// written, or the cache file is deleted.
//
// A package's .git is looked up on every scan (a development checkout is
// never cached as anything), and so is everything else a scan reports.

// scanCacheFile is the cache's file in .modup/cache.
const scanCacheFile = "scan"

// scanMagic starts the file; its last byte is the format's version.
var scanMagic = []byte("modup-scan\x00\x03")

// maxScanCache bounds what is read of the cache (10,000 packages take a
// few MB).
const maxScanCache = 256 << 20

// racyWindow: a manifest, record or folder changed this close to the
// cache's writing is not trusted by the next scan (FAT keeps modification
// times to 2 s; Linux stamps files with a clock that moves in ticks).
const racyWindow = 2 * time.Second

// stamp is what the cache keys a file or a folder by.
type stamp struct {
	size, mtime, ctime int64 // times in Unix nanoseconds; ctime 0 where none
	ino, dev           uint64
}

// racy reports whether st changed within racyWindow of when (or after).
func (st stamp) racy(when time.Time) bool {
	limit := when.Add(-racyWindow).UnixNano()
	return st.mtime >= limit || st.ctime >= limit
}

// scanEntry is what the cache keeps of one package folder: its manifest
// when cached (its stamp and summary), and what its install record said
// (its stamp is rec; hasRec false when it had none). A folder whose
// manifest is not cached (none, unparsable, with requirements, or too
// recent) is kept by name only, so that the cache lists the whole root.
type scanEntry struct {
	cached  bool
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
	l    Layout
	file *scanFile // the cache as read; nil when there is none or it is damaged
	// stat reads the packages' stamps (openDirStat; tests take away the
	// change time to show the corner the cache cannot see).
	stat statter
	// write is false when the scan must not change the root (completion).
	write bool
	// now is the clock that decides which manifests and records are too
	// recent to cache (time.Now when nil); dirClock decides it for the
	// root's and installed/'s own stamps.
	now func() time.Time
	// records is the root's installed/ (nil when there is none, or it
	// cannot be opened safely: then no package gets a note), open as a
	// folder too for stamps; recs is that folder's stamp, taken before
	// any record was read (hasRecs false where there is none).
	records    *os.Root
	recordsDir *os.File
	recs       stamp
	hasRecs    bool
	// trustNotes is true when installed/ has not changed since the cache
	// was written: the notes it keeps are current (modup writes every
	// record by a rename, which moves the folder's stamp), and no record
	// is looked at.
	trustNotes bool
	// noteFailed is set when a record could not be read: installed/'s
	// stamp is then not kept, so the next scan looks at every record.
	noteFailed atomic.Bool
}

// dirClock is the clock that decides whether a folder's stamp (the
// root's, installed/'s) is too recent to be kept. Tests that move a
// scan's clock ahead (so that files they made are cached) leave this one:
// a folder they change in the timestamp tick of the scan before would
// look unchanged.
var dirClock = time.Now

func (c *scanCache) clock(dir bool) time.Time {
	switch {
	case dir:
		return dirClock()
	case c.now != nil:
		return c.now()
	}
	return time.Now()
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
	c.recs, c.hasRecs = dirStamp(d)
	f := c.file
	c.trustNotes = c.hasRecs && f != nil && f.hasRecs && f.recs == c.recs
	return true
}

func (c *scanCache) closeRecords() {
	if c.records != nil {
		c.recordsDir.Close()
		c.records.Close()
	}
}

// loadNote reads package name's install record into e (from the cache
// entry old when installed/ or the record's stamp did not change); ok is
// false when it cannot be read now (the package then gets no note).
func (c *scanCache) loadNote(name string, old *scanEntry, e *recState) bool {
	if c.records == nil {
		e.hasRec, e.note = false, RecordNote{}
		return true
	}
	if c.trustNotes && old != nil && old.cached {
		*e = old.recState
		return true
	}
	file := name + ".json"
	st, err := recordStamp(c.recordsDir, c.records, file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.hasRec, e.note = false, RecordNote{}
		return true
	case err != nil:
		c.noteFailed.Store(true)
		return false
	case old != nil && old.cached && old.hasRec && old.rec == st:
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

// load reads the root's cache; a missing, damaged or foreign one is none.
func (c *scanCache) load() {
	c.file = nil
	r, err := c.l.openOwn(false, FolderCache)
	if err != nil {
		return
	}
	defer r.Close()
	data, crc, err := readScanFile(r)
	if err != nil {
		return
	}
	c.file, _ = parseScanFile(data, crc)
}

// readScanFile reads the cache file in r into one string (its entries'
// strings are parts of it), and the CRC of what follows the file's own.
func readScanFile(r *os.Root) (string, uint32, error) {
	f, err := fsutil.OpenRegularIn(r, scanCacheFile)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if fi.Size() > maxScanCache {
		return "", 0, errScanCache
	}
	w := crcWriter{skip: len(scanMagic) + 4}
	w.b.Grow(int(fi.Size()))
	if _, err := io.Copy(&w, io.LimitReader(f, maxScanCache+1)); err != nil {
		return "", 0, err
	}
	if w.b.Len() > maxScanCache {
		return "", 0, errScanCache
	}
	return w.b.String(), w.crc, nil
}

// crcWriter keeps what is written, and the CRC-32 (IEEE) of what follows
// its first skip bytes.
type crcWriter struct {
	b    strings.Builder
	skip int
	crc  uint32
}

func (w *crcWriter) Write(p []byte) (int, error) {
	w.b.Write(p)
	n := min(w.skip, len(p))
	w.skip -= n
	w.crc = crc32.Update(w.crc, crc32.IEEETable, p[n:])
	return len(p), nil
}

// scanResult is what a scan found in one folder, for the cache it
// writes: the old entry's bytes when they are still right (keep), else
// the new entry (fresh; nil for a folder kept by name only).
type scanResult struct {
	keep  string
	fresh *scanEntry
}

// save writes the cache of what the scan found (names in the root's
// order, res by name; root the root's stamp taken before it was listed)
// when it differs from what was read.
func (c *scanCache) save(names []string, res []scanResult, root stamp, hasRoot bool) {
	if !c.write {
		return
	}
	var h scanHeader
	if hasRoot && !root.racy(c.clock(true)) {
		h.root, h.hasRoot = root, true
	}
	if c.hasRecs && !c.noteFailed.Load() && !c.recs.racy(c.clock(true)) {
		h.recs, h.hasRecs = c.recs, true
	}
	if f := c.file; f != nil && f.scanHeader == h && f.n == len(names) &&
		!slices.ContainsFunc(res, func(r scanResult) bool { return r.keep == "" }) {
		return
	}
	if c.file == nil && !slices.ContainsFunc(res, func(r scanResult) bool { return r.fresh != nil && r.fresh.cached }) {
		return // nothing worth a file (a root without packages gets no .modup)
	}
	data, ok := encodeScanFile(h, names, res, c.clock(false))
	if !ok {
		return
	}
	r, err := c.l.OpenOwn(true, FolderCache)
	if err != nil {
		return // an unsafe .modup is refused elsewhere; a cache is optional
	}
	defer r.Close()
	sweepScanTemps(r)
	// Not synced: a cache lost to a power cut costs one full scan.
	_ = fsutil.ReplaceFileIn(r, scanCacheFile, data, 0o600)
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

// The file: scanMagic, the CRC-32 (IEEE) of the rest, a header (flags,
// the root's stamp and installed/'s when kept, the number of entries n),
// n offsets of 4 bytes (little endian) into the entries, then the
// entries, one per package folder in name order: the folder name, flags
// (1 the manifest is cached, 2 with a record, 4 the record holds it),
// then the manifest's stamp, bytes, fields (see appendField) and zip_size, the record's
// stamp and repository, the hold's reason and time. Strings are
// length-prefixed (uvarint), numbers varints. The offsets let a scan
// decode each entry where it needs it, on every core, and copy the
// unchanged ones as they are into the next file.

// scanHeader is what the cache says of the whole root.
type scanHeader struct {
	root, recs       stamp
	hasRoot, hasRecs bool
}

const (
	entryCached = 1 << iota
	entryRecord
	entryHold
)

// scanFile is a scan cache as read: checked as a whole, its entries
// decoded one at a time (entry).
type scanFile struct {
	scanHeader
	n    int
	offs string // n offsets into ents
	ents string // the entries
}

// parseScanFile checks data (the file; crc that of what follows its
// CRC) and where its entries lie.
func parseScanFile(data string, crc uint32) (*scanFile, bool) {
	head := len(scanMagic) + 4
	if len(data) < head || data[:len(scanMagic)] != string(scanMagic) ||
		binary.LittleEndian.Uint32([]byte(data[len(scanMagic):head])) != crc {
		return nil, false
	}
	d := scanDecoder{text: data[head:]}
	f := &scanFile{}
	flags := d.byte()
	if flags&1 != 0 {
		f.root, f.hasRoot = d.stamp(), true
	}
	if flags&2 != 0 {
		f.recs, f.hasRecs = d.stamp(), true
	}
	n := d.uvarint()
	if d.err != nil || flags > 3 || n > uint64(len(d.text)-d.off)/4 {
		return nil, false
	}
	f.n = int(n)
	f.offs = d.text[d.off : d.off+4*f.n]
	f.ents = d.text[d.off+4*f.n:]
	prev := -1
	for i := range f.n {
		off := f.offset(i)
		if off <= prev || off >= len(f.ents) || (i == 0) != (off == 0) {
			return nil, false
		}
		prev = off
	}
	if f.n == 0 && len(f.ents) != 0 {
		return nil, false
	}
	return f, true
}

// offset is where entry i starts in ents.
func (f *scanFile) offset(i int) int {
	o := f.offs[4*i : 4*i+4]
	return int(uint32(o[0]) | uint32(o[1])<<8 | uint32(o[2])<<16 | uint32(o[3])<<24)
}

// span returns where entry i lies in ents.
func (f *scanFile) span(i int) (int, int) {
	if i+1 < f.n {
		return f.offset(i), f.offset(i + 1)
	}
	return f.offset(i), len(f.ents)
}

func (f *scanFile) decoder(i int) scanDecoder {
	a, b := f.span(i)
	return scanDecoder{text: f.ents[a:b]}
}

// bytes returns entry i as it is in the file.
func (f *scanFile) bytes(i int) string {
	a, b := f.span(i)
	return f.ents[a:b]
}

// name returns entry i's folder name ("" when it is not one).
func (f *scanFile) name(i int) string {
	d := f.decoder(i)
	if name := d.str(); d.err == nil && isFolderName(name) {
		return name
	}
	return ""
}

// names returns every entry's folder name, nil when one is not a folder
// name or they are out of order.
func (f *scanFile) names() []string {
	out := make([]string, f.n)
	for i := range f.n {
		out[i] = f.name(i)
		if out[i] == "" || (i > 0 && out[i-1] >= out[i]) {
			return nil
		}
	}
	return out
}

// match returns, for each of names (sorted), the index of its entry in
// f, -1 for none.
func (f *scanFile) match(names []string) []int {
	at := make([]int, len(names))
	i := 0
	for j, name := range names {
		at[j] = -1
		for f != nil && i < f.n {
			got := f.name(i)
			if got == name {
				at[j] = i
				i++
				break
			}
			if got > name {
				break
			}
			i++
		}
	}
	return at
}

// entry decodes entry i, named name; ok is false when it is damaged.
func (f *scanFile) entry(i int) (name string, e scanEntry, ok bool) {
	d := f.decoder(i)
	name = d.str()
	flags := d.byte()
	if flags&entryCached != 0 {
		e.cached = true
		e.stamp = d.stamp()
		e.summary.Data = d.str()
		for i := range e.summary.Fields {
			e.summary.Fields[i] = d.field(e.summary.Data)
		}
		e.summary.ZipSize = d.varint()
	}
	if flags&entryRecord != 0 {
		e.hasRec = true
		e.rec = d.stamp()
		e.note.Repo = d.str()
	}
	if flags&entryHold != 0 {
		e.note.Hold = &Hold{Reason: d.str(), Since: time.Unix(0, d.varint()).UTC()}
	}
	valid := flags < 8 && (flags == 0 || flags&entryCached != 0) && (flags&entryHold == 0 || flags&entryRecord != 0)
	if d.err != nil || d.off != len(d.text) || !valid || !isFolderName(name) {
		return "", scanEntry{}, false
	}
	return name, e, true
}

// isFolderName reports whether name can be a package folder of a root as
// a scan lists them: one path element, not hidden.
func isFolderName(name string) bool {
	return name != "" && !isHidden(name) && !strings.ContainsAny(name, "/\\\x00")
}

// encodeScanFile is the file of header h and the entries of names (in
// order, as res says); ok is false when it would be too big to read.
// Entries that changed too recently (by now) to be trusted are kept by
// name only.
func encodeScanFile(h scanHeader, names []string, res []scanResult, now time.Time) ([]byte, bool) {
	offs := make([]byte, 0, 4*len(names))
	var ents []byte
	for i, name := range names {
		offs = binary.LittleEndian.AppendUint32(offs, uint32(len(ents)))
		if res[i].keep != "" {
			ents = append(ents, res[i].keep...)
		} else {
			ents = appendEntry(ents, name, res[i].fresh, now)
		}
		if len(ents) > maxScanCache {
			return nil, false
		}
	}
	b := make([]byte, 0, len(scanMagic)+4+64+len(offs)+len(ents))
	b = append(b, scanMagic...)
	b = append(b, 0, 0, 0, 0) // the CRC, below
	flags := byte(0)
	if h.hasRoot {
		flags |= 1
	}
	if h.hasRecs {
		flags |= 2
	}
	b = append(b, flags)
	if h.hasRoot {
		b = appendStamp(b, h.root)
	}
	if h.hasRecs {
		b = appendStamp(b, h.recs)
	}
	b = binary.AppendUvarint(b, uint64(len(names)))
	b = append(b, offs...)
	b = append(b, ents...)
	binary.LittleEndian.PutUint32(b[len(scanMagic):], crc32.ChecksumIEEE(b[len(scanMagic)+4:]))
	return b, true
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendField appends a manifest's field f: where the manifest's bytes
// hold it as it is (no escapes: nearly always), where (uvarint 1 + its
// offset, then its length), else itself (0, then the string). The file
// is then about half the size, and read in half the time.
func appendField(b []byte, f, data string) []byte {
	if i := strings.Index(data, f); f != "" && i >= 0 {
		b = binary.AppendUvarint(b, uint64(i)+1)
		return binary.AppendUvarint(b, uint64(len(f)))
	}
	return appendStr(binary.AppendUvarint(b, 0), f)
}

func appendStamp(b []byte, st stamp) []byte {
	b = binary.AppendVarint(b, st.size)
	b = binary.AppendVarint(b, st.mtime)
	b = binary.AppendVarint(b, st.ctime)
	b = binary.AppendUvarint(b, st.ino)
	return binary.AppendUvarint(b, st.dev)
}

// appendEntry appends folder name's entry e (nil: by name only).
func appendEntry(b []byte, name string, e *scanEntry, now time.Time) []byte {
	b = appendStr(b, name)
	if e == nil || !e.cached || e.stamp.racy(now) || (e.hasRec && (e.rec.size < 0 || e.rec.racy(now))) {
		return append(b, 0)
	}
	flags := byte(entryCached)
	if e.hasRec {
		flags |= entryRecord
		if e.note.Hold != nil {
			flags |= entryHold
		}
	}
	b = append(b, flags)
	b = appendStamp(b, e.stamp)
	b = appendStr(b, e.summary.Data)
	for _, f := range e.summary.Fields {
		b = appendField(b, f, e.summary.Data)
	}
	b = binary.AppendVarint(b, e.summary.ZipSize)
	if e.hasRec {
		b = appendStamp(b, e.rec)
		b = appendStr(b, e.note.Repo)
		if e.note.Hold != nil {
			b = appendStr(b, e.note.Hold.Reason)
			b = binary.AppendVarint(b, e.note.Hold.Since.UnixNano())
		}
	}
	return b
}

// errScanCache: the cache file is damaged (it is then ignored and
// rewritten).
var errScanCache = errors.New("damaged scan cache")

// scanDecoder reads the cache's fields; the first problem sticks.
type scanDecoder struct {
	text string
	off  int
	err  error
}

// uvarint reads what binary.AppendUvarint wrote.
func (d *scanDecoder) uvarint() uint64 {
	var x uint64
	for i, shift := 0, uint(0); d.err == nil && i < binary.MaxVarintLen64 && d.off < len(d.text); i, shift = i+1, shift+7 {
		b := d.text[d.off]
		d.off++
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break // overflows 64 bits
			}
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
	}
	d.err = errScanCache
	return 0
}

// varint reads what binary.AppendVarint wrote.
func (d *scanDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// field reads what appendField wrote of a field of the manifest data.
func (d *scanDecoder) field(data string) string {
	at := d.uvarint()
	if at == 0 {
		return d.str()
	}
	n := d.uvarint()
	if d.err != nil || at-1 > uint64(len(data)) || n > uint64(len(data))-(at-1) {
		d.err = errScanCache
		return ""
	}
	return data[at-1 : at-1+n]
}

func (d *scanDecoder) byte() byte {
	if d.err != nil || d.off >= len(d.text) {
		d.err = errScanCache
		return 0
	}
	d.off++
	return d.text[d.off-1]
}

func (d *scanDecoder) stamp() stamp {
	return stamp{size: d.varint(), mtime: d.varint(), ctime: d.varint(), ino: d.uvarint(), dev: d.uvarint()}
}

// str reads a length-prefixed string, part of the decoder's text.
func (d *scanDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.text)-d.off) {
		d.err = errScanCache
		return ""
	}
	d.off += int(n)
	return d.text[d.off-int(n) : d.off]
}

// statter reads what a scan looks at in each package folder of a root.
type statter interface {
	// manifest is the stamp of <root>/<name>/a2modsource.json (a link
	// followed, as the manifest is read); an error wrapping
	// fs.ErrNotExist when there is none.
	manifest(name string) (stamp, error)
	// dev reports whether <root>/<name>/.git exists.
	dev(name string) bool
	// rootStamp is the stamp of the root folder itself, ok false where there
	// is none to trust (see dirStamp).
	rootStamp() (st stamp, ok bool)
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

func (pathStat) rootStamp() (stamp, bool) { return stamp{}, false }

func (pathStat) close() {}

// isHidden reports names a scan skips.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }
