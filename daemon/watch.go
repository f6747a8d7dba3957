package daemon

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/modup/modup/pkgdir"
)

// watcher turns file events in the roots into debounced batches of
// touched packages. One goroutine owns the fsnotify watcher's channels and
// the debounce timer; Close cancels, closes and waits.
type watcher struct {
	w        *fsnotify.Watcher
	log      *slog.Logger
	debounce time.Duration
	touched  chan []key
	overflow chan struct{}
	// rootMoved names a root whose folder was moved or removed: the
	// kernel dropped its watch, so the daemon must look again.
	rootMoved chan string
	done      chan struct{}
	wg        sync.WaitGroup

	mu    sync.Mutex
	roots map[string]bool
}

func newWatcher(roots []string, debounce time.Duration, log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{
		w: fw, log: log, debounce: debounce,
		touched:   make(chan []key),
		overflow:  make(chan struct{}, 1),
		rootMoved: make(chan string, len(roots)),
		done:      make(chan struct{}),
		roots:     map[string]bool{},
	}
	for _, r := range roots {
		w.roots[filepath.Clean(r)] = true
	}
	w.wg.Add(1)
	go w.loop()
	return w, nil
}

// addRoot watches a root folder (its direct children appearing and going).
func (w *watcher) addRoot(root string) {
	if err := w.w.Add(root); err != nil {
		w.log.Warn("watch root", "root", root, "error", err.Error())
	}
}

// removePath stops watching path (a root or package folder), if it was.
func (w *watcher) removePath(path string) {
	_ = w.w.Remove(path)
}

// addPackage (re)watches a package folder, so that a2modsource.json
// changes are seen. Re-adding after the folder was replaced points the
// watch at the new folder.
func (w *watcher) addPackage(dir string) {
	_ = w.w.Remove(dir)
	if err := w.w.Add(dir); err != nil {
		w.log.Debug("watch package", "dir", dir, "error", err.Error())
	}
}

// Close stops the watcher and waits for its goroutine.
func (w *watcher) Close() error {
	close(w.done)
	err := w.w.Close()
	w.wg.Wait()
	return err
}

// isRoot reports whether path is one of the watched roots.
func (w *watcher) isRoot(path string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.roots[filepath.Clean(path)]
}

// keyOf maps an event path to the package it concerns.
func (w *watcher) keyOf(path string) (key, bool) {
	path = filepath.Clean(path)
	parent := filepath.Dir(path)
	base := filepath.Base(path)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.roots[parent] {
		if strings.HasPrefix(base, ".") {
			return key{}, false // .modup and other hidden folders: ours or not packages
		}
		return key{root: parent, name: base}, true
	}
	grand := filepath.Dir(parent)
	if w.roots[grand] && !strings.HasPrefix(filepath.Base(parent), ".") && base == pkgdir.ManifestFile {
		return key{root: grand, name: filepath.Base(parent)}, true
	}
	return key{}, false
}

func (w *watcher) loop() {
	defer w.wg.Done()
	pending := map[key]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var firstPending time.Time
	flush := func() {
		if len(pending) == 0 {
			return
		}
		batch := make([]key, 0, len(pending))
		for k := range pending {
			batch = append(batch, k)
		}
		select {
		case w.touched <- batch:
			clear(pending)
		case <-w.done:
		}
	}
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if w.isRoot(ev.Name) {
				if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
					select {
					case w.rootMoved <- filepath.Clean(ev.Name):
					default: // the daemon polls the roots anyway
					}
				}
				continue
			}
			k, ok := w.keyOf(ev.Name)
			if !ok {
				continue
			}
			if len(pending) == 0 {
				firstPending = time.Now()
			}
			pending[k] = true
			// Debounce: wait for a quiet spell, but never longer than
			// five spells in all, so a busy folder is still checked.
			wait := w.debounce
			if time.Since(firstPending) > 4*w.debounce {
				wait = 0
			}
			timer.Reset(wait)
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				select {
				case w.overflow <- struct{}{}:
				default:
				}
				continue
			}
			w.log.Warn("file watcher", "error", err.Error())
		case <-timer.C:
			flush()
		}
	}
}
