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
