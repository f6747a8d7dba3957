package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/modup/modup/internal/fsutil"
)

// Key file names `modup key generate` writes.
const (
	SecretKeyFile = "modup.key"
	PublicKeyFile = "modup.pub"
)

// maxKeyFile bounds what is read as a key file.
const maxKeyFile = 4 << 10

// ErrKeyExists: a key file is already there and overwriting was not asked for.
var ErrKeyExists = errors.New("a key file is already there")

// KeyPairFiles says where WriteKeyPair wrote.
type KeyPairFiles struct {
	Secret, Public string
	Key            PublicKey
	Encrypted      bool
}

// WriteKeyPair generates a key pair into dir: modup.key (mode 0600,
// encrypted with password unless it is "") and modup.pub. Existing files
// are refused (ErrKeyExists) unless force: a lost secret key cannot be
// made again, and every user pinned its public half.
func WriteKeyPair(dir, password string, force bool) (KeyPairFiles, error) {
	out := KeyPairFiles{Secret: filepath.Join(dir, SecretKeyFile), Public: filepath.Join(dir, PublicKeyFile), Encrypted: password != ""}
	if !force {
		for _, p := range []string{out.Secret, out.Public} {
			if _, err := os.Lstat(p); err == nil {
				return out, fmt.Errorf("%w: %s (users who trust its key refuse releases signed by a new one; pass --force to overwrite it anyway)", ErrKeyExists, p)
			}
		}
	}
	pub, sec, err := GenerateKey()
	if err != nil {
		return out, err
	}
	secData, err := MarshalSecretKey(sec, password)
	if err != nil {
		return out, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, err
	}
	if err := writeKeyFile(out.Secret, secData, 0o600, force); err != nil {
		return out, err
	}
	if err := writeKeyFile(out.Public, pub.MarshalFile(), 0o644, force); err != nil {
		return out, err
	}
	out.Key = pub
	return out, nil
}

// writeKeyFile creates path with perm (replacing an existing file only
// with force) and syncs it. A file in the way that is a link is replaced,
// never followed.
func writeKeyFile(path string, data []byte, perm os.FileMode, force bool) error {
	if force {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s (pass --force to overwrite it)", ErrKeyExists, path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadSecretKeyFile reads and, when it is encrypted, decrypts the minisign
// secret key at path; password is called only for an encrypted key.
func ReadSecretKeyFile(path string, password func() (string, error)) (SecretKey, error) {
	data, err := readSmall(path)
	if err != nil {
		return SecretKey{}, fmt.Errorf("read secret key: %w", err)
	}
	k, err := ParseSecretKey(data, password)
	if err != nil {
		return SecretKey{}, fmt.Errorf("secret key %s: %w", path, err)
	}
	return k, nil
}

// ReadPublicKeyFile reads a minisign .pub file.
func ReadPublicKeyFile(path string) (PublicKey, error) {
	data, err := readSmall(path)
	if err != nil {
		return PublicKey{}, fmt.Errorf("read public key: %w", err)
	}
	k, err := ParsePublicKey(string(data))
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readSmall(path string) ([]byte, error) {
	return fsutil.ReadRegular(path, maxKeyFile)
}
