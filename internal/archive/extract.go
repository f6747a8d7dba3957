package archive

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modup/modup/internal/fsutil"
)

// copyBufSize is the per-worker copy buffer.
const copyBufSize = 256 << 10

// zip general-purpose flag bits we refuse.
const (
	flagEncrypted       = 0x1
	flagStrongEncrypted = 0x40
)

// Unix file types as stored in the high half of ExternalAttrs.
const (
	unixTypeMask = 0o170000
	unixRegular  = 0o100000
	unixDir      = 0o040000
)

const (
	creatorUnix  = 3
	creatorMacOS = 19
)

// fileJob is one regular file to write.
type fileJob struct {
	f    *zip.File
	name string // '/'-separated, relative to dest
	perm fs.FileMode
	size int64             // declared uncompressed size
	sum  [sha256.Size]byte // of the content written, with Options.Digests
}

// plan is what validation decided to write.
type plan struct {
	dirs  []string // every folder, explicit or implied, sorted so parents come first
	files []fileJob
	tops  []string // top-level names, for cleanup
	root  string   // '/'-separated folder of the manifest; "." for dest itself
}

// ExtractFile is Extract for a zip on disk.
func ExtractFile(ctx context.Context, zipPath, dest string, opt Options) (Result, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return Result{}, fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("extract: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("extract %s: not a regular file", zipPath)
	}
	res, err := Extract(ctx, f, fi.Size(), dest, opt)
	if err != nil {
		return Result{}, fmt.Errorf("extract %s: %w", zipPath, err)
	}
	return res, nil
}

// Extract validates every entry of the zip in r before writing anything, then
// extracts it into dest, which must be an existing, empty folder, and reports
// where the package root (the folder holding a2modsource.json) is.
//
// A rejected archive leaves dest empty: validation failures happen before the
// first write, and failures found while writing (checksums, sizes that lie,
// cancellation, a full disk) remove what was written.
func Extract(ctx context.Context, r io.ReaderAt, size int64, dest string, opt Options) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("extract: %w", err)
	}
	absDest, err := filepath.Abs(dest)
	if err != nil {
		return Result{}, fmt.Errorf("extract: %w", err)
	}
	root, err := os.OpenRoot(absDest)
	if err != nil {
		return Result{}, fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	if err := checkEmpty(root); err != nil {
		return Result{}, fmt.Errorf("extract to %s: %w", absDest, err)
	}

	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath (GODEBUG=zipinsecurepath=0) still returns a
		// usable reader; our own checks are stricter.
		return Result{}, fmt.Errorf("%w: not a zip, or truncated: %w", ErrCorrupt, err)
	}
	lim := opt.Limits.withDefaults()
	p, err := validate(ctx, zr, size, lim, opt.Rename)
	if err != nil {
		return Result{}, err
	}
	res, err := p.write(ctx, root, opt, lim)
	if err != nil {
		for _, top := range p.tops {
			root.RemoveAll(top)
		}
		return Result{}, err
	}
	res.Root = filepath.Join(absDest, filepath.FromSlash(p.root))
	return res, nil
}

// renameEntry applies Options.Rename to the checked name of entry, and
// checks the new name as strictly as the stored one.
func renameEntry(rename func(string, bool) (string, error), entry, name string, dir bool) (string, error) {
	to, err := rename(name, dir)
	if err != nil {
		return "", hostile(entry, "%v", err)
	}
	if dir {
		to += "/"
	}
	clean, _, reason := checkName(to)
	if reason != "" {
		return "", hostile(entry, "renamed to %q: %s", to, reason)
	}
	return clean, nil
}

func checkEmpty(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if len(names) > 0 {
		return errors.New("destination folder is not empty")
	}
	if err != nil && err != io.EOF {
		return err
	}
	return nil
}

// node is a path the archive creates, explicitly or as a parent folder.
type node struct {
	name     string
	dir      bool
	explicit bool // a folder with its own entry
}

