package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/faults"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// advOutcome is what one command did, as a user sees it.
type advOutcome struct {
	code   int
	status string // the package's status in the table
	text   string // stdout and stderr
}

// advWant is what a command must do under a fault: the exit code, the
// package's status and, for a failure, a phrase the package's error line
// ("NAME: ...") must hold.
type advWant struct {
	code   int
	status string
	cause  string
}

var (
	advCheckOK  = advWant{code: exitAvailable, status: "update-available"}
	advUpdateOK = advWant{code: exitOK, status: "updated"}
)

func advCheckFails(cause string) advWant {
	return advWant{code: exitFailure, status: "error", cause: cause}
}
func advUpdateFails(cause string) advWant {
	return advWant{code: exitFailure, status: "failed", cause: cause}
}

// advFaultCase is one fault on one path of the release server.
type advFaultCase struct {
	name   string
	path   string // "manifest" or "zip"
	fault  func(t *testing.T, f *advFaultFixture) faults.Fault
	check  advWant
	update advWant
	// client, when set, runs the commands through package updater with
	// these client options (a short stall timeout, a transport that trusts
	// a test certificate) instead of through the CLI.
	client func(f *advFaultFixture) *httpx.Options
	tls    bool // serve the release over HTTPS
	// declare adds zip_size and sha256 to the release's manifest.
	declare bool
	getenv  func(f *advFaultFixture) func(string) string
	after   func(t *testing.T, f *advFaultFixture)
}

type advFaultFixture struct {
	root, name string
	srv        *faults.Server
	other      *faults.Server // a second host
	hashes     map[string]string
}

const advFaultPkg = "fx"

