package api

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modup", TokenFile)
	if _, err := ReadToken(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadToken of no file = %v", err)
	}
	// Processes starting together agree on one token.
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	created := make([]bool, 8)
	for i := range tokens {
		wg.Go(func() {
			var err error
			tokens[i], created[i], err = LoadOrCreateToken(path)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for i, tok := range tokens {
		if tok != tokens[0] || len(tok) != 43 {
			t.Fatalf("tokens differ or are short: %q", tokens)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d callers created the token, want 1", n)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("token file mode %v, %v; want 0600", fi.Mode(), err)
		}
		os.Chmod(path, 0o644)
		if _, err := ReadToken(path); !errors.Is(err, ErrTokenExposed) {
			t.Errorf("a token others can read: %v, want ErrTokenExposed", err)
		}
		os.Chmod(path, 0o600)
	}
	fresh, err := RotateToken(path)
	if err != nil || fresh == tokens[0] {
		t.Fatalf("RotateToken = %q, %v", fresh, err)
	}
	if got, err := ReadToken(path); err != nil || got != fresh {
		t.Errorf("after rotation: %q, %v", got, err)
	}
	os.WriteFile(path, []byte("\n"), 0o600)
	if _, err := ReadToken(path); err == nil {
		t.Error("an empty token file was accepted")
	}
}
