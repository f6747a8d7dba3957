package updater_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// TestUpdateStatuses runs Update on one package per situation, through the
// filesystem source, and checks the status and that only an update changes
// the folder.
func TestUpdateStatuses(t *testing.T) {
	tests := []struct {
		name      string
		installed string // installed version
		local     bool   // no update_url
		dev       bool   // a .git folder
		pointer   string // the remote manifest's version; "" for no remote manifest
		published []string
		opts      updater.UpdateOptions
		want      updater.Status
		wantTo    string
		wantText  string // in Reason (skipped) or Error (failed)
		wantErr   error
	}{
		{name: "newer release", installed: "1.0.0", pointer: "1.1.0", published: []string{"1.0.0", "1.1.0"},
			want: updater.StatusUpdated, wantTo: "1.1.0"},
		{name: "same version", installed: "1.0.0", pointer: "1.0.0", published: []string{"1.0.0"},
			want: updater.StatusUpToDate, wantTo: "1.0.0"},
		{name: "same version written differently", installed: "v1.0", pointer: "1.0.0", published: []string{"1.0.0"},
			want: updater.StatusUpToDate, wantTo: "1.0.0"},
		{name: "build metadata ignored", installed: "1.0.0+local", pointer: "1.0.0", published: []string{"1.0.0"},
			want: updater.StatusUpToDate},
		{name: "dev checkout", installed: "1.0.0", dev: true, pointer: "1.1.0", published: []string{"1.1.0"},
			want: updater.StatusSkipped, wantText: "development checkout"},
		{name: "local package", installed: "1.0.0", local: true,
			want: updater.StatusSkipped, wantText: "local package"},
		{name: "version not comparable", installed: "0.3.1a", pointer: "1.1.0", published: []string{"1.1.0"},
			want: updater.StatusSkipped, wantText: `"0.3.1a" is not a comparable version`},
		{name: "remote older", installed: "2.0.0", pointer: "1.0.0", published: []string{"1.0.0"},
			want: updater.StatusSkipped, wantText: "use --to 1.0.0"},
		{name: "unreleased", installed: "1.0.0", pointer: "1.1.0", published: []string{"1.0.0"},
			want: updater.StatusSkipped, wantText: "1.1.0 is not released yet"},
		{name: "remote version not comparable", installed: "1.0.0", pointer: "1.1.0a", published: []string{"1.1.0a"},
			want: updater.StatusFailed, wantText: "will not guess", wantErr: updater.ErrNotComparable},
		{name: "no remote manifest", installed: "1.0.0",
			want: updater.StatusFailed, wantErr: sources.ErrNotFound},
		{name: "to goes down", installed: "1.2.0", pointer: "1.2.0", published: []string{"1.0.0", "1.2.0"},
			opts: updater.UpdateOptions{To: "1.0.0"}, want: updater.StatusUpdated, wantTo: "1.0.0"},
		{name: "to the installed version", installed: "1.2.0", pointer: "1.2.0", published: []string{"1.2.0"},
			opts: updater.UpdateOptions{To: "1.2.0"}, want: updater.StatusUpToDate, wantTo: "1.2.0"},
		{name: "to the installed version forced", installed: "1.2.0", pointer: "1.2.0", published: []string{"1.2.0"},
			opts: updater.UpdateOptions{To: "1.2.0", Force: true}, want: updater.StatusUpdated, wantTo: "1.2.0"},
		{name: "to a missing release", installed: "1.2.0", pointer: "1.2.0", published: []string{"1.2.0"},
			opts: updater.UpdateOptions{To: "0.9.0"}, want: updater.StatusFailed, wantErr: sources.ErrUnreleased},
		{name: "to not a version", installed: "1.2.0", pointer: "1.2.0", published: []string{"1.2.0"},
			opts: updater.UpdateOptions{To: "latest"}, want: updater.StatusFailed, wantErr: updater.ErrNotComparable},
		{name: "dry run", installed: "1.0.0", pointer: "1.1.0", published: []string{"1.1.0"},
			opts: updater.UpdateOptions{DryRun: true}, want: updater.StatusWouldUpdate, wantTo: "1.1.0"},
		{name: "dry run of the unreleased", installed: "1.0.0", pointer: "1.1.0",
			opts: updater.UpdateOptions{DryRun: true}, want: updater.StatusSkipped, wantText: "not released yet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := newFSRemote(t)
			for _, v := range tc.published {
				rel.publish(t, v, testpkg.Zip(t, "", pkgFiles("hello", v, rel.dir)))
			}
			if tc.pointer != "" {
				rel.point(t, testpkg.Manifest("hello", tc.pointer, ""))
			}
			root := t.TempDir()
			url := rel.dir
			if tc.local {
				url = ""
			}
			files := pkgFiles("hello", tc.installed, url)
			if tc.dev {
				files[".git/HEAD"] = "ref: refs/heads/main\n"
			}
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, files)
			before := treeHash(t, dir)

			c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), tc.opts)
			wantStatus(t, c, tc.want)
			if tc.wantTo != "" && c.To != tc.wantTo {
				t.Errorf("to %q, want %q", c.To, tc.wantTo)
			}
			text := c.Reason
			if tc.want == updater.StatusFailed {
				text = c.Error
				if c.Err == nil || c.Error != c.Err.Error() {
					t.Errorf("failed without a matching Err: Error %q, Err %v", c.Error, c.Err)
				}
			}
			if !strings.Contains(text, tc.wantText) {
				t.Errorf("%q does not say %q", text, tc.wantText)
			}
			if tc.wantErr != nil && !errors.Is(c.Err, tc.wantErr) {
				t.Errorf("error %v is not %v", c.Err, tc.wantErr)
			}
			if tc.want == updater.StatusUpdated {
				wantTree(t, dir, pkgFiles("hello", tc.wantTo, url))
				wantTree(t, c.Backup, files)
				checkRecord(t, root, "hello", tc.wantTo, "fs", url)
			} else {
				if after := treeHash(t, dir); after != before {
					t.Errorf("%s changed the package", c.Status)
				}
				wantBackups(t, root, "hello")
			}
			checkClean(t, root)
		})
	}
}

