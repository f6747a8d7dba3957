// Package sourcetest is the conformance suite every source passes: the same
// scenarios, run against each source's fake remote, so that GitHub, web and
// filesystem sources behave as one.
package sourcetest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/modup/modup/sources"
)

// Remote is a fake remote of one source kind that a test can publish to.
type Remote interface {
	// Point makes the remote manifest name version; fields are extra manifest fields.
	Point(t testing.TB, version string, fields map[string]any)
	// PointRaw makes the remote manifest exactly data (for malformed cases).
	PointRaw(t testing.TB, data []byte)
	// Publish makes version downloadable with zip as its payload.
	Publish(t testing.TB, version string, zip []byte)
	// Query is the query of a package tracking this remote (without Cache).
	Query(t testing.TB) sources.Query
}

// PointerPublisher is implemented by remotes where pointing to a version
// publishes it (a gist: every revision is downloadable), so that no pointer
// can name an unreleased version; the suite leaves out the case of a
// manifest ahead of its releases for them.
type PointerPublisher interface {
	PointerPublishes()
}

// SignatureRemote is a Remote that can publish a release's detached
// signature next to its payload (a file beside the zip, a release asset).
// The suite's signature scenarios run when the remote is one and the
// source is a sources.SignatureSource.
type SignatureRemote interface {
	Remote
	// PublishSignature publishes sig as the signature of version's payload
	// (published before with Publish).
	PublishSignature(t testing.TB, version string, sig []byte)
}

// Factory makes a fresh source and its remote for one test.
type Factory func(t *testing.T) (sources.Source, Remote)

// ManifestJSON builds a pointer manifest naming version.
func ManifestJSON(t testing.TB, name, version string, fields map[string]any) []byte {
	t.Helper()
	m := map[string]any{"name": name, "version": version}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Zip builds a zip of files (name -> content).
func Zip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// MemCache is an in-memory sources.Cache that counts hits.
type MemCache struct {
	mu      sync.Mutex
	entries map[string]sources.CacheEntry
}

// Get implements sources.Cache.
func (c *MemCache) Get(url string) (sources.CacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[url]
	return e, ok
}

// Put implements sources.Cache.
func (c *MemCache) Put(url string, e sources.CacheEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]sources.CacheEntry{}
	}
	c.entries[url] = e
	return nil
}

