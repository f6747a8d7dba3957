package doc_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
)

const goodSum = "38055c5a1092b549952a1ec2ab64e433e3c455741a7c3b03ce5589d1d480bcd5"

func info(version string) string {
	return `{"name":"hello","update_url":"https://example.com/hello","latest":"1.0.0","versions":[` + version + `]}`
}

func version(fields string) string {
	return `{"version":"1.0.0","payload_url":"https://example.com/hello/1.0.0.zip","size":10,"sha256":"` + goodSum + `","manifest":{"name":"hello"},"modules":[],"problems":[]` + fields + `}`
}

// TestDecodeRejects: what a client must not trust is refused, naming the
// document.
func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"path as name", `{"name":"../etc","update_url":"u","versions":[]}`, `package "../etc" is not a valid name`},
		{"slash in name", `{"name":"a/b","update_url":"u","versions":[]}`, "not a valid name"},
		{"name ending .json", `{"name":"a.json","update_url":"u","versions":[]}`, "not a valid name"},
		{"device name", `{"name":"CON","update_url":"u","versions":[]}`, "not a valid name"},
		{"upper-case sha", info(strings.Replace(version(""), goodSum, strings.ToUpper(goodSum), 1)), "not a hex sha256"},
		{"short sha", info(strings.Replace(version(""), goodSum, "abc", 1)), "not a hex sha256"},
		{"absolute mirror", info(version(`,"mirror_url":"https://evil.example/x.zip"`)), "mirror_url"},
		{"escaping mirror", info(version(`,"mirror_url":"../../x.zip"`)), "mirror_url"},
		{"other package's mirror", info(version(`,"mirror_url":"mirror/other/1.0.0.zip"`)), "mirror_url"},
		{"relative payload", info(strings.Replace(version(""), "https://example.com/hello/1.0.0.zip", "1.0.0.zip", 1)), "not an absolute URL"},
		{"ftp payload", info(strings.Replace(version(""), "https://", "ftp://", 1)), "scheme"},
		{"version as path", info(strings.Replace(version(""), `"version":"1.0.0"`, `"version":"../1"`, 1)), "not a valid version"},
		{"blocked latest", info(version(`,"problems":[{"check":"archive","blocking":true,"detail":"x"}]`)), "blocking problem"},
		{"missing latest", strings.Replace(info(version("")), `"latest":"1.0.0"`, `"latest":"2.0.0"`, 1), "not among its versions"},
		{"bad public_key", info(version(`,"public_key":"RWnot-a-key"`)), "public_key"},
		{"bad key_rotation key", info(version(`,"key_rotation":{"new":"nope","signature":"x"}`)), "key_rotation: new"},
		{"html", "<!DOCTYPE html>", "HTML page"},
		{"not json", "{", "not valid JSON at byte 1: unexpected end"},
		{"versions as an object", `{"name":"hello","update_url":"u","versions":{}}`, "versions holds an object, not a list (at byte "},
		{"name as a number", `{"name":5,"update_url":"u","versions":[]}`, "name holds a number, not a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p doc.PackageInfo
			err := doc.Decode([]byte(tc.data), "https://index.example/info/packages/hello.json", &p)
			if !errors.Is(err, doc.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "hello.json") {
				t.Errorf("err = %v, want ErrInvalid saying %q and naming the document", err, tc.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	var p doc.PackageInfo
	data := info(version(`,"mirror_url":"mirror/hello/1.0.0.zip","future_field":1`))
	if err := doc.Decode([]byte(data), "x", &p); err != nil {
		t.Fatal(err)
	}
	if p.Versions[0].MirrorURL != "mirror/hello/1.0.0.zip" || !p.Versions[0].Installable() {
		t.Errorf("decoded %+v", p)
	}
	// A blocked version may lack a digest (it could not be downloaded).
	blocked := `{"version":"2.0.0","payload_url":"https://example.com/2.0.0.zip","size":0,"sha256":"","manifest":null,"modules":[],"problems":[{"check":"download","blocking":true,"detail":"too large"}]}`
	if err := doc.Decode([]byte(info(version("")+","+blocked)), "x", &p); err != nil {
		t.Errorf("a blocked version without a digest: %v", err)
	}
	// A release's signing key and its rotation, as the author's source
	// reports them.
	pub, sec := trusttest.Key(t)
	newPub, _ := trusttest.Key(t)
	rot, err := trust.Rotate(sec, newPub, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rotJSON, _ := json.Marshal(doc.KeyRotation{New: rot.New, Signature: rot.Signature})
	if err := doc.Decode([]byte(info(version(`,"public_key":"`+pub.String()+`","key_rotation":`+string(rotJSON)))), "x", &p); err != nil {
		t.Fatalf("a version with public_key and key_rotation: %v", err)
	}
	if v := p.Versions[0]; v.PublicKey != pub.String() || v.KeyRotation == nil || v.KeyRotation.New != newPub.String() {
		t.Errorf("decoded key %q, rotation %+v", v.PublicKey, v.KeyRotation)
	}
	if err := doc.Decode([]byte(info(version(`,"key_rotation":{"new":"`+newPub.String()+`","signature":"not a signature"}`))), "x", &p); !errors.Is(err, doc.ErrInvalid) {
		t.Errorf("a key_rotation whose signature does not parse: err = %v, want ErrInvalid", err)
	}
	var root doc.Root
	if err := doc.Decode([]byte(`{"service":"something-else","version":1}`), "x", &root); err == nil {
		t.Error("a root of another service was accepted")
	}
}

func TestFileName(t *testing.T) {
	for path, want := range map[string]string{
		doc.RootPath: "index.json", doc.ListPath: "list.json", doc.PackageListPath: "list/packages.json",
		doc.PackageInfoPath("a2.modules"): "info/packages/a2.modules.json", doc.ModuleInfoPath("greet"): "info/modules/greet.json",
	} {
		if got := doc.FileName(path); got != want {
			t.Errorf("FileName(%q) = %q, want %q", path, got, want)
		}
	}
}
