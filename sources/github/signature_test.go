package github_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/sources/sourcetest"
)

// A release's signature is the asset next to its zip; Resolve finds it in
// the release it already asked for, and a release without one says what
// is missing.
func TestSignatureAsset(t *testing.T) {
	zip := []byte("PK zip")
	for _, tc := range []struct {
		name    string
		release githubtest.Release
		want    string // the signature, or the error's text
		found   bool
	}{
		{"next to the zip", githubtest.Release{Tag: "v1.2.0", Assets: map[string][]byte{"1.2.0.zip": zip, "1.2.0.zip.minisig": []byte("sig")}}, "sig", true},
		{"named after the tag", githubtest.Release{Tag: "v1.2.0", Assets: map[string][]byte{"v1.2.0.zip": zip, "v1.2.0.zip.minisig": []byte("tag sig")}}, "tag sig", true},
		{"another asset's only", githubtest.Release{Tag: "v1.2.0", Assets: map[string][]byte{"1.2.0.zip": zip, "v1.2.0.zip.minisig": []byte("x")}}, "release v1.2.0 has no asset 1.2.0.zip.minisig", false},
		{"tag archive", githubtest.Release{Tag: "v1.2.0", Files: map[string]string{"a2modsource.json": "{}"}}, "only the tag archive GitHub builds, which no one can sign", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, src, q := setup(t)
			srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.2.0", nil))
			srv.AddRelease(owner, repo, tc.release)
			rel := sourcetest.LatestResolved(t, src, q)
			api := srv.Count("api")
			got, err := src.Signature(t.Context(), rel)
			if tc.found {
				if err != nil || string(got) != tc.want {
					t.Fatalf("Signature = %q, %v; want %q", got, err, tc.want)
				}
			} else if !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Signature = %v, want ErrNotFound saying %q", err, tc.want)
			}
			if n := srv.Count("api") - api; n != 0 {
				t.Errorf("Signature asked the API %d time(s): Resolve should have found it", n)
			}
		})
	}
}
