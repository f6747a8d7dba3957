package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/internal/faults"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/updater"
)

// TestSecretsInURLs: credentials in an update_url (a password, or a token
// as the user name) are used for the requests but never shown: not in
// check, update, info, list or status output (text or JSON), not in -v
// logs, the daemon's log, state files, the request cache or install
// records, not in any error. They are shown as https://user:xxxxx@host/
// (a password) or https://xxxxx@host/ (a user name alone).
func TestSecretsInURLs(t *testing.T) {
	const password, token = "s3cretPW", "tok3nSECRET"
	base := t.TempDir()
	rel := filepath.Join(base, "release")
	srv := faults.New(t, "")
	host := strings.TrimPrefix(srv.URL, "http://")
	withPassword := "http://user:" + password + "@" + host + "/"
	withToken := "http://" + token + "@" + host + "/bad/"

	// fx updates; its zip's manifest names another update_url with a
	// password (reported, not followed).
	zipped := advTree("fx", "2.0.0", "https://other:"+password+"@elsewhere.example/", 5, 64)
	advPublish(t, rel, "fx", "2.0.0", map[string]advFiles{"2.0.0": zipped})
	for _, name := range []string{"a2modsource.json", "2.0.0.zip"} {
		b, err := os.ReadFile(filepath.Join(rel, name))
		if err != nil {
			t.Fatal(err)
		}
		srv.Put("/"+name, b)
	}
	// badsum's release declares a wrong sha256: its update fails naming the zip's URL.
	z, _ := srv.File("/2.0.0.zip")
	srv.Put("/bad/a2modsource.json", fmt.Appendf(nil, `{"name": "badsum", "version": "2.0.0", "sha256": "%x"}`, sha256.Sum256([]byte("other bytes"))))
	srv.Put("/bad/2.0.0.zip", z)

	root := filepath.Join(base, "root")
	advWrite(t, filepath.Join(root, "fx"), advTree("fx", "1.0.0", withPassword, 5, 64))
	advWrite(t, filepath.Join(root, "gone"), advTree("gone", "1.0.0", withPassword+"missing/", 5, 64))
	advWrite(t, filepath.Join(root, "badsum"), advTree("badsum", "1.0.0", withToken, 5, 64))

	outputs := map[string]string{}
	cli := func(args ...string) {
		code, out, errOut := advRun(t.Context(), nil, append(args, "--root", root)...)
		key := fmt.Sprintf("modup %s (exit %d)", strings.Join(args, " "), code)
		outputs[key] = out + errOut
	}
	for _, args := range [][]string{
		{"list"}, {"list", "--json"},
		{"check"}, {"check", "--json"}, {"check", "-v"}, {"check", "-v", "--log-format", "json"},
		{"info", "fx"}, {"info", "fx", "--json"}, {"info", "gone"}, {"info", "badsum", "--json"},
		{"update", "--all", "-v"}, {"update", "--all", "--json"},
		{"release", "check", withPassword}, {"release", "check", withToken, "--json"},
	} {
		cli(args...)
	}

	// The daemon, once over every package, with its log.
	logs := advDaemonOnce(t, root, 3)
	outputs["daemon log"] = logs
	cli("status")
	cli("status", "--json")
	// A rollback writes the install record afresh from the backup's manifest.
	cli("rollback", "fx")

	// Everything modup keeps in .modup/ but the backups, which are copies
	// of the user's own package folders.
	modup := filepath.Join(root, ".modup")
	err := filepath.WalkDir(modup, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == "backups" {
			return fs.SkipDir
		}
		if e.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(modup, p)
			outputs[".modup/"+filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("%d outputs, logs and files searched for the password and the token", len(outputs))
	for what, text := range outputs {
		for _, secret := range []string{password, token} {
			if i := strings.Index(text, secret); i >= 0 {
				t.Errorf("%s shows %q: …%s…", what, secret, text[max(i-80, 0):min(i+40, len(text))])
			}
		}
	}

	// The test proves something only if the URLs were shown, redacted, and
	// the credentials did travel.
	for what, want := range map[string]string{
		"modup list (exit 0)":                               "http://user:xxxxx@" + host + "/",
		"modup check (exit 1)":                              "gone: no a2modsource.json at http://user:xxxxx@" + host + "/missing/a2modsource.json",
		"modup info fx (exit 0)":                            "update_url  http://user:xxxxx@" + host + "/",
		"modup update --all -v (exit 1)":                    "sha256 of http://xxxxx@" + host + "/bad/2.0.0.zip",
		"modup update --all --json (exit 1)":                `"error": "download badsum 2.0.0: sha256 of http://xxxxx@` + host + `/bad/2.0.0.zip`,
		"daemon log":                                        "http://xxxxx@" + host + "/bad/2.0.0.zip",
		"modup release check " + withPassword + " (exit 0)": "release check of http://user:xxxxx@" + host + "/\n",
		".modup/state/badsum.json":                          "sha256 of http://xxxxx@" + host + "/bad/2.0.0.zip",
	} {
		if !strings.Contains(outputs[what], want) {
			t.Errorf("%s does not show %q:\n%s", what, want, outputs[what])
		}
	}
	if out := outputs["modup update --all -v (exit 1)"]; !strings.Contains(out, `update_url to "https://other:xxxxx@elsewhere.example/"`) {
		t.Errorf("the warning about the zip's update_url is missing or unredacted:\n%s", out)
	}
	basic := 0
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Auth, "Basic ") {
			basic++
		}
	}
	if basic == 0 {
		t.Error("no request carried the URL's credentials")
	}
}

// advDaemonOnce runs the daemon (auto policy, text log at debug level) on
// root until it has checked n packages once, stops it, and returns its log.
func advDaemonOnce(t *testing.T, root string, n int) string {
	t.Helper()
	logs := &advBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := daemon.New(daemon.Options{
		Roots: []string{root}, Interval: time.Hour, StartSpread: time.Millisecond, Logger: logger, NoWatch: true,
		Updater: &updater.Updater{
			Sources: updater.NewSources(updater.Config{Logger: logger, HTTP: &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}}),
			Logger:  logger, RetryWait: time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if states, _ := daemon.ReadStates(root); len(states) >= n {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the daemon did not check %d packages in 30s:\n%s", n, logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("daemon: %v", err)
	}
	return logs.String()
}
