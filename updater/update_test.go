package updater_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// remote is a fake update source a test publishes releases to.
type remote interface {
	updateURL() string
	// release makes version downloadable, its zip holding files, and
	// points the remote manifest at it.
	release(t *testing.T, version string, files map[string]string)
}

// fsRemote is a release folder on disk.
type fsRemote struct{ dir string }

func newFSRemote(t *testing.T) *fsRemote {
	dir := filepath.Join(t.TempDir(), "releases", "hello")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &fsRemote{dir: dir}
}

func (r *fsRemote) updateURL() string { return r.dir }

func (r *fsRemote) publish(t *testing.T, version string, zip []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, version+".zip"), zip, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *fsRemote) point(t *testing.T, manifest string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "a2modsource.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *fsRemote) release(t *testing.T, version string, files map[string]string) {
	r.publish(t, version, testpkg.Zip(t, "", files))
	r.point(t, testpkg.Manifest("hello", version, ""))
}

// webRemote is a static web folder.
type webRemote struct{ h *webHost }

func (r *webRemote) updateURL() string { return r.h.url() }

func (r *webRemote) release(t *testing.T, version string, files map[string]string) {
	r.h.put(version+".zip", testpkg.Zip(t, "", files))
	r.h.put("a2modsource.json", []byte(testpkg.Manifest("hello", version, "")))
}

// ghRemote is a repository on the fake GitHub: versions listed in assets
// are published as a release asset "<version>.zip" (with GitHub's digest),
// the others as a plain tag, downloaded as GitHub's tag archive wrapped in
// "<repo>-<tag>/".
type ghRemote struct {
	s           *githubtest.Server
	owner, repo string
	assets      []string
}

func (r *ghRemote) updateURL() string { return r.s.RepoURL(r.owner, r.repo) }

func (r *ghRemote) release(t *testing.T, version string, files map[string]string) {
	rel := githubtest.Release{Tag: version, Body: "notes of " + version, Files: files}
	if slices.Contains(r.assets, version) {
		rel.Assets = map[string][]byte{version + ".zip": testpkg.Zip(t, "", files)}
	}
	r.s.AddRelease(r.owner, r.repo, rel)
	r.s.SetManifest(r.owner, r.repo, "HEAD", []byte(testpkg.Manifest("hello", version, "")))
}

// checkRecord checks the install record of name against the live folder.
func checkRecord(t *testing.T, root, name, version, source, updateURL string) {
	t.Helper()
	rec, err := pkgdir.Layout{Root: root}.ReadRecord(name)
	if err != nil {
		t.Fatalf("install record: %v", err)
	}
	if rec.Version != version || rec.Source != source || rec.UpdateURL != updateURL {
		t.Errorf("install record: version %q source %q update_url %q; want %q %q %q", rec.Version, rec.Source, rec.UpdateURL, version, source, updateURL)
	}
	if h := treeHash(t, filepath.Join(root, name)); rec.TreeHash != h {
		t.Errorf("install record: tree hash %s, the live folder has %s", rec.TreeHash, h)
	}
	if rec.InstalledAt.IsZero() {
		t.Error("install record: no installed_at")
	}
}

func wantBackups(t *testing.T, root, name string, want ...string) {
	t.Helper()
	if got := backupVersions(t, root, name); !slices.Equal(got, want) {
		t.Errorf("backups of %s: %v, want %v", name, got, want)
	}
}

