package doc

import (
	"regexp"
	"strings"
)

// Document paths, as served. Each is also served, and exported, with
// ".json" appended (FileName).
const (
	RootPath         = "/"
	ListPath         = "/list"
	PackageListPath  = "/list/packages"
	ModuleListPath   = "/list/modules"
	PackageInfosPath = "/info/packages"
	ModuleInfosDir   = "/info/modules"
	// RootFile is the root document's file name.
	RootFile = "index.json"
)

// SignatureSuffix is added to a document's file name for its detached
// minisign signature ("list/packages.json.minisig"), in a signed index.
const SignatureSuffix = ".minisig"

// Trusted comment fields of a signed document's signature, besides
// trust's time and expires.
const (
	// SignatureFieldDoc names the document a signature signs (its path,
	// "/list/packages"), so that one document's signature cannot vouch
	// for another.
	SignatureFieldDoc = "doc"
	// SignatureFieldGenerated is the index data's generation time.
	SignatureFieldGenerated = "generated"
)

// Signed reports whether a signed index signs the document at path: the
// ones a client acts on, the package list and every package's info.
func Signed(path string) bool {
	if path == PackageListPath {
		return true
	}
	name, ok := strings.CutPrefix(path, PackageInfosPath+"/")
	return ok && ValidName(name)
}

// PackageInfoPath is the path of a package's info document.
func PackageInfoPath(name string) string { return PackageInfosPath + "/" + name }

// ModuleInfoPath is the path of a module's info document.
func ModuleInfoPath(name string) string { return ModuleInfosDir + "/" + name }

// MirrorURL is where a mirrored zip is, relative to the index's base URL.
func MirrorURL(name, version string) string { return "mirror/" + name + "/" + version + ".zip" }

// FileName is the file a document path is exported as, relative to the
// export folder, with '/' separators: "/" is "index.json", "/list" is
// "list.json", "/info/packages/x" is "info/packages/x.json".
func FileName(path string) string {
	if path == RootPath {
		return RootFile
	}
	return strings.TrimPrefix(path, "/") + ".json"
}

// nameRE is what a package name, a module name or a version may be in an
// index: one URL path segment and one file name on every system, with no
// escaping.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// ValidName reports whether s can name a package or module in an index
// (and so a path segment of its documents and a file of its export):
// letters, digits and . _ + -, starting with a letter or digit, at most 100
// bytes, not ending with a dot or ".json" (NAME.json is the document of
// NAME), not a Windows device name.
func ValidName(s string) bool {
	return len(s) <= 100 && nameRE.MatchString(s) && !strings.HasSuffix(s, ".") &&
		!strings.HasSuffix(strings.ToLower(s), ".json") && !strings.Contains(s, "..") && !deviceName(s)
}

// ValidVersion reports whether s can be a version in an index (a file name
// of the mirror): the same characters as a name, at most 128 bytes.
func ValidVersion(s string) bool {
	return len(s) <= 128 && nameRE.MatchString(s) && !strings.HasSuffix(s, ".") &&
		!strings.Contains(s, "..") && !deviceName(s)
}

// deviceName reports names Windows reads as devices (CON, nul.txt, COM1).
func deviceName(s string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(s), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	return len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) &&
		base[3] >= '0' && base[3] <= '9'
}