// TestDryRunDownloadsNothing asks a web host whether an update is there,
// without fetching the zip or writing anything but the request cache.
func TestDryRunDownloadsNothing(t *testing.T) {
	h := newWebHost(t)
	h.put("a2modsource.json", []byte(testpkg.Manifest("hello", "1.1.0", "")))
	h.put("1.1.0.zip", testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", h.url())))
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", h.url()))
	before := treeHash(t, dir)

	c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{DryRun: true})
	wantStatus(t, c, updater.StatusWouldUpdate)
	if c.From != "1.0.0" || c.To != "1.1.0" {
		t.Errorf("from %q to %q", c.From, c.To)
	}
	if n := h.count("GET", "1.1.0.zip"); n != 0 {
		t.Errorf("the zip was downloaded %d times", n)
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	entries, err := os.ReadDir(pkgdir.Layout{Root: root}.Dir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "cache" {
			t.Errorf("a dry run wrote .modup/%s", e.Name())
		}
	}
}

// TestUpdateToOnGitHub goes down with --to to releases tagged "v1.0.0",
// and to one only found by paging through the release list.
func TestUpdateToOnGitHub(t *testing.T) {
	tests := []struct {
		name     string
		tags     []string // published in order, oldest first
		filler   int      // releases published after them
		to       string
		wantTag  string
		wantPage bool // the second page of releases was read
	}{
		{name: "v-prefixed tag", tags: []string{"v1.0.0", "v1.1.0", "v1.2.0"}, to: "1.0.0", wantTag: "v1.0.0"},
		{name: "v-prefixed request", tags: []string{"1.0.0", "1.2.0"}, to: "v1.0.0", wantTag: "1.0.0"},
		{name: "found by paging", tags: []string{"1.0.0", "1.2.0"}, filler: 105, to: "1.0", wantTag: "1.0.0", wantPage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			for _, tag := range tc.tags {
				v := strings.TrimPrefix(tag, "v")
				s.AddRelease("someone", "hello", githubtest.Release{Tag: tag, Files: pkgFiles("hello", v, url)})
			}
			for i := range tc.filler {
				s.AddRelease("someone", "hello", githubtest.Release{Tag: fmt.Sprintf("0.0.%d", i), Files: pkgFiles("hello", "0.0.1", url)})
			}
			s.SetManifest("someone", "hello", "HEAD", []byte(testpkg.Manifest("hello", "1.2.0", url)))
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.2.0", url))

			c := newUpdater(t, s.Env()...).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{To: tc.to})
			wantStatus(t, c, updater.StatusUpdated)
			// A v-prefixed request is shown as versions are: without the v.
			if c.From != "1.2.0" || c.To != strings.TrimPrefix(tc.to, "v") {
				t.Errorf("from %q to %q", c.From, c.To)
			}
			// The tag's archive was downloaded, and its files are in place.
			var archives []string
			paged := false
			for _, r := range s.Requests() {
				if r.Kind == "archive" && r.Method == "GET" {
					archives = append(archives, r.Path)
				}
				if r.Kind == "api" && strings.Contains(r.Query, "page=2") {
					paged = true
				}
			}
			if want := "/someone/hello/archive/refs/tags/" + tc.wantTag + ".zip"; !slices.Equal(archives, []string{want}) {
				t.Errorf("archives downloaded: %v, want %s", archives, want)
			}
			if paged != tc.wantPage {
				t.Errorf("second page read: %v, want %v", paged, tc.wantPage)
			}
			wantTree(t, dir, pkgFiles("hello", "1.0.0", url))
			wantBackups(t, root, "hello", "1.2.0")
			checkClean(t, root)
		})
	}
}

