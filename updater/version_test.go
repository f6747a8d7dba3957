package updater

import (
	"errors"
	"testing"
)

// CompareVersions reads plain versions without semver's regular
// expression; the answers must be semver's, with the same errors.
func TestCompareVersions(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		want    int
		wantErr bool
	}{
		{name: "equal", a: "1.0.0", b: "1.0.0", want: 0},
		{name: "v prefix equals", a: "v1.2.0", b: "1.2.0", want: 0},
		{name: "coerced minor and patch", a: "1.2", b: "1.2.0", want: 0},
		{name: "one segment", a: "7", b: "7.0.0", want: 0},
		{name: "leading zeros", a: "01.02.003", b: "1.2.3", want: 0},
		{name: "patch newer", a: "1.0.10", b: "1.0.9", want: 1},
		{name: "minor older", a: "1.9.0", b: "1.10.0", want: -1},
		{name: "major decides", a: "2.0.0", b: "1.99.99", want: 1},
		{name: "eighteen digits", a: "999999999999999999.0.0", b: "999999999999999998.9.9", want: 1},
		{name: "beyond eighteen digits", a: "18446744073709551615.0.0", b: "1.0.0", want: 1},
		{name: "pre-release below its release", a: "1.0.0-rc.1", b: "1.0.0", want: -1},
		{name: "build metadata ignored", a: "1.0.0+build.5", b: "1.0.0", want: 0},
		{name: "spaces trimmed", a: " 1.0.0 ", b: "1.0.0", want: 0},
		{name: "letters", a: "0.3.1a", b: "0.3.1", wantErr: true},
		{name: "empty", a: "", b: "1.0.0", wantErr: true},
		{name: "trailing dot", a: "1.0.", b: "1.0.0", wantErr: true},
		{name: "four segments", a: "1.0.0.0", b: "1.0.0", wantErr: true},
		{name: "only v", a: "v", b: "1.0.0", wantErr: true},
		{name: "uint64 overflow", a: "18446744073709551616.0.0", b: "1.0.0", wantErr: true},
		{name: "bad second", a: "1.0.0", b: "1..0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CompareVersions(tt.a, tt.b)
			if tt.wantErr {
				if !errors.Is(err, ErrNotComparable) {
					t.Fatalf("CompareVersions(%q, %q) = %d, %v; want an error wrapping ErrNotComparable", tt.a, tt.b, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CompareVersions(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
			}
			// The same as semver's own comparison.
			va, errA := ParseVersion(tt.a)
			vb, errB := ParseVersion(tt.b)
			if errA != nil || errB != nil {
				t.Fatalf("semver refuses %q or %q: %v %v", tt.a, tt.b, errA, errB)
			}
			if c := va.Compare(vb); c != got {
				t.Errorf("CompareVersions(%q, %q) = %d, semver says %d", tt.a, tt.b, got, c)
			}
		})
	}
}

// plainVersion accepts exactly the digit-and-dot versions semver reads,
// with semver's numbers.
func TestPlainVersionAgreesWithSemver(t *testing.T) {
	tests := []struct {
		in    string
		plain bool // read without semver
	}{
		{in: "0", plain: true}, {in: "0.0.0", plain: true}, {in: "1", plain: true}, {in: "v1", plain: true},
		{in: "1.2", plain: true}, {in: "v1.2.3", plain: true}, {in: "10.20.30", plain: true}, {in: "007.0.1", plain: true},
		{in: "123456789012345678.1.1", plain: true},
		{in: "1."}, {in: ".1"}, {in: "1..2"}, {in: "1.2.3."}, {in: "v"}, {in: "vv1"}, {in: "V1.0.0"},
		{in: "1.2.3-1"}, {in: "1.2.3+x"}, {in: "1234567890123456789.1.1"}, {in: "1 .0"}, {in: " 1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, ok := plainVersion(tt.in)
			if ok != tt.plain {
				t.Fatalf("plainVersion(%q) ok = %v, want %v", tt.in, ok, tt.plain)
			}
			if !ok {
				return // ParseVersion reads it (TestCompareVersions)
			}
			v, err := ParseVersion(tt.in)
			if err != nil {
				t.Fatalf("plainVersion(%q) accepts what semver refuses: %v", tt.in, err)
			}
			if p != [3]uint64{v.Major(), v.Minor(), v.Patch()} || v.Prerelease() != "" || v.Metadata() != "" {
				t.Errorf("plainVersion(%q) = %v, semver %d.%d.%d-%q+%q", tt.in, p, v.Major(), v.Minor(), v.Patch(), v.Prerelease(), v.Metadata())
			}
		})
	}
}