// Run runs the conformance suite.
func Run(t *testing.T, newSource Factory) {
	query := func(t *testing.T, r Remote) sources.Query {
		q := r.Query(t)
		q.Cache = &MemCache{}
		return q
	}
	t.Run("LatestNamesThePointedVersion", func(t *testing.T) {
		src, r := newSource(t)
		r.Point(t, "1.2.0", map[string]any{"news": "hello"})
		rel, err := src.Latest(t.Context(), query(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if rel.Version != "1.2.0" || rel.Kind != src.Kind() || rel.ManifestURL == "" {
			t.Errorf("Latest = %+v", rel)
		}
		if rel.News != "hello" {
			t.Errorf("News = %q, want the manifest's news", rel.News)
		}
	})
	t.Run("LatestFollowsThePointer", func(t *testing.T) {
		src, r := newSource(t)
		q := query(t, r)
		r.Point(t, "1.0.0", nil)
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.0.0" {
			t.Fatalf("first Latest = %+v, %v", rel, err)
		}
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.0.0" {
			t.Fatalf("unchanged Latest = %+v, %v", rel, err)
		}
		r.Point(t, "1.1.0", nil)
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.1.0" {
			t.Fatalf("moved Latest = %+v, %v (a cache went stale?)", rel, err)
		}
	})
	t.Run("MissingManifestIsNotFound", func(t *testing.T) {
		src, r := newSource(t)
		_, err := src.Latest(t.Context(), query(t, r))
		if !errors.Is(err, sources.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), "a2modsource.json") {
			t.Errorf("error %q does not name the manifest", err)
		}
	})
	t.Run("MalformedManifestNamesLineAndColumn", func(t *testing.T) {
		src, r := newSource(t)
		r.PointRaw(t, []byte("{\n  \"version\": \"1.0.0\",\n}\n"))
		_, err := src.Latest(t.Context(), query(t, r))
		if err == nil || !strings.Contains(err.Error(), "a2modsource.json:3:1") {
			t.Fatalf("err = %v, want one naming a2modsource.json:3:1", err)
		}
	})
	t.Run("HTMLInsteadOfManifest", func(t *testing.T) {
		src, r := newSource(t)
		r.PointRaw(t, []byte("<!DOCTYPE html><html><body>Sign in</body></html>"))
		_, err := src.Latest(t.Context(), query(t, r))
		if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), "HTML") {
			t.Fatalf("err = %v, want ErrInvalid mentioning HTML", err)
		}
	})
	t.Run("ManifestWithoutVersion", func(t *testing.T) {
		src, r := newSource(t)
		r.PointRaw(t, []byte(`{"name": "x"}`))
		_, err := src.Latest(t.Context(), query(t, r))
		if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), "version") {
			t.Fatalf("err = %v, want ErrInvalid about the version", err)
		}
	})
	// Authors publish "2.0.0" as 2.0.0 or v2.0.0; the pointer may say
	// either. Every source finds the release under both spellings.
	for _, tc := range []struct{ name, point, publish string }{
		{"ResolveAndOpenPublished", "2.0.0", "2.0.0"},
		{"ResolvePublishedWithV", "2.0.0", "v2.0.0"},
		{"ResolvePointedWithV", "v2.0.0", "2.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resolveAndOpen(t, newSource, query, tc.point, tc.publish)
		})
	}
	t.Run("ResolveNeverPublishedIsUnreleased", func(t *testing.T) {
		src, r := newSource(t)
		r.Point(t, "1.0.0", nil)
		r.Publish(t, "1.0.0", Zip(t, map[string]string{"a2modsource.json": `{}`}))
		_, err := src.Resolve(t.Context(), query(t, r), sources.Release{Version: "9.0.0", Origin: "request"})
		if !errors.Is(err, sources.ErrUnreleased) {
			t.Fatalf("err = %v, want ErrUnreleased", err)
		}
		if !strings.Contains(err.Error(), "9.0.0") {
			t.Errorf("error %q does not name the version", err)
		}
	})
	probeSrc, probe := newSource(t)
	if _, ok := probe.(PointerPublisher); !ok {
		t.Run("ResolveUnpublishedIsUnreleased", func(t *testing.T) {
			resolveUnpublished(t, newSource, query)
		})
	}
	t.Run("ResolveAnOlderVersion", func(t *testing.T) {
		src, r := newSource(t)
		old := Zip(t, map[string]string{"a2modsource.json": `{"version": "1.0.0"}`})
		r.Point(t, "2.0.0", nil)
		r.Publish(t, "1.0.0", old)
		r.Publish(t, "2.0.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "2.0.0"}`}))
		q := query(t, r)
		rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: "request"})
		if err != nil {
			t.Fatal(err)
		}
		if got := OpenBytes(t, src, rel); !bytes.Equal(got, old) {
			t.Error("Open of 1.0.0 did not give the 1.0.0 payload")
		}
	})
	if _, ok := probeSrc.(sources.Lister); ok {
		t.Run("VersionsListsEveryRelease", func(t *testing.T) {
			versionsListsEveryRelease(t, newSource, query)
		})
		t.Run("VersionsAgainThroughTheCache", func(t *testing.T) {
			versionsAgain(t, newSource, query)
		})
		t.Run("VersionsCancelledContext", func(t *testing.T) {
			src, r := newSource(t)
			r.Point(t, "1.0.0", nil)
			r.Publish(t, "1.0.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "1.0.0"}`}))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := src.(sources.Lister).Versions(ctx, query(t, r)); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
	}
	t.Run("Signatures", func(t *testing.T) {
		runSignatures(t, newSource, query)
	})
	t.Run("CancelledContext", func(t *testing.T) {
		src, r := newSource(t)
		r.Point(t, "1.0.0", nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := src.Latest(ctx, query(t, r)); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// resolveAndOpen points to version point, publishes the payload as publish,
// and checks that Latest, Resolve and Open deliver it.
func resolveAndOpen(t *testing.T, newSource Factory, query func(*testing.T, Remote) sources.Query, point, publish string) {
	src, r := newSource(t)
	payload := Zip(t, map[string]string{"a2modsource.json": `{"version": "2.0.0"}`})
	r.Point(t, point, nil)
	r.Publish(t, publish, payload)
	rel := LatestResolved(t, src, query(t, r))
	if !rel.Resolved || rel.PayloadURL == "" || rel.Version != point {
		t.Fatalf("Resolve = %+v", rel)
	}
	p, err := src.Open(t.Context(), rel)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Body.Close()
	got, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("payload differs: %d bytes, want %d", len(got), len(payload))
	}
	if p.Size != -1 && p.Size != int64(len(payload)) {
		t.Errorf("Size = %d, want %d or -1", p.Size, len(payload))
	}
}

// resolveUnpublished: a manifest that names a version with no release yet
// resolves to ErrUnreleased.
func resolveUnpublished(t *testing.T, newSource Factory, query func(*testing.T, Remote) sources.Query) {
	src, r := newSource(t)
	r.Point(t, "3.0.0", nil)
	r.Publish(t, "2.0.0", Zip(t, map[string]string{"a2modsource.json": `{}`}))
	q := query(t, r)
	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Resolve(t.Context(), q, latest)
	if !errors.Is(err, sources.ErrUnreleased) {
		t.Fatalf("err = %v, want ErrUnreleased", err)
	}
}

// versionsListsEveryRelease: a Lister lists every published version, newest
// first, each resolved so that Open delivers its own payload.
func versionsListsEveryRelease(t *testing.T, newSource Factory, query func(*testing.T, Remote) sources.Query) {
	src, r := newSource(t)
	payloads := map[string][]byte{
		"1.0.0": Zip(t, map[string]string{"a2modsource.json": `{"version": "1.0.0"}`}),
		"1.1.0": Zip(t, map[string]string{"a2modsource.json": `{"version": "1.1.0"}`, "new.txt": "new"}),
	}
	r.Publish(t, "1.0.0", payloads["1.0.0"])
	r.Publish(t, "1.1.0", payloads["1.1.0"])
	r.Point(t, "1.1.0", map[string]any{"news": "the pointer moved"})
	q := query(t, r)
	list, err := src.(sources.Lister).Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rel := range list {
		got = append(got, rel.Version)
	}
	if strings.Join(got, " ") != "1.1.0 1.0.0" {
		t.Fatalf("Versions = %v, want [1.1.0 1.0.0] (newest first, each once)", got)
	}
	for _, rel := range list {
		if !rel.Resolved || rel.PayloadURL == "" || rel.Kind != src.Kind() || rel.Draft {
			t.Errorf("Versions entry %+v is not resolved as Resolve would", rel)
			continue
		}
		if b := OpenBytes(t, src, rel); !bytes.Equal(b, payloads[rel.Version]) {
			t.Errorf("Open %s gave %d bytes, not its own payload", rel.Version, len(b))
		}
	}
}

// versionsAgain: asked again through the same cache (conditionally, where
// the source asks a remote), a Lister gives the same list.
func versionsAgain(t *testing.T, newSource Factory, query func(*testing.T, Remote) sources.Query) {
	src, r := newSource(t)
	r.Publish(t, "1.0.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "1.0.0"}`}))
	r.Publish(t, "1.1.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "1.1.0"}`}))
	r.Point(t, "1.1.0", nil)
	q := query(t, r)
	lister := src.(sources.Lister)
	first, err := lister.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	again, err := lister.Versions(t.Context(), q)
	if err != nil {
		t.Fatalf("second Versions through the cache: %v", err)
	}
	if len(again) != len(first) {
		t.Fatalf("second Versions: %d releases, the first %d", len(again), len(first))
	}
	for i := range first {
		if again[i].Version != first[i].Version || again[i].PayloadURL != first[i].PayloadURL {
			t.Errorf("second Versions[%d] = %s %s, the first %s %s", i, again[i].Version, again[i].PayloadURL, first[i].Version, first[i].PayloadURL)
		}
	}
}

// OpenBytes opens rel's payload with src and reads it whole.
func OpenBytes(t testing.TB, src sources.Source, rel sources.Release) []byte {
	t.Helper()
	p, err := src.Open(t.Context(), rel)
	if err != nil {
		t.Fatalf("Open %s: %v", rel.Version, err)
	}
	defer p.Body.Close()
	b, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatalf("read %s: %v", rel.Version, err)
	}
	return b
}

// LatestResolved asks src for the pointer, then resolves it, failing the
// test on any error: what an update does before downloading.
func LatestResolved(t testing.TB, src sources.Source, q sources.Query) sources.Release {
	t.Helper()
	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil {
		t.Fatalf("Resolve %s: %v", latest.Version, err)
	}
	return rel
}

// runSignatures: Resolve finds where the payload's signature is, without
// a request of its own being needed later, and Signature fetches exactly
// what was published, or ErrNotFound.
func runSignatures(t *testing.T, newSource Factory, query func(*testing.T, Remote) sources.Query) {
	published := func(t *testing.T) (sources.SignatureSource, SignatureRemote, sources.Source) {
		src, r := newSource(t)
		ss, ok1 := src.(sources.SignatureSource)
		sr, ok2 := r.(SignatureRemote)
		if !ok1 || !ok2 {
			t.Skipf("%s: the source fetches no signatures (%v) or the remote publishes none (%v)", src.Kind(), ok1, ok2)
		}
		return ss, sr, src
	}
	sig := func(version string) []byte {
		return []byte("untrusted comment: signature of " + version + "\nRUQ...\ntrusted comment: modup version=" + version + "\nabc\n")
	}
	t.Run("NextToThePayload", func(t *testing.T) {
		ss, r, src := published(t)
		r.Point(t, "2.0.0", nil)
		r.Publish(t, "2.0.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "2.0.0"}`}))
		r.PublishSignature(t, "2.0.0", sig("2.0.0"))
		rel := LatestResolved(t, src, query(t, r))
		if rel.SignatureURL == "" {
			t.Fatalf("Resolve = %+v: no SignatureURL", rel)
		}
		got, err := ss.Signature(t.Context(), rel)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, sig("2.0.0")) {
			t.Errorf("Signature = %q, want %q", got, sig("2.0.0"))
		}
	})
	t.Run("OfAnOlderVersion", func(t *testing.T) {
		ss, r, src := published(t)
		r.Point(t, "2.0.0", nil)
		for _, v := range []string{"1.0.0", "2.0.0"} {
			r.Publish(t, v, Zip(t, map[string]string{"a2modsource.json": `{"version": "` + v + `"}`}))
			r.PublishSignature(t, v, sig(v))
		}
		rel, err := src.Resolve(t.Context(), query(t, r), sources.Release{Version: "1.0.0", Origin: "request"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ss.Signature(t.Context(), rel)
		if err != nil || !bytes.Equal(got, sig("1.0.0")) {
			t.Fatalf("Signature of 1.0.0 = %q, %v", got, err)
		}
	})
	t.Run("MissingIsNotFound", func(t *testing.T) {
		ss, r, src := published(t)
		r.Point(t, "2.0.0", nil)
		r.Publish(t, "2.0.0", Zip(t, map[string]string{"a2modsource.json": `{"version": "2.0.0"}`}))
		rel := LatestResolved(t, src, query(t, r))
		if _, err := ss.Signature(t.Context(), rel); !errors.Is(err, sources.ErrNotFound) {
			t.Fatalf("Signature of an unsigned release = %v, want ErrNotFound", err)
		}
	})
	t.Run("UnresolvedRelease", func(t *testing.T) {
		ss, _, _ := published(t)
		if _, err := ss.Signature(t.Context(), sources.Release{Version: "2.0.0"}); err == nil {
			t.Fatal("Signature of an unresolved release succeeded")
		}
	})
}
