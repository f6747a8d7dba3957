package sources

import "strings"

// ManifestFile is the manifest's file name in a package folder and next to
// published releases.
const ManifestFile = "a2modsource.json"

// JoinURL appends name to base with exactly one slash between them, keeping
// any query string off (update_urls carry none).
func JoinURL(base, name string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(name, "/")
}

// ZipName is the payload file name of version: "<version>.zip".
func ZipName(version string) string { return version + ".zip" }
