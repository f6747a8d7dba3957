package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/modup/modup/config"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/trust"
)

// FileName is the file `modup repo add` keeps repositories in, next to the
// configuration file in use.
const FileName = "repos.json"

// maxListFile bounds repos.json (a few hundred bytes a repository).
const maxListFile = 1 << 20

// ErrNoRepo: no repository of that name.
var ErrNoRepo = errors.New("no such repository")

// List is every repository the user has: the configuration file's
// [[repo]] tables, then those of repos.json.
type List struct {
	// Path is repos.json.
	Path  string
	Repos []Repo
	// NoPlace, when set, says why there is no repos.json (no
	// configuration folder): Save returns it.
	NoPlace error
}

// listFile is repos.json's shape.
type listFile struct {
	Version int    `json:"version"`
	Repos   []Repo `json:"repos"`
}

// PathFor is repos.json beside the configuration file configPath.
func PathFor(configPath string) string { return filepath.Join(filepath.Dir(configPath), FileName) }

// Load reads repos.json at path (missing is empty) and adds the
// configuration file's repositories (cfg may be nil). A repository named
// in both, or anything in repos.json that is not as modup writes it, is an
// error naming the file.
func Load(path string, cfg *config.File) (*List, error) {
	l := &List{Path: path}
	if cfg != nil {
		for i, r := range cfg.Repos {
			from := cfg.Path
			if n := cfg.Line(fmt.Sprintf("repo[%d]", i)); n > 0 {
				from += ":" + strconv.Itoa(n)
			}
			l.Repos = append(l.Repos, Repo{Name: r.Name, URL: r.URL, Enabled: r.IsEnabled(), Mirror: r.Mirror, Key: strings.TrimSpace(r.Key), From: from})
		}
	}
	data, err := fsutil.ReadRegular(path, maxListFile)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var f listFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w (modup writes this file: fix or delete it, then `modup repo add` again)", path, err)
	}
	for _, r := range f.Repos {
		if err := CheckName(r.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := config.CheckRepoURL(r.URL); err != nil && !isHTTP(r.URL) {
			return nil, fmt.Errorf("%s: repository %s: %w", path, r.Name, err)
		}
		if r.Key != "" {
			if _, err := trust.ParsePublicKey(r.Key); err != nil {
				return nil, fmt.Errorf("%s: repository %s: key: %w", path, r.Name, err)
			}
		}
		if other, ok := l.Find(r.Name); ok {
			return nil, fmt.Errorf("%s: repository %s is also declared at %s: remove one (`modup repo remove %s` removes this one)", path, r.Name, other.From, r.Name)
		}
		l.Repos = append(l.Repos, r)
	}
	return l, nil
}

// isHTTP reports a plain http:// URL (kept in repos.json when added with
// --allow-http).
func isHTTP(s string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "http://")
}

// Find returns the repository called name (names are compared ignoring
// case).
func (l *List) Find(name string) (Repo, bool) {
	for _, r := range l.Repos {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Repo{}, false
}

// Get is Find with an error that says what to do.
func (l *List) Get(name string) (Repo, error) {
	if r, ok := l.Find(name); ok {
		return r, nil
	}
	return Repo{}, fmt.Errorf("%s: %w (modup repo list shows them)", name, ErrNoRepo)
}

// Enabled lists the repositories that are asked, in order.
func (l *List) Enabled() []Repo {
	var out []Repo
	for _, r := range l.Repos {
		if r.Enabled {
			out = append(out, r)
		}
	}
	return out
}

// Add adds r to repos.json (and saves it).
func (l *List) Add(r Repo) error {
	if err := CheckName(r.Name); err != nil {
		return err
	}
	if old, ok := l.Find(r.Name); ok {
		where := l.Path
		if old.From != "" {
			where = old.From
		}
		return fmt.Errorf("a repository called %s is there already (%s, in %s): `modup repo remove %s` first, or choose another name", old.Name, old.Shown(), where, old.Name)
	}
	r.From = ""
	l.Repos = append(l.Repos, r)
	return l.Save()
}

// Remove takes the repository called name out of repos.json.
func (l *List) Remove(name string) (Repo, error) {
	r, err := l.own(name, "remove it there")
	if err != nil {
		return Repo{}, err
	}
	l.Repos = slices.DeleteFunc(l.Repos, func(x Repo) bool { return x.Name == r.Name && x.From == "" })
	return r, l.Save()
}

// SetEnabled enables or disables the repository called name.
func (l *List) SetEnabled(name string, enabled bool) (Repo, error) {
	r, err := l.own(name, fmt.Sprintf("write enabled = %v there", enabled))
	if err != nil {
		return Repo{}, err
	}
	for i := range l.Repos {
		if l.Repos[i].Name == r.Name && l.Repos[i].From == "" {
			l.Repos[i].Enabled = enabled
			r = l.Repos[i]
		}
	}
	return r, l.Save()
}

// own finds a repository of repos.json; one the configuration file
// declares is changed there (todo says how).
func (l *List) own(name, todo string) (Repo, error) {
	r, err := l.Get(name)
	if err != nil {
		return Repo{}, err
	}
	if r.From != "" {
		return Repo{}, fmt.Errorf("repository %s is declared in the configuration file (%s): %s", r.Name, r.From, todo)
	}
	return r, nil
}

// Save writes repos.json atomically (the configuration file's
// repositories stay in the configuration file).
func (l *List) Save() error {
	if l.NoPlace != nil {
		return l.NoPlace
	}
	f := listFile{Version: 1, Repos: []Repo{}}
	for _, r := range l.Repos {
		if r.From == "" {
			f.Repos = append(f.Repos, r)
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o777); err != nil {
		return fmt.Errorf("write %s: %w", l.Path, err)
	}
	return fsutil.WriteFileAtomic(l.Path, append(data, '\n'), 0o666)
}