// TestLifecycle installs, updates, rolls back and removes one package
// against each kind of source, checking the folder, backups, install record
// and .modup/ after every step.
func TestLifecycle(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		remote func(t *testing.T) (remote, []string)
		// after checks the remote once everything is done.
		after func(t *testing.T, r remote)
	}{
		{
			name: "github",
			kind: "github",
			remote: func(t *testing.T) (remote, []string) {
				s := githubtest.New(t)
				return &ghRemote{s: s, owner: "someone", repo: "hello", assets: []string{"1.1.0"}}, s.Env()
			},
			after: func(t *testing.T, r remote) {
				s := r.(*ghRemote).s
				// 1.0.0 came as a tag archive; 1.1.0, installed twice, as its asset.
				if n := s.Count("archive"); n != 1 {
					t.Errorf("%d tag archive downloads, want 1", n)
				}
				if n := s.Count("asset"); n != 2 {
					t.Errorf("%d asset downloads, want 2", n)
				}
			},
		},
		{
			name: "web",
			kind: "web",
			remote: func(t *testing.T) (remote, []string) {
				return &webRemote{h: newWebHost(t)}, nil
			},
			after: func(t *testing.T, r remote) {
				h := r.(*webRemote).h
				if n := h.count("GET", "1.0.0.zip"); n != 1 {
					t.Errorf("1.0.0.zip downloaded %d times, want 1", n)
				}
				if n := h.count("GET", "1.1.0.zip"); n != 2 {
					t.Errorf("1.1.0.zip downloaded %d times, want 2", n)
				}
			},
		},
		{
			name: "fs",
			kind: "fs",
			remote: func(t *testing.T) (remote, []string) {
				return newFSRemote(t), nil
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			r, env := tc.remote(t)
			u := newUpdater(t, env...)
			root := filepath.Join(t.TempDir(), "root")
			live := filepath.Join(root, "hello")
			url := r.updateURL()
			v1 := pkgFiles("hello", "1.0.0", url)
			v2 := pkgFiles("hello", "1.1.0", url)

			// install
			r.release(t, "1.0.0", v1)
			c := u.Install(ctx, root, url, updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusInstalled)
			if c.Name != "hello" || c.To != "1.0.0" || c.Path != live {
				t.Errorf("install: name %q to %q path %q", c.Name, c.To, c.Path)
			}
			if len(c.Warnings) > 0 {
				t.Errorf("install: warnings %q", c.Warnings)
			}
			wantTree(t, live, v1)
			checkRecord(t, root, "hello", "1.0.0", tc.kind, url)
			wantBackups(t, root, "hello")
			checkClean(t, root)

			// update
			r.release(t, "1.1.0", v2)
			c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			if c.From != "1.0.0" || c.To != "1.1.0" {
				t.Errorf("update: from %q to %q", c.From, c.To)
			}
			wantTree(t, live, v2)
			wantTree(t, c.Backup, v1)
			wantBackups(t, root, "hello", "1.0.0")
			checkRecord(t, root, "hello", "1.1.0", tc.kind, url)
			checkClean(t, root)

			c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpToDate)

			// rollback
			c = u.Rollback(ctx, load(t, root, "hello"), "")
			wantStatus(t, c, updater.StatusRolledBack)
			if c.From != "1.1.0" || c.To != "1.0.0" {
				t.Errorf("rollback: from %q to %q", c.From, c.To)
			}
			wantTree(t, live, v1)
			wantTree(t, c.Backup, v2)
			wantBackups(t, root, "hello", "1.1.0")
			checkRecord(t, root, "hello", "1.0.0", "rollback", url)
			checkClean(t, root)

			// the rolled-back package is not "modified": it updates again
			c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			wantTree(t, live, v2)
			wantBackups(t, root, "hello", "1.0.0", "1.1.0")
			checkRecord(t, root, "hello", "1.1.0", tc.kind, url)

			// remove: the package becomes a backup, the record goes
			c = u.Remove(ctx, load(t, root, "hello"), updater.RemoveOptions{})
			wantStatus(t, c, updater.StatusRemoved)
			if _, err := os.Lstat(live); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still there after remove (%v)", live, err)
			}
			wantTree(t, c.Backup, v2)
			wantBackups(t, root, "hello", "1.1.0", "1.0.0", "1.1.0")
			if _, err := (pkgdir.Layout{Root: root}).ReadRecord("hello"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("install record after remove: %v", err)
			}
			checkClean(t, root)
			if tc.after != nil {
				tc.after(t, r)
			}
		})
	}
}

// TestRemovePurge deletes a package and its record, keeping its backups.
func TestRemovePurge(t *testing.T) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	root := t.TempDir()
	r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.dir))
	wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)

	c := u.Remove(ctx, load(t, root, "hello"), updater.RemoveOptions{Purge: true})
	wantStatus(t, c, updater.StatusRemoved)
	if c.Backup != "" {
		t.Errorf("purge reports a backup %s", c.Backup)
	}
	if _, err := os.Lstat(filepath.Join(root, "hello")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("package still there after purge (%v)", err)
	}
	wantBackups(t, root, "hello", "1.0.0")
	if _, err := (pkgdir.Layout{Root: root}).ReadRecord("hello"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("install record after purge: %v", err)
	}
	checkClean(t, root)
}

// TestInstallRefusesExisting leaves a folder of the same name alone.
func TestInstallRefusesExisting(t *testing.T) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	root := t.TempDir()
	r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.dir))
	mine := map[string]string{"a2modsource.json": testpkg.Manifest("hello", "0.1.0", ""), "mine.txt": "mine\n"}
	testpkg.WriteTree(t, filepath.Join(root, "hello"), mine)

	c := u.Install(ctx, root, r.dir, updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if !strings.Contains(c.Error, "already installed") {
		t.Errorf("error %q does not say it is already installed", c.Error)
	}
	wantTree(t, filepath.Join(root, "hello"), mine)
	checkClean(t, root)
}

// TestKeepBackups keeps the newest KeepBackups backups after each update.
func TestKeepBackups(t *testing.T) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	u.KeepBackups = 2
	root := t.TempDir()
	r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.dir))
	wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
	for _, v := range []string{"1.1.0", "1.2.0", "1.3.0"} {
		r.release(t, v, pkgFiles("hello", v, r.dir))
		wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
	}
	wantBackups(t, root, "hello", "1.2.0", "1.1.0")
	bs, err := pkgdir.Layout{Root: root}.Backups("hello")
	if err != nil {
		t.Fatal(err)
	}
	wantTree(t, bs[0].Dir, pkgFiles("hello", "1.2.0", r.dir))
	wantTree(t, bs[1].Dir, pkgFiles("hello", "1.1.0", r.dir))
	checkClean(t, root)
}

