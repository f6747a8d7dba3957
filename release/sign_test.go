package release

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
)

var signingTime = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func signWith(k trust.SecretKey) *Signing {
	return &Signing{Key: k, Now: func() time.Time { return signingTime }}
}

// packSigned packs dir into out with opt, failing the test on error.
func packSigned(t *testing.T, dir, out string, opt PackOptions) PackResult {
	t.Helper()
	opt.OutDir = out
	res, err := Pack(t.Context(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPackSigns(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "../site")
	out := filepath.Join(parent, "site")
	pub, sec := trusttest.Key(t)

	res := packSigned(t, dir, out, PackOptions{Sign: signWith(sec)})
	sr := res.Signature
	if sr == nil || sr.Reused || sr.KeyID != pub.ID() || sr.PublicKey != pub.String() || sr.SignaturePath != res.ZipPath+".minisig" {
		t.Fatalf("signature result = %+v", sr)
	}
	rs, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, readFile(t, sr.SignaturePath))
	if err != nil {
		t.Fatal(err)
	}
	want := trust.ReleaseClaim{Name: "hello", Version: "1.0.0", SHA256: res.SHA256, Time: signingTime}
	if rs.Claim != want {
		t.Errorf("claim = %+v, want %+v", rs.Claim, want)
	}
	if _, err := rs.VerifyFile([]trust.PublicKey{pub}, res.ZipPath); err != nil {
		t.Fatalf("the signature does not verify the zip: %v", err)
	}
	rm, err := pkgdir.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if rm.PublicKey != pub.String() || rm.KeyRotation != nil {
		t.Errorf("release manifest: public_key %q key_rotation %+v", rm.PublicKey, rm.KeyRotation)
	}
	if own, _ := pkgdir.ReadManifest(dir); own.PublicKey != "" || res.OwnPublicKey != "" {
		t.Errorf("without --bump the package's manifest got public_key %q", own.PublicKey)
	}

	// Packed again to the same bytes: the valid signature stays as it was.
	before := readFile(t, sr.SignaturePath)
	again := packSigned(t, dir, out, PackOptions{Sign: &Signing{Key: sec, Now: func() time.Time { return signingTime.Add(time.Hour) }}})
	if !again.Signature.Reused || !bytes.Equal(readFile(t, sr.SignaturePath), before) {
		t.Error("packing the same bytes again did not keep the signature")
	}

	// --bump writes the key into the package's own manifest (GitHub users
	// read that one).
	bumped := packSigned(t, dir, out, PackOptions{Bump: BumpPatch, Sign: signWith(sec)})
	if own, _ := pkgdir.ReadManifest(dir); own.PublicKey != pub.String() || bumped.OwnPublicKey != pub.String() {
		t.Errorf("--bump --sign: package manifest public_key %q", own.PublicKey)
	}
}

func TestPackRotation(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "../site")
	out := filepath.Join(parent, "site")
	oldPub, oldSec := trusttest.Key(t)
	newPub, newSec := trusttest.Key(t)
	_, thirdSec := trusttest.Key(t)
	packSigned(t, dir, out, PackOptions{Sign: signWith(oldSec)})

	// A new key without a rotation: packed, with a warning.
	warned := packSigned(t, dir, out, PackOptions{Version: "1.0.1", Sign: signWith(newSec)})
	if len(warned.Warnings) != 1 || !strings.Contains(warned.Warnings[0], "users trust key ID "+oldPub.ID()+", and this release is signed by key ID "+newPub.ID()+": they will refuse it") {
		t.Errorf("warnings = %q", warned.Warnings)
	}

	// Put the old key back in the release folder, then rotate.
	packSigned(t, dir, out, PackOptions{Version: "1.0.2", Sign: signWith(oldSec)})
	sign := signWith(newSec)
	sign.RotateFrom = &oldSec
	res := packSigned(t, dir, out, PackOptions{Version: "1.0.3", Sign: sign})
	if len(res.Warnings) != 0 || res.Signature.RotatedFrom != oldPub.ID() {
		t.Fatalf("rotation: warnings %q, rotated from %q", res.Warnings, res.Signature.RotatedFrom)
	}
	rotation := func() trust.Rotation {
		t.Helper()
		m, err := pkgdir.ReadManifest(out)
		if err != nil {
			t.Fatal(err)
		}
		if m.KeyRotation == nil {
			return trust.Rotation{}
		}
		return trust.Rotation{New: m.KeyRotation.New, Signature: m.KeyRotation.Signature}
	}
	got, signer, err := rotation().Verify([]trust.PublicKey{oldPub})
	if err != nil || !got.Equal(newPub) || !signer.Equal(oldPub) {
		t.Fatalf("key_rotation = %s by %s, %v", got.ID(), signer.ID(), err)
	}

	// The next release signed by the new key carries the rotation on, so
	// users who skip a release still move.
	packSigned(t, dir, out, PackOptions{Version: "1.0.4", Sign: signWith(newSec)})
	if r := rotation(); r.New != newPub.String() {
		t.Fatalf("the rotation was not carried on: %+v", r)
	}
	// A release signed by yet another key drops a rotation that no
	// longer leads to it.
	third := packSigned(t, dir, out, PackOptions{Version: "1.0.5", Sign: signWith(thirdSec)})
	if r := rotation(); r.New != "" || len(third.Warnings) != 1 {
		t.Errorf("after signing with a third key: rotation %+v, warnings %q", r, third.Warnings)
	}
	// Rotating to the same key is refused.
	self := signWith(newSec)
	self.RotateFrom = &newSec
	if _, err := Pack(t.Context(), dir, PackOptions{OutDir: out, Version: "1.0.6", Sign: self}); err == nil || !strings.Contains(err.Error(), "to itself") {
		t.Errorf("rotation to the same key: %v", err)
	}
}

