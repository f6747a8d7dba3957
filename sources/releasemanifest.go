package sources

import (
	"errors"
	"fmt"
)

// ManifestAtTag reads what rel requires from the a2modsource.json at its
// tag, for a ManifestReader: rel.Tag, else each spelling of its version
// ("1.2.0", "v1.2.0"), until fetch finds one. fetch returns the manifest at
// tag and where it was read, or an error wrapping ErrNotFound when the tag
// has none. It returns rel with ManifestVersion and Requirements set
// (RequirementsKnown), and the first tag tried; found is false when no tag
// had a manifest.
func ManifestAtTag(rel Release, kind string, fetch func(tag string) (body []byte, where string, err error)) (out Release, first string, found bool, err error) {
	tags := VersionSpellings(rel.Version)
	if rel.Tag != "" {
		tags = []string{rel.Tag}
	}
	for _, tag := range tags {
		if !ValidTagVersion(tag) {
			return Release{}, tags[0], false, fmt.Errorf("tag %q cannot name a release: %w", tag, ErrInvalid)
		}
		body, where, err := fetch(tag)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Release{}, tags[0], false, err
		}
		at, _, err := PointerRelease(body, where, kind)
		if err != nil {
			return Release{}, tags[0], false, err
		}
		out = rel
		out.ManifestVersion, out.Requirements, out.RequirementsKnown = at.ManifestVersion, at.Requirements, true
		return out, tags[0], true, nil
	}
	return Release{}, tags[0], false, nil
}
