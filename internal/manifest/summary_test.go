package manifest

import (
	"bytes"
	"reflect"
	"slices"
	"sync"
	"testing"
)

// A manifest made from its summary is the manifest Parse makes: the same
// fields, members, keys and bytes when written.
func TestSummaryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{name: "plain", data: `{"name": "hello", "version": "1.0.0", "update_url": "https://example.com/hello/"}` + "\n"},
		{name: "every field", data: `{"name":"a","display_name":"A","desc":"old","description":"new","news":"* x\n* y","maintainer":"m","url":"https://a.example","update_url":"../r","main_branch":"dev","version":"v2","sha256":"ab","zip_size":12,"public_key":"RWQ"}`},
		{name: "BOM and unknown fields", data: "\uFEFF{\n  \"name\": \"b\",\n  \"version\": \"0.1\",\n  \"@note\": {\"x\": [1, 2]},\n  \"custom\": true\n}\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			want, err := Parse(data, "a2modsource.json")
			if err != nil {
				t.Fatal(err)
			}
			s, ok := want.Summarize(data)
			if !ok {
				t.Fatal("no summary")
			}
			var blk Block
			blk.FromSummary(s, "other.json") // not the first of its batch
			for maker, got := range map[string]*Manifest{"FromSummary": FromSummary(s, "a2modsource.json"), "a Block": blk.FromSummary(s, "a2modsource.json")} {
				checkFromSummary(t, maker, data, want, got)
			}
		})
	}
}

func checkFromSummary(t *testing.T, maker string, data []byte, want, got *Manifest) {
	t.Helper()
	t.Run(maker, func(t *testing.T) {
		for i, p := range got.fieldPtrs() {
			if w := *want.fieldPtrs()[i]; *p != w {
				t.Errorf("%s = %q, want %q", summaryFields[i], *p, w)
			}
		}
		if got.ZipSize != want.ZipSize || got.HasBOM() != want.HasBOM() || got.HasRequirements() {
			t.Errorf("zip_size %d, BOM %v, requirements %v; want %d, %v, false", got.ZipSize, got.HasBOM(), got.HasRequirements(), want.ZipSize, want.HasBOM())
		}
		if !slices.Equal(got.Keys(), want.Keys()) {
			t.Errorf("keys %v, want %v", got.Keys(), want.Keys())
		}
		for _, k := range want.Keys() {
			g, _ := got.Raw(k)
			w, _ := want.Raw(k)
			if !bytes.Equal(g, w) {
				t.Errorf("raw %s = %s, want %s", k, g, w)
			}
		}
		gb, err := got.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		wb, _ := want.Marshal()
		if !bytes.Equal(gb, wb) {
			t.Errorf("marshal:\n%s\nwant\n%s", gb, wb)
		}
		// A change is made to the summary's manifest alone.
		if err := got.Set("version", "9.9.9"); err != nil {
			t.Fatal(err)
		}
		if v, _ := got.Raw("version"); string(v) != `"9.9.9"` || got.Version != "9.9.9" {
			t.Errorf("after Set: %s, %q", v, got.Version)
		}
		if again, _ := Parse(data, "x"); again.Version != want.Version {
			t.Errorf("Set changed the summary's bytes: %q", again.Version)
		}
	})
}

// A Block's manifests are each its own, across its batches.
func TestBlockManifestsApart(t *testing.T) {
	var blk Block
	var ms []*Manifest
	for i := range 2*blockSize + 3 {
		ms = append(ms, blk.FromSummary(Summary{Data: "{}", Fields: [len(summaryFields)]string{"n"}, ZipSize: int64(i)}, "f"))
	}
	for i, m := range ms {
		if err := m.Set("version", "1.0."+string(rune('0'+i%10))); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range ms {
		if m.ZipSize != int64(i) || m.Name != "n" || m.Version != "1.0."+string(rune('0'+i%10)) {
			t.Errorf("manifest %d: zip_size %d, name %q, version %q", i, m.ZipSize, m.Name, m.Version)
		}
		if v, _ := m.Raw("version"); string(v) != `"`+m.Version+`"` {
			t.Errorf("manifest %d: raw version %s", i, v)
		}
	}
}

// Manifests whose fields a summary does not carry are parsed each time.
func TestSummaryRefused(t *testing.T) {
	for _, data := range []string{
		`{"name":"a","version":"1.0.0","manifest_version":2,"requires":{"a2":">=1"}}`,
		`{"name":"a","version":"1.0.0","conflicts":{"b":"*"}}`,
		`{"name":"a","version":"1.0.0","key_rotation":{"new":"RWQ","signature":"x"}}`,
	} {
		m, err := Parse([]byte(data), "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Summarize([]byte(data)); ok {
			t.Errorf("%s: summarized", data)
		}
	}
}

// Readers of one summary's manifest may run at once (the daemon's checks).
func TestSummaryConcurrentReaders(t *testing.T) {
	data := []byte(`{"name":"a","version":"1.0.0","x":1}`)
	m, _ := Parse(data, "x")
	s, _ := m.Summarize(data)
	got := FromSummary(s, "x")
	var wg sync.WaitGroup
	keys := make([][]string, 8)
	for i := range keys {
		wg.Go(func() { keys[i] = got.Keys() })
	}
	wg.Wait()
	for _, k := range keys {
		if !reflect.DeepEqual(k, []string{"name", "version", "x"}) {
			t.Errorf("keys %v", k)
		}
	}
}
