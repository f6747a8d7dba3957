package updater_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
	"github.com/modup/modup/updater"
)

// day is when the first test release is signed; later ones add hours.
var day = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// signedRemote is a release folder whose releases an author signs.
type signedRemote struct{ dir string }

func newSignedRemote(t *testing.T) *signedRemote {
	return &signedRemote{dir: newFSRemote(t).dir}
}

// signing says how one release is published and signed.
type signing struct {
	key       *trust.SecretKey // signs the zip (nil: no signature)
	at        time.Time        // signing time
	publicKey string           // the manifest's public_key ("" leaves it out)
	rotation  *trust.Rotation  // the manifest's key_rotation
	claimName string           // the signed package name (default "hello")
	claimAs   string           // the signed version (default the version)
	noSHA     bool             // the manifest declares no sha256
	signZip   []byte           // sign these bytes instead of the published zip
}

func (r *signedRemote) zipPath(version string) string {
	return filepath.Join(r.dir, version+".zip")
}

// publish writes version's zip, its signature and the manifest pointing
// to it, and returns the zip.
func (r *signedRemote) publish(t *testing.T, version string, s signing) []byte {
	t.Helper()
	zip := testpkg.Zip(t, "", pkgFiles("hello", version, ""))
	if err := os.WriteFile(r.zipPath(version), zip, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zip)
	m := map[string]any{"name": "hello", "version": version}
	if !s.noSHA {
		m["sha256"] = hex.EncodeToString(sum[:])
	}
	if s.publicKey != "" {
		m["public_key"] = s.publicKey
	}
	if s.rotation != nil {
		m["key_rotation"] = s.rotation
	}
	if s.key != nil {
		signed := r.zipPath(version)
		if s.signZip != nil {
			signed = filepath.Join(t.TempDir(), "other.zip")
			if err := os.WriteFile(signed, s.signZip, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		name, as := "hello", version
		if s.claimName != "" {
			name = s.claimName
		}
		if s.claimAs != "" {
			as = s.claimAs
		}
		sig := trusttest.SignRelease(t, *s.key, signed, name, as, s.at)
		if err := os.WriteFile(r.zipPath(version)+".minisig", sig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "a2modsource.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return zip
}

func pinOf(t *testing.T, root string) *pkgdir.Pin {
	t.Helper()
	pin, err := updater.ReadPin(pkgdir.Layout{Root: root}, "hello")
	if err != nil {
		t.Fatal(err)
	}
	return pin
}

// installSigned installs hello 1.0.0 signed by key from a fresh signed
// remote: the first install pins key.
func installSigned(t *testing.T, u *updater.Updater, pub trust.PublicKey, sec trust.SecretKey) (root string, r *signedRemote) {
	t.Helper()
	r = newSignedRemote(t)
	root = filepath.Join(t.TempDir(), "root")
	r.publish(t, "1.0.0", signing{key: &sec, at: day, publicKey: pub.String()})
	c := u.Install(t.Context(), root, r.dir, updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusInstalled)
	return root, r
}

func TestFirstInstallPinsTheKey(t *testing.T) {
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	root, _ := installSigned(t, u, pub, sec)
	pin := pinOf(t, root)
	if pin == nil {
		t.Fatal("no pin after the first install of a signed package")
	}
	if len(pin.Keys) != 1 || pin.Keys[0] != pub.String() || pin.Name != "hello" || pin.From != pkgdir.PinFirstUse || !pin.SignedAt.Equal(day) || pin.Since.IsZero() {
		t.Errorf("pin = %+v", pin)
	}
	checkClean(t, root)
}

func TestFirstInstallNeedsTheNamedKeysSignature(t *testing.T) {
	pub, sec := trusttest.Key(t)
	_, other := trusttest.Key(t)
	for _, tc := range []struct {
		name string
		s    signing
		want error
	}{
		{"unsigned", signing{publicKey: pub.String()}, trust.ErrNoSignature},
		{"signed by another key", signing{key: &other, at: day, publicKey: pub.String()}, trust.ErrUnknownKey},
		{"for another package", signing{key: &sec, at: day, publicKey: pub.String(), claimName: "evil"}, trust.ErrMismatch},
		{"malformed public_key", signing{key: &sec, at: day, publicKey: "RWnot-a-key"}, trust.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSignedRemote(t)
			root := filepath.Join(t.TempDir(), "root")
			r.publish(t, "1.0.0", tc.s)
			c := newUpdater(t).Install(t.Context(), root, r.dir, updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, tc.want) || !strings.Contains(c.Error, "nothing was") {
				t.Fatalf("err = %v, want %v", c.Err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(root, "hello")); !os.IsNotExist(err) {
				t.Error("a refused install left a package folder")
			}
		})
	}
}

// Every refusal of an update to a pinned package: check says
// signature-invalid when it can tell without the zip, the update fails
// saying which check failed, and nothing changes.
func TestPinnedUpdateRefusals(t *testing.T) {
	pub, sec := trusttest.Key(t)
	otherPub, other := trusttest.Key(t)
	// The attacker's key "rotated to" by a key the client never trusted.
	_, stranger := trusttest.Key(t)
	forgedRotation, err := trust.Rotate(stranger, otherPub, day)
	if err != nil {
		t.Fatal(err)
	}
	later := day.Add(time.Hour)
	for _, tc := range []struct {
		name string
		s    signing
		// check is the status check reports (update-available when the
		// refusal needs the zip).
		check updater.Status
		want  error
		says  string
	}{
		{"missing signature", signing{publicKey: pub.String(), at: later},
			updater.StatusSignatureInvalid, trust.ErrNoSignature, "trusts key ID " + pub.ID() + ", so an unsigned release is refused"},
		{"missing signature and key", signing{at: later},
			updater.StatusSignatureInvalid, trust.ErrNoSignature, "modup trust hello --reset"},
		{"signature by another key", signing{key: &other, at: later, publicKey: otherPub.String()},
			updater.StatusSignatureInvalid, trust.ErrUnknownKey, "signed by key ID " + otherPub.ID() + ", but the trusted key is " + pub.ID()},
		{"forged key rotation", signing{key: &other, at: later, publicKey: otherPub.String(), rotation: &forgedRotation},
			updater.StatusSignatureInvalid, trust.ErrUnknownKey, "the manifest's key_rotation does not count"},
		{"tampered manifest: version", signing{key: &sec, at: later, publicKey: pub.String(), claimAs: "1.0.1"},
			updater.StatusSignatureInvalid, trust.ErrMismatch, "signature is for another release: it names version 1.0.1, not 1.1.0"},
		{"tampered manifest: sha256", signing{key: &sec, at: later, publicKey: pub.String(), signZip: []byte("PK the zip the author signed")},
			updater.StatusSignatureInvalid, trust.ErrMismatch, "it names a zip with sha256"},
		{"another package's signature", signing{key: &sec, at: later, publicKey: pub.String(), claimName: "other"},
			updater.StatusSignatureInvalid, trust.ErrMismatch, `it names package "other", not "hello"`},
		{"tampered zip, no sha256 declared", signing{key: &sec, at: later, publicKey: pub.String(), noSHA: true, signZip: []byte("PK the zip the author signed")},
			updater.StatusUpdateAvailable, trust.ErrBadSignature, "signature does not verify with key ID " + pub.ID()},
		{"replayed older release", signing{key: &sec, at: day.Add(-time.Hour), publicKey: pub.String()},
			updater.StatusSignatureInvalid, trust.ErrReplayed, "`modup update hello --to 1.1.0` installs it on purpose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpdater(t)
			root, r := installSigned(t, u, pub, sec)
			before := treeHash(t, filepath.Join(root, "hello"))
			pinBefore := pinOf(t, root)
			r.publish(t, "1.1.0", tc.s)

			res := u.CheckOne(t.Context(), load(t, root, "hello"))
			if res.Status != tc.check {
				t.Fatalf("check: status %s (%v), want %s", res.Status, res.Err, tc.check)
			}
			if tc.check == updater.StatusSignatureInvalid && (!errors.Is(res.Err, tc.want) || !strings.Contains(res.Error, tc.says)) {
				t.Errorf("check error = %v, want %v saying %q", res.Err, tc.want, tc.says)
			}

			c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, tc.want) || !strings.Contains(c.Error, tc.says) || !strings.Contains(c.Error, "nothing was changed") {
				t.Fatalf("update error = %v\nwant %v saying %q", c.Err, tc.want, tc.says)
			}
			if got := treeHash(t, filepath.Join(root, "hello")); got != before {
				t.Error("a refused update changed the package")
			}
			if pin := pinOf(t, root); pin == nil || pin.Keys[0] != pinBefore.Keys[0] || !pin.SignedAt.Equal(pinBefore.SignedAt) {
				t.Errorf("a refused update changed the pin: %+v", pin)
			}
			if bs := backupVersions(t, root, "hello"); len(bs) != 0 {
				t.Errorf("backups after a refused update: %v", bs)
			}
			checkClean(t, root)
		})
	}
}

func TestPinnedUpdate(t *testing.T) {
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	root, r := installSigned(t, u, pub, sec)
	r.publish(t, "1.1.0", signing{key: &sec, at: day.Add(time.Hour), publicKey: pub.String()})
	if res := u.CheckOne(t.Context(), load(t, root, "hello")); res.Status != updater.StatusUpdateAvailable {
		t.Fatalf("check: %s (%v)", res.Status, res.Err)
	}
	c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusUpdated)
	wantTree(t, filepath.Join(root, "hello"), pkgFiles("hello", "1.1.0", r.dir))
	pin := pinOf(t, root)
	if pin.Keys[0] != pub.String() || pin.From != pkgdir.PinFirstUse || !pin.SignedAt.Equal(day.Add(time.Hour)) {
		t.Errorf("pin after the update = %+v", pin)
	}
}

// A replayed release is refused as an update, but asked for by version it
// installs, and the newest signing time seen stays the mark.
func TestReplayedReleaseWithTo(t *testing.T) {
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	root, r := installSigned(t, u, pub, sec)
	r.publish(t, "1.1.0", signing{key: &sec, at: day.Add(-time.Hour), publicKey: pub.String()})
	c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{To: "1.1.0"})
	wantStatus(t, c, updater.StatusUpdated)
	if pin := pinOf(t, root); !pin.SignedAt.Equal(day) {
		t.Errorf("SignedAt = %v, want it to stay %v", pin.SignedAt, day)
	}
	// --to still checks the signature itself.
	_, other := trusttest.Key(t)
	r.publish(t, "1.2.0", signing{key: &other, at: day.Add(time.Hour), publicKey: pub.String()})
	c = u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{To: "1.2.0"})
	if !errors.Is(c.Err, trust.ErrUnknownKey) {
		t.Errorf("--to of a release signed by another key: %v", c.Err)
	}
}

