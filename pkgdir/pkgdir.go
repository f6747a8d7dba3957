// Package pkgdir owns modup's on-disk model: roots, package folders, their
// manifests and modules, and modup's own .modup/ folder in each root.
package pkgdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/manifest"
)

// ManifestFile and ModuleFile are a2's file names.
const (
	ManifestFile = "a2modsource.json"
	ModuleFile   = "a2module.json"
	// StateDirName is modup's own folder inside each root.
	StateDirName = ".modup"
)

// ErrNoPackage: no package of that name in the roots.
var ErrNoPackage = errors.New("no such package")

// Package is one package folder in a root.
type Package struct {
	// Name is the folder name: what the user types on the command line.
	Name string
	// Root is the root folder holding it, Dir the package folder.
	Root string
	Dir  string
	// Manifest is nil when Err is set.
	Manifest *manifest.Manifest
	// Err is why the manifest could not be read (names the file and
	// line:column for JSON errors).
	Err error
	// Dev is true for a folder with .git: listed, never updated.
	Dev bool
	// Disabled is true for a package in .modup/disabled/ (Dir is there):
	// listed, never updated, missing for requirements.
	Disabled bool

	// note is what the scan read of the install record; noted is false
	// for a Package not from a scan (see Noted).
	note  RecordNote
	noted bool
}

// Noted returns what the scan that found p read of its install record
// (repository, hold), and whether it read it: a Package from Load, or
// from a root whose .modup could not be read safely, has none (read the
// record then).
func (p Package) Noted() (RecordNote, bool) { return p.note, p.noted }

// Version is the installed version ("" when the manifest is unreadable).
func (p *Package) Version() string {
	if p.Manifest == nil {
		return ""
	}
	return p.Manifest.Version
}

// ManifestPath is the package's a2modsource.json.
func (p *Package) ManifestPath() string { return filepath.Join(p.Dir, ManifestFile) }

// Layout is where modup keeps its own files of a root.
func (p *Package) Layout() Layout { return Layout{Root: p.Root} }

// Roots returns the roots to use: the flags when any were given, else the
// MODUP_ROOTS value (an OS path list), else the configuration file's
// list. Each is made absolute and cleaned; duplicates are dropped.
func Roots(flags []string, env string, file []string) ([]string, error) {
	list := flags
	if len(list) == 0 {
		list = filepath.SplitList(env)
	}
	if len(list) == 0 {
		list = file
	}
	var out []string
	for _, r := range list {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("root %s: %w", r, err)
		}
		if !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no roots: pass --root DIR, set MODUP_ROOTS, or write roots = [\"DIR\"] in the configuration file (modup config path prints where) to name the folders holding your packages")
	}
	return out, nil
}

// Scan lists the packages of every root, sorted by root order then name. A
// root that cannot be read is an error; a package whose manifest is bad is
// returned with Err set, so one broken package never hides the others.
// Manifests unchanged since the last scan come from the root's scan cache
// (see scancache.go), which the scan brings up to date.
func Scan(roots []string) ([]Package, error) { return scanRoots(roots, true, nil) }

// ScanReadOnly is Scan for callers that must not write in the roots (shell
// completion): the scan cache is read, never written.
func ScanReadOnly(roots []string) ([]Package, error) { return scanRoots(roots, false, nil) }

// ScanCaches are the scan caches of some roots, being read (see
// LoadScanCaches).
type ScanCaches struct {
	mu    sync.Mutex
	loads map[string]*cacheLoad
}

// cacheLoad is one root's scan cache being read; file is set when done
// is closed.
type cacheLoad struct {
	done chan struct{}
	file *scanFile
}

// LoadScanCaches starts reading the scan caches of roots, for a Scan of
// them that follows (ScanCaches.Scan): a caller with other work before it
// (recovery) reads the caches meanwhile. Reading one early is safe: every
// entry is still checked against its manifest's stamp when the scan uses
// it, so one taken before the recovery changed a package is not used.
func LoadScanCaches(roots []string) *ScanCaches {
	s := &ScanCaches{loads: map[string]*cacheLoad{}}
	for _, root := range roots {
		if _, ok := s.loads[root]; ok {
			continue
		}
		l := &cacheLoad{done: make(chan struct{})}
		s.loads[root] = l
		go func() {
			defer close(l.done)
			c := &scanCache{l: Layout{Root: root}}
			c.load()
			l.file = c.file
		}()
	}
	return s
}

// take returns root's load and forgets it (a second scan reads the cache
// again), nil when there is none.
func (s *ScanCaches) take(root string) *cacheLoad {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loads[root]
	delete(s.loads, root)
	return l
}

// Scan is Scan of roots with the caches s read.
func (s *ScanCaches) Scan(roots []string) ([]Package, error) { return scanRoots(roots, true, s) }

