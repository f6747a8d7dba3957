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

func jsonString(raw []byte, s *string) bool { return json.Unmarshal(raw, s) == nil }
