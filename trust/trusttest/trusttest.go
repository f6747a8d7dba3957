// Package trusttest helps tests that need minisign keys: fresh key pairs,
// key files, and password-protected keys that decrypt in a millisecond.
//
// minisign (and aead.dev/minisign's EncryptKey) encrypt a secret key with
// scrypt at libsodium's "sensitive" cost, 1 GiB and seconds per use (over a
// minute under the race detector). The format stores the cost, and every
// reader honours it, so CheapEncrypted writes the same format at the
// lowest cost: the code that reads password-protected keys runs for real,
// only faster. Never use it outside tests.
package trusttest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"
	xscrypt "golang.org/x/crypto/scrypt"

	"github.com/modup/modup/trust"
)

// Key is a fresh key pair.
func Key(t testing.TB) (trust.PublicKey, trust.SecretKey) {
	t.Helper()
	pub, sec, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return pub, sec
}

// Layout of a minisign secret key file, once base64-decoded.
const (
	secretKeySize = 158
	offKDF        = 2
	offSalt       = 6
	offOps        = 38
	offMem        = 46
	offKey        = 54 // key id (8) and Ed25519 key (64), encrypted, then a checksum (32)
	keyLen        = 72
	checksumLen   = 32

	edDSA     = 0x6445
	kdfScrypt = 0x6353

	// The lowest cost minisign's parameters convert to: N=1024, r=8, p=1.
	cheapOps = 1 << 15
	cheapMem = 16 << 20
	cheapN   = 1024
)

// CheapEncrypted is sec as a minisign secret key file encrypted with
// password at the lowest scrypt cost.
func CheapEncrypted(t testing.TB, sec trust.SecretKey, password string) []byte {
	t.Helper()
	plain, err := trust.MarshalSecretKey(sec, "")
	if err != nil {
		t.Fatal(err)
	}
	b := decodeKeyFile(t, plain)
	var salt [32]byte
	if _, err := rand.Read(salt[:]); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(b[offKDF:], kdfScrypt)
	copy(b[offSalt:], salt[:])
	binary.LittleEndian.PutUint64(b[offOps:], cheapOps)
	binary.LittleEndian.PutUint64(b[offMem:], cheapMem)
	// The checksum covers the algorithm and the key, and is encrypted with it.
	msg := make([]byte, 2+keyLen)
	binary.LittleEndian.PutUint16(msg, edDSA)
	copy(msg[2:], b[offKey:offKey+keyLen])
	sum := blake2b.Sum256(msg)
	copy(b[offKey+keyLen:], sum[:])
	stream, err := scryptKey(password, salt[:])
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range stream {
		b[offKey+i] ^= k
	}
	return []byte("untrusted comment: minisign encrypted secret key\n" + base64.StdEncoding.EncodeToString(b) + "\n")
}

func scryptKey(password string, salt []byte) ([]byte, error) {
	return xscrypt.Key([]byte(password), salt, cheapN, 8, 1, keyLen+checksumLen)
}

func decodeKeyFile(t testing.TB, data []byte) []byte {
	t.Helper()
	lines := splitLines(data)
	if len(lines) < 2 {
		t.Fatalf("secret key file of %d lines", len(lines))
	}
	b, err := base64.StdEncoding.DecodeString(lines[1])
	if err != nil || len(b) != secretKeySize {
		t.Fatalf("secret key: %d bytes, %v", len(b), err)
	}
	return b
}

func splitLines(data []byte) []string {
	var out []string
	start := 0
	for i, c := range data {
		if c == '\n' {
			out = append(out, string(data[start:i]))
			start = i + 1
		}
	}
	if start < len(data) {
		out = append(out, string(data[start:]))
	}
	return out
}

// WriteKeys writes sec as dir/modup.key (encrypted cheaply with password,
// or not when it is "") and its public key as dir/modup.pub, and returns
// the secret key's path.
func WriteKeys(t testing.TB, dir string, sec trust.SecretKey, password string) string {
	t.Helper()
	var data []byte
	if password != "" {
		data = CheapEncrypted(t, sec, password)
	} else {
		var err error
		if data, err = trust.MarshalSecretKey(sec, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, trust.SecretKeyFile)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, trust.PublicKeyFile), sec.Public().MarshalFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// SignRelease signs the zip at path as name's version with sec, at when.
func SignRelease(t testing.TB, sec trust.SecretKey, path, name, version string, when time.Time) []byte {
	t.Helper()
	sig, _, err := trust.SignRelease(sec, path, name, version, when)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
