package sources

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestManifestAtTag(t *testing.T) {
	manifests := map[string]string{
		"v1.0.0": `{"version": "1.0.0", "manifest_version": 2, "requires": {"packages": {"lib": "^1.0"}}}`,
		"bad":    `{"version": `,
	}
	boom := errors.New("boom")
	tests := []struct {
		name      string
		rel       Release
		failOn    string
		wantTried []string
		wantFound bool
		wantErr   error
	}{
		{name: "second spelling", rel: Release{Version: "1.0.0"}, wantTried: []string{"1.0.0", "v1.0.0"}, wantFound: true},
		{name: "the tag only", rel: Release{Version: "1.0.0", Tag: "release-1"}, wantTried: []string{"release-1"}},
		{name: "none", rel: Release{Version: "2.0.0"}, wantTried: []string{"2.0.0", "v2.0.0"}},
		{name: "a failure stops", rel: Release{Version: "1.0.0"}, failOn: "1.0.0", wantTried: []string{"1.0.0"}, wantErr: boom},
		{name: "a bad manifest", rel: Release{Version: "1.0.0", Tag: "bad"}, wantTried: []string{"bad"}, wantErr: ErrInvalid},
		{name: "a tag that is a path", rel: Release{Version: "1.0.0", Tag: "../x"}, wantErr: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tried []string
			out, _, found, err := ManifestAtTag(tc.rel, "test", func(tag string) ([]byte, string, error) {
				tried = append(tried, tag)
				if tag == tc.failOn {
					return nil, "", boom
				}
				m, ok := manifests[tag]
				if !ok {
					return nil, "", fmt.Errorf("%s: %w", tag, ErrNotFound)
				}
				return []byte(m), "at " + tag, nil
			})
			if !slices.Equal(tried, tc.wantTried) || found != tc.wantFound {
				t.Errorf("tried %v, found %v; want %v, %v", tried, found, tc.wantTried, tc.wantFound)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found && (!out.RequirementsKnown || out.Requirements.Packages["lib"].String() != "^1.0" || out.Version != "1.0.0") {
				t.Errorf("out %+v", out)
			}
		})
	}
}
