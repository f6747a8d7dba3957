package repo

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/sources"
)

// pkg is a package a test index lists.
type pkg struct {
	name, description string
	modules           []doc.Module
	versions          []ver // newest first
	updateURL         string
}

// ver is one version of a test package.
type ver struct {
	version  string
	zip      []byte
	mirrored bool
	blocking string // a blocking problem's detail, "" for none
	news     string
	requires map[string]string
}

// fixture is an index published on a fake static host (counting
// requests), and a Client reading it with a clock of the test's.
type fixture struct {
	t      *testing.T
	web    *indextest.Web
	repo   Repo
	client *Client
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, web: indextest.NewWeb(t), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.repo = Repo{Name: "main", URL: f.web.URL + "/idx/", Enabled: true}
	f.client = &Client{
		HTTP:    httpx.New(httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}),
		Dir:     t.TempDir(),
		MaxAge:  time.Hour,
		Origins: indextest.Registry(t),
		Now:     func() time.Time { return f.now },
	}
	return f
}

// zip is a release zip of name at version with one module.
func (f *fixture) zip(name, version string) []byte {
	return indextest.Zip(f.t, name, version, []indextest.Module{{Name: "main", Description: "The main module.", Version: version}}, nil)
}

// publish puts the index's documents for pkgs at /idx/ (and each version's
// zip at its author's /authors/NAME/VERSION.zip, and in the mirror when
// mirrored).
func (f *fixture) publish(pkgs ...pkg) {
	f.t.Helper()
	root := doc.Root{Service: doc.Service, Version: doc.FormatVersion, Generated: f.now}
	var list doc.PackageList
	list.Generated = f.now
	var mods doc.ModuleList
	for _, p := range pkgs {
		if p.updateURL == "" {
			p.updateURL = f.web.URL + "/authors/" + p.name + "/"
		}
		info := doc.PackageInfo{Name: p.name, Description: p.description, UpdateURL: p.updateURL}
		for _, v := range p.versions {
			payload := f.web.URL + "/authors/" + p.name + "/" + v.version + ".zip"
			f.web.Put("/authors/"+p.name+"/"+v.version+".zip", v.zip)
			m := map[string]any{"name": p.name, "version": v.version, "update_url": p.updateURL, "news": v.news}
			if v.requires != nil {
				m["manifest_version"] = 2
				m["requires"] = map[string]any{"packages": v.requires}
			}
			manifestJSON, err := json.Marshal(m)
			if err != nil {
				f.t.Fatal(err)
			}
			dv := doc.Version{Version: v.version, PayloadURL: payload, Size: int64(len(v.zip)), SHA256: indextest.SHA256(v.zip),
				Manifest: manifestJSON, Modules: p.modules, Problems: []doc.Problem{}, Published: f.now}
			if v.mirrored {
				dv.MirrorURL = doc.MirrorURL(p.name, v.version)
				f.web.Put("/idx/"+dv.MirrorURL, v.zip)
			}
			if v.blocking != "" {
				dv.Problems = append(dv.Problems, doc.Problem{Check: "archive", Blocking: true, Detail: v.blocking})
			}
			info.Versions = append(info.Versions, dv)
			if info.Latest == "" && v.blocking == "" {
				info.Latest = v.version
				var names []string
				for _, m := range p.modules {
					names = append(names, m.Name)
					mods.Modules = append(mods.Modules, doc.ModuleSummary{Name: m.Name, Package: p.name, Version: v.version, Description: m.Description, Tags: m.Tags})
				}
				s := doc.PackageSummary{Name: p.name, Description: p.description, Version: v.version, Published: f.now,
					UpdateURL: p.updateURL, SHA256: dv.SHA256, Size: dv.Size, Modules: names}
				list.Packages = append(list.Packages, s)
			}
		}
		f.put(doc.FileName(doc.PackageInfoPath(p.name)), info)
	}
	root.Packages = len(list.Packages)
	f.put(doc.RootFile, root)
	f.put(doc.FileName(doc.PackageListPath), list)
	f.put(doc.FileName(doc.ModuleListPath), mods)
}

// put publishes a document at /idx/FILE.
func (f *fixture) put(file string, v any) {
	f.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.web.Put("/idx/"+file, data)
}

// export writes what the host serves under /idx/ into a folder (an
// export on a share) and returns the folder.
func (f *fixture) export(files ...string) string {
	f.t.Helper()
	dir := f.t.TempDir()
	for _, name := range files {
		resp, err := f.client.HTTP.HTTPClient().Get(f.web.URL + "/idx/" + name)
		if err != nil {
			f.t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			f.t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	return dir
}

// requests counts the requests seen for the index's documents, by
// "METHOD /idx/FILE STATUS", since the last reset.
func (f *fixture) requests(prefix string) map[string]int {
	out := map[string]int{}
	for k, n := range f.web.Counts() {
		var method, path string
		var status int
		fmt.Sscanf(k, "%s %s %d", &method, &path, &status)
		if len(path) >= len(prefix) && path[:len(prefix)] == prefix {
			out[k] = n
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// query is the source query of an installed package of the fixture.
func (f *fixture) query(name string) sources.Query {
	return sources.Query{Package: name, UpdateURL: f.web.URL + "/authors/" + name + "/"}
}
