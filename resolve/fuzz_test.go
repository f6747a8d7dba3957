package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

var fuzzVersions = []*semver.Version{
	semver.MustParse("0.0.0"), semver.MustParse("0.0.3"), semver.MustParse("0.3.1"), semver.MustParse("1.0.0-alpha.1"),
	semver.MustParse("1.0.0-beta"), semver.MustParse("1.0.0"), semver.MustParse("1.2.3"), semver.MustParse("1.2.3-rc1"),
	semver.MustParse("2.0.0-0"), semver.MustParse("2.0.0"), semver.MustParse("2.1.0"), semver.MustParse("10.0.0"),
}

// FuzzParseConstraint: ParseConstraint never panics; an error is a
// *ConstraintError carrying the input; an accepted constraint keeps its
// text, parses again to the same meaning, and Admits implies Allows.
//
//	go test -run='^$' -fuzz='^FuzzParseConstraint$' -fuzztime=60s ./resolve
func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{
		"*", "1.2.3", "v1.2", ">= 1.26.0", ">=1.0 <2.0", ">=1.0,<1.1 || >=1.2", "^1.2.3", "^0.0.3", "~1.2", "~1.2.3",
		"1.2.*", "1.x", "1.0 - 2.0", "1.0.0 - 2.1.0", "!=1.5", "<>1.5", "^1.0 | ^2.0", "^1.0@beta", "@dev",
		">=1.2-stable", "^^0.7", "=>1", "1.2.3.4", "dev-main", "", "|", "1.0 -", "- -", ">=", "1.*.3", "!=*",
		"^2.0.0-beta.1 || 1.0.0+build", "  ^1  ,  <1.5  ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConstraint(s)
		if err != nil {
			var ce *ConstraintError
			if !errors.As(err, &ce) || ce.Text != s {
				t.Fatalf("error %v (%T) does not carry the input", err, err)
			}
			return
		}
		if c.String() != strings.TrimSpace(s) {
			t.Fatalf("String() = %q, want %q", c.String(), strings.TrimSpace(s))
		}
		again, err := ParseConstraint(c.String())
		if err != nil {
			t.Fatalf("the text of an accepted constraint does not parse: %v", err)
		}
		for _, v := range fuzzVersions {
			if c.Allows(v) != again.Allows(v) {
				t.Fatalf("%q and its text disagree on %s", s, v)
			}
			for _, marked := range []bool{false, true} {
				if c.Admits(v, marked) && !c.Allows(v) {
					t.Fatalf("%q admits %s but does not allow it", s, v)
				}
			}
		}
		if c.IsAny() {
			for _, v := range fuzzVersions {
				if !c.Allows(v) {
					t.Fatalf("%q is any but does not allow %s", s, v)
				}
			}
		}
	})
}
