package pkgdir

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/modup/modup/internal/fsutil"
)

// treeHashPrefix names the hash function and the format version, so a
// future format never compares equal to this one.
const treeHashPrefix = "sha256:"

// TreeHash fingerprints the folder dir: a sha256 over every entry below it,
// sorted by relative path ('/' separators), each with its type (folder,
// file, symlink, other), its executable bit and, for a file, the sha256 of
// its content (for a symlink, of its target). Nothing is ignored except a
// top-level .modup folder. Modification times and other permission bits do
// not count: they change on extraction and copying without anyone editing
// the package. Files are hashed in parallel, streamed through a reused
// buffer.
//
// Two folders have the same hash exactly when they hold the same tree, so
// comparing the hash recorded at install time with the folder's current
// hash tells whether the user edited the package since.
func TreeHash(dir string) (string, error) {
	return treeHash(dir, nil)
}

// TreeHashKnown is TreeHash of a folder whose files were hashed as they
// were written (archive.Result.Digests): known maps a file's path relative
// to dir ('/' separators) to the sha256 of its content. The folder is
// still walked, so its shape, the types and the executable bits come from
// disk exactly as for TreeHash; only the regular files found in known are
// not read again. The caller vouches that they did not change since.
func TreeHashKnown(dir string, known map[string][sha256.Size]byte) (string, error) {
	return treeHash(dir, known)
}

func treeHash(dir string, known map[string][sha256.Size]byte) (string, error) {
	h, _, err := treeWalk(dir, known)
	return h, err
}

// treeWalk fingerprints dir as TreeHash does and returns its entries,
// sorted by path.
func treeWalk(dir string, known map[string][sha256.Size]byte) (string, []treeEntry, error) {
	var entries []treeEntry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			if !d.IsDir() {
				return fmt.Errorf("%s is not a folder", dir)
			}
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == StateDirName {
			return fs.SkipDir
		}
		e := treeEntry{path: path, rel: rel}
		switch t := d.Type(); {
		case t.IsDir():
			e.kind = 'd'
		case t.IsRegular():
			e.kind = 'f'
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.exec = info.Mode().Perm()&0o111 != 0
			e.sum, e.known = known[rel]
		case t&fs.ModeSymlink != 0:
			e.kind = 'l'
		default:
			e.kind = 'o' // FIFO, socket, device: never opened
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("tree hash of %s: %w", dir, err)
	}
	slices.SortFunc(entries, func(a, b treeEntry) int { return cmp.Compare(a.rel, b.rel) })
	if err := hashContents(entries); err != nil {
		return "", nil, fmt.Errorf("tree hash of %s: %w", dir, err)
	}

	// Each entry is: kind byte, exec byte, path, NUL, then 32 digest bytes
	// for files and symlinks. A path holds no NUL and the digest length
	// follows from the kind, so no two trees encode alike.
	h := sha256.New()
	io.WriteString(h, "modup tree v1\n")
	for _, e := range entries {
		exec := byte('-')
		if e.exec {
			exec = 'x'
		}
		h.Write([]byte{e.kind, exec})
		io.WriteString(h, e.rel)
		h.Write([]byte{0})
		if e.kind == 'f' || e.kind == 'l' {
			h.Write(e.sum[:])
		}
	}
	return treeHashPrefix + hex.EncodeToString(h.Sum(nil)), entries, nil
}

type treeEntry struct {
	path  string
	rel   string
	kind  byte
	exec  bool
	sum   [sha256.Size]byte
	known bool // sum was given, not read
}

// hashContents fills in the digest of every file and symlink, with a few
// workers each owning one buffer.
func hashContents(entries []treeEntry) error {
	var todo []int
	for i, e := range entries {
		if (e.kind == 'f' || e.kind == 'l') && !e.known {
			todo = append(todo, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 8, len(todo))
	if workers <= 1 {
		buf := make([]byte, 64<<10)
		for _, i := range todo {
			if err := entries[i].hash(buf); err != nil {
				return err
			}
		}
		return nil
	}
	next := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for i := range next {
				if errs[w] == nil {
					errs[w] = entries[i].hash(buf)
				}
			}
		})
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func (e *treeEntry) hash(buf []byte) error {
	if e.kind == 'l' {
		target, err := os.Readlink(e.path)
		if err != nil {
			return err
		}
		e.sum = sha256.Sum256([]byte(filepath.ToSlash(target)))
		return nil
	}
	f, err := os.OpenFile(e.path, os.O_RDONLY|fsutil.ONonblock, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	// A plain read loop: io.CopyBuffer would use os.File's WriterTo and
	// allocate its own buffer for every file.
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", e.path, err)
		}
	}
	h.Sum(e.sum[:0])
	return nil
}