// TestUpdateToOtherSpelling: on a web host, --to finds a release whether
// the request and the zip's name agree on a "v" prefix or not.
func TestUpdateToOtherSpelling(t *testing.T) {
	tests := []struct {
		name, zip, to string
		wantStatus    updater.Status
	}{
		{name: "same spelling", zip: "1.0.0.zip", to: "1.0.0", wantStatus: updater.StatusUpdated},
		{name: "v asked, plain published", zip: "1.0.0.zip", to: "v1.0.0", wantStatus: updater.StatusUpdated},
		{name: "plain asked, v published", zip: "v1.0.0.zip", to: "1.0.0", wantStatus: updater.StatusUpdated},
		{name: "neither published", zip: "0.9.0.zip", to: "v1.0.0", wantStatus: updater.StatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newWebHost(t)
			h.put("a2modsource.json", []byte(testpkg.Manifest("hello", "1.2.0", "")))
			h.put(tc.zip, testpkg.Zip(t, "", pkgFiles("hello", "1.0.0", h.url())))
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.2.0", h.url()))
			before := treeHash(t, dir)

			c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{To: tc.to})
			wantStatus(t, c, tc.wantStatus)
			if tc.wantStatus != updater.StatusUpdated {
				if !strings.Contains(c.Error, "v1.0.0") || !strings.Contains(c.Error, "nor 1.0.0") {
					t.Errorf("error %q does not name both spellings", c.Error)
				}
				if treeHash(t, dir) != before {
					t.Error("the package changed")
				}
				return
			}
			if n := h.count("GET", tc.zip); n != 1 {
				t.Errorf("%s downloaded %d times", tc.zip, n)
			}
			wantTree(t, dir, pkgFiles("hello", "1.0.0", h.url()))
			wantBackups(t, root, "hello", "1.2.0")
			checkClean(t, root)
		})
	}
}

// TestUnreleasedOnEverySource: the remote manifest names a version with
// nothing published yet; the update is skipped (tried again next time) and
// the package kept.
func TestUnreleasedOnEverySource(t *testing.T) {
	tests := []struct {
		name  string
		setUp func(t *testing.T) (url string, env []string)
	}{
		{name: "web: the zip is not there", setUp: func(t *testing.T) (string, []string) {
			h := newWebHost(t)
			h.put("a2modsource.json", []byte(testpkg.Manifest("hello", "1.1.0", "")))
			h.put("1.0.0.zip", testpkg.Zip(t, "", pkgFiles("hello", "1.0.0", h.url())))
			return h.url(), nil
		}},
		{name: "github: no release, no tag", setUp: func(t *testing.T) (string, []string) {
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			s.AddRelease("someone", "hello", githubtest.Release{Tag: "1.0.0", Files: pkgFiles("hello", "1.0.0", url)})
			s.SetManifest("someone", "hello", "HEAD", []byte(testpkg.Manifest("hello", "1.1.0", url)))
			return url, s.Env()
		}},
		{name: "github: only a draft", setUp: func(t *testing.T) (string, []string) {
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			s.AddRelease("someone", "hello", githubtest.Release{Tag: "1.1.0", Draft: true, Files: pkgFiles("hello", "1.1.0", url)})
			s.SetManifest("someone", "hello", "HEAD", []byte(testpkg.Manifest("hello", "1.1.0", url)))
			return url, s.Env()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, env := tc.setUp(t)
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", url))
			before := treeHash(t, dir)
			u := newUpdater(t, env...)

			if r := u.CheckOne(t.Context(), load(t, root, "hello")); r.Status != updater.StatusUnreleased {
				t.Errorf("check: %s (%v)", r.Status, r.Err)
			}
			c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusSkipped)
			if c.To != "1.1.0" || !strings.Contains(c.Reason, "1.1.0 is not released yet") {
				t.Errorf("to %q, reason %q", c.To, c.Reason)
			}
			if treeHash(t, dir) != before {
				t.Error("the package changed")
			}
			wantBackups(t, root, "hello")
			checkClean(t, root)
		})
	}
}

func TestDetail(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"hello", "hello: no release", "no release"},
		{"hello", "hello 1.2.0: not there yet", "1.2.0: not there yet"},
		{"hello", "hellothere: x", "hellothere: x"},
		{"hello", "hello world: x", "hello world: x"},
		{"hello", "fetch: hello: x", "fetch: hello: x"},
	}
	for _, tc := range tests {
		if got := updater.Detail(tc.name, tc.text); got != tc.want {
			t.Errorf("Detail(%q, %q) = %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}
