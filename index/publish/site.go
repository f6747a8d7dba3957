// Package publish turns a snapshot of an index's store into its documents
// (package doc), and writes them: Writer is the one place a document
// becomes the bytes a client reads, whether a server answers them or an
// export puts them on a static host.
package publish

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/plaintext"
	"github.com/modup/modup/updater"
)

// Options shape a Site.
type Options struct {
	// Mirror: versions the store says are mirrored get a mirror_url (set
	// when the mirror folder is served or exported alongside).
	Mirror bool
}

// Site is every document of one snapshot of an index.
type Site struct {
	// Revision is the store revision the site was built from.
	Revision int64

	root     doc.Root
	list     doc.List
	packages doc.PackageList
	modules  doc.ModuleList
	infos    map[string]*doc.PackageInfo
	names    []string // package names, sorted
	modInfos map[string]*doc.ModuleInfo
	modNames []string
	mirrored map[string]string // "name/version" → sha256, of mirrored versions
	sigs     map[string]string // "name/version" → sha256, of their mirrored signatures

	generated, changedRoot time.Time
	changed                map[string]time.Time // package name → when its data changed
}

// Build makes the site of a snapshot.
func Build(snap *store.Snapshot, opt Options) *Site {
	s := &Site{
		Revision: snap.Revision,
		infos:    map[string]*doc.PackageInfo{},
		modInfos: map[string]*doc.ModuleInfo{},
		mirrored: map[string]string{},
		sigs:     map[string]string{},
		changed:  map[string]time.Time{},
		root: doc.Root{Service: doc.Service, Version: doc.FormatVersion, Generated: snap.Generated,
			Sources: []doc.Source{}},
		generated:   snap.Generated,
		changedRoot: latest(snap.Generated, snap.Refreshed),
	}
	s.list = doc.List{Packages: []string{}, Modules: []string{}}
	s.packages = doc.PackageList{Generated: snap.Generated, Packages: []doc.PackageSummary{}}
	s.modules = doc.ModuleList{Modules: []doc.ModuleSummary{}}
	for _, src := range snap.Sources {
		s.root.Sources = append(s.root.Sources, doc.Source{UpdateURL: src.UpdateURL, Name: src.Name, LastOK: src.LastOK, LastError: src.LastError})
		s.changedRoot = latest(s.changedRoot, src.Checked)
		if src.Name == "" || !doc.ValidName(src.Name) {
			continue // never read
		}
		info := s.packageInfo(src, opt)
		s.infos[info.Name] = info
		s.names = append(s.names, info.Name)
		s.changed[info.Name] = cmp.Or(src.Changed, snap.Generated)
		s.root.Versions += len(info.Versions)
	}
	slices.Sort(s.names)
	s.root.Packages = len(s.names)
	s.list.Packages = append(s.list.Packages, s.names...)

	folded := map[string]bool{}
	for _, name := range s.names {
		info := s.infos[name]
		v := findVersion(info, info.Latest)
		if v == nil {
			continue
		}
		sum := doc.PackageSummary{
			Name: info.Name, DisplayName: info.DisplayName, Description: info.Description, Version: v.Version,
			Published: v.Published, UpdateURL: info.UpdateURL, SHA256: v.SHA256, Size: v.Size,
			Modules: []string{}, Requires: requires(v.Manifest),
		}
		for _, m := range v.Modules {
			if !doc.ValidName(m.Name) {
				continue
			}
			sum.Modules = append(sum.Modules, m.Name)
			s.modules.Modules = append(s.modules.Modules, doc.ModuleSummary{
				Name: m.Name, Package: info.Name, Version: m.Version, Description: m.Description, Tags: m.Tags})
			mi := s.modInfos[m.Name]
			if mi == nil {
				// Module names that differ only in case would be one file
				// on a file system that ignores case: the first one wins.
				if folded[strings.ToLower(m.Name)] {
					continue
				}
				folded[strings.ToLower(m.Name)] = true
				mi = &doc.ModuleInfo{Name: m.Name, Packages: []doc.ModulePackage{}}
				s.modInfos[m.Name] = mi
				s.modNames = append(s.modNames, m.Name)
			}
			mi.Packages = append(mi.Packages, doc.ModulePackage{Package: info.Name, Version: m.Version, Description: m.Description})
		}
		s.packages.Packages = append(s.packages.Packages, sum)
	}
	slices.Sort(s.modNames)
	s.list.Modules = append(s.list.Modules, s.modNames...)
	slices.SortStableFunc(s.modules.Modules, func(a, b doc.ModuleSummary) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Package, b.Package))
	})
	return s
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// findVersion finds v among p's versions.
func findVersion(p *doc.PackageInfo, v string) *doc.Version {
	if v == "" {
		return nil
	}
	for i := range p.Versions {
		if p.Versions[i].Version == v {
			return &p.Versions[i]
		}
	}
	return nil
}