func TestKeyRotation(t *testing.T) {
	u := newUpdater(t)
	oldPub, oldSec := trusttest.Key(t)
	newPub, newSec := trusttest.Key(t)
	root, r := installSigned(t, u, oldPub, oldSec)
	rot, err := trust.Rotate(oldSec, newPub, day.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r.publish(t, "1.1.0", signing{key: &newSec, at: day.Add(time.Hour), publicKey: newPub.String(), rotation: &rot})
	if res := u.CheckOne(t.Context(), load(t, root, "hello")); res.Status != updater.StatusUpdateAvailable {
		t.Fatalf("check of the rotating release: %s (%v)", res.Status, res.Err)
	}
	if pin := pinOf(t, root); pin.Keys[0] != oldPub.String() {
		t.Fatal("check changed the pin")
	}
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
	pin := pinOf(t, root)
	if len(pin.Keys) != 1 || pin.Keys[0] != newPub.String() || pin.From != pkgdir.PinRotation {
		t.Fatalf("pin after the rotation = %+v", pin)
	}
	// From now on the old key is not trusted, and the new one is, with
	// or without the statement.
	r.publish(t, "1.2.0", signing{key: &oldSec, at: day.Add(2 * time.Hour), publicKey: oldPub.String()})
	if c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}); !errors.Is(c.Err, trust.ErrUnknownKey) {
		t.Fatalf("update signed by the retired key: %v", c.Err)
	}
	r.publish(t, "1.2.0", signing{key: &newSec, at: day.Add(2 * time.Hour), publicKey: newPub.String()})
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
}

