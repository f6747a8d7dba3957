package httpx

import (
	"net/http"
	"sync"
	"testing"
)

// TestTokenPathAndHeader: GitLab's token travels as PRIVATE-TOKEN, and on a
// host that serves the API and the web site alike only to the API's paths;
// a redirect from the API to the web paths of the same host drops it.
func TestTokenPathAndHeader(t *testing.T) {
	type seen struct{ path, private, auth string }
	var mu sync.Mutex
	var got []seen
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.URL.EscapedPath(), r.Header.Get("Private-Token"), r.Header.Get("Authorization")})
		mu.Unlock()
		if r.URL.Path == "/api/v4/projects/1/repository/archive.zip" {
			http.Redirect(w, r, "/group/p/-/archive/v1/p-v1.zip", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	})
	c := testClient(t, Options{Token: "glpat-x", TokenHost: srv.Listener.Addr().String(), TokenPath: "api/v4", TokenHeader: "PRIVATE-TOKEN"})
	for _, p := range []string{
		"/api/v4/projects/g%2Fp/releases",
		"/group/p/-/raw/HEAD/a2modsource.json",
		"/api/v4x/other",
		"/api/v4/../users/sign_in",
		"/api/v4/projects/1/repository/archive.zip",
	} {
		if _, _, err := c.Fetch(t.Context(), srv.URL+p, nil, 0); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	want := []seen{
		{"/api/v4/projects/g%2Fp/releases", "glpat-x", ""},
		{"/group/p/-/raw/HEAD/a2modsource.json", "", ""},
		{"/api/v4x/other", "", ""},
		{"/api/v4/../users/sign_in", "", ""},
		{"/api/v4/projects/1/repository/archive.zip", "glpat-x", ""},
		{"/group/p/-/archive/v1/p-v1.zip", "", ""},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("server saw %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for url, want := range map[string]bool{
		srv.URL + "/api/v4/projects/x": true,
		srv.URL + "/api/v4":            false,
		srv.URL + "/g/p/-/raw/HEAD/x":  false,
	} {
		if c.Authorized(url) != want {
			t.Errorf("Authorized(%s) = %v, want %v", url, !want, want)
		}
	}
}
