package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/sourcetest"
)

// remote is a static file host in an httptest server.
type remote struct {
	srv      *httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	modified time.Time
	bodies   atomic.Int64 // 200 answers with a body
}

func newRemote(t *testing.T) *remote {
	r := &remote{files: map[string][]byte{}, modified: time.Now()}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		data, ok := r.files[strings.TrimPrefix(req.URL.Path, "/pkg/")]
		mod := r.modified
		r.mu.Unlock()
		if !ok || !strings.HasPrefix(req.URL.Path, "/pkg/") {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("ETag", `"`+mod.Format(time.RFC3339Nano)+`"`)
		if req.Header.Get("If-None-Match") == w.Header().Get("ETag") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if req.Method == http.MethodGet {
			r.bodies.Add(1)
		}
		w.Write(data)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *remote) put(name string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[name] = data
	r.modified = r.modified.Add(time.Second)
}

func (r *remote) Point(t testing.TB, version string, fields map[string]any) {
	r.put("a2modsource.json", sourcetest.ManifestJSON(t, "demo", version, fields))
}
func (r *remote) PointRaw(_ testing.TB, data []byte)             { r.put("a2modsource.json", data) }
func (r *remote) Publish(_ testing.TB, version string, z []byte) { r.put(version+".zip", z) }
func (r *remote) PublishSignature(_ testing.TB, version string, sig []byte) {
	r.put(version+".zip.minisig", sig)
}
func (r *remote) Query(testing.TB) sources.Query {
	return sources.Query{Package: "demo", UpdateURL: r.srv.URL + "/pkg/"}
}

func client() *httpx.Client {
	return httpx.New(httpx.Options{UserAgent: "modup/test", RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
		return New(client()), newRemote(t)
	})
}

// An unchanged manifest costs a 304 and no body.
func TestUnchangedManifestCostsNoBody(t *testing.T) {
	r := newRemote(t)
	r.Point(t, "1.0.0", nil)
	src := New(client())
	q := r.Query(t)
	q.Cache = &sourcetest.MemCache{}
	for range 3 {
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.0.0" {
			t.Fatalf("Latest = %+v, %v", rel, err)
		}
	}
	if n := r.bodies.Load(); n != 1 {
		t.Errorf("bodies sent = %d, want 1 (then 304s)", n)
	}
}

func TestURLs(t *testing.T) {
	src := New(client())
	tests := []struct {
		update, manifest, payload string
		err                       error
	}{
		{"https://example.com/a2/pkg", "https://example.com/a2/pkg/a2modsource.json", "https://example.com/a2/pkg/1.0.zip", nil},
		{"https://example.com/a2/pkg/", "https://example.com/a2/pkg/a2modsource.json", "https://example.com/a2/pkg/1.0.zip", nil},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/a2modsource.json", "http://127.0.0.1:8080/1.0.zip", nil},
		{"http://example.com/pkg", "", "", sources.ErrInsecure},
	}
	for _, tt := range tests {
		t.Run(tt.update, func(t *testing.T) {
			m, p, err := src.Locate(sources.Query{Package: "demo", UpdateURL: tt.update}, "1.0")
			if !errors.Is(err, tt.err) || m != tt.manifest || p != tt.payload {
				t.Errorf("Locate = %q, %q, %v", m, p, err)
			}
		})
	}
	allowed := New(httpx.New(httpx.Options{AllowHTTP: true}))
	if _, _, err := allowed.Locate(sources.Query{UpdateURL: "http://example.com/pkg"}, ""); err != nil {
		t.Errorf("with AllowHTTP: %v", err)
	}
}

// An unreachable host's error names the manifest URL once.
func TestUnreachableNamesURLOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/pkg"
	srv.Close() // nothing listens there now
	src := New(httpx.New(httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}))
	_, err := src.Latest(t.Context(), sources.Query{Package: "hello", UpdateURL: base})
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if n := strings.Count(err.Error(), base+"/a2modsource.json"); n != 1 {
		t.Errorf("the URL appears %d times in %q", n, err)
	}
}