// A release manifest cannot change a pinned key by naming another
// public_key: only a rotation signed by the pinned key (or `modup trust`)
// can.
func TestPublicKeyChangeIsNotARotation(t *testing.T) {
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	newPub, newSec := trusttest.Key(t)
	root, r := installSigned(t, u, pub, sec)
	// Signed by the pinned key, but naming another one: installed, the pin
	// stays.
	r.publish(t, "1.1.0", signing{key: &sec, at: day.Add(time.Hour), publicKey: newPub.String()})
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
	if pin := pinOf(t, root); pin.Keys[0] != pub.String() {
		t.Fatalf("a public_key in the manifest changed the pin: %+v", pin)
	}
	r.publish(t, "1.2.0", signing{key: &newSec, at: day.Add(2 * time.Hour), publicKey: newPub.String()})
	if c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}); !errors.Is(c.Err, trust.ErrUnknownKey) {
		t.Fatalf("update signed by the manifest's new key: %v", c.Err)
	}
}

// A package pinned by hand that was installed unsigned: its next update
// must be signed.
func TestUnsignedPackagePinnedLater(t *testing.T) {
	u := newUpdater(t)
	root := filepath.Join(t.TempDir(), "root")
	r := newSignedRemote(t)
	r.publish(t, "1.0.0", signing{})
	wantStatus(t, u.Install(t.Context(), root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
	if pin := pinOf(t, root); pin != nil {
		t.Fatalf("an unsigned install pinned %+v", pin)
	}
	pub, sec := trusttest.Key(t)
	l := pkgdir.Layout{Root: root}
	lk, err := l.Lock(t.Context(), "hello", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = l.SetPin("hello", "1.0.0", &pkgdir.Pin{Keys: []string{pub.String()}, Name: "hello", From: pkgdir.PinByHand})
	lk.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r.publish(t, "1.1.0", signing{})
	if c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}); !errors.Is(c.Err, trust.ErrNoSignature) {
		t.Fatalf("unsigned update of a pinned package: %v", c.Err)
	}
	r.publish(t, "1.1.0", signing{key: &sec, at: day})
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
	if pin := pinOf(t, root); pin.From != pkgdir.PinByHand || !pin.SignedAt.Equal(day) {
		t.Errorf("pin = %+v", pin)
	}
}

// On GitHub the signature is the release asset next to the zip; a pinned
// package whose release can only be resolved as a tag archive (the API
// rate-limited) has no signature, and says so.
func TestSignedGitHubRelease(t *testing.T) {
	s := githubtest.New(t)
	u := newUpdater(t, s.Env()...)
	pub, sec := trusttest.Key(t)
	root := filepath.Join(t.TempDir(), "root")
	publish := func(version string, at time.Time) {
		t.Helper()
		zip := testpkg.Zip(t, "", pkgFiles("hello", version, ""))
		path := filepath.Join(t.TempDir(), version+".zip")
		if err := os.WriteFile(path, zip, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(zip)
		s.AddRelease("acme", "hello", githubtest.Release{Tag: "v" + version, Files: pkgFiles("hello", version, ""), Assets: map[string][]byte{
			version + ".zip":         zip,
			version + ".zip.minisig": trusttest.SignRelease(t, sec, path, "hello", version, at),
		}})
		m, _ := json.Marshal(map[string]any{"name": "hello", "version": version, "sha256": hex.EncodeToString(sum[:]), "public_key": pub.String()})
		s.SetManifest("acme", "hello", "HEAD", m)
	}
	publish("1.0.0", day)
	wantStatus(t, u.Install(t.Context(), root, s.RepoURL("acme", "hello"), updater.UpdateOptions{}), updater.StatusInstalled)
	if pin := pinOf(t, root); pin == nil || pin.Keys[0] != pub.String() {
		t.Fatalf("pin = %+v", pin)
	}
	publish("1.1.0", day.Add(time.Hour))
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)

	publish("1.2.0", day.Add(2*time.Hour))
	s.RateLimit(time.Now().Add(time.Hour))
	res := u.CheckOne(t.Context(), load(t, root, "hello"))
	if res.Status != updater.StatusSignatureInvalid || !errors.Is(res.Err, trust.ErrNoSignature) || !strings.Contains(res.Error, "only the tag archive GitHub builds") {
		t.Fatalf("check while the API is rate-limited: %s %v", res.Status, res.Err)
	}
}

// The signature is asked for once per update: the check that decides
// fetches it, the update reuses it (as the daemon's resolved release does).
func TestSignatureFetchedOnce(t *testing.T) {
	h := newWebHost(t)
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	publish := func(version string, at time.Time) {
		t.Helper()
		zip := testpkg.Zip(t, "", pkgFiles("hello", version, ""))
		path := filepath.Join(t.TempDir(), version+".zip")
		if err := os.WriteFile(path, zip, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(zip)
		h.put(version+".zip", zip)
		h.put(version+".zip.minisig", trusttest.SignRelease(t, sec, path, "hello", version, at))
		m, _ := json.Marshal(map[string]any{"name": "hello", "version": version, "sha256": hex.EncodeToString(sum[:]), "public_key": pub.String()})
		h.put("a2modsource.json", m)
	}
	root := filepath.Join(t.TempDir(), "root")
	publish("1.0.0", day)
	wantStatus(t, u.Install(t.Context(), root, h.url(), updater.UpdateOptions{}), updater.StatusInstalled)
	if n := h.count("GET", "1.0.0.zip.minisig"); n != 1 {
		t.Errorf("install fetched the signature %d times, want 1", n)
	}

	publish("1.1.0", day.Add(time.Hour))
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
	if n := h.count("GET", "1.1.0.zip.minisig"); n != 1 {
		t.Errorf("update fetched the signature %d times, want 1", n)
	}

	publish("1.2.0", day.Add(2*time.Hour))
	res := u.CheckOne(t.Context(), load(t, root, "hello"))
	if res.Status != updater.StatusUpdateAvailable {
		t.Fatalf("check: %s (%v)", res.Status, res.Err)
	}
	rel := res.Release
	wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{Resolved: &rel}), updater.StatusUpdated)
	if n := h.count("GET", "1.2.0.zip.minisig"); n != 1 {
		t.Errorf("check, then update of the checked release, fetched the signature %d times, want 1", n)
	}
}

// An install record modup cannot read is taken as none, as everywhere:
// the update warns that it replaces it, and the release's key is trusted
// on first use again.
func TestUnusableRecordIsTakenAsNone(t *testing.T) {
	u := newUpdater(t)
	pub, sec := trusttest.Key(t)
	root, r := installSigned(t, u, pub, sec)
	l := pkgdir.Layout{Root: root}
	if err := os.WriteFile(l.RecordPath("hello"), []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "1.1.0", signing{key: &sec, at: day.Add(time.Hour), publicKey: pub.String()})
	c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusUpdated)
	if len(c.Warnings) == 0 || !strings.Contains(strings.Join(c.Warnings, "\n"), "taken as no record") || !strings.Contains(c.Trust, "now pinned") {
		t.Errorf("warnings %q, trust %q", c.Warnings, c.Trust)
	}
	if pin := pinOf(t, root); pin == nil || pin.From != pkgdir.PinFirstUse {
		t.Errorf("pin = %+v", pin)
	}
}
