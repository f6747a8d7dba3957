package updater_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// reqRemote publishes releases that declare requirements.
type reqRemote interface {
	url() string
	// publish makes version downloadable, with fields in the manifest of
	// its zip (and, where the source keeps one per release, beside it).
	publish(t *testing.T, version string, fields map[string]any)
	// point points the remote manifest at version, declaring fields.
	point(t *testing.T, version string, fields map[string]any)
}

func reqFiles(name, version, url string, fields map[string]any) map[string]string {
	return map[string]string{
		"a2modsource.json":  testpkg.ManifestWith(name, version, url, fields),
		"mod/a2module.json": `[{"typ": "nfo", "version": "` + version + `"}]`,
		"mod/code.ahk":      "version " + version,
	}
}

type ghReq struct{ s *githubtest.Server }

func (r ghReq) url() string { return r.s.RepoURL("acme", "a2.modules") }
func (r ghReq) publish(t *testing.T, version string, fields map[string]any) {
	r.s.AddRelease("acme", "a2.modules", githubtest.Release{Tag: version, Files: reqFiles("a2.modules", version, "", fields)})
	r.s.SetManifest("acme", "a2.modules", version, []byte(testpkg.ManifestWith("a2.modules", version, "", fields)))
}
func (r ghReq) point(t *testing.T, version string, fields map[string]any) {
	r.s.SetManifest("acme", "a2.modules", "HEAD", []byte(testpkg.ManifestWith("a2.modules", version, "", fields)))
}

type webReq struct{ h *webHost }

func (r webReq) url() string { return r.h.url() }
func (r webReq) publish(t *testing.T, version string, fields map[string]any) {
	r.h.put(version+".zip", testpkg.Zip(t, "", reqFiles("a2.modules", version, "", fields)))
}
func (r webReq) point(t *testing.T, version string, fields map[string]any) {
	r.h.put("a2modsource.json", []byte(testpkg.ManifestWith("a2.modules", version, "", fields)))
}

type fsReq struct{ dir string }

func (r fsReq) url() string { return r.dir }
func (r fsReq) publish(t *testing.T, version string, fields map[string]any) {
	testpkg.WriteFile(t, filepath.Join(r.dir, version+".zip"), string(testpkg.Zip(t, "", reqFiles("a2.modules", version, "", fields))))
}
func (r fsReq) point(t *testing.T, version string, fields map[string]any) {
	testpkg.WriteFile(t, filepath.Join(r.dir, "a2modsource.json"), testpkg.ManifestWith("a2.modules", version, "", fields))
}

func needsA2(c string) map[string]any {
	return map[string]any{"manifest_version": 2, "requires": map[string]any{"a2": c}}
}

// hostUpdater is newUpdater on a host of version v ("" unknown).
func hostUpdater(t *testing.T, v string, env ...string) *updater.Updater {
	u := newUpdater(t, env...)
	u.Host = resolve.Host{Name: "a2"}
	if v != "" {
		u.Host.Version = semver.MustParse(v)
	}
	return u
}

// A newer release that needs a newer a2 is held back with the reason;
// where the source lists its releases and says what each needs (GitHub),
// the newest older release that fits is offered and installed instead;
// elsewhere (web, folder) nothing is, and update changes nothing.
func TestHeldBack(t *testing.T) {
	tests := []struct {
		name   string
		remote func(t *testing.T) (reqRemote, []string)
		// fits75 says whether 0.7.5 fits (it needs a2 >= 0.5.0, else >= 0.6.0).
		fits75    bool
		available string // what check offers; "" none
		warning   string // a warning check must give, "" none
	}{
		{name: "github, an older release fits", fits75: true, available: "0.7.5",
			remote: func(t *testing.T) (reqRemote, []string) { s := githubtest.New(t); return ghReq{s}, s.Env() }},
		{name: "github, no older release fits", fits75: false, available: "",
			remote: func(t *testing.T) (reqRemote, []string) { s := githubtest.New(t); return ghReq{s}, s.Env() }},
		{name: "web", fits75: true, available: "",
			remote: func(t *testing.T) (reqRemote, []string) { return webReq{newWebHost(t)}, nil }},
		{name: "folder", fits75: true, available: "",
			remote: func(t *testing.T) (reqRemote, []string) { return fsReq{t.TempDir()}, nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			r, env := tc.remote(t)
			u := hostUpdater(t, "0.5.7", env...)
			root := filepath.Join(t.TempDir(), "root")
			r.publish(t, "0.7.2", nil)
			r.point(t, "0.7.2", nil)
			wantStatus(t, u.Install(ctx, root, r.url(), updater.UpdateOptions{}), updater.StatusInstalled)

			need75 := ">= 0.5.0"
			if !tc.fits75 {
				need75 = ">= 0.6.0"
			}
			r.publish(t, "0.7.5", needsA2(need75))
			r.publish(t, "0.8.0", needsA2(">= 0.6.0"))
			r.point(t, "0.8.0", needsA2(">= 0.6.0"))

			res := u.CheckOne(ctx, load(t, root, "a2.modules"))
			if res.Status != updater.StatusHeldBack || res.Newest != "0.8.0" || res.Available != tc.available ||
				res.Reason != "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7" {
				t.Fatalf("check: status %s newest %q available %q reason %q (%v); want held-back, newest 0.8.0, available %q",
					res.Status, res.Newest, res.Available, res.Reason, res.Err, tc.available)
			}
			if res.Installable() != (tc.available != "") {
				t.Errorf("Installable() = %v", res.Installable())
			}
			if res.NewestRequirements == nil || res.NewestRequirements.String() != "requires a2 >= 0.6.0" {
				t.Errorf("newest requirements: %v", res.NewestRequirements)
			}

			c := u.Update(ctx, load(t, root, "a2.modules"), updater.UpdateOptions{})
			if tc.available == "" {
				wantStatus(t, c, updater.StatusHeldBack)
				if c.Newest != "0.8.0" || c.Reason != res.Reason {
					t.Errorf("update: newest %q reason %q", c.Newest, c.Reason)
				}
				if got := load(t, root, "a2.modules"); got.Version() != "0.7.2" {
					t.Errorf("a held-back update changed the package to %s", got.Version())
				}
				checkClean(t, root)
				return
			}
			wantStatus(t, c, updater.StatusUpdated)
			if c.To != "0.7.5" || c.Newest != "0.8.0" || c.Reason != res.Reason {
				t.Errorf("update: to %q newest %q reason %q; want 0.7.5 with 0.8.0 held back", c.To, c.Newest, c.Reason)
			}
			wantTree(t, filepath.Join(root, "a2.modules"), reqFiles("a2.modules", "0.7.5", r.url(), needsA2(need75)))
			again := u.CheckOne(ctx, load(t, root, "a2.modules"))
			if again.Status != updater.StatusHeldBack || again.Available != "" || again.Installed != "0.7.5" {
				t.Errorf("check after: %s installed %s available %q", again.Status, again.Installed, again.Available)
			}
		})
	}
}

