package updater

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ErrNotComparable: a version that is not semantic ("0.3.1a"); modup
// cannot tell whether another version is newer, so it never installs one.
var ErrNotComparable = errors.New("not a comparable version")

// ParseVersion reads a version as a2 authors write them: "v1.2.0" equals
// "1.2.0", and "0.1" or "v1.2" are coerced to "0.1.0" and "1.2.0".
func ParseVersion(s string) (*semver.Version, error) {
	v, err := semver.NewVersion(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is %w (want MAJOR.MINOR.PATCH like 1.2.0)", s, ErrNotComparable)
	}
	return v, nil
}

// CompareVersions returns -1, 0 or 1 as a is older than, equal to or newer
// than b. A pre-release sorts below its release; build metadata is ignored.
func CompareVersions(a, b string) (int, error) {
	if pa, ok := plainVersion(a); ok {
		if pb, ok := plainVersion(b); ok {
			return comparePlain(pa, pb), nil
		}
	}
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// plainVersion reads a version of digits and dots only ("1.2.0", "v1.2",
// "7") as ParseVersion does (a missing minor or patch is 0), without its
// regular expression: a check of 10,000 packages compares 10,000 pairs.
// ok is false for anything else (a pre-release, build metadata, spaces, a
// segment of more than maxPlainDigits digits), which ParseVersion reads.
func plainVersion(s string) (v [3]uint64, ok bool) {
	s, _ = strings.CutPrefix(s, "v")
	for i := range v {
		if i > 0 {
			if s == "" {
				return v, true // a missing segment is 0
			}
			if s, ok = strings.CutPrefix(s, "."); !ok {
				return v, false
			}
		}
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			v[i] = v[i]*10 + uint64(s[n]-'0')
			n++
		}
		if n == 0 || n > maxPlainDigits {
			return v, false
		}
		s = s[n:]
	}
	return v, s == ""
}

// maxPlainDigits: a segment this long always fits in a uint64.
const maxPlainDigits = 18

// comparePlain compares two plain versions as semver.Version.Compare does.
func comparePlain(a, b [3]uint64) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

func jsonString(raw []byte, s *string) bool { return json.Unmarshal(raw, s) == nil }
