package main

// Helpers of the adversarial tests (crash loop, faults, concurrency). Names
// start with "adv" so that they stay clear of the other test files here.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// advFiles is a package tree: slash path -> content.
type advFiles map[string]string

// advTree makes the tree of version of package name: a manifest whose
// update_url is updateURL, and files more files spread over modules of
// ten, each with its a2module.json, holding size bytes of content that
// differs per version (seeded, so the same call gives the same tree).
func advTree(name, version, updateURL string, files, size int) advFiles {
	t := advFiles{"a2modsource.json": advManifest(name, version, updateURL)}
	seed := uint64(len(version))
	for _, c := range version {
		seed = seed*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(seed, uint64(files)))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \n"
	for i := range files {
		mod := fmt.Sprintf("mod%02d", i/10)
		if i%10 == 0 {
			t[mod+"/a2module.json"] = fmt.Sprintf(`[{"typ": "nfo", "version": %q, "description": "module %s"}]`, version, mod)
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		t[fmt.Sprintf("%s/file%03d.ahk", mod, i)] = fmt.Sprintf("; %s %s\n%s", name, version, b)
	}
	return t
}

func advManifest(name, version, updateURL string) string {
	m := map[string]string{"name": name, "version": version}
	if updateURL != "" {
		m["update_url"] = updateURL
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return string(b) + "\n"
}

// advZip packs a tree (sorted, deflated) as a release zip.
func advZip(t testing.TB, files advFiles) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// advWrite writes a tree into dir.
func advWrite(t testing.TB, dir string, files advFiles) {
	t.Helper()
	for n, c := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// advHash is the tree hash a tree has once installed.
func advHash(t testing.TB, files advFiles) string {
	t.Helper()
	dir := t.TempDir()
	advWrite(t, dir, files)
	h, err := pkgdir.TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// advPublish writes a release folder: the pointer manifest naming latest,
// and one zip per version.
func advPublish(t testing.TB, dir, name, latest string, trees map[string]advFiles) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for v, tree := range trees {
		if err := os.WriteFile(filepath.Join(dir, v+".zip"), advZip(t, tree), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(advManifest(name, latest, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// advBuffer is an output written by one goroutine and read by another.
type advBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (a *advBuffer) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.b.Write(p)
}

func (a *advBuffer) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.b.String()
}

// advRun runs modup in-process with getenv as its whole environment (nil:
// empty) and returns the exit code and output.
func advRun(ctx context.Context, getenv func(string) string, args ...string) (int, string, string) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var out, errOut advBuffer
	code := run(ctx, args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: getenv})
	return code, out.String(), errOut.String()
}

// advProc is modup in a child process: the test binary, which TestMain
// turns into the CLI when its argv[0] is "modup".
type advProc struct {
	cmd            *exec.Cmd
	stdout, stderr advBuffer
	done           chan struct{}
	code           int  // exit code; -1 when killed by a signal
	killed         bool // ended by a signal
	start, end     time.Time
}

func advStart(t testing.TB, args ...string) *advProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Args = append([]string{"modup"}, args...)
	return advLaunch(t, cmd)
}

// advLaunch starts cmd, which runs modup, with a clean environment.
func advLaunch(t testing.TB, cmd *exec.Cmd) *advProc {
	t.Helper()
	p := &advProc{done: make(chan struct{}), cmd: cmd}
	p.cmd.Env = append(os.Environ(), "MODUP_ROOTS=", "NO_COLOR=1", "GITHUB_TOKEN=", "GH_TOKEN=",
		"GORACE=atexit_sleep_ms=0") // under -race: no extra second at exit
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.end = time.Now()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
			p.killed = p.code == -1
		default:
			p.code = -2
		}
		close(p.done)
	}()
	return p
}

// wait waits for p, at most limit; past it p is killed and the test fails.
func (p *advProc) wait(t testing.TB, limit time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("modup %s did not end within %s; stderr:\n%s", strings.Join(p.cmd.Args[1:], " "), limit, p.stderr.String())
	}
}