// newAdvFaultFixture installs fx 1.0.0 in a fresh root, its update_url the
// fault server, which publishes 2.0.0.
func newAdvFaultFixture(t *testing.T, tc advFaultCase) *advFaultFixture {
	base := t.TempDir()
	rel := filepath.Join(base, "release")
	trees := map[string]advFiles{"2.0.0": advTree(advFaultPkg, "2.0.0", "", 20, 512)}
	advPublish(t, rel, advFaultPkg, "2.0.0", trees)
	if tc.declare {
		z, _ := os.ReadFile(filepath.Join(rel, "2.0.0.zip"))
		m := fmt.Sprintf(`{"name": %q, "version": "2.0.0", "zip_size": %d, "sha256": "%x"}`, advFaultPkg, len(z), sha256.Sum256(z))
		if err := os.WriteFile(filepath.Join(rel, "a2modsource.json"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &advFaultFixture{root: filepath.Join(base, "root"), name: advFaultPkg}
	if tc.tls {
		f.srv = faults.NewTLS(t, rel)
	} else {
		f.srv = faults.New(t, rel)
	}
	f.other = faults.New(t, rel)
	old := advTree(advFaultPkg, "1.0.0", f.srv.URL, 20, 512)
	advWrite(t, filepath.Join(f.root, advFaultPkg), old)
	// Once installed, 2.0.0's manifest carries the installed update_url.
	f.hashes = map[string]string{"1.0.0": advHash(t, old), "2.0.0": advHash(t, advTree(advFaultPkg, "2.0.0", f.srv.URL, 20, 512))}
	return f
}

// advFaultCases is every fault tried: each runs `check` and `update`.
func advFaultCases() []advFaultCase {
	fault := func(fl faults.Fault) func(*testing.T, *advFaultFixture) faults.Fault {
		return func(*testing.T, *advFaultFixture) faults.Fault { return fl }
	}
	fast := func(f *advFaultFixture) *httpx.Options {
		return &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, StallTimeout: 300 * time.Millisecond}
	}
	// slow holds slow servers to short limits: a stall timer they never
	// trip, a fetch timeout and a minimum-rate window they do.
	slow := func(f *advFaultFixture) *httpx.Options {
		return &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, StallTimeout: 2 * time.Second,
			FetchTimeout: 300 * time.Millisecond, MinRateWindow: 200 * time.Millisecond}
	}
	trustTLS := func(f *advFaultFixture) *httpx.Options {
		o := fast(f)
		o.Transport = f.srv.Client().Transport
		return o
	}
	hour := time.Now().Add(time.Hour)
	return []advFaultCase{
		{name: "reset mid-body", path: "manifest", fault: fault(faults.Reset()),
			check: advCheckFails("connection reset by peer"), update: advUpdateFails("connection reset by peer")},
		{name: "reset mid-body", path: "zip", fault: fault(faults.Reset()),
			check: advCheckOK, update: advUpdateFails("connection reset by peer")},
		{name: "cut short with Content-Length", path: "manifest", fault: fault(faults.CutShort(true)),
			check: advCheckFails("unexpected EOF"), update: advUpdateFails("unexpected EOF")},
		{name: "cut short with Content-Length", path: "zip", fault: fault(faults.CutShort(true)),
			check: advCheckOK, update: advUpdateFails("unexpected EOF")},
		{name: "cut short without Content-Length", path: "manifest", fault: fault(faults.CutShort(false)),
			check: advCheckFails("unexpected end of JSON input"), update: advUpdateFails("unexpected end of JSON input")},
		{name: "cut short without Content-Length", path: "zip", fault: fault(faults.CutShort(false)),
			check: advCheckOK, update: advUpdateFails("not a zip, or truncated")},
		{name: "cut short without Content-Length, size known from HEAD", path: "zip", fault: fault(faults.OnlyGET(faults.CutShort(false))),
			check: advCheckOK, update: advUpdateFails("but the server's answer to HEAD says")},
		{name: "cut short without Content-Length, size and sha256 declared", path: "zip", declare: true, fault: fault(faults.CutShort(false)),
			check: advCheckOK, update: advUpdateFails("but zip_size in a2modsource.json says")},
		{name: "500 twice, then 200", path: "manifest", fault: fault(faults.Status(500, 2)),
			check: advCheckOK, update: advUpdateOK},
		{name: "500 twice, then 200", path: "zip", fault: fault(faults.Status(500, 2)),
			check: advCheckOK, update: advUpdateOK},
		{name: "500 forever", path: "manifest", fault: fault(faults.Status(500, -1)), client: fast,
			check: advCheckFails("HTTP 500 Internal Server Error (after 4 attempts)"), update: advUpdateFails("HTTP 500 Internal Server Error (after 4 attempts)")},
		{name: "500 forever", path: "zip", fault: fault(faults.Status(500, -1)), client: fast,
			check: advCheckFails("HTTP 500 Internal Server Error (after 4 attempts)"), update: advUpdateFails("HTTP 500 Internal Server Error (after 4 attempts)")},
		{name: "429 with Retry-After 1s, once", path: "manifest", fault: fault(faults.TooManyRequests(1, 1)),
			check: advCheckOK, update: advUpdateOK},
		{name: "429 with Retry-After 1h", path: "manifest", fault: fault(faults.TooManyRequests(3600, -1)),
			check: advCheckFails("rate limit exceeded until"), update: advUpdateFails("rate limit exceeded until")},
		{name: "429 with Retry-After 1h", path: "zip", fault: fault(faults.TooManyRequests(3600, -1)),
			check: advCheckFails("rate limit exceeded until"), update: advUpdateFails("rate limit exceeded until")},
		{name: "403 with GitHub's rate-limit headers", path: "manifest", fault: fault(faults.GitHubRateLimit(hour)),
			check: advCheckFails("rate limit exceeded until " + hour.Local().Format(time.DateTime)), update: advUpdateFails("rate limit exceeded until")},
		{name: "403 with GitHub's rate-limit headers", path: "zip", fault: fault(faults.GitHubRateLimit(hour)),
			check: advCheckFails("rate limit exceeded until"), update: advUpdateFails("rate limit exceeded until")},
		{name: "drip one byte per second", path: "manifest", fault: fault(faults.Drip(time.Second)), client: fast,
			check: advCheckFails("download stalled: no data for 300ms"), update: advUpdateFails("download stalled: no data for 300ms")},
		{name: "drip one byte per second", path: "zip", fault: fault(faults.Drip(time.Second)), client: fast,
			check: advCheckOK, update: advUpdateFails("download stalled: no data for 300ms")},
		{name: "drip one byte per 100ms, under the stall timer", path: "manifest", fault: fault(faults.Drip(100 * time.Millisecond)), client: slow,
			check: advCheckFails("took longer than --fetch-timeout 300ms"), update: advUpdateFails("took longer than --fetch-timeout 300ms")},
		{name: "drip one byte per 100ms, under the stall timer", path: "zip", fault: fault(faults.Drip(100 * time.Millisecond)), client: slow,
			check: advCheckOK, update: advUpdateFails("over 200ms, under --min-rate 1KiB/s")},
		{name: "no headers, ever", path: "manifest", fault: fault(faults.NoHeaders()), client: slow,
			check: advCheckFails("took longer than --fetch-timeout 300ms"), update: advUpdateFails("took longer than --fetch-timeout 300ms")},
		{name: "no headers, ever", path: "zip", fault: fault(faults.NoHeaders()), client: slow,
			check: advCheckFails("took longer than --fetch-timeout 300ms"), update: advUpdateFails("took longer than --fetch-timeout 300ms")},
		{name: "no headers for a download (HEAD answered)", path: "zip", fault: fault(faults.OnlyGET(faults.NoHeaders())), client: slow,
			check: advCheckOK, update: advUpdateFails("took longer than --fetch-timeout 300ms")},
		{name: "redirect loop", path: "manifest", fault: fault(faults.RedirectLoop()),
			check: advCheckFails("redirect loop"), update: advUpdateFails("redirect loop")},
		{name: "redirect loop", path: "zip", fault: fault(faults.RedirectLoop()),
			check: advCheckFails("redirect loop"), update: advUpdateFails("redirect loop")},
		{name: "redirect from https to http", path: "manifest", tls: true, client: trustTLS,
			fault: func(_ *testing.T, f *advFaultFixture) faults.Fault { return faults.RedirectTo(f.other.URL + "/") },
			check: advCheckFails("redirect from https to plain http"), update: advUpdateFails("redirect from https to plain http")},
		{name: "redirect from https to http", path: "zip", tls: true, client: trustTLS,
			fault: func(_ *testing.T, f *advFaultFixture) faults.Fault { return faults.RedirectTo(f.other.URL + "/") },
			check: advCheckFails("redirect from https to plain http"), update: advUpdateFails("redirect from https to plain http")},
		{name: "untrusted TLS certificate", path: "manifest", tls: true, fault: fault(nil),
			check: advCheckFails("tls: failed to verify certificate"), update: advUpdateFails("tls: failed to verify certificate")},
		{name: "redirect to another host: the token stays behind", path: "zip",
			fault: func(_ *testing.T, f *advFaultFixture) faults.Fault { return faults.RedirectTo(f.other.URL + "/") },
			getenv: func(f *advFaultFixture) func(string) string {
				// The release server plays the GitHub API host, the only
				// one that may see the token.
				return func(k string) string {
					return map[string]string{"GITHUB_TOKEN": "s3cret", "MODUP_GITHUB_API_URL": f.srv.URL + "/"}[k]
				}
			},
			check: advCheckOK, update: advUpdateOK,
			after: func(t *testing.T, f *advFaultFixture) {
				sent := false
				for _, r := range f.srv.Requests() {
					sent = sent || r.Auth == "Bearer s3cret"
				}
				if !sent {
					t.Error("the token never reached its own host: the test proves nothing")
				}
				seen := 0
				for _, r := range f.other.Requests() {
					seen++
					if r.Auth != "" {
						t.Errorf("the other host got Authorization %q on %s %s", r.Auth, r.Method, r.Path)
					}
				}
				if seen == 0 {
					t.Error("the redirect was never followed")
				}
			}},
		{name: "200 with an HTML page", path: "manifest", fault: fault(faults.HTML()),
			check: advCheckFails("got an HTML page instead of a2modsource.json"), update: advUpdateFails("got an HTML page instead of a2modsource.json")},
		{name: "200 with an HTML page", path: "zip", fault: fault(faults.HTML()),
			check: advCheckOK, update: advUpdateFails("got an HTML page instead of a zip")},
		{name: "huge Content-Length", path: "manifest", fault: fault(faults.HugeLength(1 << 40)),
			check: advCheckFails("response too large: 1099511627776 bytes announced"), update: advUpdateFails("response too large: 1099511627776 bytes announced")},
		{name: "huge Content-Length", path: "zip", fault: fault(faults.HugeLength(1 << 40)),
			check: advCheckOK, update: advUpdateFails("declares 1099511627776 bytes, more than --max-size")},
		{name: "one byte flipped", path: "zip", fault: fault(faults.FlipByte()),
			check: advCheckOK, update: advUpdateFails("2.0.0.zip")},
		{name: "one byte flipped, sha256 declared", path: "zip", declare: true, fault: fault(faults.FlipByte()),
			check: advCheckOK, update: advUpdateFails("the release declares")},
		{name: "404: manifest bumped, zip not published", path: "zip", fault: fault(faults.Status(http.StatusNotFound, -1)),
			check: advWant{code: exitOK, status: "unreleased"}, update: advWant{code: exitOK, status: "skipped", cause: "2.0.0 is not released yet"}},
	}
}

// TestFaults runs `check` and `update` against a release server that
// misbehaves in one way per case, and requires a clear error naming the
// package and the cause (or success, where retrying is the cure), the
// installed package untouched by a failure, nothing left in .modup, and an
// end within a generous deadline.
func TestFaults(t *testing.T) {
	cases := advFaultCases()
	kinds := map[string]bool{}
	for _, tc := range cases {
		kinds[tc.name] = true
	}
	t.Logf("%d fault cases of %d kinds, each through check and update", len(cases), len(kinds))
	for _, tc := range cases {
		t.Run(tc.path+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			f := newAdvFaultFixture(t, tc)
			target := "/a2modsource.json"
			if tc.path == "zip" {
				target = "/2.0.0.zip"
			}
			for _, cmd := range []string{"check", "update"} {
				if fl := tc.fault(t, f); fl != nil {
					f.srv.Inject(target, fl) // armed afresh: its count starts again
				}
				want := tc.check
				if cmd == "update" {
					want = tc.update
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				var got advOutcome
				if tc.client != nil {
					got = advUpdaterRun(ctx, *tc.client(f), f.root, f.name, cmd)
				} else {
					var getenv func(string) string
					if tc.getenv != nil {
						getenv = tc.getenv(f)
					}
					got = advCLIRun(ctx, getenv, f.root, f.name, cmd)
				}
				if ctx.Err() != nil {
					t.Errorf("%s did not end within a minute", cmd)
				}
				cancel()
				advCheckOutcome(t, f, cmd, got, want)
			}
			if tc.after != nil {
				tc.after(t, f)
			}
		})
	}
}

// advCheckOutcome compares what a command did with what it should have,
// and checks the package and the root.
func advCheckOutcome(t *testing.T, f *advFaultFixture, cmd string, got advOutcome, want advWant) {
	t.Helper()
	if got.code != want.code || got.status != want.status {
		t.Errorf("%s: exit %d, status %q; want %d, %q\n%s", cmd, got.code, got.status, want.code, want.status, got.text)
	}
	if want.cause != "" {
		line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(f.name) + `: .*` + regexp.QuoteMeta(want.cause))
		if !line.MatchString(got.text) {
			t.Errorf("%s: no line %q naming the cause %q:\n%s", cmd, f.name+": …", want.cause, got.text)
		}
	}
	if want.code == exitOK && want.status == "updated" {
		return // checked below: it must now be 2.0.0
	}
	if left := advLeftovers(f.root); len(left) > 0 {
		t.Errorf("%s left behind %v", cmd, left)
	}
	v, problems := advCheckPackage(t.Context(), f.root, f.name, f.hashes)
	for _, p := range problems {
		t.Errorf("%s: %s", cmd, p)
	}
	wantV := "1.0.0"
	if cmd == "update" && want.status == "updated" {
		wantV = "2.0.0"
	}
	if v != wantV {
		t.Errorf("after %s: %s is %q, want %s", cmd, f.name, v, wantV)
	}
	t.Logf("%s: %s", cmd, strings.TrimSpace(advFirstLine(got.text, f.name+": ")))
}

