package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// Every /v1 endpoint, and /metrics unless public, wants the token: none
// or a wrong one is 401 with a JSON error and a challenge; /healthz and
// the page do not.
func TestTokenRequired(t *testing.T) {
	s := startService(t, serviceOpts{})
	endpoints := []struct{ method, path string }{
		{"GET", "/v1/status"}, {"GET", "/v1/packages"}, {"GET", "/v1/packages/pkg"},
		{"POST", "/v1/check"}, {"POST", "/v1/update"}, {"POST", "/v1/update/pkg"},
		{"POST", "/v1/rollback/pkg"}, {"POST", "/v1/hold/pkg"}, {"POST", "/v1/unhold/pkg"},
		{"GET", "/v1/history"}, {"GET", "/v1/events"}, {"GET", "/metrics"},
	}
	for _, ep := range endpoints {
		for _, tc := range []struct {
			name, auth string
		}{
			{name: "no token", auth: ""},
			{name: "wrong token", auth: "Bearer " + strings.Repeat("x", len(testToken))},
			{name: "token without Bearer", auth: testToken},
			{name: "token with a suffix", auth: "Bearer " + testToken + "x"},
		} {
			t.Run(ep.method+ep.path+"/"+tc.name, func(t *testing.T) {
				resp, body := s.call(t, ep.method, ep.path, "", "Authorization", tc.auth)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", resp.StatusCode, body)
				}
				if resp.Header.Get("WWW-Authenticate") != `Bearer realm="modup"` {
					t.Errorf("challenge %q", resp.Header.Get("WWW-Authenticate"))
				}
				if msg := errorOf(t, body)["error"].(string); !strings.Contains(msg, "modup api-token") {
					t.Errorf("error %q does not say where the token is", msg)
				}
			})
		}
	}
	for _, path := range []string{"/healthz", "/", "/assets/app.js", "/assets/style.css"} {
		resp, body := s.call(t, "GET", path, "", "Authorization", "")
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s without a token: %d", path, resp.StatusCode)
		}
	}
	if _, body := s.call(t, "GET", "/healthz", ""); string(body) != "ok\n" {
		t.Errorf("healthz says %q", body)
	}
}

// With --metrics-public, /metrics needs no token; the API still does.
func TestMetricsPublic(t *testing.T) {
	s := startService(t, serviceOpts{metricsPublic: true})
	if resp, body := s.call(t, "GET", "/metrics", "", "Authorization", ""); resp.StatusCode != 200 || !strings.Contains(string(body), "modup_packages") {
		t.Errorf("public /metrics: %d", resp.StatusCode)
	}
	if resp, _ := s.call(t, "GET", "/v1/packages", "", "Authorization", ""); resp.StatusCode != 401 {
		t.Errorf("/v1/packages without a token: %d", resp.StatusCode)
	}
}

// A Host header naming anything but this service is refused before the
// token is looked at (DNS rebinding); loopback names are accepted.
func TestHostHeader(t *testing.T) {
	s := startService(t, serviceOpts{})
	port := s.base[strings.LastIndex(s.base, ":")+1:]
	tests := []struct {
		host string
		want int
	}{
		{host: "evil.example:" + port, want: 403},
		{host: "evil.example", want: 403},
		{host: "127.0.0.1.evil.example:" + port, want: 403},
		{host: "localhost.:" + port, want: 403},
		{host: "127.0.0.1:" + port, want: 200},
		{host: "localhost:" + port, want: 200},
		{host: "LOCALHOST:" + port, want: 200},
		{host: "[::1]:" + port, want: 200},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			for _, path := range []string{"/v1/packages", "/healthz", "/"} {
				resp, body := s.call(t, "GET", path, "", "Host", tc.host)
				if resp.StatusCode != tc.want {
					t.Fatalf("GET %s with Host %s: %d, want %d: %s", path, tc.host, resp.StatusCode, tc.want, body)
				}
				if tc.want == 403 && !strings.Contains(errorOf(t, body)["error"].(string), tc.host) {
					t.Errorf("the error does not name the host: %s", body)
				}
			}
		})
	}
}