// validate checks every entry from the central directory (plus each local
// header's position) and returns what to write.
func validate(ctx context.Context, zr *zip.Reader, size int64, lim Limits, rename func(string, bool) (string, error)) (*plan, error) {
	if len(zr.File) > lim.MaxEntries {
		return nil, tooLarge("", "%d entries exceed the limit of %d", len(zr.File), lim.MaxEntries)
	}
	p := &plan{}
	nodes := make(map[string]*node, len(zr.File))
	var total, totalComp uint64
	var manifests []string
	// A corrupt entry is remembered, not returned at once: an archive that
	// is also hostile is reported as hostile.
	var corrupt error
	minDepth := -1

	for _, f := range zr.File {
		name, dir, reason := checkName(f.Name)
		if reason != "" {
			return nil, hostile(f.Name, "%s", reason)
		}
		if f.Flags&(flagEncrypted|flagStrongEncrypted) != 0 {
			return nil, hostile(f.Name, "encrypted entry")
		}
		mode := f.Mode()
		if reason := typeReason(f, mode); reason != "" {
			return nil, hostile(f.Name, "%s", reason)
		}
		dir = dir || mode.IsDir()
		if rename != nil {
			var err error
			if name, err = renameEntry(rename, f.Name, name, dir); err != nil {
				return nil, err
			}
		}
		u, c := f.UncompressedSize64, f.CompressedSize64
		if dir {
			if u != 0 {
				return nil, hostile(f.Name, "folder entry holds %d bytes of data", u)
			}
		} else {
			switch f.Method {
			case zip.Store:
				if c != u && corrupt == nil {
					corrupt = fmt.Errorf("%w: entry %s: stored (uncompressed) entry declares %d bytes but holds %d", ErrCorrupt, quoteName(f.Name), u, c)
				}
			case zip.Deflate:
			default:
				return nil, hostile(f.Name, "unsupported compression method %d", f.Method)
			}
			if u > uint64(lim.MaxBytes) || total+u > uint64(lim.MaxBytes) {
				return nil, tooLarge(f.Name, "declared sizes add up to more than the limit of %d bytes", lim.MaxBytes)
			}
			total += u
			totalComp += c
			if u >= ratioExempt && (c == 0 || u/c > uint64(lim.MaxRatio)) {
				ratio := "infinite"
				if c != 0 {
					ratio = fmt.Sprintf("%d:1", u/c)
				}
				return nil, tooLarge(f.Name, "compression ratio %s exceeds the limit of %d:1", ratio, lim.MaxRatio)
			}
		}
		if err := register(nodes, f.Name, name, dir); err != nil {
			return nil, err
		}
		// One long name can imply thousands of folders: they count too.
		if len(nodes) > lim.MaxEntries {
			return nil, tooLarge(f.Name, "files and folders (implied ones included) exceed the limit of %d", lim.MaxEntries)
		}
		if dir {
			continue
		}
		if path.Base(name) == ManifestName {
			depth := strings.Count(name, "/")
			switch {
			case minDepth < 0 || depth < minDepth:
				minDepth, manifests = depth, []string{name}
			case depth == minDepth:
				manifests = append(manifests, name)
			}
		}
		// As unzip and tar make them: 0666, or 0777 when the zip marks
		// the file executable, less the umask; never setuid, setgid or
		// sticky.
		perm := fsutil.Perm(0o666)
		if mode&0o111 != 0 {
			perm = fsutil.Perm(0o777)
		}
		p.files = append(p.files, fileJob{f: f, name: name, perm: perm, size: int64(u)})
	}

	if err := checkTotalRatio(total, totalComp, lim.MaxTotalRatio); err != nil {
		return nil, err
	}
	if err := checkOverlaps(ctx, zr.File, size); err != nil {
		return nil, err
	}
	if corrupt != nil {
		return nil, corrupt
	}

	switch len(manifests) {
	case 0:
		return nil, fmt.Errorf("%w: a release zip must contain the package folder, with %s at its top", ErrNoManifest, ManifestName)
	case 1:
		p.root = path.Dir(manifests[0])
	default:
		slices.Sort(manifests)
		return nil, hostile(manifests[1], "ambiguous package root: %s and %s are both at the shallowest depth", quoteName(manifests[0]), quoteName(manifests[1]))
	}

	for _, n := range nodes {
		if n.dir {
			p.dirs = append(p.dirs, n.name)
		}
		if !strings.Contains(n.name, "/") {
			p.tops = append(p.tops, n.name)
		}
	}
	// A parent is a prefix of its children, so it sorts first.
	slices.Sort(p.dirs)
	slices.Sort(p.tops)
	return p, nil
}