// writePkg puts a package folder in root, installed by hand (a local
// package: no update_url), declaring fields.
func writePkg(t *testing.T, root, name, version string, fields map[string]any) {
	t.Helper()
	testpkg.WriteFile(t, filepath.Join(root, name, "a2modsource.json"), testpkg.ManifestWith(name, version, "", fields))
}

// What other installed packages declare decides too: a dependent that
// needs the installed line, a package the release breaks or conflicts
// with; a provided name meets a requirement; an unknown host version is
// not enforced, only reported.
func TestCheckAgainstTheInstalledSet(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		others  func(t *testing.T, root string)
		fields  map[string]any // of the new release 0.8.0
		status  updater.Status
		reason  string
		warning string
	}{
		{name: "a dependent needs the installed line", host: "0.5.7",
			others: func(t *testing.T, root string) {
				writePkg(t, root, "a2.tools", "1.0.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"a2.modules": "^0.7"}}})
			},
			status: updater.StatusHeldBack, reason: "a2.tools 1.0.0 needs a2.modules ^0.7"},
		{name: "the release breaks an installed package", host: "0.5.7",
			others: func(t *testing.T, root string) { writePkg(t, root, "a2.tools", "1.0.0", nil) },
			fields: map[string]any{"manifest_version": 2, "breaks": map[string]any{"a2.tools": "< 2"}},
			status: updater.StatusHeldBack, reason: "0.8.0 breaks a2.tools 1.0.0"},
		{name: "the release conflicts with an installed package", host: "0.5.7",
			others: func(t *testing.T, root string) { writePkg(t, root, "old.tools", "3.0.0", nil) },
			fields: map[string]any{"manifest_version": 2, "conflicts": map[string]any{"old.tools": "*"}},
			status: updater.StatusHeldBack, reason: "0.8.0 conflicts with old.tools 3.0.0"},
		{name: "an installed package conflicts with the release", host: "0.5.7",
			others: func(t *testing.T, root string) {
				writePkg(t, root, "old.tools", "3.0.0", map[string]any{"manifest_version": 2, "conflicts": map[string]any{"a2.modules": ">= 0.8"}})
			},
			status: updater.StatusHeldBack, reason: "old.tools 3.0.0 conflicts with a2.modules >= 0.8"},
		{name: "a provided name meets a requirement", host: "0.5.7",
			others: func(t *testing.T, root string) {
				writePkg(t, root, "hotkeys", "1.0.0", map[string]any{"manifest_version": 2, "provides": []string{"hotstrings"}})
			},
			fields: map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"hotstrings": "*"}}},
			status: updater.StatusUpdateAvailable},
		{name: "a required package that is missing", host: "0.5.7",
			fields: map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"hotstrings": "*"}}},
			status: updater.StatusHeldBack, reason: "0.8.0 needs hotstrings *, and no version of hotstrings matches"},
		{name: "an unknown host version is reported", host: "",
			fields:  needsA2(">= 0.6.0"),
			status:  updater.StatusUpdateAvailable,
			warning: "a2.modules 0.8.0 requires a2 >= 0.6.0; the a2 version is not known, so this is not checked (set host_version in the configuration file, MODUP_HOST_VERSION or --host-version)"},
		{name: "a release for a newer modup", host: "0.5.7",
			fields: map[string]any{"manifest_version": 3, "requires": "something new"},
			status: updater.StatusHeldBack, reason: "0.8.0 needs a newer modup (manifest_version 3; this one reads up to 2)"},
		{name: "another platform", host: "0.5.7",
			fields: map[string]any{"manifest_version": 2, "requires": map[string]any{"platform": map[string]any{"os": "plan9"}}},
			status: updater.StatusHeldBack, reason: "0.8.0 runs only on plan9 (this is linux/amd64)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fsReq{t.TempDir()}
			u := hostUpdater(t, tc.host)
			u.Platform = resolve.Platform{OS: "linux", Arch: "amd64"}
			root := filepath.Join(t.TempDir(), "root")
			r.publish(t, "0.7.2", nil)
			r.point(t, "0.7.2", nil)
			wantStatus(t, u.Install(t.Context(), root, r.url(), updater.UpdateOptions{}), updater.StatusInstalled)
			if tc.others != nil {
				tc.others(t, root)
			}
			r.publish(t, "0.8.0", tc.fields)
			r.point(t, "0.8.0", tc.fields)
			res := u.CheckOne(t.Context(), load(t, root, "a2.modules"))
			if res.Status != tc.status || res.Reason != tc.reason {
				t.Errorf("check: %s %q (%v), want %s %q", res.Status, res.Reason, res.Err, tc.status, tc.reason)
			}
			if tc.warning != "" && !slices.Contains(res.Warnings, tc.warning) {
				t.Errorf("warnings %q, want %q", res.Warnings, tc.warning)
			}
			// update agrees with check, and the staged release passes
			// the same judgement before the swap.
			c := u.Update(t.Context(), load(t, root, "a2.modules"), updater.UpdateOptions{})
			want := map[updater.Status]updater.Status{updater.StatusHeldBack: updater.StatusHeldBack, updater.StatusUpdateAvailable: updater.StatusUpdated}[tc.status]
			wantStatus(t, c, want)
			checkClean(t, root)
		})
	}
}

