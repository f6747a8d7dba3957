package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/pkgdir"
)

// repoWorld is a root of packages installed from a repository, whose
// index is on one fake host and whose authors' folders on another.
type repoWorld struct {
	t       *testing.T
	index   *indextest.Web
	authors *indextest.Web
	root    string
	vars    map[string]string
	names   []string
}

// newRepoWorld publishes n packages at their authors' host and an index
// of them, and installs each at version installed, its record naming the
// repository "main" (added to repos.json).
func newRepoWorld(t *testing.T, n int, installed, published string) *repoWorld {
	t.Helper()
	w := &repoWorld{t: t, index: indextest.NewWeb(t), authors: indextest.NewWeb(t), root: filepath.Join(t.TempDir(), "root")}
	home := t.TempDir()
	w.vars = map[string]string{"XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_CACHE_HOME": filepath.Join(home, "cache"),
		"HOME": home, "MODUP_ROOTS": w.root}
	var list doc.PackageList
	list.Generated = time.Now().UTC()
	for i := range n {
		name := fmt.Sprintf("pkg%03d", i)
		w.names = append(w.names, name)
		updateURL := w.authors.URL + "/" + name
		z := w.authors.Publish(t, "/"+name, name, published, nil)
		list.Packages = append(list.Packages, doc.PackageSummary{Name: name, Version: published, UpdateURL: updateURL,
			SHA256: indextest.SHA256(z), Size: int64(len(z)), Modules: []string{}})
		info := doc.PackageInfo{Name: name, UpdateURL: updateURL, Latest: published, Versions: []doc.Version{{
			Version: published, PayloadURL: updateURL + "/" + published + ".zip", Size: int64(len(z)), SHA256: indextest.SHA256(z),
			Manifest: indextest.Manifest(t, name, published, nil), Modules: []doc.Module{}, Problems: []doc.Problem{}}}}
		w.putJSON("/idx/"+doc.FileName(doc.PackageInfoPath(name)), info)
		dir := filepath.Join(w.root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		m := fmt.Sprintf(`{"name": %q, "version": %q, "update_url": %q}`, name, installed, updateURL)
		if err := os.WriteFile(filepath.Join(dir, pkgdir.ManifestFile), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := (pkgdir.Layout{Root: w.root}).WriteRecord(name, pkgdir.Record{Version: installed, Repo: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	w.putJSON("/idx/index.json", doc.Root{Service: doc.Service, Version: doc.FormatVersion, Generated: list.Generated, Packages: n})
	w.putJSON("/idx/list/packages.json", list)
	w.putJSON("/idx/list/modules.json", doc.ModuleList{Modules: []doc.ModuleSummary{}})
	if out, errOut, code := w.modup("repo", "add", "main", w.index.URL+"/idx/"); code != 0 {
		t.Fatalf("repo add: exit %d\n%s%s", code, out, errOut)
	}
	w.index.Reset()
	w.authors.Reset()
	return w
}

func (w *repoWorld) putJSON(path string, v any) {
	w.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	w.index.Put(path, data)
}

func (w *repoWorld) env(stdout, stderr *bytes.Buffer) env {
	return envWith(nil, stdout, stderr, func(k string) string { return w.vars[k] })
}

func (w *repoWorld) modup(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(w.t.Context(), args, w.env(&out, &errOut))
	return out.String(), errOut.String(), code
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// check of packages installed from a repository: one conditional request
// to the index answers all of them, none reaches the authors' hosts;
// --direct asks every author instead.
func TestCheckThroughTheIndex(t *testing.T) {
	const n = 40
	w := newRepoWorld(t, n, "1.0.0", "1.0.0")
	w.vars["MODUP_REPO_MAX_AGE"] = "0" // ask the index every time
	out, errOut, code := w.modup("check")
	if code != 0 || strings.Count(out, "up-to-date  repo main") != n {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	if got := w.index.Counts(); got["GET /idx/list/packages.json 304"] != 1 || sum(got) != 1 {
		t.Errorf("index requests %v, want one 304", got)
	}
	if got := w.authors.Counts(); sum(got) != 0 {
		t.Errorf("the authors' hosts were asked: %v", got)
	}
	w.index.Reset()
	out, errOut, code = w.modup("check", "--direct")
	if code != 0 || strings.Count(out, "up-to-date  web") != n {
		t.Fatalf("check --direct: exit %d\n%s%s", code, out, errOut)
	}
	if got := w.authors.Counts(); sum(got) != n {
		t.Errorf("--direct: %d requests to the authors, want %d", sum(got), n)
	}
	if got := w.index.Counts(); sum(got) != 0 {
		t.Errorf("--direct asked the index: %v", got)
	}
}

// An index that cannot be reached, whose copy is too old, hands the check
// to the authors' sources and says so; a young copy is used.
func TestCheckFallsBack(t *testing.T) {
	w := newRepoWorld(t, 3, "1.0.0", "1.1.0")
	w.index.Close()
	w.vars["MODUP_REPO_MAX_AGE"] = "0"
	out, errOut, code := w.modup("check")
	if code != exitAvailable || strings.Count(out, "update-available  web") != 3 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	if !regexp.MustCompile(`warning: repository main: .*list/packages.json: .*; its copy is \d+s old, more than 24 × repo_max_age \(0s\): the packages installed from it are checked at their authors' sources`).MatchString(errOut) {
		t.Errorf("no warning of the fall-back:\n%s", errOut)
	}
	if strings.Count(errOut, "warning:") != 1 {
		t.Errorf("warned more than once:\n%s", errOut)
	}
	if got := w.authors.Counts(); got["GET /pkg000/a2modsource.json 200"] != 1 {
		t.Errorf("authors: %v", got)
	}
	delete(w.vars, "MODUP_REPO_MAX_AGE")
	out, errOut, code = w.modup("check", "--repo-max-age", "1s") // the copy is older, not 24 s old
	if code != exitAvailable || strings.Count(out, "update-available  repo main") != 3 || !strings.Contains(errOut, "its copy from") {
		t.Errorf("a young copy: exit %d\n%s%s", code, out, errOut)
	}
	// The index cannot say where the zips are: their authors' sources do,
	// and the index's digests are checked.
	out, errOut, code = w.modup("update", "--all", "--repo-max-age", "1s")
	if code != 0 || strings.Count(out, "updated") != 3 {
		t.Fatalf("update with a young copy: exit %d\n%s%s", code, out, errOut)
	}
	rec, err := pkgdir.Layout{Root: w.root}.ReadRecord("pkg002")
	if err != nil || rec.Repo != "main" || rec.Version != "1.1.0" {
		t.Errorf("record %+v, %v", rec, err)
	}
}

// update of a package installed from a repository downloads what the
// index names, verified against its sha256, and keeps noting the
// repository.
func TestUpdateThroughTheIndex(t *testing.T) {
	w := newRepoWorld(t, 2, "1.0.0", "1.1.0")
	out, errOut, code := w.modup("update", "--all")
	if code != 0 || strings.Count(out, "updated") != 2 {
		t.Fatalf("update: exit %d\n%s%s", code, out, errOut)
	}
	if got := w.authors.Counts(); got["GET /pkg000/1.1.0.zip 200"] != 1 || got["GET /pkg000/a2modsource.json 200"] != 0 {
		t.Errorf("authors: %v (want the zip alone)", got)
	}
	rec, err := pkgdir.Layout{Root: w.root}.ReadRecord("pkg001")
	if err != nil || rec.Repo != "main" || rec.Version != "1.1.0" {
		t.Errorf("record %+v, %v", rec, err)
	}
}

// The daemon checks packages installed from a repository through its
// index too.
func TestDaemonThroughTheIndex(t *testing.T) {
	w := newRepoWorld(t, 2, "1.0.0", "1.0.0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	logs := newLineBuffer()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"daemon", "--interval", "1h", "--policy", "notify"},
			envWith(nil, &out, logs, func(k string) string { return w.vars[k] }))
	}()
	logs.waitFor(t, regexp.MustCompile(`msg=check package=pkg001 status=up-to-date .*source=repo`), 20*time.Second)
	logs.waitFor(t, regexp.MustCompile(`msg=check package=pkg000 status=up-to-date .*source=repo`), 20*time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	if got := w.authors.Counts(); sum(got) != 0 {
		t.Errorf("the daemon asked the authors: %v", got)
	}
}