// Bodies over the cap are 413, declared or streamed; bad bodies are 400.
func TestBodies(t *testing.T) {
	s := startService(t, serviceOpts{maxBody: 1024})
	big := `{"names": ["` + strings.Repeat("a", 2048) + `"]}`
	if resp, body := s.call(t, "POST", "/v1/check", big); resp.StatusCode != 413 {
		t.Errorf("declared large body: %d %s", resp.StatusCode, body)
	}
	// Chunked: no Content-Length, the read itself is cut.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.base+"/v1/check", strings.NewReader(big))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("streamed large body: %d", resp.StatusCode)
	}
	for _, tc := range []struct{ path, body string }{
		{"/v1/check", `{"nmes": ["pkg"]}`},
		{"/v1/check", `{"names": "pkg"}`},
		{"/v1/check", `{"names": []} {}`},
		{"/v1/update/pkg", `{"to": "1.1.0", "names": ["x"]}`},
		{"/v1/update", `{"to": "1.1.0"}`},
		{"/v1/rollback/pkg", `not json`},
	} {
		if resp, body := s.call(t, "POST", tc.path, tc.body); resp.StatusCode != 400 {
			t.Errorf("POST %s %s: %d %s, want 400", tc.path, tc.body, resp.StatusCode, body)
		}
	}
	if resp, body := s.call(t, "GET", "/v1/history?limit=-1", ""); resp.StatusCode != 400 {
		t.Errorf("limit=-1: %d %s", resp.StatusCode, body)
	}
	resp, body := s.call(t, "GET", "/v1/check", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || !strings.Contains(errorOf(t, body)["error"].(string), "method not allowed") {
		t.Errorf("GET /v1/check: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, body := s.call(t, "GET", "/v1/nothing", ""); resp.StatusCode != 404 {
		t.Errorf("unknown endpoint: %d %s", resp.StatusCode, body)
	} else {
		errorOf(t, body)
	}
}

// A package that is not there is 404, whatever the endpoint.
func TestUnknownPackage(t *testing.T) {
	s := startService(t, serviceOpts{})
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/packages/nope", ""},
		{"POST", "/v1/update/nope", ""},
		{"POST", "/v1/update", `{"names": ["pkg", "nope"]}`},
		{"POST", "/v1/rollback/nope", ""},
		{"POST", "/v1/check", `{"names": ["nope"]}`},
	} {
		resp, body := s.call(t, tc.method, tc.path, tc.body)
		if resp.StatusCode != 404 || !strings.Contains(errorOf(t, body)["error"].(string), "nope") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	// pkg has no backup yet: nothing to roll back to.
	if resp, body := s.call(t, "POST", "/v1/rollback/pkg", ""); resp.StatusCode != 404 || !strings.Contains(string(body), "no backups of pkg") {
		t.Errorf("rollback without backups: %d %s", resp.StatusCode, body)
	}
	if sts, _ := daemon.Statuses([]string{s.root}, "pkg"); sts[0].Installed != "1.0.0" {
		t.Errorf("pkg changed: %+v", sts[0])
	}
}

// The endpoints do what the CLI does, in its JSON.
func TestEndpoints(t *testing.T) {
	s := startService(t, serviceOpts{})

	var in daemon.Info
	_, body := s.call(t, "GET", "/v1/status", "")
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	if in.Version != "1.2.3-test" || !slices.Equal(in.Roots, []string{s.root}) || in.Policy != daemon.PolicyNotify ||
		in.Interval != "1h0m0s" || in.Concurrency != 2 || in.Packages != 3 || in.NextCheck == nil || in.Started.IsZero() ||
		len(in.RateLimits) != 1 || in.RateLimits[0].Host != "api.github.com" {
		t.Errorf("status %s", body)
	}

	var list struct{ Packages []daemon.PackageStatus }
	_, body = s.call(t, "GET", "/v1/packages", "")
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Packages {
		names = append(names, p.Name+":"+string(p.Status))
	}
	if want := []string{"local:local", "pkg:update-available", "slow:update-available"}; !slices.Equal(names, want) {
		t.Errorf("packages %v, want %v", names, want)
	}
	var one daemon.PackageStatus
	_, body = s.call(t, "GET", "/v1/packages/pkg", "")
	json.Unmarshal(body, &one)
	if one.Name != "pkg" || one.Installed != "1.0.0" || one.Available != "1.1.0" || one.Source != "fs" || one.LastCheck == nil {
		t.Errorf("one package %s", body)
	}

	var checked struct{ Packages []updater.Result }
	resp, body := s.call(t, "POST", "/v1/check", `{"names": ["pkg"]}`)
	json.Unmarshal(body, &checked)
	if resp.StatusCode != 200 || len(checked.Packages) != 1 || checked.Packages[0].Status != updater.StatusUpdateAvailable {
		t.Errorf("check: %d %s", resp.StatusCode, body)
	}
	resp, body = s.call(t, "POST", "/v1/check", "")
	json.Unmarshal(body, &checked)
	if resp.StatusCode != 200 || len(checked.Packages) != 3 {
		t.Errorf("check all: %d %s", resp.StatusCode, body)
	}

	var changed struct{ Packages []updater.Change }
	resp, body = s.call(t, "POST", "/v1/update/pkg", "")
	json.Unmarshal(body, &changed)
	if resp.StatusCode != 200 || len(changed.Packages) != 1 || changed.Packages[0].Status != updater.StatusUpdated || changed.Packages[0].To != "1.1.0" {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if b, _ := os.ReadFile(filepath.Join(s.root, "pkg", "mod", "code.ahk")); string(b) != "version 1.1.0" {
		t.Errorf("installed %q", b)
	}
	_, body = s.call(t, "GET", "/v1/packages/pkg", "")
	json.Unmarshal(body, &one)
	if one.Installed != "1.1.0" || one.Status != updater.StatusUpToDate || !slices.Equal(one.Backups, []string{"1.0.0"}) || one.Update == nil {
		t.Errorf("after update: %s", body)
	}
	// Up to date now: a second update changes nothing, and says so.
	resp, body = s.call(t, "POST", "/v1/update/pkg", "")
	json.Unmarshal(body, &changed)
	if resp.StatusCode != 200 || changed.Packages[0].Status != updater.StatusUpToDate {
		t.Errorf("second update: %d %s", resp.StatusCode, body)
	}

	resp, body = s.call(t, "POST", "/v1/rollback/pkg", `{"to": "9.9.9"}`)
	if resp.StatusCode != 404 || !strings.Contains(errorOf(t, body)["error"].(string), "no backup of pkg at version 9.9.9") {
		t.Errorf("rollback to a missing version: %d %s", resp.StatusCode, body)
	}
	resp, body = s.call(t, "POST", "/v1/rollback/pkg", `{"to": "1.0.0"}`)
	json.Unmarshal(body, &changed)
	if resp.StatusCode != 200 || changed.Packages[0].Status != updater.StatusRolledBack || changed.Packages[0].To != "1.0.0" {
		t.Errorf("rollback: %d %s", resp.StatusCode, body)
	}
	resp, body = s.call(t, "POST", "/v1/update/pkg", `{"to": "7.0.0"}`)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "no release 7.0.0") {
		t.Errorf("update to an unreleased version: %d %s", resp.StatusCode, body)
	}

	var hist struct{ History []pkgdir.HistoryEntry }
	_, body = s.call(t, "GET", "/v1/history?name=pkg", "")
	json.Unmarshal(body, &hist)
	var seq []string
	for _, e := range hist.History {
		seq = append(seq, string(e.Action)+":"+e.Result+":"+e.By)
	}
	if want := []string{"update:ok:api", "rollback:failed:api", "rollback:ok:api", "update:failed:api"}; !slices.Equal(seq, want) {
		t.Errorf("history %v, want %v", seq, want)
	}
	_, body = s.call(t, "GET", "/v1/history?limit=1", "")
	json.Unmarshal(body, &hist)
	if len(hist.History) != 1 || hist.History[0].Action != pkgdir.HistoryUpdate || hist.History[0].Result != pkgdir.HistoryFailed {
		t.Errorf("history?limit=1: %s", body)
	}

	// Hold, as `modup hold`: the package shows held, updates pass it by;
	// unhold releases it. Both are in the history, by the API.
	resp, body = s.call(t, "POST", "/v1/hold/pkg", `{"reason": "testing"}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status": "held"`) {
		t.Fatalf("hold: %d %s", resp.StatusCode, body)
	}
	_, body = s.call(t, "GET", "/v1/packages/pkg", "")
	var st struct {
		Held *struct{ Reason string } `json:"held"`
	}
	if json.Unmarshal(body, &st); st.Held == nil || st.Held.Reason != "testing" {
		t.Errorf("/v1/packages/pkg after hold: %s", body)
	}
	resp, body = s.call(t, "POST", "/v1/unhold/pkg", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status": "unheld"`) {
		t.Errorf("unhold: %d %s", resp.StatusCode, body)
	}
	_, body = s.call(t, "GET", "/v1/history?limit=2", "")
	hist.History = nil
	json.Unmarshal(body, &hist)
	if len(hist.History) != 2 || hist.History[0].Action != pkgdir.HistoryHold || hist.History[1].Action != pkgdir.HistoryUnhold || hist.History[1].By != "api" {
		t.Errorf("history of hold and unhold: %s", body)
	}
	if resp, body := s.call(t, "POST", "/v1/hold/nosuch", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("hold of an unknown package: %d %s", resp.StatusCode, body)
	}
}

// Two updates of one package at once: one runs, the other is refused at
// once with 409, naming the process that holds the package's lock.
func TestConcurrentUpdatesConflict(t *testing.T) {
	s := startService(t, serviceOpts{})
	type answer struct {
		code int
		body []byte
	}
	first := make(chan answer, 1)
	go func() {
		resp, body := s.call(t, "POST", "/v1/update/slow", "")
		first <- answer{resp.StatusCode, body}
	}()
	<-s.asked // the first update is downloading, holding the lock

	resp, body := s.call(t, "POST", "/v1/update/slow", "")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("second update: %d %s, want 409", resp.StatusCode, body)
	}
	e := errorOf(t, body)
	holder, _ := e["holder"].(map[string]any)
	if pid, _ := holder["pid"].(float64); int(pid) != os.Getpid() {
		t.Errorf("holder %v, want this process (pid %d)", holder, os.Getpid())
	}
	if msg := e["error"].(string); !strings.Contains(msg, "slow is being changed by modup (pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name the holder", msg)
	}
	// A rollback of the same package is refused the same way.
	if resp, _ := s.call(t, "POST", "/v1/rollback/slow", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("rollback during the update: %d, want 409", resp.StatusCode)
	}

	s.release()
	a := <-first
	var changed struct{ Packages []updater.Change }
	json.Unmarshal(a.body, &changed)
	if a.code != 200 || changed.Packages[0].Status != updater.StatusUpdated || changed.Packages[0].To != "2.0.0" {
		t.Errorf("first update: %d %s", a.code, a.body)
	}
}

