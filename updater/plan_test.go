package updater_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// relDir is a folder of releases of one package.
type relDir struct{ dir, name string }

func newRelDir(t *testing.T, base, name string) relDir {
	return relDir{dir: filepath.Join(base, "releases", name), name: name}
}

// release publishes version (its zip declaring fields) and points the
// folder's manifest at it.
func (r relDir) release(t *testing.T, version string, fields map[string]any) {
	t.Helper()
	testpkg.WriteFile(t, filepath.Join(r.dir, version+".zip"), string(testpkg.Zip(t, "", reqFiles(r.name, version, "", fields))))
	testpkg.WriteFile(t, filepath.Join(r.dir, "a2modsource.json"), testpkg.ManifestWith(r.name, version, "", fields))
}

func requires(pkgs map[string]any) map[string]any {
	return map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": pkgs}}
}

func field(kv ...any) map[string]any {
	m := map[string]any{"manifest_version": 2}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func statuses(chs []updater.Change) string {
	var out []string
	for _, c := range chs {
		s := c.Name + " " + string(c.Status)
		if c.To != "" {
			s += " " + c.To
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

func scanRoot(t *testing.T, root string) []pkgdir.Package {
	t.Helper()
	pkgs, err := pkgdir.Scan([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// versionIn is the version of package name in root ("" when absent).
func versionIn(t *testing.T, root, name string) string {
	t.Helper()
	p, ok := pkgdir.Load(root, filepath.Join(root, name))
	if !ok {
		return ""
	}
	return p.Version()
}

// A dependency whose new version breaks an installed dependent is held
// back, with the reason; updated together with a newer dependent that
// fits, both change, in one transaction, the dependency first.
func TestUpdateSetPlansTogether(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	modules, tools := newRelDir(t, base, "a2.modules"), newRelDir(t, base, "a2.tools")
	u := hostUpdater(t, "0.5.7")
	modules.release(t, "0.7.2", nil)
	tools.release(t, "1.0.0", requires(map[string]any{"a2.modules": "^0.7"}))
	got := u.InstallSet(ctx, root, []string{tools.dir, modules.dir}, updater.SetOptions{})
	if statuses(got) != "a2.tools installed 1.0.0; a2.modules installed 0.7.2" {
		t.Fatalf("install: %s (%v)", statuses(got), got)
	}
	checkClean(t, root)

	modules.release(t, "0.8.0", nil)
	// modules alone: held back by the installed tools.
	got = u.UpdateSet(ctx, scanRoot(t, root), []string{"a2.modules"}, false, updater.SetOptions{})
	if statuses(got) != "a2.modules held-back" || got[0].Reason != "a2.tools 1.0.0 needs a2.modules ^0.7" || got[0].Newest != "0.8.0" {
		t.Fatalf("update modules alone: %s, reason %q newest %q", statuses(got), got[0].Reason, got[0].Newest)
	}
	if versionIn(t, root, "a2.modules") != "0.7.2" {
		t.Fatal("a held-back update changed the package")
	}

	// With a tools release that needs the new modules, --all moves both in
	// one transaction.
	tools.release(t, "2.0.0", requires(map[string]any{"a2.modules": "^0.8"}))
	var steps []string
	got = u.UpdateSet(ctx, scanRoot(t, root), nil, true, updater.SetOptions{Inject: func(name, step string) error {
		steps = append(steps, strings.TrimSpace(name+" "+step))
		return nil
	}})
	if statuses(got) != "a2.modules updated 0.8.0; a2.tools updated 2.0.0" {
		t.Fatalf("update --all: %s (%+v)", statuses(got), got)
	}
	want := []string{"journal", "a2.modules backup-live", "a2.modules place-new", "a2.tools backup-live", "a2.tools place-new",
		"a2.modules record", "a2.tools record", "unjournal"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps %q, want one transaction %q", steps, want)
	}
	for _, c := range got {
		if c.Backup == "" || !strings.Contains(c.Backup, filepath.Join("backups", c.Name)) {
			t.Errorf("%s: backup %q", c.Name, c.Backup)
		}
	}
	if versionIn(t, root, "a2.modules") != "0.8.0" || versionIn(t, root, "a2.tools") != "2.0.0" {
		t.Errorf("installed %s %s", versionIn(t, root, "a2.modules"), versionIn(t, root, "a2.tools"))
	}
	wantBackups(t, root, "a2.modules", "0.7.2")
	wantBackups(t, root, "a2.tools", "1.0.0")
	checkClean(t, root)
}

// install of several packages: what they require among them comes first,
// all in one transaction; a requirement nobody offers stops everything
// with the solver's reasons.
func TestInstallSet(t *testing.T) {
	tests := []struct {
		name     string
		others   map[string]map[string]any // installed by hand: name -> fields
		releases map[string]map[string]any // name -> fields of its 1.0.0
		urls     []string                  // names of the releases to install
		want     string                    // statuses()
		err      string                    // the error of the first change
		present  []string                  // installed afterwards
		absent   []string
	}{
		{
			name:     "a dependency among the URLs comes first",
			releases: map[string]map[string]any{"tools": requires(map[string]any{"lib": "^1"}), "lib": nil},
			urls:     []string{"tools", "lib"},
			want:     "tools installed 1.0.0; lib installed 1.0.0",
			present:  []string{"tools", "lib"},
		},
		{
			name:     "a missing dependency",
			releases: map[string]map[string]any{"tools": requires(map[string]any{"lib": "^1"})},
			urls:     []string{"tools"},
			want:     "tools failed 1.0.0",
			err: "Because tools 1.0.0 requires lib ^1 and no version of lib is known, tools 1.0.0 cannot be installed.\n" +
				"lib: not installed, and no URL given offers it: pass its update_url too (`modup install URL-OF-lib %URLS%`)",
			absent: []string{"tools"},
		},
		{
			name:     "a missing dependency of one of two: neither",
			releases: map[string]map[string]any{"tools": requires(map[string]any{"lib": "^2"}), "lib": nil},
			urls:     []string{"tools", "lib"},
			want:     "tools failed 1.0.0; lib skipped 1.0.0",
			err: "Because you asked for tools and tools 1.0.0 requires lib ^2, lib ^2 is required.\n" +
				"You asked for lib, and no version of lib matches ^2 (only 1.0.0 is known), so the request cannot be met.",
			absent: []string{"tools", "lib"},
		},
		{
			name:     "a provided name meets a requirement",
			others:   map[string]map[string]any{"hotkeys": field("provides", []string{"hotstrings"})},
			releases: map[string]map[string]any{"tools": requires(map[string]any{"hotstrings": "*"})},
			urls:     []string{"tools"},
			want:     "tools installed 1.0.0",
			present:  []string{"tools", "hotkeys"},
		},
		{
			name:     "conflicts with an installed package",
			others:   map[string]map[string]any{"old.tools": nil},
			releases: map[string]map[string]any{"tools": field("conflicts", map[string]any{"old.tools": "*"})},
			urls:     []string{"tools"},
			want:     "tools failed 1.0.0",
			err: "Because you asked for tools and tools 1.0.0 conflicts with old.tools, old.tools cannot stay installed.\n" +
				"old.tools 1.0.0 is installed, so the request cannot be met.\n" +
				"It works without old.tools: `modup remove old.tools` first.",
			absent: []string{"tools"},
		},
		{
			name:     "breaks an installed package",
			others:   map[string]map[string]any{"mods": nil},
			releases: map[string]map[string]any{"tools": field("breaks", map[string]any{"mods": "< 2"})},
			urls:     []string{"tools"},
			want:     "tools failed 1.0.0",
			err: "Because you asked for tools and tools 1.0.0 breaks mods < 2, mods < 2 cannot stay installed.\n" +
				"mods 1.0.0 is installed, so the request cannot be met.\n" +
				"It works without mods: `modup remove mods` first.",
			absent: []string{"tools"},
		},
		{
			name:     "an installed package conflicts with it",
			others:   map[string]map[string]any{"old.tools": field("conflicts", map[string]any{"tools": "*"})},
			releases: map[string]map[string]any{"tools": nil},
			urls:     []string{"tools"},
			want:     "tools failed 1.0.0",
			err: "Because old.tools 1.0.0 conflicts with tools and you asked for tools, old.tools 1.0.0 cannot stay installed.\n" +
				"old.tools 1.0.0 is installed, so the request cannot be met.\n" +
				"It works without old.tools: `modup remove old.tools` first.",
			absent: []string{"tools"},
		},
		{
			name:     "replaces an installed package: removed in the same change",
			others:   map[string]map[string]any{"ol.modules": nil},
			releases: map[string]map[string]any{"a2.modules": field("replaces", map[string]any{"ol.modules": "*"})},
			urls:     []string{"a2.modules"},
			want:     "a2.modules installed 1.0.0; ol.modules removed",
			present:  []string{"a2.modules"},
			absent:   []string{"ol.modules"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "root")
			for name, fields := range tc.others {
				writePkg(t, root, name, "1.0.0", fields)
			}
			var urls []string
			for name, fields := range tc.releases {
				newRelDir(t, base, name).release(t, "1.0.0", fields)
			}
			for _, n := range tc.urls {
				urls = append(urls, newRelDir(t, base, n).dir)
			}
			got := hostUpdater(t, "0.5.7").InstallSet(t.Context(), root, urls, updater.SetOptions{})
			if statuses(got) != tc.want {
				t.Errorf("got %s, want %s", statuses(got), tc.want)
			}
			if want := strings.ReplaceAll(tc.err, "%URLS%", strings.Join(urls, " ")); tc.err != "" && (len(got) == 0 || got[0].Error != want) {
				t.Errorf("error:\n%s\nwant\n%s", got[0].Error, want)
			}
			for _, n := range tc.present {
				if versionIn(t, root, n) == "" {
					t.Errorf("%s is not installed", n)
				}
			}
			for _, n := range tc.absent {
				if versionIn(t, root, n) != "" {
					t.Errorf("%s is installed", n)
				}
			}
			if slices.Contains(tc.absent, "ol.modules") {
				wantBackups(t, root, "ol.modules", "1.0.0")
			}
			if _, err := os.Stat(root); err == nil {
				checkClean(t, root)
			}
		})
	}
}

// When one package of a group fails before the transaction (its zip is
// broken), none changes; --dry-run says what would change and changes
// nothing.
func TestUpdateSetAllOrNothing(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	modules, tools := newRelDir(t, base, "a2.modules"), newRelDir(t, base, "a2.tools")
	u := hostUpdater(t, "0.5.7")
	modules.release(t, "0.7.2", nil)
	tools.release(t, "1.0.0", requires(map[string]any{"a2.modules": "^0.7"}))
	if got := u.InstallSet(ctx, root, []string{modules.dir, tools.dir}, updater.SetOptions{}); statuses(got) != "a2.modules installed 0.7.2; a2.tools installed 1.0.0" {
		t.Fatalf("install: %s", statuses(got))
	}
	modules.release(t, "0.8.0", nil)
	tools.release(t, "2.0.0", requires(map[string]any{"a2.modules": "^0.8"}))

	got := u.UpdateSet(ctx, scanRoot(t, root), nil, true, updater.SetOptions{DryRun: true})
	if statuses(got) != "a2.modules would-update 0.8.0; a2.tools would-update 2.0.0" {
		t.Errorf("dry run: %s", statuses(got))
	}
	testpkg.WriteFile(t, filepath.Join(tools.dir, "2.0.0.zip"), "not a zip")
	before := map[string]string{}
	for _, n := range []string{"a2.modules", "a2.tools"} {
		before[n] = treeHash(t, filepath.Join(root, n))
	}
	got = u.UpdateSet(ctx, scanRoot(t, root), nil, true, updater.SetOptions{})
	if statuses(got) != "a2.modules skipped 0.8.0; a2.tools failed 2.0.0" {
		t.Fatalf("update: %s", statuses(got))
	}
	if got[0].Reason != "not changed: it goes with a2.tools, which failed" {
		t.Errorf("reason: %q", got[0].Reason)
	}
	for n, h := range before {
		if treeHash(t, filepath.Join(root, n)) != h {
			t.Errorf("%s changed", n)
		}
	}
	wantBackups(t, root, "a2.modules")
	checkClean(t, root)
}

// InstallCandidates takes releases from any source (here several versions
// of a package, as an index would list them): the plan picks the versions
// that fit, not merely the newest, and installs them in one transaction.
func TestInstallCandidates(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	u := hostUpdater(t, "0.5.7")
	lib, app := newRelDir(t, base, "lib"), newRelDir(t, base, "app")
	lib.release(t, "1.0.0", nil)
	lib.release(t, "2.0.0", nil)
	app.release(t, "1.0.0", requires(map[string]any{"lib": "^1"}))

	candidate := func(r relDir, version string, fields map[string]any) updater.Candidate {
		t.Helper()
		src, err := u.Sources.Registry.For(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse([]byte(testpkg.ManifestWith(r.name, version, "", fields)), "index")
		if err != nil {
			t.Fatal(err)
		}
		q := sources.Query{Package: r.name, UpdateURL: r.dir}
		rel, err := src.Resolve(ctx, q, sources.Release{Version: version, Origin: "request", Requirements: m.Requirements, RequirementsKnown: true})
		if err != nil {
			t.Fatal(err)
		}
		return updater.Candidate{Name: r.name, UpdateURL: r.dir, Source: src, Query: q, Release: rel}
	}
	cands := []updater.Candidate{
		candidate(lib, "2.0.0", nil), candidate(lib, "1.0.0", nil),
		candidate(app, "1.0.0", requires(map[string]any{"lib": "^1"})),
	}
	var steps []string
	got := u.InstallCandidates(ctx, root, []resolve.Want{{Name: "app"}}, cands, updater.SetOptions{Inject: func(name, step string) error {
		steps = append(steps, strings.TrimSpace(name+" "+step))
		return nil
	}})
	if statuses(got) != "app installed 1.0.0; lib installed 1.0.0" {
		t.Fatalf("got %s (%+v)", statuses(got), got)
	}
	if got[1].Reason != "required by app 1.0.0" {
		t.Errorf("lib's reason %q", got[1].Reason)
	}
	if len(steps) == 0 || steps[0] != "journal" || steps[1] != "lib place-new" {
		t.Errorf("steps %q: want one transaction, lib first", steps)
	}
	if versionIn(t, root, "lib") != "1.0.0" || versionIn(t, root, "app") != "1.0.0" {
		t.Errorf("installed lib %q app %q", versionIn(t, root, "lib"), versionIn(t, root, "app"))
	}
	checkClean(t, root)
}
