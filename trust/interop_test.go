package trust_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
)

// minisignTool is the path of Debian's minisign tool. CI installs it
// (.ci/run), so there a missing binary fails the test instead of hiding
// it; elsewhere the test is skipped with the reason.
func minisignTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("minisign")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the minisign tool is not installed (%v); CI must install it (apt-get install minisign, see .ci/run)", err)
	}
	t.Skipf("the minisign tool is not installed (%v): apt-get install minisign to run the interoperability tests", err)
	return ""
}

// runTool runs minisign with stdin and returns its combined output.
func runTool(t *testing.T, ctx context.Context, tool, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("minisign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMinisignVerifiesModup: what modup signs, `minisign -V` verifies, and
// prints modup's trusted comment; a key modup generated (unencrypted, and
// password-protected at minisign's own cost) signs with `minisign -S`.
func TestMinisignVerifiesModup(t *testing.T) {
	tool := minisignTool(t)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute) // a hang guard: minisign's scrypt is slow on a loaded machine
	defer cancel()
	dir := t.TempDir()
	zip := writeFile(t, filepath.Join(dir, "1.2.0.zip"), []byte("PK\x03\x04 a release"))
	files, err := trust.WriteKeyPair(filepath.Join(dir, "keys"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := trust.ReadSecretKeyFile(files.Secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, claim, err := trust.SignRelease(sec, zip, "hello", "1.2.0", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	sigPath := writeFile(t, zip+trust.SignatureSuffix, sig)
	wantComment := "modup name=hello version=1.2.0 sha256=" + claim.SHA256 + " time=2026-11-30T09:00:00Z"
	out := runTool(t, ctx, tool, "", "-V", "-p", files.Public, "-m", zip, "-x", sigPath)
	if !strings.Contains(out, "Trusted comment: "+wantComment) {
		t.Errorf("minisign -V with the .pub file:\n%s", out)
	}
	out = runTool(t, ctx, tool, "", "-V", "-P", files.Key.String(), "-m", zip, "-x", sigPath)
	if !strings.Contains(out, "Signature and comment signature verified") {
		t.Errorf("minisign -V -P:\n%s", out)
	}

	// A zip altered after signing fails minisign too.
	writeFile(t, zip, []byte("PK\x03\x04 a release, altered"))
	cmd := exec.CommandContext(ctx, tool, "-V", "-P", files.Key.String(), "-m", zip, "-x", sigPath)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("minisign verified an altered zip:\n%s", out)
	}

	// modup's key files are minisign's: -S signs with them.
	other := writeFile(t, filepath.Join(dir, "other.zip"), []byte("PK another"))
	runTool(t, ctx, tool, "", "-S", "-W", "-s", files.Secret, "-m", other, "-t", "modup name=x")
	verifyToolSignature(t, files.Key, other)

	// A password-protected key, encrypted as minisign encrypts (scrypt at
	// libsodium's sensitive cost): the only test that pays that cost.
	enc, err := trust.WriteKeyPair(filepath.Join(dir, "enc"), "s3cret pass", false)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(enc.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if !enc.Encrypted || !trust.IsEncrypted(data) {
		t.Fatalf("WriteKeyPair with a password wrote an unencrypted key:\n%s", data)
	}
	runTool(t, ctx, tool, "s3cret pass\n", "-S", "-s", enc.Secret, "-m", other, "-x", other+".enc.minisig", "-t", "modup name=y")
	s, err := trust.ParseSignature(mustRead(t, other+".enc.minisig"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyFile([]trust.PublicKey{enc.Key}, other); err != nil {
		t.Fatalf("a signature by modup's encrypted key, made by minisign: %v", err)
	}
	// The cheap encryption tests use writes the same format.
	cheap := writeFile(t, filepath.Join(dir, "cheap.key"), trusttest.CheapEncrypted(t, sec, "pw"))
	runTool(t, ctx, tool, "pw\n", "-S", "-s", cheap, "-m", other, "-x", other+".cheap.minisig", "-t", "modup name=z")
	s, err = trust.ParseSignature(mustRead(t, other+".cheap.minisig"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyFile([]trust.PublicKey{files.Key}, other); err != nil {
		t.Fatalf("signed with the cheaply encrypted key: %v", err)
	}
}

func verifyToolSignature(t *testing.T, pub trust.PublicKey, path string) {
	t.Helper()
	s, err := trust.ParseSignature(mustRead(t, path+trust.SignatureSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyFile([]trust.PublicKey{pub}, path); err != nil {
		t.Fatalf("minisign's signature of %s: %v", path, err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestModupVerifiesMinisign: a key pair made by `minisign -G` and a
// signature made by `minisign -S` with a trusted comment in modup's form
// verify in modup, comment and file; minisign's default comment is not a
// release claim.
func TestModupVerifiesMinisign(t *testing.T) {
	tool := minisignTool(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	pubPath, secPath := filepath.Join(dir, "author.pub"), filepath.Join(dir, "author.key")
	runTool(t, ctx, tool, "", "-G", "-W", "-p", pubPath, "-s", secPath)
	pub, err := trust.ReadPublicKeyFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := trust.ReadSecretKeyFile(secPath, nil)
	if err != nil {
		t.Fatalf("modup reads minisign's unencrypted secret key: %v", err)
	}
	if !sec.Public().Equal(pub) {
		t.Fatal("minisign's secret key does not match its public key")
	}

	content := []byte("PK\x03\x04 released with the minisign tool")
	zip := writeFile(t, filepath.Join(dir, "0.7.1.zip"), content)
	sum := sha256.Sum256(content)
	comment := "modup name=a2.modules version=0.7.1 sha256=" + hex.EncodeToString(sum[:]) + " time=2026-11-30T09:00:00Z"
	runTool(t, ctx, tool, "", "-S", "-W", "-s", secPath, "-m", zip, "-t", comment)

	sig := mustRead(t, zip+trust.SignatureSuffix)
	rs, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, sig)
	if err != nil {
		t.Fatal(err)
	}
	want := trust.ReleaseClaim{Name: "a2.modules", Version: "0.7.1", SHA256: hex.EncodeToString(sum[:]), Time: signedAt}
	if rs.Claim != want {
		t.Errorf("claim = %+v, want %+v", rs.Claim, want)
	}
	if _, err := rs.VerifyFile([]trust.PublicKey{pub}, zip); err != nil {
		t.Fatalf("minisign's signature of the zip: %v", err)
	}
	writeFile(t, zip, append(bytes.Clone(content), '!'))
	if _, err := rs.VerifyFile([]trust.PublicKey{pub}, zip); err == nil {
		t.Fatal("minisign's signature verified an altered zip")
	}

	// minisign's own trusted comment ("timestamp:... file:...") names no
	// release: not accepted as one.
	other := writeFile(t, filepath.Join(dir, "other.zip"), content)
	runTool(t, ctx, tool, "", "-S", "-W", "-s", secPath, "-m", other)
	if _, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, mustRead(t, other+trust.SignatureSuffix)); err == nil || !strings.Contains(err.Error(), "not in modup's form") {
		t.Errorf("minisign's default comment: %v", err)
	}

	// The legacy format (-l) signs the whole file unhashed: refused with
	// what to do.
	runTool(t, ctx, tool, "", "-S", "-l", "-W", "-s", secPath, "-m", zip, "-x", zip+".legacy", "-t", comment)
	s, err := trust.ParseSignature(mustRead(t, zip+".legacy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyFile([]trust.PublicKey{pub}, zip); err == nil || !strings.Contains(err.Error(), "without -l") {
		t.Errorf("a legacy signature: %v", err)
	}
}
