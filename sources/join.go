package sources

import "strings"

// ManifestFile is the manifest's file name in a package folder and next to
// published releases.
const ManifestFile = "a2modsource.json"

// JoinURL appends name to base with exactly one slash between them, keeping
// any query string or fragment of base off (update_urls carry none; left
// on, the name would land in them and the request would go to base itself).
func JoinURL(base, name string) string {
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(name, "/")
}

// ZipName is the payload file name of version: "<version>.zip".
func ZipName(version string) string { return version + ".zip" }

// TrimV is the version a tag or file name gives: "v1.2.0" -> "1.2.0".
// Anything else comes back as it is.
func TrimV(tag string) string {
	if len(tag) > 1 && (tag[0] == 'v' || tag[0] == 'V') && '0' <= tag[1] && tag[1] <= '9' {
		return tag[1:]
	}
	return tag
}

// VersionSpellings are the names a release of version may be published
// under, as authors write both "1.2.0" and "v1.2.0": version as written
// first, then with its "v" taken away or added.
func VersionSpellings(version string) []string {
	if other := TrimV(version); other != version {
		return []string{version, other}
	}
	return []string{version, "v" + version}
}
