package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"modup": func() { os.Exit(runMain(os.Args[1:])) },
	})
}

// TestScripts runs the CLI scripts in testdata/script: each is a user's
// session with modup, its commands and what they must print.
func TestScripts(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("..", "..", "testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "testdata", "a2"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLE", example)
			e.Setenv("FIXTURES", fixtures)
			e.Setenv("NO_COLOR", "")
			e.Setenv("MODUP_ROOTS", "")
			e.Setenv("GITHUB_TOKEN", "")
			e.Setenv("GH_TOKEN", "")
			// Race-enabled children otherwise sleep a second at exit.
			e.Setenv("GORACE", "atexit_sleep_ms=0")
			e.Setenv("MODUP_SIGNING_KEY", "")
			e.Setenv("MODUP_SIGNING_PASSWORD", "")
			// Repositories and their cache live in the script's folder,
			// never in a real user's (HOME is /no-home).
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("XDG_CACHE_HOME", filepath.Join(e.WorkDir, ".cache"))
			e.Values["t"] = e.T() // for commands that use test helpers
			return nil
		},
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       exitsCmd,
			"zipdir":      zipdirCmd,
			"mode":        modeCmd,
			"serve":       serveCmd,
			"cheapkey":    cheapKeyCmd,
			"indexserve":  indexServeCmd,
			"staticserve": staticServeCmd,
			"sleep":       sleepCmd,
		},
	})
}

// exitsCmd is "exits N PROGRAM ARGS...": run PROGRAM and require exit status
// N (testscript's exec only tells zero from non-zero; modup's exit codes
// 0, 1, 100 are part of its interface).
func exitsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// sleepCmd is "sleep DURATION": wait (for what only the clock changes,
// such as a signature expiring).
func sleepCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 || d > time.Minute {
		ts.Fatalf("sleep: %q is not a duration up to 1m", args[0])
	}
	time.Sleep(d)
}
