package fsutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// FileSHA256 is the lower-case hex sha256 of the regular file at path (a
// folder, pipe or device is an error wrapping ErrNotRegular).
func FileSHA256(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|ONonblock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is %s: %w", path, Kind(st.Mode()), ErrNotRegular)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