// Batches of files that share a folder: a worker opens the folder once
// (os.Root otherwise walks every component of every name) and writes them.
const (
	batchFiles = 64
	batchBytes = 8 << 20
)

type batch struct {
	dir   string    // '/'-separated, "." for dest
	files []fileJob // all in dir
	size  int64
}

// batches groups p.files by folder, largest batches first so that all
// workers stay busy until the end.
func (p *plan) batches() []batch {
	files := slices.Clone(p.files)
	slices.SortFunc(files, func(a, b fileJob) int {
		return cmp.Or(strings.Compare(path.Dir(a.name), path.Dir(b.name)), cmp.Compare(b.size, a.size))
	})
	var out []batch
	for _, f := range files {
		dir := path.Dir(f.name)
		if n := len(out); n == 0 || out[n-1].dir != dir || len(out[n-1].files) >= batchFiles || out[n-1].size+f.size > batchBytes {
			out = append(out, batch{dir: dir})
		}
		b := &out[len(out)-1]
		b.files = append(b.files, f)
		b.size += f.size
	}
	slices.SortStableFunc(out, func(a, b batch) int { return cmp.Compare(b.size, a.size) })
	return out
}

// typeReason rejects anything but regular files and folders.
func typeReason(f *zip.File, mode fs.FileMode) string {
	switch t := mode.Type(); {
	case t == 0 || t == fs.ModeDir:
	case t&fs.ModeSymlink != 0:
		return "symbolic link"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "block device"
	case t&fs.ModeSocket != 0:
		return "socket"
	default:
		return fmt.Sprintf("irregular file type %v", t)
	}
	// archive/zip maps unknown Unix types to regular files; we do not.
	if c := f.CreatorVersion >> 8; c == creatorUnix || c == creatorMacOS {
		switch t := (f.ExternalAttrs >> 16) & unixTypeMask; t {
		case 0, unixRegular, unixDir:
		default:
			return fmt.Sprintf("unknown Unix file type %#o", t)
		}
	}
	return ""
}

// register records name (and its parent folders) and rejects duplicates,
// case-insensitive collisions and a name used as both a file and a folder.
func register(nodes map[string]*node, entry, name string, dir bool) error {
	key := foldKey(name)
	if err := put(nodes, entry, key, name, dir, dir); err != nil {
		return err
	}
	// Parents, deepest first; once one is known, its parents are too. The
	// fold key keeps '/' where the name has it, so the cuts line up.
	for {
		i, j := strings.LastIndexByte(name, '/'), strings.LastIndexByte(key, '/')
		if i < 0 {
			return nil
		}
		name, key = name[:i], key[:j]
		if n, ok := nodes[key]; ok {
			return conflict(entry, n, name, true, false)
		}
		nodes[key] = &node{name: name, dir: true}
	}
}

func put(nodes map[string]*node, entry, key, name string, dir, explicit bool) error {
	n, ok := nodes[key]
	if !ok {
		nodes[key] = &node{name: name, dir: dir, explicit: explicit}
		return nil
	}
	if err := conflict(entry, n, name, dir, explicit); err != nil {
		return err
	}
	if explicit && !n.explicit {
		n.explicit = true
		return nil
	}
	return hostile(entry, "duplicate entry")
}

// conflict checks a new use of an existing node's key.
func conflict(entry string, n *node, name string, dir, explicit bool) error {
	switch {
	case n.name != name && !strings.EqualFold(n.name, name):
		return hostile(entry, "%s and %s are the same name on macOS, which ignores the Unicode normalization form: spell both in one form (NFC)", quoteName(n.name), quoteName(name))
	case n.name != name:
		return hostile(entry, "%s and %s collide on case-insensitive file systems", quoteName(n.name), quoteName(name))
	case n.dir != dir:
		return hostile(entry, "%s is both a file and a folder", quoteName(name))
	}
	return nil
}

// checkTotalRatio applies the ratio cap to the archive as a whole: the
// files' declared sizes over their compressed sizes (total and comp), once
// they add up to totalRatioExempt.
func checkTotalRatio(total, comp uint64, maxRatio int64) error {
	if total < totalRatioExempt {
		return nil
	}
	if comp != 0 && total/comp <= uint64(maxRatio) {
		return nil
	}
	ratio := "an infinite ratio"
	if comp != 0 {
		ratio = fmt.Sprintf("%d:1", total/comp)
	}
	return tooLarge("", "%s of compressed data expand to %s (%s), beyond the limit of %d:1 for a whole archive",
		byteSize(comp), byteSize(total), ratio, maxRatio)
}