// The release's own manifest, read from the zip before the swap, has the
// last word: a zip that needs more than its pointer manifest said is
// refused with the reasons, and nothing changes; --to a release that does
// not fit is refused the same way.
func TestRequirementsOfTheZipAreEnforced(t *testing.T) {
	ctx := t.Context()
	r := fsReq{t.TempDir()}
	u := hostUpdater(t, "0.5.7")
	root := filepath.Join(t.TempDir(), "root")
	r.publish(t, "0.7.2", nil)
	r.point(t, "0.7.2", nil)
	wantStatus(t, u.Install(ctx, root, r.url(), updater.UpdateOptions{}), updater.StatusInstalled)
	before := treeHash(t, filepath.Join(root, "a2.modules"))

	r.publish(t, "0.8.0", needsA2(">= 0.6.0"))
	r.point(t, "0.8.0", nil) // the pointer does not say
	c := u.Update(ctx, load(t, root, "a2.modules"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	want := "a2.modules 0.8.0 cannot be installed here: Because a2.modules 0.8.0 requires a2 >= 0.6.0 and a2 is 0.5.7, a2.modules 0.8.0 cannot be installed."
	if c.Error != want {
		t.Errorf("error:\n%s\nwant\n%s", c.Error, want)
	}
	if treeHash(t, filepath.Join(root, "a2.modules")) != before {
		t.Error("the package changed")
	}
	checkClean(t, root)

	c = u.Update(ctx, load(t, root, "a2.modules"), updater.UpdateOptions{To: "0.8.0"})
	wantStatus(t, c, updater.StatusFailed)
	if c.Error != want {
		t.Errorf("--to error:\n%s\nwant\n%s", c.Error, want)
	}
	checkClean(t, root)

	// A new install is judged the same way.
	other := filepath.Join(t.TempDir(), "root")
	c = u.Install(ctx, other, r.url(), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if c.Error != want {
		t.Errorf("install error:\n%s\nwant\n%s", c.Error, want)
	}
	if _, err := os.Lstat(filepath.Join(other, "a2.modules")); err == nil {
		t.Error("the refused package was installed")
	}
}

// A manifest written for a newer modup is refused for install, saying so.
func TestInstallNeedsNewerModup(t *testing.T) {
	r := fsReq{t.TempDir()}
	fields := map[string]any{"manifest_version": 3}
	r.publish(t, "1.0.0", fields)
	r.point(t, "1.0.0", fields)
	root := filepath.Join(t.TempDir(), "root")
	c := hostUpdater(t, "0.5.7").Install(t.Context(), root, r.url(), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if !strings.Contains(c.Error, "manifest_version 3 needs a newer modup (this one reads up to 2): update modup") {
		t.Errorf("error %q", c.Error)
	}
	if _, err := os.Lstat(filepath.Join(root, "a2.modules")); err == nil {
		t.Error("installed all the same")
	}
}