// The event stream tells of checks, downloads and installs as they
// happen; streams are capped, and a closed one frees its place.
func TestEventStream(t *testing.T) {
	s := startService(t, serviceOpts{maxStreams: 2})
	st, resp := s.openEvents(t)
	if st == nil {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp, body := s.call(t, "POST", "/v1/check", `{"names": ["pkg"]}`); resp.StatusCode != 200 {
		t.Fatalf("check: %d %s", resp.StatusCode, body)
	}
	st.next(t, "check-started", "pkg")
	fin := st.next(t, "check-finished", "pkg")
	if fin.Status != updater.StatusUpdateAvailable || fin.Available != "1.1.0" || fin.Installed != "1.0.0" {
		t.Errorf("check-finished %+v", fin)
	}
	if resp, body := s.call(t, "POST", "/v1/update/pkg", ""); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	var last daemon.Event
	for last.Done < s.zipSize {
		last = st.next(t, "download-progress", "pkg")
	}
	if last.Total != s.zipSize {
		t.Errorf("progress %+v, want %d bytes in all", last, s.zipSize)
	}
	inst := st.next(t, "installed", "pkg")
	if inst.From != "1.0.0" || inst.To != "1.1.0" || inst.Action != pkgdir.HistoryUpdate {
		t.Errorf("installed %+v", inst)
	}

	second, _ := s.openEvents(t)
	if second == nil {
		t.Fatal("a second stream was refused")
	}
	third, resp := s.openEvents(t)
	if third != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third stream over the cap of 2: %+v", resp)
	}
	second.resp.Body.Close()
	deadline := 0
	for s.hub.Streams() != 1 {
		deadline++
		if deadline > 1000 {
			t.Fatal("the closed stream was not let go")
		}
		s.call(t, "GET", "/healthz", "") // a moment
	}
	if again, resp := s.openEvents(t); again == nil {
		t.Errorf("a stream after one closed: %d", resp.StatusCode)
	}
}

