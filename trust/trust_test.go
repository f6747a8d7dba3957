package trust_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
)

var signedAt = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommentForm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		comment trust.Comment
		want    string
	}{
		{"release", trust.Comment{{"name", "a2.modules"}, {"version", "0.7.1"}, {"time", "2026-11-30T09:00:00Z"}},
			"modup name=a2.modules version=0.7.1 time=2026-11-30T09:00:00Z"},
		{"escaped", trust.Comment{{"name", "my pkg=100%"}, {"note", "é\tx"}},
			"modup name=my%20pkg%3D100%25 note=%C3%A9%09x"},
		{"empty value", trust.Comment{{"name", ""}}, "modup name="},
		{"no fields", trust.Comment{}, "modup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.comment.String()
			if got != tc.want {
				t.Fatalf("String = %q, want %q", got, tc.want)
			}
			back, err := trust.ParseComment(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != len(tc.comment) {
				t.Fatalf("ParseComment(%q) = %v", got, back)
			}
			for i := range back {
				if back[i] != tc.comment[i] {
					t.Errorf("field %d = %+v, want %+v", i, back[i], tc.comment[i])
				}
			}
		})
	}
}

func TestParseCommentRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, comment, want string
	}{
		{"minisign's default", "timestamp:1796032351\tfile:f\thashed", "not in modup's form"},
		{"another prefix", "modupx name=a", "not in modup's form"},
		{"no equals", "modup name", `"name" is not key=value`},
		{"double space", "modup name=a  version=1", `"" is not key=value`},
		{"duplicate", "modup name=a name=b", "names name twice"},
		{"upper-case key", "modup Name=a", `key "Name"`},
		{"bad escape", "modup name=%zz", "field name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trust.ParseComment(tc.comment)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseComment(%q) = %v, want an error with %q", tc.comment, err, tc.want)
			}
		})
	}
}

