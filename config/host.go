package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/Masterminds/semver/v3"
)

// ParseHost checks the host's name (the key of requires that names it in
// manifests: "a2").
func ParseHost(s string) (string, error) {
	name := strings.TrimSpace(s)
	switch {
	case name == "":
		return "", fmt.Errorf("%q: want the name of the application that loads the packages, such as \"a2\"", s)
	case name == "packages" || name == "platform":
		return "", fmt.Errorf("%q: not a host name (requires.%s names something else)", s, name)
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' || r == '\\' }) >= 0:
		return "", fmt.Errorf("%q: a host name has no spaces, control characters or slashes", s)
	}
	return name, nil
}

// ParseHostVersion reads the host's version as modup compares versions:
// semver, with "v0.5" and "0.5" read as 0.5.0.
func ParseHostVersion(s string) (*semver.Version, error) {
	v, err := semver.NewVersion(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not a version: write it like \"0.5.7\"", s)
	}
	return v, nil
}
