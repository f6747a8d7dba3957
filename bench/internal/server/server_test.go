package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/bench/internal/workload"
)

func get(t *testing.T, url, etag string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// Synthetic manifests answer 200 with an ETag, then 304 without a body;
// static files are served; the counters say so.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, etag, body := get(t, s.URL+"/p/pkg1/a2modsource.json", "")
	if code != 200 || etag == "" || body == "" {
		t.Fatalf("first GET: %d %q %q", code, etag, body)
	}
	if code, _, body := get(t, s.URL+"/p/pkg1/a2modsource.json", etag); code != 304 || body != "" {
		t.Errorf("conditional GET: %d %q", code, body)
	}
	if code, _, body := get(t, s.URL+"/static/f.txt", ""); code != 200 || body != "hello" {
		t.Errorf("static: %d %q", code, body)
	}
	// The manifest declares the synthetic zip's digest and size.
	code, _, zip := get(t, s.URL+"/p/pkg1/1.0.0.zip", "")
	small := workload.SmallZip("pkg1", "1.0.0")
	if code != 200 || zip != string(small.Data) || !strings.Contains(body, small.SHA256) {
		t.Errorf("synthetic zip: %d, %d bytes; manifest %s", code, len(zip), body)
	}
	if code, _, _ := get(t, s.URL+"/p/pkg1/2.0.0.zip", ""); code != 404 {
		t.Errorf("synthetic zip of another version: %d, want 404", code)
	}
	c := s.Counts()
	if c.Requests != 5 || c.OK != 3 || c.NotMod != 1 || c.Other != 1 {
		t.Errorf("counts %+v", c)
	}
	if _, ok := s.FirstRequest("/p/pkg1/a2modsource.json"); !ok {
		t.Error("first request not recorded")
	}
	s.Reset()
	if c := s.Counts(); c.Requests != 0 {
		t.Errorf("after Reset: %+v", c)
	}
}
