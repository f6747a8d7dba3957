package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome to drive ($MODUP_CHROMIUM first).
func chromium() string {
	if p := os.Getenv("MODUP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The page in a real headless Chromium: it shows the packages, Update on
// the one with an update installs it, and the new version appears without
// a reload. The screenshot it takes is the README's (set
// MODUP_UI_SCREENSHOT=docs/ui.png to write it there).
func TestBrowserUpdate(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium: CI must run this test (.ci/run installs Debian's chromium package)")
		}
		t.Skip("no chromium on this machine (apt-get install chromium); CI runs this test")
	}
	s := startService(t, serviceOpts{})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 760),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	pkgInstalled := chromedp.CSS(`tr[data-name="pkg"] td.installed`)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// click clicks the element sel selects. The page rebuilds its tables
	// as events arrive (after an update, a check may still report), so a
	// button found just before a rebuild is gone when the click looks for
	// its box: it is found again, as a person's next click would.
	click := func(what, sel string) {
		t.Helper()
		var err error
		for range 5 {
			err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
			if err == nil || !strings.Contains(err.Error(), "Could not find node with given id") {
				break
			}
		}
		step(what, err)
	}
	// As `modup ui` opens it: with a login code the page trades for the
	// token.
	resp, body := s.call(t, "POST", "/v1/login-code", "")
	var login struct{ Code string }
	if err := json.Unmarshal(body, &login); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login-code: %s %s", resp.Status, body)
	}
	step("open the page", chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/#code="+login.Code),
		chromedp.WaitVisible(pkgInstalled),
	))
	before, err := chromedp.Run(ctx, chromedp.Text(pkgInstalled))
	step("read pkg's version", err)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#packages tbody tr").length`))
	step("count the packages", err)
	location, err := chromedp.Run(ctx, chromedp.Location())
	step("read the location", err)
	// Every control has a name a screen reader says.
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("button, input")].filter(e =>
		!(e.getAttribute("aria-label") || e.textContent.trim() || (e.id && document.querySelector('label[for="' + e.id + '"]')))
	).map(e => e.outerHTML).join(" ")`))
	step("look for unlabelled controls", err)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`))
	step("mark the document", err)
	if before != "1.0.0" || rows != 3 {
		t.Fatalf("the page shows pkg at %q and %d packages; want 1.0.0 and 3", before, rows)
	}
	if strings.Contains(location, "token") || strings.Contains(location, "code") {
		t.Errorf("the login code stays in the address bar: %s", location)
	}
	if unlabelled != "" {
		t.Errorf("controls without a label: %s", unlabelled)
	}

	click("click Update", `button[data-action="update"][data-name="pkg"]`)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('tr[data-name="pkg"] td.installed').textContent === "1.1.0"`,
		chromedp.WithPollingTimeout(30*time.Second)))
	step("wait for the new version", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#history tbody tr") !== null && document.querySelector("#message").textContent.includes("updated")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	step("wait for the history", err)
	after, err := chromedp.Run(ctx, chromedp.Text(pkgInstalled))
	step("read pkg's new version", err)
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	step("check the document", err)
	message, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#message`)))
	step("read the message", err)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	step("take a screenshot", err)
	if after != "1.1.0" || !same {
		t.Errorf("after Update: pkg shows %q, same document %v; want 1.1.0 without a reload", after, same)
	}
	if !strings.Contains(message, "pkg: updated 1.1.0") {
		t.Errorf("the page says %q", message)
	}
	if b, _ := os.ReadFile(filepath.Join(s.root, "pkg", "mod", "code.ahk")); string(b) != "version 1.1.0" {
		t.Errorf("installed %q", b)
	}
	if !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(shot))
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "ui.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if dst := os.Getenv("MODUP_UI_SCREENSHOT"); dst != "" {
		if err := os.WriteFile(dst, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", dst)
	}

	// Hold keeps pkg where it is: the row says held, the button becomes
	// Unhold, which releases it. The refreshes that follow leave the rows
	// of the other packages as they are (the same nodes).
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.__localRow = document.querySelector('tr[data-name="local"]')) !== null`))
	step("mark local's row", err)
	click("click Hold", `button[data-action="hold"][data-name="pkg"]`)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('tr[data-name="pkg"] td.status').textContent.includes("held") &&
		document.querySelector('button[data-action="unhold"][data-name="pkg"]') !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	step("wait for held", err)
	click("click Unhold", `button[data-action="unhold"][data-name="pkg"]`)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector('tr[data-name="pkg"] td.status').textContent.includes("held") &&
		document.querySelector('button[data-action="hold"][data-name="pkg"]') !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	step("wait for unheld", err)
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('tr[data-name="local"]') === window.__localRow`))
	step("look at local's row", err)
	if !kept {
		t.Error("holding pkg rebuilt the row of local, whose package did not change")
	}
}