func advFirstLine(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return "(no error line)"
}

var advStatusRE = regexp.MustCompile(`\b(update-available|up-to-date|unreleased|remote-older|error|updated|failed|skipped)\b`)

// advCLIRun runs `modup check NAME` or `modup update NAME` in-process.
func advCLIRun(ctx context.Context, getenv func(string) string, root, name, cmd string) advOutcome {
	code, out, errOut := advRun(ctx, getenv, cmd, name, "--root", root)
	o := advOutcome{code: code, text: out + errOut}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name+" ") {
			o.status = advStatusRE.FindString(line)
		}
	}
	return o
}

// advUpdaterRun does what `modup check NAME` or `modup update NAME` does,
// through package updater with the given client options, and reports it as
// the CLI would.
func advUpdaterRun(ctx context.Context, opts httpx.Options, root, name, cmd string) advOutcome {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	u := &updater.Updater{
		Sources:   updater.NewSources(updater.Config{HTTP: &opts, UserAgent: "modup-test", Logger: logger}),
		Logger:    logger,
		RetryWait: 10 * time.Millisecond,
	}
	if _, err := (pkgdir.Layout{Root: root}).Recover(ctx); err != nil {
		return advOutcome{code: exitFailure, text: err.Error()}
	}
	pkgs, err := pkgdir.Scan([]string{root})
	if err != nil {
		return advOutcome{code: exitFailure, text: err.Error()}
	}
	p, err := pkgdir.Find(pkgs, name)
	if err != nil {
		return advOutcome{code: exitFailure, text: err.Error()}
	}
	switch cmd {
	case "check":
		r := u.Check(ctx, []pkgdir.Package{p})[0]
		o := advOutcome{status: string(r.Status), text: fmt.Sprintf("%s: %s\n", r.Name, r.Error)}
		switch r.Status {
		case updater.StatusError:
			o.code = exitFailure
		case updater.StatusUpdateAvailable:
			o.code = exitAvailable
		}
		return o
	default:
		c := u.Update(ctx, p, updater.UpdateOptions{})
		o := advOutcome{status: string(c.Status), text: fmt.Sprintf("%s: %s%s\n", c.Name, c.Error, c.Reason)}
		if c.Status == updater.StatusFailed {
			o.code = exitFailure
		}
		return o
	}
}

// TestFetchTimeoutFlag: the global --fetch-timeout reaches every request of
// the CLI: a manifest whose server never answers, or drips slower than the
// stall timer, fails naming the package, the URL and the limit.
func TestFetchTimeoutFlag(t *testing.T) {
	for _, fl := range []faults.Fault{faults.NoHeaders(), faults.Drip(100 * time.Millisecond)} {
		t.Run(fl.Name(), func(t *testing.T) {
			t.Parallel()
			f := newAdvFaultFixture(t, advFaultCase{})
			f.srv.Inject("/a2modsource.json", fl)
			for _, cmd := range []string{"check", "update"} {
				code, out, errOut := advRun(t.Context(), nil, cmd, f.name, "--root", f.root, "--fetch-timeout", "300ms")
				want := regexp.MustCompile(`(?m)^fx: .*` + regexp.QuoteMeta(f.srv.URL+"/a2modsource.json: took longer than --fetch-timeout 300ms") + `$`)
				if code != exitFailure || !want.MatchString(errOut) {
					t.Errorf("%s: exit %d, want 1 and a line matching %s\n%s%s", cmd, code, want, out, errOut)
				}
			}
		})
	}
}
