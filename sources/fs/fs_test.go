package fs

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/sourcetest"
)

type remote struct {
	dir string // the release folder
	pkg string // a package folder whose update_url is relative
}

func (r *remote) Point(t testing.TB, version string, fields map[string]any) {
	r.PointRaw(t, sourcetest.ManifestJSON(t, "demo", version, fields))
}

func (r *remote) PointRaw(t testing.TB, data []byte) {
	if err := os.WriteFile(filepath.Join(r.dir, "a2modsource.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *remote) Publish(t testing.TB, version string, zip []byte) {
	if err := os.WriteFile(filepath.Join(r.dir, version+".zip"), zip, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *remote) PublishSignature(t testing.TB, version string, sig []byte) {
	if err := os.WriteFile(filepath.Join(r.dir, version+".zip.minisig"), sig, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *remote) Query(testing.TB) sources.Query {
	// A relative update_url, resolved against the package folder.
	return sources.Query{Package: "demo", UpdateURL: "../releases", Dir: r.pkg}
}

func newRemote(t *testing.T) *remote {
	base := t.TempDir()
	r := &remote{dir: filepath.Join(base, "releases"), pkg: filepath.Join(base, "demo")}
	for _, d := range []string{r.dir, r.pkg} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
		return New(), newRemote(t)
	})
}

func TestMatchAndFolder(t *testing.T) {
	tests := []struct {
		url   string
		match bool
		dir   string // package folder
		want  string // resolved folder ("" = not checked)
	}{
		{"file:///srv/releases", true, "/pkg", "/srv/releases"},
		{"/srv/releases/", true, "/pkg", "/srv/releases"},
		{"../releases", true, "/root/pkg", "/root/releases"},
		{"releases", true, "/root/pkg", "/root/pkg/releases"},
		{"https://example.com/x", false, "", ""},
		{"http://example.com/x", false, "", ""},
		{"", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := Match(tt.url); got != tt.match {
				t.Fatalf("Match = %v, want %v", got, tt.match)
			}
			if tt.want == "" || runtime.GOOS == "windows" {
				return
			}
			got, err := Folder(tt.url, tt.dir)
			if err != nil || got != tt.want {
				t.Errorf("Folder = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := Folder("file://otherhost/x", ""); !errors.Is(err, sources.ErrUnsupported) {
		t.Errorf("file URL on another host: err = %v", err)
	}
}
