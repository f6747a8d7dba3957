package sources

import (
	"errors"
	"strings"
	"testing"

	"github.com/modup/modup/internal/manifest"
)

// The pointer manifest's requirement fields travel in the Release, so
// that check and the solver see what a release needs without its zip.
func TestPointerReleaseCarriesRequirements(t *testing.T) {
	body := `{"name": "a2.tools", "version": "2.0.0", "manifest_version": 2,
  "requires": {"a2": ">= 0.6.0", "packages": {"a2.modules": "^0.8"}, "platform": {"os": "windows"}},
  "conflicts": {"old.tools": "*"}, "provides": ["hotstrings"]}`
	rel, m, err := PointerRelease([]byte(body), "https://example.test/a2modsource.json", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := "requires a2 >= 0.6.0, a2.modules ^0.8; runs on windows; conflicts with old.tools *; provides hotstrings"
	if rel.ManifestVersion != 2 || rel.Requirements.String() != want || m.Requirements.String() != want {
		t.Errorf("got manifest_version %d, requirements %q", rel.ManifestVersion, rel.Requirements)
	}

	newer := `{"name": "x", "version": "3.0.0", "manifest_version": 3}`
	rel, _, err = PointerRelease([]byte(newer), "m.json", "web")
	if err != nil || rel.ManifestVersion != 3 {
		t.Errorf("a newer manifest_version must still be read: %+v, %v", rel, err)
	}

	bad := `{"name": "x", "version": "1.0.0", "requires": {"a2": "^^1"}}`
	_, _, err = PointerRelease([]byte(bad), "m.json", "web")
	var se *manifest.SyntaxError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &se) || !strings.Contains(err.Error(), `m.json:1:54: x: requires.a2: "^^1"`) {
		t.Errorf("got %v", err)
	}
}
