package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modup/modup/internal/fsutil"
)

// TokenFile is the token's file name in modup's user configuration folder.
const TokenFile = "api-token"

// maxTokenFile bounds what is read of the token file.
const maxTokenFile = 4 << 10

// ErrTokenExposed: the token file can be read by other users.
var ErrTokenExposed = errors.New("the API token file is readable by other users")

// LoadOrCreateToken returns the API token kept in the file at path,
// creating the file (0600, and its folder) with a new random token when
// there is none. Two processes creating it at once agree on one token. A
// file others may read is refused (ErrTokenExposed), as ssh refuses a key
// others may read.
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	token, err = ReadToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return token, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create the API token: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+TokenFile+".tmp-*")
	if err != nil {
		return "", false, fmt.Errorf("create the API token: %w", err)
	}
	defer os.Remove(tmp.Name())
	fresh := newToken()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return "", false, fmt.Errorf("create the API token: %w", err)
	}
	_, werr := tmp.WriteString(fresh + "\n")
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return "", false, fmt.Errorf("create the API token %s: %w", path, err)
	}
	// A link succeeds only where no file is: whoever came first wins,
	// and the other reads its token.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			token, err = ReadToken(path)
			return token, false, err
		}
		return "", false, fmt.Errorf("create the API token %s: %w", path, err)
	}
	fsutil.SyncDir(filepath.Dir(path))
	return fresh, true, nil
}

// ReadToken reads the API token from the file at path (a missing file
// wraps fs.ErrNotExist).
func ReadToken(path string) (string, error) {
	data, err := fsutil.ReadRegular(path, maxTokenFile)
	if err != nil {
		return "", fmt.Errorf("read the API token: %w", err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("%s has mode %04o: %w; run `chmod 600 %s`", path, fi.Mode().Perm(), ErrTokenExposed, path)
		}
	}
	token := strings.TrimSpace(string(data))
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("%s holds no token: delete it, and modup makes a new one", path)
	}
	return token, nil
}

// RotateToken replaces the token in the file at path with a new one.
func RotateToken(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create the API token: %w", err)
	}
	fresh := newToken()
	if err := fsutil.WriteFileAtomic(path, []byte(fresh+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the API token: %w", err)
	}
	if runtime.GOOS != "windows" {
		// The umask cannot open it up, but an old file's mode is not kept.
		if err := os.Chmod(path, 0o600); err != nil {
			return "", err
		}
	}
	return fresh, nil
}

// newToken is 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sameToken compares a presented token with the real one in constant time.
func sameToken(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