func (p *advProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *advProc) String() string {
	return fmt.Sprintf("modup %s (pid %d): exit %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(p.cmd.Args[1:], " "), p.cmd.Process.Pid, p.code, p.stdout.String(), p.stderr.String())
}

// advChange is one entry of `update --json` and `rollback --json`.
type advChange struct {
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

func advChanges(stdout string) ([]advChange, error) {
	var out struct {
		Packages []advChange `json:"packages"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return nil, fmt.Errorf("stdout is not update --json: %w: %q", err, stdout)
	}
	return out.Packages, nil
}

// advLeftovers lists what a finished or recovered change must not leave in
// root's .modup: anything in tmp/, staging/ or journal/, a lock holder
// description, and temporary files of atomic writes.
func advLeftovers(root string) []string {
	l := pkgdir.Layout{Root: root}
	var out []string
	for _, dir := range []string{l.TmpDir(), l.StagingDir(), l.JournalDir()} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	for _, dir := range []string{l.LocksDir(), l.InstalledDir()} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".holder") || strings.Contains(e.Name(), ".tmp-") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// advVersionOf names the known version whose tree hash h is, or "".
func advVersionOf(h string, hashes map[string]string) string {
	for v, hv := range hashes {
		if hv == h {
			return v
		}
	}
	return ""
}

// advCheckPackage checks that package name in root is wholly one of the
// known versions (hashes: version -> tree hash), as are all its backups,
// that its install record does not contradict it, and that its lock is
// free. It returns the installed version and the problems found.
func advCheckPackage(ctx context.Context, root, name string, hashes map[string]string) (string, []string) {
	return advCheckPackageLock(ctx, root, name, hashes, true)
}

// advCheckPackageLock is advCheckPackage; without checkLock it does not
// look at the lock (for a caller that holds it).
func advCheckPackageLock(ctx context.Context, root, name string, hashes map[string]string, checkLock bool) (string, []string) {
	var problems []string
	l := pkgdir.Layout{Root: root}
	live := filepath.Join(root, name)
	h, err := pkgdir.TreeHash(live)
	if err != nil {
		return "", []string{fmt.Sprintf("%s: %v", live, err)}
	}
	version := advVersionOf(h, hashes)
	if version == "" {
		problems = append(problems, fmt.Sprintf("%s is no known version (tree hash %s): a mix?", live, h))
	} else if m, err := pkgdir.ReadManifest(live); err != nil || m.Version != version {
		problems = append(problems, fmt.Sprintf("%s holds %s but its manifest says %v %v", live, version, m, err))
	}
	bs, err := l.Backups(name)
	if err != nil {
		problems = append(problems, fmt.Sprintf("backups of %s: %v", name, err))
	}
	for _, b := range bs {
		bh, err := pkgdir.TreeHash(b.Dir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("backup %s: %v", b.Dir, err))
			continue
		}
		if v := advVersionOf(bh, hashes); v == "" || v != b.Version {
			problems = append(problems, fmt.Sprintf("backup %s (version %q) is no known version, or another one (%q)", b.Dir, b.Version, v))
		}
	}
	if rec, err := l.ReadRecord(name); err == nil && rec.Version == version && rec.TreeHash != "" && rec.TreeHash != h {
		problems = append(problems, fmt.Sprintf("install record says %s with tree hash %s, the folder's is %s: the next update would refuse it as edited", rec.Version, rec.TreeHash, h))
	}
	if !checkLock {
		return version, problems
	}
	lk, err := l.Lock(ctx, name, 0)
	if err != nil {
		problems = append(problems, fmt.Sprintf("lock of %s still held: %v", name, err))
	} else {
		lk.Unlock()
	}
	return version, problems
}

// advIterations reads a count from the environment variable key, else def
// (short under -short).
func advIterations(t *testing.T, key string, def, short int) int {
	t.Helper()
	if v := os.Getenv(key); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", key, v)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

// advSortedKeys returns m's keys, sorted.
func advSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
