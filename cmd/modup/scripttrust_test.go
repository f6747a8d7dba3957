package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modup/modup/trust/trusttest"
)

// serveCmd is "serve DIR": run `modup serve DIR --addr 127.0.0.1:0`
// in-process until the script ends, and set $URL to the update_url it
// prints, as an author does in a second terminal.
func serveCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve DIR")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs authorBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", ts.MkAbs(args[0]), "--addr", "127.0.0.1:0"}, authorEnv(&out, &logs))
	}()
	ts.Defer(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			ts.Logf("serve did not stop within 10s")
		}
	})
	url, err := awaitServe(&out, &logs, done)
	ts.Check(err)
	ts.Setenv("URL", url)
}

// cheapKeyCmd is "cheapkey DIR PASSWORD": a new key pair in DIR, the
// secret key encrypted with PASSWORD at the lowest scrypt cost (see
// trusttest), so that scripts exercise password-protected keys without
// minisign's 1 GiB per use.
func cheapKeyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cheapkey DIR PASSWORD")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	t, ok := ts.Value("t").(testing.TB)
	if !ok {
		ts.Fatalf("cheapkey: no testing.TB in the script's values (see TestScripts' Setup)")
	}
	_, sec := trusttest.Key(t)
	trusttest.WriteKeys(t, dir, sec, args[1])
	if _, err := os.Stat(filepath.Join(dir, "modup.key")); err != nil {
		ts.Fatalf("cheapkey: %v", err)
	}
}
