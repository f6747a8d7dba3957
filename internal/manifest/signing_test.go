package manifest

import (
	"strings"
	"testing"
)

func TestSigningFields(t *testing.T) {
	in := `{
  "key_rotation": {
    "new": "RWnew",
    "signature": "untrusted comment: x\nsig\ntrusted comment: modup\nglobal\n"
  },
  "name": "hello",
  "public_key": "RWnew",
  "version": "1.0.0"
}
`
	m, err := Parse([]byte(in), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.PublicKey != "RWnew" || m.KeyRotation == nil || m.KeyRotation.New != "RWnew" || !strings.HasPrefix(m.KeyRotation.Signature, "untrusted comment: x\n") {
		t.Fatalf("PublicKey %q KeyRotation %+v", m.PublicKey, m.KeyRotation)
	}
	out, err := m.Marshal()
	if err != nil || string(out) != in {
		t.Errorf("round trip:\n%s\nwant\n%s (%v)", out, in, err)
	}

	if err := m.Set("key_rotation", KeyRotation{New: "RWnewer", Signature: "s"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("public_key", "RWnewer"); err != nil {
		t.Fatal(err)
	}
	if m.KeyRotation.New != "RWnewer" || m.PublicKey != "RWnewer" {
		t.Errorf("after Set: %q %+v", m.PublicKey, m.KeyRotation)
	}
	if err := m.Set("key_rotation", "not an object"); err == nil || m.KeyRotation == nil {
		t.Errorf("Set of a string as key_rotation: %v, %+v", err, m.KeyRotation)
	}
	if _, ok := m.Raw("key_rotation"); ok {
		t.Error("a refused key_rotation stayed in the manifest")
	}
	m.Delete("public_key")
	m.Delete("key_rotation")
	if m.PublicKey != "" || m.KeyRotation != nil {
		t.Errorf("after Delete: %q %+v", m.PublicKey, m.KeyRotation)
	}
}

func TestSigningFieldsRejected(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"number key", `{"public_key": 12}`, `field "public_key": 12, want a string`},
		{"case", `{"Public_Key": "RW"}`, `key "Public_Key" should be written "public_key"`},
		{"rotation string", `{"key_rotation": "RW"}`, `field "key_rotation": "RW" is not an object`},
		{"rotation null", `{"key_rotation": null}`, `field "key_rotation": null is not an object`},
		{"rotation without signature", `{"key_rotation": {"new": "RW"}}`, `no "signature"`},
		{"rotation number", `{"key_rotation": {"new": 1, "signature": "s"}}`, `"new": 1, want a string`},
		{"rotation extra", `{"key_rotation": {"new": "RW", "signature": "s", "old": "x"}}`, `unknown field "old"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), "m.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
