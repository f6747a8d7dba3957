package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// State is what the daemon last saw of one package; kept in
// <root>/.modup/state/<name>.json so a restart keeps the schedule and
// `modup status` can show it while the daemon runs or after it stopped.
type State struct {
	Name       string         `json:"name"`
	Path       string         `json:"path,omitempty"`
	LastCheck  time.Time      `json:"last_check"`
	Status     updater.Status `json:"status"`
	Installed  string         `json:"installed,omitempty"`
	Available  string         `json:"available,omitempty"`
	Source     string         `json:"source,omitempty"`
	News       string         `json:"news,omitempty"`
	Error      string         `json:"error,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
	NextCheck  time.Time      `json:"next_check"`
	LastUpdate *UpdateRecord  `json:"last_update,omitempty"`
}

// UpdateRecord is the daemon's last install of a package.
type UpdateRecord struct {
	At     time.Time      `json:"at"`
	From   string         `json:"from,omitempty"`
	To     string         `json:"to,omitempty"`
	Status updater.Status `json:"status"`
	Error  string         `json:"error,omitempty"`
	// Warnings are what `modup update` would have printed (a zip whose
	// manifest names another package or update_url, ...).
	Warnings []string `json:"warnings,omitempty"`
}

// maxStateSize bounds what is read of a state file (a few hundred bytes;
// an error message makes one longer).
const maxStateSize = 256 << 10

// ReadState reads the state of package name in root; a missing state is
// os.ErrNotExist. The file is read through modup's own folder without
// following links, and bounded (fsutil.ReadRegularIn): a named pipe or a
// link to /dev/zero in its place is an error, never a hang.
func ReadState(root, name string) (State, error) {
	r, err := pkgdir.Layout{Root: root}.OpenOwn(false, pkgdir.FolderState)
	if err != nil {
		return State{}, err
	}
	defer r.Close()
	return readState(r, name)
}

func readState(r *os.Root, name string) (State, error) {
	data, err := fsutil.ReadRegularIn(r, name+".json", maxStateSize)
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("state of %s: %w", name, err)
	}
	return s, nil
}

// WriteState replaces the state of s.Name in root. The state is a cache of
// what the daemon saw: it is replaced atomically but not fsynced (a lost
// state only means an earlier check).
func WriteState(root string, s State) error {
	if err := pkgdir.CheckName(s.Name); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// Never bring back a root that was removed meanwhile.
	if _, err := os.Stat(root); err != nil {
		return fmt.Errorf("state of %s: root %w", s.Name, err)
	}
	r, err := pkgdir.Layout{Root: root}.OpenOwn(true, pkgdir.FolderState)
	if err != nil {
		return fmt.Errorf("state of %s: %w", s.Name, err)
	}
	defer r.Close()
	return fsutil.ReplaceFileIn(r, s.Name+".json", data, 0o666)
}

// ReadStates reads every state file of root, keyed by package name.
func ReadStates(root string) (map[string]State, error) {
	r, err := pkgdir.Layout{Root: root}.OpenOwn(false, pkgdir.FolderState)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]State{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	entries, err := fs.ReadDir(r.FS(), ".")
	if err != nil {
		return nil, err
	}
	out := make(map[string]State, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		s, err := readState(r, name)
		if err != nil {
			continue // a torn or foreign file: treated as never checked
		}
		out[name] = s
	}
	return out, nil
}

// Forgotten reports whether the state of a package whose folder is gone
// can be dropped: its last check is more than interval ago (the package has
// been gone that long at least), or dated more than interval ahead (a clock
// that was wrong; its age is unknowable).
func Forgotten(st State, now time.Time, interval time.Duration) bool {
	return now.Sub(st.LastCheck) > interval || st.LastCheck.Sub(now) > interval
}

// RemoveState deletes the state file of package name in root.
func RemoveState(root, name string) error {
	if err := pkgdir.CheckName(name); err != nil {
		return err
	}
	r, err := pkgdir.Layout{Root: root}.OpenOwn(false, pkgdir.FolderState)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	err = r.Remove(name + ".json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// PruneStates removes the state files of root's packages whose folder is
// gone and that forgotten says can go, and returns their names.
func PruneStates(root string, states map[string]State, forgotten func(State) bool) ([]string, error) {
	var removed []string
	var errs []error
	for name, st := range states {
		if pkgdir.CheckName(name) != nil || !forgotten(st) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, name, pkgdir.ManifestFile)); !errors.Is(err, fs.ErrNotExist) {
			continue // still there (or unreadable: keep it)
		}
		if err := RemoveState(root, name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}