// The page and its assets are embedded, served with ETags (304 when
// current) and a strict policy; no answer carries a CORS header.
func TestPageAndHeaders(t *testing.T) {
	s := startService(t, serviceOpts{})
	resp, body := s.call(t, "GET", "/", "", "Origin", "http://evil.example")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>modup</title>") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(string(body), "http://") || strings.Contains(string(body), "https://") {
		t.Error("the page loads something from elsewhere")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp, body := s.call(t, "GET", "/", "", "If-None-Match", etag); resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("revalidation: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := s.call(t, "GET", "/", "", "If-None-Match", `"other"`); resp.StatusCode != 200 {
		t.Errorf("stale copy: %d", resp.StatusCode)
	}
	resp, _ = s.call(t, "GET", "/assets/app.js", "")
	if !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || resp.Header.Get("ETag") == etag {
		t.Errorf("app.js: %q, ETag %q", resp.Header.Get("Content-Type"), resp.Header.Get("ETag"))
	}
	if resp, _ := s.call(t, "GET", "/assets/nope.js", ""); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
	var wg sync.WaitGroup
	for _, ep := range []struct{ method, path string }{{"GET", "/"}, {"GET", "/v1/packages"}, {"OPTIONS", "/v1/packages"}, {"GET", "/metrics"}} {
		wg.Go(func() {
			resp, _ := s.call(t, ep.method, ep.path, "", "Origin", "http://evil.example", "Access-Control-Request-Method", "POST")
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s answers %s", ep.method, ep.path, k)
				}
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: no nosniff", ep.method, ep.path)
			}
		})
	}
	wg.Wait()
}