func TestReleaseClaim(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	c, err := trust.ReleaseClaim{Name: "a2.modules", Version: "0.7.1", SHA256: sha, Time: signedAt}.Comment()
	if err != nil {
		t.Fatal(err)
	}
	want := "modup name=a2.modules version=0.7.1 sha256=" + sha + " time=2026-11-30T09:00:00Z"
	if c.String() != want {
		t.Fatalf("claim comment = %q, want %q", c.String(), want)
	}
	// Unknown fields are for later versions; the order does not matter.
	got, err := trust.ParseReleaseClaim("modup time=2026-11-30T09:00:00Z future=yes sha256=" + strings.ToUpper(sha) + " version=0.7.1 name=a2.modules")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "a2.modules" || got.Version != "0.7.1" || got.SHA256 != sha || !got.Time.Equal(signedAt) {
		t.Errorf("ParseReleaseClaim = %+v", got)
	}
	for _, tc := range []struct {
		name, comment, want string
	}{
		{"no name", "modup version=1.0.0 sha256=" + sha + " time=2026-11-30T09:00:00Z", "names no name"},
		{"no version", "modup name=a sha256=" + sha + " time=2026-11-30T09:00:00Z", "names no version"},
		{"no sha256", "modup name=a version=1.0.0 time=2026-11-30T09:00:00Z", "names no sha256"},
		{"short sha256", "modup name=a version=1.0.0 sha256=abc time=2026-11-30T09:00:00Z", "want 64 hex digits"},
		{"no time", "modup name=a version=1.0.0 sha256=" + sha, "names no time"},
		{"bad time", "modup name=a version=1.0.0 sha256=" + sha + " time=yesterday", "is not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := trust.ParseReleaseClaim(tc.comment); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := (trust.ReleaseClaim{Name: "a", Version: "1", SHA256: "xyz", Time: signedAt}).Comment(); err == nil {
		t.Error("a claim with a malformed sha256 was written")
	}
}

func TestSignAndVerifyRelease(t *testing.T) {
	dir := t.TempDir()
	pub, sec := trusttest.Key(t)
	otherPub, other := trusttest.Key(t)
	zip := writeFile(t, filepath.Join(dir, "1.2.0.zip"), []byte("PK\x03\x04 the release"))

	sig, claim, err := trust.SignRelease(sec, zip, "hello", "1.2.0", signedAt.Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !claim.Time.Equal(signedAt) || claim.Name != "hello" || claim.Version != "1.2.0" || len(claim.SHA256) != 64 {
		t.Fatalf("claim = %+v", claim)
	}
	rs, err := trust.VerifyReleaseComment([]trust.PublicKey{otherPub, pub}, sig)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Signer.Equal(pub) || rs.Claim != claim || rs.KeyID() != pub.ID() {
		t.Errorf("VerifyReleaseComment = signer %s claim %+v", rs.Signer.ID(), rs.Claim)
	}
	if k, err := rs.VerifyFile([]trust.PublicKey{pub}, zip); err != nil || !k.Equal(pub) {
		t.Fatalf("VerifyFile = %v, %v", k.ID(), err)
	}

	t.Run("tampered zip", func(t *testing.T) {
		bad := writeFile(t, filepath.Join(t.TempDir(), "1.2.0.zip"), []byte("PK\x03\x04 the release, altered"))
		_, err := rs.VerifyFile([]trust.PublicKey{pub}, bad)
		if !errors.Is(err, trust.ErrBadSignature) || !strings.Contains(err.Error(), pub.ID()) {
			t.Fatalf("err = %v, want ErrBadSignature naming the key", err)
		}
	})
	t.Run("tampered trusted comment", func(t *testing.T) {
		forged := bytes.Replace(sig, []byte("version=1.2.0"), []byte("version=9.9.9"), 1)
		_, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, forged)
		if !errors.Is(err, trust.ErrBadSignature) {
			t.Fatalf("err = %v, want ErrBadSignature", err)
		}
		s, err := trust.ParseSignature(forged)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyFile([]trust.PublicKey{pub}, zip); !errors.Is(err, trust.ErrBadSignature) {
			t.Fatalf("VerifyFile of a forged comment = %v", err)
		}
	})
	t.Run("another key", func(t *testing.T) {
		sig2, _, err := trust.SignRelease(other, zip, "hello", "1.2.0", signedAt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = trust.VerifyReleaseComment([]trust.PublicKey{pub}, sig2)
		if !errors.Is(err, trust.ErrUnknownKey) || !strings.Contains(err.Error(), otherPub.ID()) || !strings.Contains(err.Error(), pub.ID()) {
			t.Fatalf("err = %v, want ErrUnknownKey naming both keys", err)
		}
		if !trust.Failed(err) {
			t.Error("Failed does not count an unknown key")
		}
	})
	t.Run("not a signature", func(t *testing.T) {
		for _, data := range [][]byte{nil, []byte("<html>404</html>"), bytes.Repeat([]byte("x"), trust.MaxSignatureSize+1)} {
			if _, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, data); !errors.Is(err, trust.ErrBadSignature) {
				t.Errorf("%.20q: err = %v, want ErrBadSignature", data, err)
			}
		}
	})
	t.Run("a comment not in modup's form", func(t *testing.T) {
		plain, err := trust.Sign(sec, strings.NewReader("x"), trust.Comment{{"name", "hello"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trust.VerifyReleaseComment([]trust.PublicKey{pub}, plain); !errors.Is(err, trust.ErrMismatch) {
			t.Fatalf("err = %v, want ErrMismatch", err)
		}
	})
}

func TestSignRefusesLongComment(t *testing.T) {
	_, sec := trusttest.Key(t)
	_, err := trust.Sign(sec, strings.NewReader("x"), trust.Comment{{"name", strings.Repeat("x", 1100)}})
	if err == nil || !strings.Contains(err.Error(), "reads at most 1023") {
		t.Fatalf("err = %v", err)
	}
}

func TestRotation(t *testing.T) {
	oldPub, oldSec := trusttest.Key(t)
	newPub, _ := trusttest.Key(t)
	strangerPub, stranger := trusttest.Key(t)

	r, err := trust.Rotate(oldSec, newPub, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if r.New != newPub.String() || !strings.Contains(r.Signature, "trusted comment: modup key_rotation="+newPub.String()) {
		t.Fatalf("rotation = %+v", r)
	}
	got, signer, err := r.Verify([]trust.PublicKey{oldPub})
	if err != nil || !got.Equal(newPub) || !signer.Equal(oldPub) {
		t.Fatalf("Verify = %s by %s, %v", got.ID(), signer.ID(), err)
	}

	forged, err := trust.Rotate(stranger, newPub, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	swapped := r
	swapped.New = strangerPub.String()
	for _, tc := range []struct {
		name    string
		r       trust.Rotation
		trusted []trust.PublicKey
		want    error
	}{
		{"signed by a stranger", forged, []trust.PublicKey{oldPub}, trust.ErrUnknownKey},
		{"new key swapped", swapped, []trust.PublicKey{oldPub}, trust.ErrBadSignature},
		{"not trusted at all", r, nil, trust.ErrUnknownKey},
		{"garbage", trust.Rotation{New: newPub.String(), Signature: "hello"}, []trust.PublicKey{oldPub}, trust.ErrBadSignature},
		{"no key", trust.Rotation{New: "RWnope", Signature: r.Signature}, []trust.PublicKey{oldPub}, trust.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.r.Verify(tc.trusted); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("comment names another key", func(t *testing.T) {
		sig, err := trust.Sign(oldSec, strings.NewReader(newPub.String()), trust.Comment{{trust.FieldNewKey, strangerPub.String()}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = trust.Rotation{New: newPub.String(), Signature: string(sig)}.Verify([]trust.PublicKey{oldPub})
		if !errors.Is(err, trust.ErrMismatch) {
			t.Fatalf("err = %v, want ErrMismatch", err)
		}
	})
	if _, err := trust.Rotate(oldSec, oldPub, signedAt); err == nil {
		t.Error("a rotation to the same key was made")
	}
}

func TestDocuments(t *testing.T) {
	pub, sec := trusttest.Key(t)
	otherPub, _ := trusttest.Key(t)
	doc := []byte(`{"packages": []}`)
	c := trust.Comment{{"document", "list/packages.json"}, {trust.FieldTime, "2026-11-30T09:00:00Z"}, {trust.FieldExpires, "2026-12-07T09:00:00Z"}}
	sig, err := trust.SignDocument(sec, doc, c)
	if err != nil {
		t.Fatal(err)
	}
	got, k, err := trust.VerifyDocument([]trust.PublicKey{pub}, doc, sig, signedAt.Add(24*time.Hour))
	if err != nil || !k.Equal(pub) {
		t.Fatalf("VerifyDocument = %v", err)
	}
	if v, _ := got.Get("document"); v != "list/packages.json" {
		t.Errorf("comment = %v", got)
	}
	for _, tc := range []struct {
		name string
		keys []trust.PublicKey
		doc  []byte
		now  time.Time
		want error
	}{
		{"expired", []trust.PublicKey{pub}, doc, signedAt.Add(7 * 24 * time.Hour), trust.ErrExpired},
		{"frozen long ago", []trust.PublicKey{pub}, doc, signedAt.Add(400 * 24 * time.Hour), trust.ErrExpired},
		{"tampered", []trust.PublicKey{pub}, []byte(`{"packages": [1]}`), signedAt, trust.ErrBadSignature},
		{"other key", []trust.PublicKey{otherPub}, doc, signedAt, trust.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := trust.VerifyDocument(tc.keys, tc.doc, sig, tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Without expires, a document never expires.
	forever, err := trust.SignDocument(sec, doc, trust.Comment{{"document", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := trust.VerifyDocument([]trust.PublicKey{pub}, doc, forever, signedAt.Add(1e6*time.Hour)); err != nil {
		t.Errorf("a document without expires: %v", err)
	}
}

func TestPublicKeyText(t *testing.T) {
	pub, _ := trusttest.Key(t)
	for _, tc := range []struct{ name, text string }{
		{"line", pub.String()},
		{"line with spaces", "  " + pub.String() + "\n"},
		{".pub file", string(pub.MarshalFile())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := trust.ParsePublicKey(tc.text)
			if err != nil || !k.Equal(pub) {
				t.Fatalf("ParsePublicKey = %v, %v", k, err)
			}
		})
	}
	if len(pub.ID()) != 16 || strings.ToUpper(pub.ID()) != pub.ID() {
		t.Errorf("ID = %q, want 16 upper-case hex digits", pub.ID())
	}
	for _, bad := range []string{"", "RW", "not a key", strings.Repeat("A", 56)} {
		if _, err := trust.ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
}

func TestWriteKeyPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	files, err := trust.WriteKeyPair(dir, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if files.Encrypted || files.Secret != filepath.Join(dir, "modup.key") || files.Public != filepath.Join(dir, "modup.pub") {
		t.Errorf("files = %+v", files)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(files.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("secret key mode %v, want 0600", st.Mode().Perm())
		}
	}
	data, err := os.ReadFile(files.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if trust.IsEncrypted(data) || !strings.HasPrefix(string(data), "untrusted comment: minisign secret key, not password-protected\n") {
		t.Errorf("unencrypted key file:\n%s", data)
	}
	asked := false
	sec, err := trust.ReadSecretKeyFile(files.Secret, func() (string, error) { asked = true; return "", nil })
	if err != nil || asked {
		t.Fatalf("ReadSecretKeyFile = %v (password asked: %v)", err, asked)
	}
	pub, err := trust.ReadPublicKeyFile(files.Public)
	if err != nil || !pub.Equal(files.Key) || !sec.Public().Equal(pub) {
		t.Fatalf("ReadPublicKeyFile = %v, %v", pub, err)
	}

	// A second generate would orphan every user's pin: refused.
	if _, err := trust.WriteKeyPair(dir, "", false); !errors.Is(err, trust.ErrKeyExists) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second WriteKeyPair = %v, want ErrKeyExists", err)
	}
	if again, _ := trust.ReadPublicKeyFile(files.Public); !again.Equal(pub) {
		t.Error("a refused generate changed modup.pub")
	}
	forced, err := trust.WriteKeyPair(dir, "", true)
	if err != nil || forced.Key.Equal(pub) {
		t.Fatalf("forced WriteKeyPair = %v (same key: %v)", err, forced.Key.Equal(pub))
	}
}

func TestReadEncryptedSecretKey(t *testing.T) {
	dir := t.TempDir()
	pub, sec := trusttest.Key(t)
	path := writeFile(t, filepath.Join(dir, "modup.key"), trusttest.CheapEncrypted(t, sec, "correct horse"))
	for _, tc := range []struct {
		name     string
		password func() (string, error)
		want     error
	}{
		{"right password", func() (string, error) { return "correct horse", nil }, nil},
		{"wrong password", func() (string, error) { return "battery staple", nil }, trust.ErrWrongPassword},
		{"no password", nil, nil},
		{"asking fails", func() (string, error) { return "", errors.New("no terminal") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := trust.ReadSecretKeyFile(path, tc.password)
			switch {
			case tc.name == "right password":
				if err != nil || !k.Public().Equal(pub) {
					t.Fatalf("ReadSecretKeyFile = %v", err)
				}
			case tc.want != nil:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want %v naming %s", err, tc.want, path)
				}
			default:
				if err == nil {
					t.Fatal("an encrypted key was read without its password")
				}
			}
		})
	}
	if _, err := trust.ReadSecretKeyFile(filepath.Join(dir, "missing.key"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}
}