// TestRollbackRestoresRemoved: a removed package is a backup, and Rollback
// puts it back (the caller names it by root and folder, as it is gone).
func TestRollbackRestoresRemoved(t *testing.T) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	root := t.TempDir()
	v1 := pkgFiles("hello", "1.0.0", r.dir)
	r.release(t, "1.0.0", v1)
	wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
	wantStatus(t, u.Remove(ctx, load(t, root, "hello"), updater.RemoveOptions{}), updater.StatusRemoved)

	gone := pkgdir.Package{Name: "hello", Root: root, Dir: filepath.Join(root, "hello")}
	c := u.Rollback(ctx, gone, "")
	wantStatus(t, c, updater.StatusRolledBack)
	if c.From != "" || c.To != "1.0.0" || c.Backup != "" {
		t.Errorf("from %q to %q backup %q", c.From, c.To, c.Backup)
	}
	wantTree(t, filepath.Join(root, "hello"), v1)
	wantBackups(t, root, "hello")
	checkRecord(t, root, "hello", "1.0.0", "rollback", r.dir)
	checkClean(t, root)
}

// TestInstallNamesTheFolder: the folder is named after the remote
// manifest's name, else the last part of the update_url; a name that cannot
// be a folder is refused with a message saying where it came from.
func TestInstallNamesTheFolder(t *testing.T) {
	tests := []struct {
		name     string
		path     string // where the release folder is served
		manifest string // its a2modsource.json
		want     string // the folder, "" when refused
		wantText string
	}{
		{name: "manifest name", path: "/x/", manifest: `{"name": "hello", "version": "1.0.0"}`, want: "hello"},
		{name: "folder name", path: "/packages/greeter/", manifest: `{"version": "1.0.0"}`, want: "greeter"},
		{name: "host root", path: "/", manifest: `{"version": "1.0.0"}`, wantText: "has no name"},
		{name: "escaping name", path: "/x/", manifest: `{"name": "../evil", "version": "1.0.0"}`, wantText: `names the package "../evil"`},
		{name: "hidden name", path: "/x/", manifest: `{"name": ".modup", "version": "1.0.0"}`, wantText: `names the package ".modup"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newWebHost(t)
			url := h.URL + tc.path
			h.put(strings.TrimPrefix(tc.path, "/")+"a2modsource.json", []byte(tc.manifest))
			h.put(strings.TrimPrefix(tc.path, "/")+"1.0.0.zip", testpkg.Zip(t, "", map[string]string{"a2modsource.json": tc.manifest, "x.ahk": "x\n"}))
			base := t.TempDir()
			root := filepath.Join(base, "root")

			c := newUpdater(t).Install(t.Context(), root, url, updater.UpdateOptions{})
			t.Logf("%s %s: %s", c.Name, c.Status, c.Error)
			if tc.want == "" {
				wantStatus(t, c, updater.StatusFailed)
				if !strings.Contains(c.Error, tc.wantText) {
					t.Errorf("error %q does not say %q", c.Error, tc.wantText)
				}
				if got := listAll(t, base, ""); len(got) > 2 { // base and, at most, root
					t.Errorf("written: %v", got)
				}
				return
			}
			wantStatus(t, c, updater.StatusInstalled)
			if c.Name != tc.want {
				t.Errorf("installed as %q, want %q", c.Name, tc.want)
			}
			if _, err := os.Stat(filepath.Join(root, tc.want, "x.ahk")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestUpdateRereadsUnderLock: the package handed to Update may be stale by
// the time its lock is taken (another process changed it); Update decides
// on what is there then.
func TestUpdateRereadsUnderLock(t *testing.T) {
	t.Run("updated meanwhile", func(t *testing.T) {
		ctx := t.Context()
		r := newFSRemote(t)
		u := newUpdater(t)
		root := t.TempDir()
		r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.dir))
		wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
		stale := load(t, root, "hello")
		r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
		wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)

		c := u.Update(ctx, stale, updater.UpdateOptions{})
		wantStatus(t, c, updater.StatusUpToDate)
		if c.From != "1.1.0" {
			t.Errorf("from %q, want what is installed now", c.From)
		}
		wantBackups(t, root, "hello", "1.0.0")
	})
	t.Run("removed meanwhile", func(t *testing.T) {
		ctx := t.Context()
		r := newFSRemote(t)
		u := newUpdater(t)
		root := t.TempDir()
		r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.dir))
		wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
		stale := load(t, root, "hello")
		wantStatus(t, u.Remove(ctx, load(t, root, "hello"), updater.RemoveOptions{Purge: true}), updater.StatusRemoved)
		r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))

		c := u.Update(ctx, stale, updater.UpdateOptions{})
		wantStatus(t, c, updater.StatusFailed)
		if !strings.Contains(c.Error, "disappeared") {
			t.Errorf("error %q", c.Error)
		}
		if _, err := os.Lstat(filepath.Join(root, "hello")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the removed package came back (%v)", err)
		}
		checkClean(t, root)
	})
}
