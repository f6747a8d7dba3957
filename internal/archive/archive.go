// Package archive extracts release zips safely and packs package folders
// into deterministic zips.
//
// Extract treats every archive as hostile: it checks every entry of the
// central directory before it writes a byte (names, types, duplicates, case
// collisions, sizes, compression ratios, overlapping data), writes only
// through an [os.Root] opened on the destination, and removes what it wrote
// when anything fails later (a checksum mismatch, a size that lies, a
// cancelled context). It also locates the package root: the folder that
// holds a2modsource.json.
//
// Pack is the inverse used by maintainers: the same folder always gives the
// same bytes, and anything Pack writes is accepted by Extract.
//
// The package knows nothing about versions, manifests' contents or HTTP.
package archive

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// ManifestName is the file whose folder is the package root.
const ManifestName = "a2modsource.json"

// Outcomes callers branch on with errors.Is.
var (
	// ErrHostile: the whole archive was rejected because of what an entry
	// is or claims (a name escaping dest, a symlink, a duplicate, ...). The
	// concrete error is a *HostileError naming the entry.
	ErrHostile = errors.New("hostile archive")
	// ErrNoManifest: no entry is named a2modsource.json.
	ErrNoManifest = errors.New("no a2modsource.json in archive")
	// ErrTooLarge: a cap on entries, bytes or compression ratio was hit.
	// errors.Is(err, ErrHostile) is true for these as well.
	ErrTooLarge = errors.New("archive exceeds limits")
	// ErrCorrupt: not a zip, truncated, a checksum mismatch, or an entry
	// whose data does not match the sizes its header declares.
	ErrCorrupt = errors.New("corrupt archive")
)

// HostileError names the entry that made an archive unacceptable and why.
// errors.Is(err, ErrHostile) is true for every HostileError; when Err is set
// (ErrTooLarge for the caps of Limits), errors.Is matches it too.
type HostileError struct {
	Entry  string // the entry's name as stored in the zip; "" for the archive as a whole
	Reason string
	Err    error // nil, or a more specific sentinel (ErrTooLarge)
}

func (e *HostileError) Error() string {
	prefix := ErrHostile.Error()
	if e.Err != nil {
		prefix = e.Err.Error()
	}
	if e.Entry == "" {
		return prefix + ": " + e.Reason
	}
	return fmt.Sprintf("%s: entry %s: %s", prefix, quoteName(e.Entry), e.Reason)
}

// Is makes errors.Is(err, ErrHostile) true.
func (e *HostileError) Is(target error) bool { return target == ErrHostile }

// Unwrap exposes Err (ErrTooLarge for the caps).
func (e *HostileError) Unwrap() error { return e.Err }

func hostile(entry, format string, args ...any) *HostileError {
	return &HostileError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

func tooLarge(entry, format string, args ...any) *HostileError {
	return &HostileError{Entry: entry, Reason: fmt.Sprintf(format, args...), Err: ErrTooLarge}
}

// Limits caps what one archive may hold. A zero or negative field means its
// default (see DefaultLimits).
type Limits struct {
	MaxEntries int   // entries in the central directory, and files plus folders (implied ones too); default 100_000
	MaxBytes   int64 // total uncompressed bytes, declared and actually written; default 2 GiB
	MaxRatio   int64 // per-entry uncompressed/compressed ratio; default 1000; entries under 1 MiB are exempt
	// MaxTotalRatio is the ratio of the whole archive: the files' declared
	// sizes over their compressed sizes; default 100; archives that expand
	// to less than 64 MiB are exempt. Deflate cannot shrink one entry much
	// beyond 1000:1, so MaxRatio alone lets 1,500 entries of almost 1 MiB
	// of zeros (each exempt) turn a 1.6 MB download into 1.5 GB.
	MaxTotalRatio int64
}

const (
	defaultMaxEntries    = 100_000
	defaultMaxBytes      = 2 << 30
	defaultMaxRatio      = 1000
	defaultMaxTotalRatio = 100
	ratioExempt          = 1 << 20  // entries smaller than this are not ratio-checked
	totalRatioExempt     = 64 << 20 // archives expanding to less than this are not ratio-checked as a whole
)

// DefaultLimits returns the caps used for fields left at zero.
func DefaultLimits() Limits {
	return Limits{MaxEntries: defaultMaxEntries, MaxBytes: defaultMaxBytes, MaxRatio: defaultMaxRatio, MaxTotalRatio: defaultMaxTotalRatio}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxTotalRatio <= 0 {
		l.MaxTotalRatio = d.MaxTotalRatio
	}
	return l
}

// Options tune Extract. The zero value is usable.
type Options struct {
	Limits  Limits
	Durable bool // make every written file and folder durable before returning (one syncfs on Linux 5.8+, else an fsync of each)
	Workers int  // parallel file writers; 0 = runtime.GOMAXPROCS(0)
	// Digests asks for the sha256 of every file below Root, computed from
	// the bytes as they are written (Result.Digests), so that nobody has
	// to read the tree again to fingerprint it.
	Digests bool
	// Rename, when set, gives the name an entry is written under, for
	// payloads that are not laid out as a package folder (a gist is a flat
	// list of files). It receives each entry's checked name ('/'-separated,
	// without a folder's trailing '/') and whether it is a folder, and
	// returns the name to write it under, which is checked again like an
	// entry's own name; every later check (duplicates, collisions, the
	// package root) sees the new names. An error rejects the archive.
	Rename func(name string, dir bool) (string, error)
}

// Result says what Extract wrote.
type Result struct {
	Root  string // absolute path of the folder inside dest that holds a2modsource.json
	Files int    // regular files written
	Bytes int64  // bytes written to them
	// Digests, with Options.Digests, maps the path of every file written
	// below Root, relative to Root with '/' separators, to the sha256 of
	// its content.
	Digests map[string][sha256.Size]byte
}
