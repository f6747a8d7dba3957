package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// installedRoot is a root holding one package per name, each installed
// from the repository repos[name] ("" for none), scanned.
func installedRoot(t *testing.T, repos map[string]string) []pkgdir.Package {
	t.Helper()
	root := t.TempDir()
	l := pkgdir.Layout{Root: root}
	for name, r := range repos {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		manifest := `{"name": "` + name + `", "version": "1.0.0", "update_url": "https://example.com/` + name + `/"}`
		if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.WriteRecord(name, pkgdir.Record{Version: "1.0.0", Repo: r}); err != nil {
			t.Fatal(err)
		}
	}
	pkgs, err := pkgdir.Scan([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestInstalledFrom(t *testing.T) {
	pkgs := installedRoot(t, map[string]string{"b": "main", "a": "main", "c": "other", "d": ""})
	got := InstalledFrom(pkgs)
	if strings.Join(got["main"], ",") != "a,b" || strings.Join(got["other"], ",") != "c" || len(got) != 2 {
		t.Errorf("InstalledFrom = %v, want main: a,b; other: c", got)
	}
	// A package without the scan's note (from Load) is looked up in its
	// root's records.
	p, ok := pkgdir.Load(pkgs[0].Root, filepath.Join(pkgs[0].Root, "c"))
	if !ok {
		t.Fatal("no package c")
	}
	if got := InstalledFrom([]pkgdir.Package{p}); strings.Join(got["other"], ",") != "c" {
		t.Errorf("InstalledFrom(loaded) = %v, want other: c", got)
	}
}

// Doctor reads each enabled repository once (offline: not at all) and
// reports what cannot be read, copies too old to check with, and
// disabled repositories packages were installed from.
func TestDoctor(t *testing.T) {
	tests := []struct {
		name string
		// setup breaks the fixture after its repository was read once;
		// it returns the repositories Doctor is given.
		setup    func(f *fixture) []Repo
		later    time.Duration // how long after that read Doctor runs
		offline  bool
		installs map[string]string
		// want: one "kind|text|fix" per finding; text and fix are
		// fragments found in that order, … between them.
		want         []string
		wantRequests bool
	}{
		{
			name:         "reachable and young",
			setup:        func(f *fixture) []Repo { return []Repo{f.repo} },
			installs:     map[string]string{"alpha": "main"},
			wantRequests: true,
		},
		{
			name: "cannot be read, young copy",
			setup: func(f *fixture) []Repo {
				f.web.Remove("/idx/index.json")
				return []Repo{f.repo}
			},
			later:        time.Hour,
			installs:     map[string]string{"alpha": "main"},
			want:         []string{"repo-unreachable|cannot be read: http://…/idx/index.json: not found (HTTP 404 Not Found); its copy from 1h ago is used|then `modup repo refresh main`; if it is gone for good: modup repo disable main"},
			wantRequests: true,
		},
		{
			name: "cannot be read, copy too old: its packages go to their authors",
			setup: func(f *fixture) []Repo {
				f.web.Remove("/idx/index.json")
				return []Repo{f.repo}
			},
			later:        25 * time.Hour,
			installs:     map[string]string{"alpha": "main", "beta": "main"},
			want:         []string{"repo-unreachable|its copy is 25h old, more than 24 × repo_max_age (24h), and 2 packages (alpha, beta) were installed from it: they are checked at their authors' sources|modup repo disable main"},
			wantRequests: true,
		},
		{
			name:     "offline: a young copy asks nothing",
			setup:    func(f *fixture) []Repo { return []Repo{f.repo} },
			later:    time.Hour,
			offline:  true,
			installs: map[string]string{"alpha": "main"},
		},
		{
			name:     "offline: a copy too old",
			setup:    func(f *fixture) []Repo { return []Repo{f.repo} },
			later:    48 * time.Hour,
			offline:  true,
			installs: map[string]string{"alpha": "main"},
			want:     []string{"repo-stale|its copy is 2d old, more than 24 × repo_max_age (24h), and 1 package (alpha) was installed from it: it is checked at its author's source|modup repo refresh main"},
		},
		{
			name: "offline: never read",
			setup: func(f *fixture) []Repo {
				return []Repo{f.repo, {Name: "new", URL: f.web.URL + "/new/", Enabled: true}}
			},
			offline: true,
			want:    []string{"repo-stale|nothing of it is cached: search and install by name cannot use it|modup repo refresh new"},
		},
		{
			name: "offline: the last command could not read it",
			setup: func(f *fixture) []Repo {
				f.web.Remove("/idx/list/packages.json")
				f.now = f.now.Add(2 * time.Hour)
				if list := f.client.Packages(f.t.Context(), f.repo); list.Err == nil {
					f.t.Fatal("no error from a missing package list")
				}
				return []Repo{f.repo}
			},
			offline: true,
			want:    []string{"repo-unreachable|cannot be read: http://…/idx/list/packages.json: not found (HTTP 404 Not Found) (the last time it was asked); its copy from 2h ago is used|modup repo refresh main"},
		},
		{
			name:     "disabled, packages installed from it",
			setup:    func(f *fixture) []Repo { return []Repo{disabled(f.repo, "")} },
			installs: map[string]string{"alpha": "main", "beta": ""},
			want:     []string{"repo-disabled|disabled, and 1 package (alpha) was installed from it: it is checked at its author's source|modup repo enable main"},
		},
		{
			name:     "disabled in the configuration file",
			setup:    func(f *fixture) []Repo { return []Repo{disabled(f.repo, "/etc/modup/config.toml:7")} },
			installs: map[string]string{"alpha": "main"},
			want:     []string{"repo-disabled|disabled|set enabled = true in /etc/modup/config.toml:7"},
		},
		{
			name:     "disabled, nothing installed from it",
			setup:    func(f *fixture) []Repo { return []Repo{disabled(f.repo, "")} },
			installs: map[string]string{"alpha": "other"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
			if list := f.client.Packages(t.Context(), f.repo); list.Err != nil {
				t.Fatal(list.Err)
			}
			repos := tt.setup(f)
			f.now = f.now.Add(tt.later)
			f.web.Reset()
			// The next command's Client, on the same cache.
			c := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
			got := Doctor(t.Context(), c, &List{Repos: repos}, installedRoot(t, tt.installs), tt.offline)
			if len(got) != len(tt.want) {
				t.Fatalf("Doctor = %+v, want %d findings", got, len(tt.want))
			}
			for i, w := range tt.want {
				kind, rest, _ := strings.Cut(w, "|")
				text, fix, _ := strings.Cut(rest, "|")
				if g := got[i]; g.Kind != kind || !inOrder(g.Text, text) || !inOrder(g.Fix, fix) || g.Repo == "" || g.Package != "" {
					t.Errorf("finding %d = %+v, want kind %s, text with %q, fix with %q", i, g, kind, text, fix)
				}
			}
			if n := total(f.requests("/")); (n > 0) != tt.wantRequests {
				t.Errorf("requests %v, want some: %v", f.requests("/"), tt.wantRequests)
			}
		})
	}
}

// inOrder reports whether s holds the parts of want (split at …) in that
// order.
func inOrder(s, want string) bool {
	for part := range strings.SplitSeq(want, "…") {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}

// disabled is r disabled, declared at from ("" for repos.json).
func disabled(r Repo, from string) Repo {
	r.Enabled, r.From = false, from
	return r
}