// packageInfo builds a package's info: the pointer manifest's fields, every
// version newest first, and the latest installable one.
func (s *Site) packageInfo(src store.Source, opt Options) *doc.PackageInfo {
	info := &doc.PackageInfo{Name: src.Name, UpdateURL: src.UpdateURL, Versions: make([]doc.Version, 0, len(src.Versions))}
	for _, v := range src.Versions {
		dv := doc.Version{
			Version: v.Version, Tag: v.Tag, Published: v.Published, PayloadURL: v.PayloadURL, Size: v.Size,
			SHA256: v.SHA256, Prerelease: v.Prerelease, Manifest: json.RawMessage("null"),
			Modules: nonNil(v.Modules), Problems: nonNil(v.Problems),
			PublicKey: v.PublicKey, KeyRotation: v.KeyRotation,
		}
		if len(v.Manifest) > 0 {
			dv.Manifest = v.Manifest
		}
		if v.Mirrored && !v.Blocking() {
			s.mirrored[src.Name+"/"+v.Version] = v.SHA256
			if v.MirroredSignature() {
				s.sigs[src.Name+"/"+v.Version] = v.Signature
			}
			if opt.Mirror {
				dv.MirrorURL = doc.MirrorURL(src.Name, v.Version)
			}
		}
		info.Versions = append(info.Versions, dv)
	}
	slices.SortStableFunc(info.Versions, newestFirst)
	info.Latest = pickLatest(info.Versions, src.PointerVersion)

	// Describe the package from its pointer manifest, else from the
	// latest version's.
	var m *manifest.Manifest
	if pm, err := manifest.Parse(src.Pointer, "pointer"); err == nil {
		m = pm
	}
	if lv := findVersion(info, info.Latest); lv != nil && (m == nil || m.Description == "") {
		if zm, err := manifest.Parse(lv.Manifest, "zip"); err == nil {
			m = zm
		}
	}
	if m != nil {
		info.DisplayName = plaintext.Of(m.DisplayName)
		info.Description = plaintext.Of(m.Description)
		info.URL = strings.TrimSpace(m.URL)
		info.Maintainer = plaintext.Of(m.Maintainer)
	}
	return info
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newestFirst orders versions by semver, newest first; versions that do
// not compare go last, in the order they were seen.
func newestFirst(a, b doc.Version) int {
	va, ea := semver.NewVersion(a.Version)
	vb, eb := semver.NewVersion(b.Version)
	switch {
	case ea == nil && eb == nil:
		return vb.Compare(va)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return 0
}

// pickLatest is the version a client installs: the one the author's
// pointer names when it is installable, as `modup update` would install
// it; else the newest installable release below the pointer (a release
// newer than the pointer was made without bumping the manifest, and no
// user sees it), preferring a stable one.
func pickLatest(versions []doc.Version, pointer string) string {
	pv, perr := updater.ParseVersion(pointer)
	var stable, pre string
	for _, v := range versions { // newest first
		if !v.Installable() {
			continue
		}
		vv, err := updater.ParseVersion(v.Version)
		if err != nil {
			continue
		}
		if perr == nil && vv.Equal(pv) {
			return v.Version
		}
		if perr == nil && vv.GreaterThan(pv) {
			continue
		}
		if vv.Prerelease() == "" && stable == "" {
			stable = v.Version
		}
		if pre == "" {
			pre = v.Version
		}
	}
	return cmp.Or(stable, pre)
}

// requires is the manifest's "requires" field, as published.
func requires(m json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(m, &obj) != nil {
		return nil
	}
	if r, ok := obj["requires"]; ok && string(r) != "null" {
		return r
	}
	return nil
}

// Paths lists every document of the site: the lists, every package's and
// module's info, and the batch of all package infos.
func (s *Site) Paths() []string {
	out := []string{doc.RootPath, doc.ListPath, doc.PackageListPath, doc.ModuleListPath, doc.PackageInfosPath}
	for _, n := range s.names {
		out = append(out, doc.PackageInfoPath(n))
	}
	for _, n := range s.modNames {
		out = append(out, doc.ModuleInfoPath(n))
	}
	return out
}

// Document returns the document at path (exactly as Paths names it) and
// when its content last changed.
func (s *Site) Document(path string) (doc.Document, time.Time, bool) {
	switch path {
	case doc.RootPath:
		r := s.root
		return &r, s.changedRoot, true
	case doc.ListPath:
		return &s.list, s.generated, true
	case doc.PackageListPath:
		return &s.packages, s.generated, true
	case doc.ModuleListPath:
		return &s.modules, s.generated, true
	case doc.PackageInfosPath:
		return s.Infos(nil), s.generated, true
	}
	if name, ok := strings.CutPrefix(path, doc.PackageInfosPath+"/"); ok {
		if info, ok := s.infos[name]; ok {
			return info, s.changed[name], true
		}
		return nil, time.Time{}, false
	}
	if name, ok := strings.CutPrefix(path, doc.ModuleInfosDir+"/"); ok {
		if mi, ok := s.modInfos[name]; ok {
			return mi, s.generated, true
		}
	}
	return nil, time.Time{}, false
}

// Infos is the batch of the named packages' infos, in the order named
// (unknown names left out); every package's, by name, when names is nil.
func (s *Site) Infos(names []string) *doc.PackageInfos {
	if names == nil {
		names = s.names
	}
	out := &doc.PackageInfos{Packages: make([]doc.PackageInfo, 0, len(names))}
	for _, n := range names {
		if info, ok := s.infos[n]; ok {
			out.Packages = append(out.Packages, *info)
		}
	}
	return out
}

// Mirrored returns the recorded sha256 of a mirrored, installable version.
func (s *Site) Mirrored(name, version string) (string, bool) {
	sum, ok := s.mirrored[name+"/"+version]
	return sum, ok
}

// MirroredSignature returns the recorded sha256 of the signature mirrored
// beside a mirrored, installable version's zip.
func (s *Site) MirroredSignature(name, version string) (string, bool) {
	sum, ok := s.sigs[name+"/"+version]
	return sum, ok
}

// MirroredZips lists the mirrored versions as "name/version".
func (s *Site) MirroredZips() map[string]string { return s.mirrored }

// Root is the root document.
func (s *Site) Root() doc.Root { return s.root }