func TestPackSigningGuards(t *testing.T) {
	pub, sec := trusttest.Key(t)
	t.Run("unsigned pack of a package naming a key", func(t *testing.T) {
		parent := t.TempDir()
		dir := newPackage(t, parent, "1.0.0", "../site")
		editManifest(t, dir, map[string]any{"public_key": pub.String()})
		_, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")})
		if err == nil || !strings.Contains(err.Error(), "names public_key ID "+pub.ID()+": its users trust that key and refuse an unsigned release") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(parent, "site")); !os.IsNotExist(err) {
			t.Error("a refused pack created the release folder")
		}
	})
	t.Run("unsigned pack into a signed release folder", func(t *testing.T) {
		parent := t.TempDir()
		dir := newPackage(t, parent, "1.0.0", "../site")
		out := filepath.Join(parent, "site")
		packSigned(t, dir, out, PackOptions{Sign: signWith(sec)})
		res := packSigned(t, dir, out, PackOptions{Version: "1.0.1"})
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "named public_key ID "+pub.ID()+", and this release is unsigned") {
			t.Errorf("warnings = %q", res.Warnings)
		}
		if m, _ := pkgdir.ReadManifest(out); m.PublicKey != "" {
			t.Errorf("an unsigned release manifest names public_key %q", m.PublicKey)
		}
	})
	t.Run("a stale signature beside a new zip", func(t *testing.T) {
		parent := t.TempDir()
		dir := newPackage(t, parent, "1.0.0", "../site")
		out := filepath.Join(parent, "site")
		res := packSigned(t, dir, out, PackOptions{Sign: signWith(sec)})
		if err := os.Remove(res.ZipPath); err != nil {
			t.Fatal(err)
		}
		testpkgWrite(t, filepath.Join(dir, "greet", "greet.ahk"), "changed\n")
		packSigned(t, dir, out, PackOptions{})
		if _, err := os.Stat(res.ZipPath + ".minisig"); !os.IsNotExist(err) {
			t.Error("the signature of the removed zip stayed beside the new one")
		}
	})
	t.Run("signing a package without a name", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "anon")
		testpkgWrite(t, filepath.Join(dir, "a2modsource.json"), `{"version": "1.0.0"}`)
		_, err := Pack(t.Context(), dir, PackOptions{Sign: signWith(sec)})
		if err == nil || !strings.Contains(err.Error(), `has no name, and a signature names the package it is for: add "name"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func testpkgWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSignature(t *testing.T) {
	pub, sec := trusttest.Key(t)
	_, other := trusttest.Key(t)
	signed := func(t *testing.T) published {
		t.Helper()
		parent := t.TempDir()
		dir := newPackage(t, parent, "1.0.0", "../site")
		out := filepath.Join(parent, "site")
		return published{dir: dir, out: out, res: packSigned(t, dir, out, PackOptions{Sign: signWith(sec)})}
	}
	t.Run("valid", func(t *testing.T) {
		p := signed(t)
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantAllPass(t, rep, StepNewerRelease, StepLocalCopy)
		wantStep(t, rep, StepSignature, Pass, "signed by key ID "+pub.ID()+" (the manifest's public_key) at 2026-11-30T09:00:00Z, for hello 1.0.0", "")
	})
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, p published)
		status Status
		detail string
	}{
		{"missing", func(t *testing.T, p published) { os.Remove(p.res.ZipPath + ".minisig") },
			Fail, "the manifest names public_key ID " + pub.ID() + " but no signature is published"},
		{"another key", func(t *testing.T, p published) {
			os.WriteFile(p.res.ZipPath+".minisig", trusttest.SignRelease(t, other, p.res.ZipPath, "hello", "1.0.0", signingTime), 0o644)
		}, Fail, "but the trusted key is " + pub.ID()},
		{"another version", func(t *testing.T, p published) {
			os.WriteFile(p.res.ZipPath+".minisig", trusttest.SignRelease(t, sec, p.res.ZipPath, "hello", "0.9.0", signingTime), 0o644)
		}, Fail, "1.0.0.zip.minisig names version 0.9.0, not 1.0.0: users refuse the release"},
		{"tampered zip", func(t *testing.T, p published) {
			data := readFile(t, p.res.ZipPath)
			os.WriteFile(p.res.ZipPath, append(data, 0), 0o644)
			editManifest(t, p.out, map[string]any{"sha256": "", "zip_size": 0})
		}, Fail, "signature does not verify with key ID " + pub.ID()},
		{"no public_key", func(t *testing.T, p published) {
			m, _ := pkgdir.ReadManifest(p.out)
			m.Delete("public_key")
			pkgdir.WriteManifest(p.out, m)
		}, Warn, "1.0.0.zip.minisig by key ID " + pub.ID() + " is published, but the manifest names no public_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := signed(t)
			tc.tamper(t, p)
			rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
			wantOK(t, rep, tc.status != Fail)
			wantStep(t, rep, StepSignature, tc.status, tc.detail, "")
		})
	}
}
