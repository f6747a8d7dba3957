package github_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/sources/sourcetest"
)

// ReleaseManifest reads a release's requirements from the manifest at its
// tag, without the API or a download, conditionally the second time.
func TestReleaseManifest(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "0.8.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"a2": ">= 0.6.0"}}))
	srv.SetManifest(owner, repo, "0.7.5", manifest(t, "0.7.5", map[string]any{"manifest_version": 2, "requires": map[string]any{"a2": ">= 0.5.0"}}))
	srv.SetManifest(owner, repo, "v0.7.0", manifest(t, "0.7.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v0.7.0"})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "0.7.5"})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "0.8.0"})

	list, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range list {
		versions = append(versions, r.Version)
		if r.RequirementsKnown {
			t.Errorf("%s: a listed release claims to know its requirements", r.Version)
		}
	}
	if strings.Join(versions, " ") != "0.8.0 0.7.5 0.7.0" {
		t.Fatalf("Versions = %v", versions)
	}

	tests := []struct {
		name string
		rel  sources.Release
		want string // Requirements.String(), or "!" + an error it contains
	}{
		{name: "by its tag", rel: list[1], want: "requires a2 >= 0.5.0"},
		{name: "a v tag, no requirements", rel: list[2], want: ""},
		{name: "by version alone, either spelling", rel: sources.Release{Version: "0.7.0"}, want: ""},
		{name: "no manifest at the tag", rel: sources.Release{Version: "0.6.0"}, want: "!no a2modsource.json at tag 0.6.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Reset()
			got, err := src.ReleaseManifest(t.Context(), q, tc.rel)
			if strings.HasPrefix(tc.want, "!") {
				if err == nil || !strings.Contains(err.Error(), tc.want[1:]) || !errors.Is(err, sources.ErrNotFound) {
					t.Fatalf("error %v, want ErrNotFound saying %q", err, tc.want[1:])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.RequirementsKnown || got.Requirements.String() != tc.want || got.Version != tc.rel.Version || got.PayloadURL != tc.rel.PayloadURL {
				t.Errorf("ReleaseManifest = known %v, %q, version %s, payload %s; want %q and the release as it was",
					got.RequirementsKnown, got.Requirements.String(), got.Version, got.PayloadURL, tc.want)
			}
			for _, r := range srv.Requests() {
				if r.Host != "raw" {
					t.Errorf("asked %s %s: only the raw host may be asked", r.Host, r.Path)
				}
			}
		})
	}

	srv.Reset()
	if _, err := src.ReleaseManifest(t.Context(), q, list[1]); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || !reqs[0].Conditional || reqs[0].Status != http.StatusNotModified {
		t.Errorf("asking again sent %+v, want one conditional request answered 304", reqs)
	}
}

// A private repository's manifest at a tag comes through the contents API,
// with the token.
func TestReleaseManifestPrivate(t *testing.T) {
	const token = "ghp_private"
	srv := githubtest.New(t)
	srv.SetPrivate(owner, repo, token)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "0.8.0", nil))
	srv.SetManifest(owner, repo, "0.7.5", manifest(t, "0.7.5", map[string]any{"manifest_version": 2, "breaks": map[string]any{"old": "*"}}))
	src := srv.Source(token)
	q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}
	if _, err := src.Latest(t.Context(), q); err != nil { // learns it is private
		t.Fatal(err)
	}
	got, err := src.ReleaseManifest(t.Context(), q, sources.Release{Version: "0.7.5", Tag: "0.7.5", Origin: github.OriginRelease})
	if err != nil {
		t.Fatal(err)
	}
	if got.Requirements.String() != "breaks old *" {
		t.Errorf("requirements %q", got.Requirements.String())
	}
}
