package daemon

import (
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// PackageStatus is what the daemon last saw of one package, with what is
// on disk: `modup status --json` and the API's /v1/packages show it.
type PackageStatus struct {
	Name      string         `json:"name"`
	Path      string         `json:"path"`
	Installed string         `json:"installed,omitempty"`
	LastCheck *time.Time     `json:"last_check,omitempty"`
	Status    updater.Status `json:"status,omitempty"`
	Available string         `json:"available,omitempty"`
	Source    string         `json:"source,omitempty"`
	News      string         `json:"news,omitempty"`
	Error     string         `json:"error,omitempty"`
	NextCheck *time.Time     `json:"next_check,omitempty"`
	Update    *UpdateRecord  `json:"last_update,omitempty"`
	// Backups are the versions kept in the backups, newest first.
	Backups []string `json:"backups,omitempty"`
	// Held says the package is held at its version (modup hold), and why.
	Held *pkgdir.Hold `json:"held,omitempty"`
}

// Statuses lists every package of the roots (those called name, when name
// is set) with the state the daemon keeps of it. It reads the package
// folders and the state files only: no network, no lock, nothing written.
// A root whose .modup is not as modup made it is an error matching
// pkgdir.ErrUnsafeLayout.
func Statuses(roots []string, name string) ([]PackageStatus, error) {
	out := []PackageStatus{}
	for _, root := range roots {
		pkgs, err := pkgdir.ScanRoot(root)
		if err != nil {
			return nil, err
		}
		l := pkgdir.Layout{Root: root}
		if err := l.Check(); err != nil {
			return nil, err
		}
		states, err := ReadStates(root)
		if err != nil {
			return nil, err
		}
		backups, err := l.Backups("")
		if err != nil {
			return nil, err
		}
		kept := map[string][]string{}
		for _, b := range backups {
			kept[b.Name] = append(kept[b.Name], b.Version)
		}
		for _, p := range pkgs {
			if name != "" && p.Name != name {
				continue
			}
			e := PackageStatus{Name: p.Name, Path: p.Dir, Installed: p.Version(), Backups: kept[p.Name], Held: l.HoldOf(p.Name)}
			if st, ok := states[p.Name]; ok {
				e.LastCheck, e.NextCheck = &st.LastCheck, &st.NextCheck
				e.Status, e.Available, e.Source, e.News, e.Error, e.Update = st.Status, st.Available, st.Source, st.News, st.Error, st.LastUpdate
			}
			out = append(out, e)
		}
	}
	return out, nil
}
