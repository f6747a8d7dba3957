package resolve

import (
	"fmt"
	"slices"
	"strings"
)

// Platform is the machine a plan is for, in Go's names (runtime.GOOS,
// runtime.GOARCH). An empty field is unknown: requirements on it are not
// enforced.
type Platform struct {
	OS   string
	Arch string
}

func (p Platform) String() string {
	switch {
	case p.OS != "" && p.Arch != "":
		return p.OS + "/" + p.Arch
	case p.OS != "":
		return p.OS
	}
	return p.Arch
}

// Platforms is what a package runs on (requires.platform): any of OS and
// any of Arch. An empty list allows every value.
type Platforms struct {
	OS   []string
	Arch []string
}

// IsZero reports whether p allows every platform.
func (p Platforms) IsZero() bool { return len(p.OS) == 0 && len(p.Arch) == 0 }

// Allows reports whether m is one of p's platforms. A field of m that is
// unknown is not held against it.
func (p Platforms) Allows(m Platform) bool {
	if m.OS != "" && len(p.OS) > 0 && !slices.Contains(p.OS, m.OS) {
		return false
	}
	if m.Arch != "" && len(p.Arch) > 0 && !slices.Contains(p.Arch, m.Arch) {
		return false
	}
	return true
}

// String reads like "windows/amd64", "windows", "windows or linux on amd64
// or arm64".
func (p Platforms) String() string {
	os, arch := strings.Join(p.OS, " or "), strings.Join(p.Arch, " or ")
	switch {
	case len(p.OS) == 1 && len(p.Arch) == 1:
		return os + "/" + arch
	case os != "" && arch != "":
		return os + " on " + arch
	case os != "":
		return os
	case arch != "":
		return arch
	}
	return "any platform"
}

// The operating systems and architectures Go knows (go tool dist list).
var (
	knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
		"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}
	knownArch = []string{"386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le",
		"mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "wasm"}
	// Names people write for Go's names.
	osAliases   = map[string]string{"macos": "darwin", "osx": "darwin", "mac": "darwin", "win": "windows", "win32": "windows", "win64": "windows"}
	archAliases = map[string]string{"x64": "amd64", "x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "x86": "386", "i386": "386", "i686": "386"}
)

// NormalizeOS returns Go's name for an operating system: case is ignored
// and common aliases are mapped (macos and osx are darwin, win64 is
// windows). An unknown name is an error listing the known ones.
func NormalizeOS(s string) (string, error) {
	return normalize(s, knownOS, osAliases, "operating system")
}

// NormalizeArch returns Go's name for an architecture (x64 and x86_64 are
// amd64, aarch64 is arm64, x86 and i386 are 386).
func NormalizeArch(s string) (string, error) {
	return normalize(s, knownArch, archAliases, "architecture")
}

func normalize(s string, known []string, aliases map[string]string, what string) (string, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if a, ok := aliases[k]; ok {
		return a, nil
	}
	if slices.Contains(known, k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown %s %q (want one of Go's names: %s)", what, s, strings.Join(known, ", "))
}
