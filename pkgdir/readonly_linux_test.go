//go:build linux

package pkgdir

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// readOnlyTree is a package whose zip carried a read-only folder (0555),
// as some do.
func readOnlyTree(t testing.TB, dir, version string) {
	for name, content := range pkgTree(version) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			must(t, os.MkdirAll(path, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(content), 0o644))
	}
	for _, f := range []string{"ro/f.txt", "ro/sub/g.txt"} {
		path := filepath.Join(dir, filepath.FromSlash(f))
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte("read-only"), 0o444))
	}
	must(t, os.Chmod(filepath.Join(dir, "ro", "sub"), 0o555))
	must(t, os.Chmod(filepath.Join(dir, "ro"), 0o555))
}

func must(t testing.TB, err error) {
	if err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
}

// readOnlyResult is what readOnlyScenario reports.
type readOnlyResult struct {
	Errors []string `json:"errors"`
	Left   []string `json:"left"` // what stayed in .modup/tmp
}

// readOnlyScenario purges a package holding a read-only folder, prunes a
// backup holding one, and lets Recover sweep trash holding one (what a
// killed purge leaves), in root; then it lists what is left in tmp/.
func readOnlyScenario(t testing.TB, root string) readOnlyResult {
	var res readOnlyResult
	fail := func(what string, err error) {
		if err != nil {
			res.Errors = append(res.Errors, what+": "+err.Error())
		}
	}
	l := Layout{Root: root}
	ctx := context.Background()
	readOnlyTree(t, filepath.Join(root, pkgName), "1.0.0")
	readOnlyTree(t, filepath.Join(l.BackupsDir(), pkgName, "0.9.0"), "0.9.0")
	readOnlyTree(t, filepath.Join(l.TmpDir(), "other", "purge-77", "other"), "0.1")

	lk, err := l.Lock(ctx, pkgName, 0)
	fail("lock", err)
	if err == nil {
		_, err = l.Remove(ctx, pkgName, true)
		fail("remove --purge", err)
		_, err = l.Prune(pkgName, 0)
		fail("prune", err)
		fail("unlock", lk.Unlock())
	}
	_, err = l.Recover(ctx)
	fail("recover", err)
	filepath.WalkDir(l.TmpDir(), func(p string, d fs.DirEntry, err error) error {
		if p != l.TmpDir() {
			res.Left = append(res.Left, strings.TrimPrefix(p, l.TmpDir()))
		}
		return nil
	})
	return res
}

// helperReadOnly runs readOnlyScenario in a helper process (as a user
// whom a read-only folder binds) and prints its result.
func helperReadOnly(root string) {
	res := readOnlyScenario(nil, root)
	json.NewEncoder(os.Stdout).Encode(res)
	os.Exit(0)
}

// TestReadOnlyTrash: a read-only folder inside a package (0555, as some
// zips carry) made `remove --purge` and pruning leave trash in .modup/tmp
// that no later command could delete. modup makes its own trash writable
// before deleting it. Root ignores folder modes, so as root the scenario
// runs in a child process as nobody (uid 65534).
func TestReadOnlyTrash(t *testing.T) {
	var res readOnlyResult
	if os.Geteuid() != 0 {
		res = readOnlyScenario(t, t.TempDir())
	} else {
		res = readOnlyAsNobody(t)
	}
	if len(res.Errors) > 0 || len(res.Left) > 0 {
		t.Errorf("errors %q; left in .modup/tmp: %q", res.Errors, res.Left)
	}
}

func readOnlyAsNobody(t *testing.T) readOnlyResult {
	const nobody = 65534
	dir := t.TempDir()
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	must(t, os.Chmod(dir, 0o755))
	// The test binary where nobody may run it.
	exe, err := os.Executable()
	must(t, err)
	in, err := os.Open(exe)
	must(t, err)
	defer in.Close()
	bin := filepath.Join(dir, "pkgdir.test")
	out, err := os.OpenFile(bin, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, err)
	must(t, out.Close())
	root := filepath.Join(dir, "root")
	must(t, os.Mkdir(root, 0o755))
	must(t, os.Chown(root, nobody, nobody))

	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = []string{helperEnv + "=readonly:" + root}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as uid %d: %v", nobody, err)
	}
	var res readOnlyResult
	if err := json.Unmarshal(stdout, &res); err != nil {
		t.Fatalf("helper said %q: %v", stdout, err)
	}
	// The helper really was bound by the modes: as nobody it cannot
	// delete a read-only folder's files without making it writable.
	probe := filepath.Join(root, "probe")
	readOnlyTree(t, probe, "1.0.0")
	must(t, filepath.WalkDir(probe, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			err = os.Lchown(p, nobody, nobody)
		}
		return err
	}))
	rm := exec.Command("rm", "-rf", probe)
	rm.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := rm.Run(); err == nil {
		t.Fatal(fmt.Sprintf("as uid %d, rm -rf deleted a read-only folder's files: the test cannot tell the fix from none", nobody))
	}
	return res
}
