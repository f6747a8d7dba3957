package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// intoModule is the reshaping a gist needs: the manifest stays beside the
// wrapper's other files, which move into the folder "mod".
func intoModule(name string, dir bool) (string, error) {
	wrapper, rest, ok := strings.Cut(name, "/")
	switch {
	case !ok && dir:
		return name, nil
	case !ok || strings.Contains(rest, "/"):
		return "", errors.New("not a flat list of files")
	case rest == ManifestName:
		return name, nil
	}
	return wrapper + "/mod/" + rest, nil
}

func TestExtractRename(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    []string
		rename   func(string, bool) (string, error)
		wantRoot string
		want     map[string]string // path under the root -> content
		wantErr  string            // part of the error; "" for success
	}{
		{
			name:     "files move into the module folder",
			files:    []string{"g-1/", "", "g-1/a2modsource.json", "{}", "g-1/a2module.json", "m", "g-1/run.ahk", "r"},
			rename:   intoModule,
			wantRoot: "g-1",
			want:     map[string]string{"a2modsource.json": "{}", "mod/a2module.json": "m", "mod/run.ahk": "r"},
		},
		{
			name:     "a file named like the module folder goes inside it",
			files:    []string{"g-1/a2modsource.json", "{}", "g-1/mod", "x", "g-1/a.txt", "a"},
			rename:   intoModule,
			wantRoot: "g-1",
			want:     map[string]string{"a2modsource.json": "{}", "mod/mod": "x", "mod/a.txt": "a"},
		},
		{
			name:    "a renamed file may not take a folder's name",
			files:   []string{"a2modsource.json", "{}", "d/x.txt", "x", "y.txt", "y"},
			rename:  func(n string, _ bool) (string, error) { return strings.Replace(n, "y.txt", "d", 1), nil },
			wantErr: `"d" is both a file and a folder`,
		},
		{
			name:    "the rename's refusal rejects the archive",
			files:   []string{"g-1/a2modsource.json", "{}", "g-1/sub/x.txt", "x"},
			rename:  intoModule,
			wantErr: "not a flat list of files",
		},
		{
			name:    "a new name is checked like a stored one",
			files:   []string{"a2modsource.json", "{}", "b.txt", "b"},
			rename:  func(n string, _ bool) (string, error) { return "../" + n, nil },
			wantErr: `renamed to "../a2modsource.json"`,
		},
		{
			name:  "two entries renamed to one name are a duplicate",
			files: []string{"a2modsource.json", "{}", "b.txt", "b", "c.txt", "c"},
			rename: func(n string, _ bool) (string, error) {
				return strings.NewReplacer("b.txt", "x.txt", "c.txt", "X.txt").Replace(n), nil
			},
			wantErr: "collide on case-insensitive file systems",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, dest := newDest(t)
			res, err := extractBytes(t, t.Context(), zipOf(t, tc.files...), dest, Options{Rename: tc.rename, Digests: true})
			checkContained(t, parent)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrHostile) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrHostile containing %q", err, tc.wantErr)
				}
				checkEmptyDir(t, dest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dest, tc.wantRoot); res.Root != want {
				t.Errorf("Root = %s, want %s", res.Root, want)
			}
			for rel, content := range tc.want {
				b, err := os.ReadFile(filepath.Join(res.Root, filepath.FromSlash(rel)))
				if err != nil || string(b) != content {
					t.Errorf("%s = %q, %v; want %q", rel, b, err, content)
				}
				if _, ok := res.Digests[rel]; !ok {
					t.Errorf("no digest for %s (digests are keyed by the new names)", rel)
				}
			}
			if len(res.Digests) != len(tc.want) {
				t.Errorf("%d digests, want %d: %v", len(res.Digests), len(tc.want), res.Digests)
			}
		})
	}
}