// metricValues reads /metrics into "name{labels}" -> value.
func (s *service) metricValues(t *testing.T) map[string]float64 {
	t.Helper()
	resp, body := s.call(t, "GET", "/metrics", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " ")
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// /metrics has every metric the issue names, with the values of what
// happened: three checks at start, then one update.
func TestMetrics(t *testing.T) {
	s := startService(t, serviceOpts{})
	if resp, body := s.call(t, "POST", "/v1/update/pkg", ""); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	m := s.metricValues(t)
	sts, err := daemon.Statuses([]string{s.root}, "")
	if err != nil {
		t.Fatal(err)
	}
	lastCheck := map[string]float64{}
	for _, st := range sts {
		lastCheck[st.Name] = float64(st.LastCheck.UnixMilli()) / 1000
	}
	pkgLabel := func(name string) string { return `{package="` + name + `",root="` + s.root + `"}` }
	want := map[string]float64{
		`modup_checks_total{result="update-available"}`:         2,
		`modup_checks_total{result="local"}`:                    1,
		`modup_installs_total{result="updated"}`:                1,
		`modup_download_bytes_total`:                            float64(s.zipSize),
		`modup_packages{status="up-to-date"}`:                   1,
		`modup_packages{status="update-available"}`:             1,
		`modup_packages{status="local"}`:                        1,
		`modup_update_available` + pkgLabel("pkg"):              0,
		`modup_update_available` + pkgLabel("slow"):             1,
		`modup_update_available` + pkgLabel("local"):            0,
		`modup_last_check_timestamp_seconds` + pkgLabel("pkg"):  lastCheck["pkg"],
		`modup_last_check_timestamp_seconds` + pkgLabel("slow"): lastCheck["slow"],
		`modup_check_duration_seconds_count`:                    3,
		`modup_install_duration_seconds_count`:                  1,
	}
	for k, v := range want {
		got, ok := m[k]
		if !ok {
			t.Errorf("no %s", k)
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "modup_github_rate_limit_remaining") {
			t.Errorf("%s reported before GitHub stated a quota", k)
		}
		if strings.HasPrefix(k, "go_") || strings.HasPrefix(k, "process_") {
			t.Errorf("%s: the registry is not private", k)
		}
	}
	// A failed install counts as one.
	if err := os.WriteFile(filepath.Join(s.root, "..", "releases", "pkg", "1.1.0.zip"), []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.call(t, "POST", "/v1/rollback/pkg", ""); resp.StatusCode != 200 {
		t.Fatal("rollback")
	}
	if resp, body := s.call(t, "POST", "/v1/update/pkg", ""); resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "corrupt archive") {
		t.Fatalf("an update whose zip is not a zip: %d %s, want 502", resp.StatusCode, body)
	}
	if got := s.metricValues(t)[`modup_installs_total{result="failed"}`]; got != 1 {
		t.Errorf(`modup_installs_total{result="failed"} = %v, want 1`, got)
	}
}