func scanRoots(roots []string, write bool, pre *ScanCaches) ([]Package, error) {
	var all []Package
	for _, root := range roots {
		cache := &scanCache{l: Layout{Root: root}, stat: openDirStat(root), write: write}
		pkgs, err := scanRootWith(root, cache, pre.take(root))
		if err != nil {
			return nil, err
		}
		all = append(all, pkgs...)
	}
	return all, nil
}

// CheckRoot says whether root can be a root: an existing folder. The
// error names the root and what to do.
func CheckRoot(root string) error {
	st, err := os.Stat(root)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("root %s does not exist: create it, or fix --root, MODUP_ROOTS or roots in the configuration file", root)
	case err != nil:
		return fmt.Errorf("root %s: %w", root, err)
	case !st.IsDir():
		return fmt.Errorf("root %s is a file, not a folder: fix --root, MODUP_ROOTS or roots in the configuration file", root)
	}
	return nil
}

// ScanRoot lists the packages of one root (see Scan).
func ScanRoot(root string) ([]Package, error) { return scanRoot(root, true) }

func scanRoot(root string, write bool) ([]Package, error) {
	cache := &scanCache{l: Layout{Root: root}, stat: openDirStat(root), write: write}
	return scanRootWith(root, cache, nil)
}

// scanRootWith scans root through cache, with the cache read by pre when
// it is not nil.
func scanRootWith(root string, cache *scanCache, pre *cacheLoad) ([]Package, error) {
	defer cache.stat.close()
	if err := CheckRoot(root); err != nil {
		return nil, err
	}
	// The root's stamp is taken before it is listed: a folder added
	// after it makes the next scan list the root again.
	rootStamp, hasRoot := cache.stat.rootStamp()
	if pre != nil {
		<-pre.done
		cache.file = pre.file
	} else {
		cache.load()
	}
	var names []string
	var at []int // each folder's entry in the cache, -1 for none
	if f := cache.file; f != nil && hasRoot && f.hasRoot && f.root == rootStamp {
		// Nothing was added, removed or renamed in the root since the
		// cache was written: its list of folders is the root's.
		if names = f.names(); names != nil {
			at = make([]int, len(names))
			for i := range at {
				at[i] = i
			}
		}
	}
	if names == nil {
		entries, err := listRoot(root)
		if err != nil {
			return nil, fmt.Errorf("read root %s: %w", root, err)
		}
		for _, e := range entries {
			if name := e.Name(); !isHidden(name) && e.IsDir() {
				names = append(names, name)
			}
		}
		at = cache.file.match(names)
	}
	join := joiner(root)
	notes := cache.openRecords()
	defer cache.closeRecords()
	// Reading and parsing thousands of manifests is CPU work (the pages
	// are cached): spread it over the cores, keeping the order.
	pkgs := make([]Package, len(names))
	found := make([]bool, len(names))
	res := make([]scanResult, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(names)+scanBatch-1)/scanBatch) {
		wg.Go(func() {
			var blk manifest.Block
			for {
				i := int(next.Add(1)-1) * scanBatch
				if i >= len(names) {
					return
				}
				for j := i; j < min(i+scanBatch, len(names)); j++ {
					pkgs[j], found[j], res[j] = cache.loadPackage(&blk, root, join(names[j]), names[j], at[j], notes)
				}
			}
		})
	}
	wg.Wait()
	cache.save(names, res, rootStamp, hasRoot)
	// Folders without a manifest are dropped in place (no second slice
	// of 10,000 packages).
	n := 0
	for i := range pkgs {
		if found[i] {
			pkgs[n] = pkgs[i]
			n++
		}
	}
	clear(pkgs[n:])
	return pkgs[:n], nil
}

// listRoot lists a root's folder (tests count the calls).
var listRoot = os.ReadDir

// joiner returns how to make the path of a folder in root: filepath.Join
// without cleaning each path again when root is clean.
func joiner(root string) func(string) string {
	if filepath.Clean(root) != root || strings.HasSuffix(root, string(filepath.Separator)) {
		return func(name string) string { return filepath.Join(root, name) }
	}
	prefix := root + string(filepath.Separator)
	return func(name string) string { return prefix + name }
}

// scanBatch is how many package folders a ScanRoot worker loads at a time.
const scanBatch = 64

