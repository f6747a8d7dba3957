package doc_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modup/modup/index/doc"
)

// FuzzDecodePackageInfo: a client reads package infos from any index, so
// no input makes Decode panic, and a document it accepts keeps only
// names, versions and mirror URLs that are safe as paths.
func FuzzDecodePackageInfo(f *testing.F) {
	f.Add([]byte(info(version(""))))
	f.Add([]byte(info(version(`,"mirror_url":"mirror/hello/1.0.0.zip"`))))
	f.Add([]byte(`{"name":"a","update_url":"u","versions":[]}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p doc.PackageInfo
		if err := doc.Decode(data, "fuzz", &p); err != nil {
			return
		}
		for _, s := range []string{p.Name} {
			if strings.ContainsAny(s, `/\%?#`) || strings.Contains(s, "..") || s == "" {
				t.Fatalf("accepted name %q", s)
			}
		}
		for _, v := range p.Versions {
			if strings.ContainsAny(v.Version, `/\%?#`) || strings.Contains(v.Version, "..") {
				t.Fatalf("accepted version %q", v.Version)
			}
			if v.MirrorURL != "" && v.MirrorURL != "mirror/"+p.Name+"/"+v.Version+".zip" {
				t.Fatalf("accepted mirror_url %q", v.MirrorURL)
			}
		}
		// What was accepted survives a round trip.
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		var again doc.PackageInfo
		if err := doc.Decode(b, "again", &again); err != nil {
			t.Fatalf("re-encoded document refused: %v\n%s", err, b)
		}
	})
}
