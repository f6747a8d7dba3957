//go:build unix

package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/testpkg"
)

// The history is read and written through modup's own folder: a link in
// place of the file is never followed (the user's file it points to stays
// as it was), and neither is a named pipe waited on.
func TestHistoryRefusesLinksAndSpecialFiles(t *testing.T) {
	for _, kind := range []string{testpkg.HazardLink, testpkg.HazardFIFO, "folder"} {
		t.Run(kind, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			if err := os.MkdirAll(l.Dir(), 0o755); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(t.TempDir(), "user.jsonl")
			userLine := `{"time":"2026-01-01T00:00:00Z","package":"users-own","action":"update","result":"ok"}` + "\n"
			if err := os.WriteFile(victim, []byte(userLine), 0o644); err != nil {
				t.Fatal(err)
			}
			path := historyPath(l, HistoryFile)
			if kind == "folder" {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			} else {
				testpkg.PlaceHazard(t, path, kind, victim)
			}

			_, err := l.History("", 0)
			if !errors.Is(err, fsutil.ErrNotRegular) || !strings.Contains(err.Error(), path) {
				t.Errorf("History = %v, want an error naming %s as not a regular file", err, path)
			}
			appendAll(t, l, entry("a", HistoryUpdate, "1", "2"))
			if b, _ := os.ReadFile(victim); string(b) != userLine {
				t.Errorf("the user's file changed: %q", b)
			}
			got, err := l.History("", 0)
			if err != nil || len(got) != 1 || got[0].Package != "a" {
				t.Errorf("History after the append = %+v, %v; want a new history with the entry", got, err)
			}
			aside, _ := filepath.Glob(path + ".broken-*")
			if len(aside) != 1 {
				t.Errorf("what was in the history's place was not set aside: %v", aside)
			}
		})
	}
}

// A link in place of .modup stops history like every other use of it.
func TestHistoryUnsafeLayout(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, l.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendHistory(t.Context(), entry("a", HistoryUpdate, "1", "2")); !errors.Is(err, ErrUnsafeLayout) {
		t.Errorf("AppendHistory = %v, want ErrUnsafeLayout", err)
	}
	if _, err := l.History("", 0); !errors.Is(err, ErrUnsafeLayout) {
		t.Errorf("History = %v, want ErrUnsafeLayout", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("modup wrote through the link: %v", ents)
	}
}
