//go:build unix

package archive

import (
	"bytes"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestPackRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{ManifestName: "{}"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	var buf bytes.Buffer
	_, err := Pack(t.Context(), &buf, dir, PackOptions{})
	if err == nil || !strings.Contains(err.Error(), "pipe: is not a regular file") {
		t.Fatalf("Pack = %v, want a not-a-regular-file error naming pipe", err)
	}
	// Excluded, it is simply left out (and never opened, so never blocks).
	if _, err := Pack(t.Context(), &buf, dir, PackOptions{Exclude: func(rel string, _ bool) bool { return rel == "pipe" }}); err != nil {
		t.Fatalf("Pack with the FIFO excluded = %v", err)
	}
}
