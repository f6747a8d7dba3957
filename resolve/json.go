package resolve

import (
	"bytes"
	"encoding/json"
)

// MarshalText writes the constraint as written.
func (c Constraint) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a constraint.
func (c *Constraint) UnmarshalText(b []byte) error {
	v, err := ParseConstraint(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// requirementsJSON is the shape of the requirement fields in
// a2modsource.json, which is how modup shows them (check --json, info,
// lock files).
type requirementsJSON struct {
	Requires   map[string]any        `json:"requires,omitempty"`
	Conflicts  map[string]Constraint `json:"conflicts,omitempty"`
	Breaks     map[string]Constraint `json:"breaks,omitempty"`
	Replaces   map[string]Constraint `json:"replaces,omitempty"`
	Provides   []string              `json:"provides,omitempty"`
	Recommends map[string]Constraint `json:"recommends,omitempty"`
	Suggests   map[string]Constraint `json:"suggests,omitempty"`
}

type platformJSON struct {
	OS   []string `json:"os,omitempty"`
	Arch []string `json:"arch,omitempty"`
}

// MarshalJSON writes r as a manifest writes it: {"requires": {"a2":
// ">= 0.5.0", "packages": {...}, "platform": {"os": [...]}}, "conflicts":
// {...}, ...}, leaving out what r does not declare.
func (r Requirements) MarshalJSON() ([]byte, error) {
	out := requirementsJSON{Conflicts: r.Conflicts, Breaks: r.Breaks, Replaces: r.Replaces,
		Provides: r.Provides, Recommends: r.Recommends, Suggests: r.Suggests}
	if len(r.Hosts) > 0 || len(r.Packages) > 0 || !r.Platform.IsZero() {
		out.Requires = map[string]any{}
		for h, c := range r.Hosts {
			out.Requires[h] = c
		}
		if len(r.Packages) > 0 {
			out.Requires["packages"] = r.Packages
		}
		if !r.Platform.IsZero() {
			out.Requires["platform"] = platformJSON{OS: r.Platform.OS, Arch: r.Platform.Arch}
		}
	}
	// Constraints are written as they are (">= 0.5", not "\u003e= 0.5").
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