// loadPackage loads the package in dir (the folder name in root) as Load
// does, from the cache's entry at (-1 for none) when its manifest is
// unchanged (its manifest made in blk), with the note of its install
// record when notes. It also returns what the cache should keep of the
// folder.
func (c *scanCache) loadPackage(blk *manifest.Block, root, dir, name string, at int, notes bool) (p Package, ok bool, r scanResult) {
	var old *scanEntry
	var oldBytes string
	if at >= 0 {
		if got, e, ok := c.file.entry(at); ok && got == name {
			old, oldBytes = &e, c.file.bytes(at)
		}
	}
	// The stamp is taken before the manifest is read: a change made
	// after it makes the next scan read the manifest again.
	st, err := c.stat.manifest(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Package{}, false, keepNameOnly(old, oldBytes)
	}
	if err == nil && old != nil && old.cached && old.stamp == st {
		file := dir + string(filepath.Separator) + ManifestFile
		p := Package{Name: name, Root: root, Dir: dir, Manifest: blk.FromSummary(old.summary, file), Dev: c.stat.dev(name)}
		if notes {
			rs := old.recState
			if p.noted = c.loadNote(name, old, &rs); p.noted {
				p.note = rs.note
				if rs.hasRec != old.hasRec || rs.rec != old.rec {
					next := *old
					next.recState = rs
					return p, true, scanResult{fresh: &next}
				}
			}
		}
		return p, true, scanResult{keep: oldBytes}
	}
	p, data, ok := load(root, dir)
	if !ok {
		return p, ok, keepNameOnly(old, oldBytes)
	}
	entry := &scanEntry{stamp: st}
	if notes {
		if p.noted = c.loadNote(name, old, &entry.recState); p.noted {
			p.note = entry.note
		}
	}
	if p.Err != nil || err != nil {
		return p, true, keepNameOnly(old, oldBytes)
	}
	sum, cacheable := p.Manifest.Summarize(data)
	if !cacheable {
		return p, true, keepNameOnly(old, oldBytes)
	}
	entry.cached, entry.summary = true, sum
	return p, true, scanResult{fresh: entry}
}

// keepNameOnly is the result of a folder whose manifest the cache does
// not keep: its old entry when that was by name only too.
func keepNameOnly(old *scanEntry, oldBytes string) scanResult {
	if old != nil && !old.cached {
		return scanResult{keep: oldBytes}
	}
	return scanResult{}
}

// Load reads the package in dir. ok is false when dir holds no manifest
// (it is not a package).
func Load(root, dir string) (p Package, ok bool) {
	p, _, ok = load(root, dir)
	return p, ok
}

// load is Load that also returns the manifest's bytes.
func load(root, dir string) (p Package, data []byte, ok bool) {
	p = Package{Name: filepath.Base(dir), Root: root, Dir: dir}
	data, err := readLimited(filepath.Join(dir, ManifestFile), manifest.MaxSize)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil, false
	}
	p.Dev = isDev(dir)
	if err != nil {
		p.Err = err
		return p, nil, true
	}
	m, err := manifest.Parse(data, filepath.Join(dir, ManifestFile))
	if err != nil {
		p.Err = err
		return p, nil, true
	}
	p.Manifest = m
	return p, data, true
}

// isDev reports whether the package folder dir is a development checkout
// (it holds .git).
func isDev(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil
}

// Find returns the package called name (its folder name) in the roots.
func Find(pkgs []Package, name string) (Package, error) {
	var found []Package
	for _, p := range pkgs {
		if p.Name == name {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return Package{}, fmt.Errorf("%s: %w (modup list shows the installed packages)", name, ErrNoPackage)
	case 1:
		return found[0], nil
	default:
		return Package{}, fmt.Errorf("%s: in %d roots (%s, %s): pass --root to choose one", name, len(found), found[0].Root, found[1].Root)
	}
}

// readLimited reads a regular file of at most max bytes (a manifest).
// FIFOs, devices and larger files are refused (fsutil.ReadRegular), so a
// hostile path never hangs or floods modup.
func readLimited(path string, max int64) ([]byte, error) {
	return fsutil.ReadRegular(path, max)
}

// ReadManifest reads and parses dir's a2modsource.json.
func ReadManifest(dir string) (*manifest.Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := readLimited(path, manifest.MaxSize)
	if err != nil {
		return nil, err
	}
	return manifest.Parse(data, path)
}

// WriteManifest replaces dir's a2modsource.json atomically.
func WriteManifest(dir string, m *manifest.Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, ManifestFile), data, 0o666)
}

// Modules reads the modules of a package: every sub-folder holding an
// a2module.json, sorted by name. A module that does not parse is returned
// with its error; the others are unaffected.
func Modules(dir string) ([]ModuleInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	var mods []ModuleInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name(), ModuleFile)
		data, err := readLimited(path, manifest.MaxSize)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		mi := ModuleInfo{Name: e.Name()}
		if err != nil {
			mi.Err = err
		} else if m, err := manifest.ParseModule(data, path); err != nil {
			mi.Err = err
		} else {
			mi.Module = *m
		}
		mi.Module.Name = e.Name()
		mods = append(mods, mi)
	}
	return mods, nil
}

// ModuleInfo is one module folder: its description, or why it has none.
type ModuleInfo struct {
	Name string
	manifest.Module
	Err error
}