// byteSize is n in the largest binary unit that keeps it at least 1.
func byteSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", f, []string{"B", "KiB", "MiB", "GiB", "TiB"}[i])
}

// checkOverlaps rejects entries whose data lies outside the archive or
// overlaps another entry's (the trick of non-recursive zip bombs, where many
// central directory records share one compressed body).
func checkOverlaps(ctx context.Context, files []*zip.File, size int64) error {
	type span struct {
		start, end int64
		name       string
	}
	spans := make([]span, 0, len(files))
	for i, f := range files {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("extract: %w", err)
			}
		}
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%w: entry %s: read local header: %w", ErrCorrupt, quoteName(f.Name), err)
		}
		c := f.CompressedSize64
		if off < 0 || off > size || c > uint64(size-off) {
			return fmt.Errorf("%w: entry %s: data extends past the end of the archive", ErrCorrupt, quoteName(f.Name))
		}
		// An empty body still owns its offset: two records sharing one
		// local header are an overlap even when there is no data.
		end := off + int64(max(c, 1))
		spans = append(spans, span{off, end, f.Name})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if prev := spans[i-1]; spans[i].start < prev.end {
			return hostile(spans[i].name, "data overlaps entry %s", quoteName(prev.name))
		}
	}
	return nil
}

// write creates the folders, then the files in parallel.
func (p *plan) write(ctx context.Context, root *os.Root, opt Options, lim Limits) (Result, error) {
	for i, d := range p.dirs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, extractError(err)
			}
		}
		if err := root.Mkdir(d, 0o777); err != nil { // less the umask
			return Result{}, extractError(err)
		}
	}

	// Where one syncfs(2) can make the whole tree durable at the end, files
	// are not fsynced one by one: for a package of 20,000 files that is
	// the difference between seconds and a minute.
	fsyncEach := opt.Durable && !fsutil.SyncFSUsable()
	var written atomic.Int64
	batches := p.batches()
	err := parallel(ctx, opt.Workers, len(batches), func(ctx context.Context, i int, buf []byte) error {
		b := &batches[i]
		dir := root
		if b.dir != "." {
			sub, err := root.OpenRoot(b.dir)
			if err != nil {
				return extractError(err)
			}
			defer sub.Close()
			dir = sub
		}
		var sum hash.Hash
		if opt.Digests {
			sum = sha256.New()
		}
		for j := range b.files {
			if err := writeFile(ctx, dir, &b.files[j], buf, sum, &written, lim.MaxBytes, fsyncEach); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && opt.Durable {
		err = p.sync(ctx, root, opt, fsyncEach)
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: len(p.files), Bytes: written.Load()}
	if opt.Digests {
		res.Digests = make(map[string][sha256.Size]byte, len(p.files))
		prefix := ""
		if p.root != "." {
			prefix = p.root + "/"
		}
		for _, b := range batches {
			for _, f := range b.files {
				if rel, ok := strings.CutPrefix(f.name, prefix); ok {
					res.Digests[rel] = f.sum
				}
			}
		}
	}
	return res, nil
}

// sync makes what write wrote durable: with one syncfs where possible,
// else every file (unless filesSynced says they already are) and every
// folder by itself.
func (p *plan) sync(ctx context.Context, root *os.Root, opt Options, filesSynced bool) error {
	if !filesSynced {
		d, err := root.Open(".")
		if err != nil {
			return extractError(err)
		}
		err = fsutil.SyncFS(d)
		d.Close()
		if err == nil {
			return nil
		}
		if !errors.Is(err, fsutil.ErrSyncFSUnsupported) {
			return extractError(err)
		}
		err = parallel(ctx, opt.Workers, len(p.files), func(ctx context.Context, i int, _ []byte) error {
			return syncFile(root, p.files[i].name)
		})
		if err != nil {
			return err
		}
	}
	if runtime.GOOS == "windows" {
		return nil // folders cannot be synced there
	}
	dirs := append([]string{"."}, p.dirs...)
	return parallel(ctx, opt.Workers, len(dirs), func(ctx context.Context, i int, _ []byte) error {
		return syncDir(root, dirs[i])
	})
}

// parallel runs job(0..n-1) on up to workers goroutines, each with its own
// copy buffer, and returns the first error (or the context's).
func parallel(ctx context.Context, workers, n int, job func(ctx context.Context, i int, buf []byte) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, copyBufSize)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := job(ctx, i, buf); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return extractError(err)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// writeFile writes one file into dir, the Root of its folder; with sum
// (reset here) it records the sha256 of what it wrote in j.sum.
func writeFile(ctx context.Context, dir *os.Root, j *fileJob, buf []byte, sum hash.Hash, written *atomic.Int64, maxBytes int64, durable bool) (err error) {
	rc, err := j.f.Open()
	if err != nil {
		return fmt.Errorf("%w: entry %s: %w", ErrCorrupt, quoteName(j.f.Name), err)
	}
	defer rc.Close()
	out, err := dir.OpenFile(path.Base(j.name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|fsutil.ONonblock, j.perm)
	if err != nil {
		return extractError(err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("extract: %w", cerr)
		}
	}()

	if sum != nil {
		sum.Reset()
	}
	// Never trust the header: read at most one byte more than declared.
	lr := io.LimitReader(rc, j.size+1)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := lr.Read(buf)
		if m > 0 {
			n += int64(m)
			if n > j.size {
				return fmt.Errorf("%w: entry %s: data is longer than the declared %d bytes", ErrCorrupt, quoteName(j.f.Name), j.size)
			}
			if written.Add(int64(m)) > maxBytes {
				return tooLarge(j.f.Name, "bytes written exceed the limit of %d", maxBytes)
			}
			if _, werr := out.Write(buf[:m]); werr != nil {
				return fmt.Errorf("extract: %w", werr)
			}
			if sum != nil {
				sum.Write(buf[:m])
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return readError(j, rerr)
		}
	}
	if n != j.size {
		return fmt.Errorf("%w: entry %s: data is shorter than the declared %d bytes (%d)", ErrCorrupt, quoteName(j.f.Name), j.size, n)
	}
	if sum != nil {
		sum.Sum(j.sum[:0])
	}
	if runtime.GOOS != "windows" {
		// The mode validate chose, also where the file system (or a
		// default ACL) would have made it otherwise.
		if err := out.Chmod(j.perm); err != nil {
			return extractError(err)
		}
	}
	if durable {
		if err := out.Sync(); err != nil {
			return extractError(err)
		}
	}
	return nil
}

// readError explains an error from an entry's reader; all of them mean the
// archive is corrupt.
func readError(j *fileJob, err error) error {
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return fmt.Errorf("%w: entry %s: checksum mismatch (CRC-32)", ErrCorrupt, quoteName(j.f.Name))
	case errors.Is(err, zip.ErrFormat):
		// archive/zip's reader says this only when it decompressed more
		// than the header declares.
		return fmt.Errorf("%w: entry %s: data is longer than the declared %d bytes", ErrCorrupt, quoteName(j.f.Name), j.size)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: entry %s: data is shorter than the declared %d bytes, or truncated", ErrCorrupt, quoteName(j.f.Name), j.size)
	}
	return fmt.Errorf("%w: entry %s: %w", ErrCorrupt, quoteName(j.f.Name), err)
}

// syncFile fsyncs a file written and closed earlier (the fallback where
// syncfs turns out to be unavailable).
func syncFile(root *os.Root, name string) error {
	f, err := root.Open(name)
	if err != nil {
		return extractError(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("extract: sync %s: %w", shortName(name), err)
	}
	return nil
}

func syncDir(root *os.Root, name string) error {
	d, err := root.Open(name)
	if err != nil {
		return extractError(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("extract: sync %s: %w", shortName(name), err)
	}
	return nil
}

// extractError wraps an error of the file system met while writing; a
// path in it is shortened as names are (see shortName), so that a name
// 1,000 folders deep does not make a 13 KB message.
func extractError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if short := shortName(pe.Path); short != pe.Path {
			err = &fs.PathError{Op: pe.Op, Path: short, Err: pe.Err}
		}
	}
	return fmt.Errorf("extract: %w", err)
}
