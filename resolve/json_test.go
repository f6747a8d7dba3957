package resolve

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestRequirementsJSON(t *testing.T) {
	p := pkg(t, "x 1.0.0", "host a2 >= 0.5.0", "requires a2.modules ^0.7", "platform windows/amd64",
		"conflicts old *", "breaks a2.modules < 0.6", "replaces ol *", "provides hotstrings", "recommends r *", "suggests s >= 1")
	tests := []struct {
		name string
		r    Requirements
		want string
	}{
		{name: "all", r: p.Requirements, want: `{"requires":{"a2":">= 0.5.0","packages":{"a2.modules":"^0.7"},"platform":{"os":["windows"],"arch":["amd64"]}},` +
			`"conflicts":{"old":"*"},"breaks":{"a2.modules":"< 0.6"},"replaces":{"ol":"*"},"provides":["hotstrings"],"recommends":{"r":"*"},"suggests":{"s":">= 1"}}`},
		{name: "none", r: Requirements{}, want: `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf) // as modup's --json writes (no HTML escapes)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.r); err != nil {
				t.Fatal(err)
			}
			if b := bytes.TrimSpace(buf.Bytes()); string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
	var c Constraint
	if err := json.Unmarshal([]byte(`"^1.2"`), &c); err != nil || c.String() != "^1.2" || !c.Allows(mustVersion("1.9.0")) {
		t.Errorf("unmarshal ^1.2 = %v, %v", c, err)
	}
	if err := json.Unmarshal([]byte(`"^^1"`), &c); err == nil {
		t.Error("unmarshal of a bad constraint succeeded")
	}
}
