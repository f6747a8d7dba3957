package pkgdir

import (
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/modup/modup/internal/fsutil"
)

// Hold is why and since when a package is held (`modup hold`): kept in its
// install record.
type Hold struct {
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
}

// SetHold holds package name (hold nil releases it) and keeps the rest of
// its install record. A package installed without modup, or whose record
// is unusable (ErrBadRecord), gets a record holding only its version (from
// version) and the hold. The caller holds the package's lock.
func (l Layout) SetHold(name, version string, hold *Hold) error {
	return l.changeRecord(name, version, hold != nil, func(r *Record) { r.Hold = hold })
}

// HoldOf is package name's hold, nil when it is not held (or has no
// usable record).
func (l Layout) HoldOf(name string) *Hold {
	rec, err := l.ReadRecord(name)
	if err != nil {
		return nil
	}
	return rec.Hold
}

// keepHold carries the current record's hold into rec, which is about to
// replace it: an update asked for by version, or a rollback, changes the
// files, not the user's decision to hold them.
func (l Layout) keepHold(name string, rec *Record) {
	if rec.Hold != nil {
		return
	}
	if cur, err := l.ReadRecord(name); err == nil {
		rec.Hold = cur.Hold
	}
}

// Holds lists the holds of the named packages that are held, reading
// their install records through one opening of installed/ (list shows
// thousands of packages).
func (l Layout) Holds(names []string) map[string]*Hold {
	out := map[string]*Hold{}
	r, err := l.OpenOwn(false, FolderInstalled)
	if err != nil {
		return out
	}
	defer r.Close()
	for _, name := range names {
		if CheckName(name) != nil {
			continue
		}
		data, err := fsutil.ReadRegularIn(r, name+".json", maxRecordSize)
		if err != nil {
			continue
		}
		var rec Record
		if json.Unmarshal(data, &rec) == nil && rec.Hold != nil {
			out[name] = rec.Hold
		}
	}
	return out
}

// HoldsOf lists the holds of pkgs that are held, by package folder (Dir):
// as the scan noted them (Package.Noted), else reading install records
// root by root.
func HoldsOf(pkgs []Package) map[string]*Hold {
	byRoot := map[string][]string{}
	out := map[string]*Hold{}
	for _, p := range pkgs {
		if n, ok := p.Noted(); ok {
			if n.Hold != nil {
				out[p.Dir] = n.Hold
			}
			continue
		}
		byRoot[p.Root] = append(byRoot[p.Root], p.Name)
	}
	for root, names := range byRoot {
		for name, h := range (Layout{Root: root}).Holds(names) {
			out[filepath.Join(root, name)] = h
		}
	}
	return out
}
