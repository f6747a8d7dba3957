// Package config reads modup's optional configuration file, a TOML file
// holding the defaults of every setting (roots, global flags, the daemon's
// flags) and the hosts modup knows besides github.com.
//
// The file is read strictly: an unknown key, a value of the wrong type or
// a value out of range is an error that names the file, the line and the
// key, before any command runs. Precedence is the caller's business (flags
// over environment over this file over defaults); Settings lists every key
// with its environment variable and default so that callers and
// `modup config show` agree.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/modup/modup/trust"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// EnvPath names the file to read instead of the default one.
const EnvPath = "MODUP_CONFIG"

// maxFileSize caps the file: a configuration is a few hundred bytes.
const maxFileSize = 1 << 20

// File is what a configuration file says. A nil pointer (or nil slice)
// is a key the file does not set.
type File struct {
	// Path is the file read; Exists is false when there is none (every
	// setting then comes from elsewhere).
	Path   string `toml:"-"`
	Exists bool   `toml:"-"`

	Roots        []string  `toml:"roots"`
	AllowHTTP    *bool     `toml:"allow_http"`
	LockTimeout  *Duration `toml:"lock_timeout"`
	FetchTimeout *Duration `toml:"fetch_timeout"`
	MinRate      *Size     `toml:"min_rate"`
	MaxSize      *Size     `toml:"max_size"`
	KeepBackups  *int      `toml:"keep_backups"`
	LogFormat    *string   `toml:"log_format"`
	// Host names the application that loads the packages (requires.<host>
	// in manifests), HostVersion its version; without a version, host
	// requirements are reported, not enforced.
	Host        *string `toml:"host"`
	HostVersion *string `toml:"host_version"`
	// RepoMaxAge is how old a repository's copy of its index may be
	// before a command asks the repository again.
	RepoMaxAge *Duration `toml:"repo_max_age"`

	Daemon Daemon `toml:"daemon"`

	SelfUpdate SelfUpdate `toml:"self_update"`

	// GitHub lists GitHub Enterprise hosts, each checked with its own
	// endpoints and token, besides github.com.
	GitHub []GitHubHost `toml:"github"`
	// GitLab lists self-hosted GitLab instances, each with its own
	// endpoints and token, besides gitlab.com.
	GitLab []GitLabHost `toml:"gitlab"`
	// Repos are the [[repo]] tables: package repositories (indexes) the
	// file declares, besides those `modup repo add` keeps in repos.json.
	Repos []Repo `toml:"repo"`

	// lines maps a dotted key ("daemon.interval", "github[1].web") to the
	// line that sets it, for messages.
	lines map[string]int
}

// Daemon is the [daemon] table: the defaults of `modup daemon`'s flags.
type Daemon struct {
	Interval    *Duration `toml:"interval"`
	Policy      *string   `toml:"policy"`
	Concurrency *int      `toml:"concurrency"`
	OnUpdate    *string   `toml:"on_update"`
	HookTimeout *Duration `toml:"hook_timeout"`
	// Listen is the HTTP service's address (host:port); unset: no service.
	Listen *string `toml:"listen"`
	// ListenAny allows a Listen address beyond loopback.
	ListenAny *bool `toml:"listen_any"`
	// MetricsPublic serves /metrics without the API token.
	MetricsPublic *bool `toml:"metrics_public"`

	// Webhooks are the [[daemon.webhook]] tables: where the daemon POSTs
	// its events.
	Webhooks []Webhook `toml:"webhook"`
}

// Webhook is one [[daemon.webhook]] table.
type Webhook struct {
	// URL receives a JSON POST per event (http:// or https://).
	URL string `toml:"url"`
	// Secret signs each body (HMAC-SHA256, X-Modup-Signature); SecretEnv
	// names an environment variable holding it instead.
	Secret    string `toml:"secret"`
	SecretEnv string `toml:"secret_env"`
	// Events are the event types sent (empty: all of them).
	Events []string `toml:"events"`
}

// SelfUpdate is the [self_update] table: where modup's own releases are
// (a fork, a mirror).
type SelfUpdate struct {
	Repo       *string `toml:"repo"`
	ReleaseKey *string `toml:"release_key"`
}

// GitHubHost is one [[github]] table: a GitHub Enterprise host.
type GitHubHost struct {
	// Web is the site, e.g. "https://ghe.example.com/": update_urls on
	// this host are GitHub packages.
	Web string `toml:"web"`
	// API is the REST base (default WEB + "api/v3/").
	API string `toml:"api"`
	// Raw serves branch files (default WEB + "raw/").
	Raw string `toml:"raw"`
	// TokenEnv names the environment variable holding this host's token.
	TokenEnv string `toml:"token_env"`
}

// GitLabHost is one [[gitlab]] table: a self-hosted GitLab instance.
type GitLabHost struct {
	// Web is the site, e.g. "https://git.example.com/": update_urls on
	// this host are GitLab packages.
	Web string `toml:"web"`
	// API is the REST v4 base (default WEB + "api/v4/").
	API string `toml:"api"`
	// TokenEnv names the environment variable holding this instance's
	// token (none without it).
	TokenEnv string `toml:"token_env"`
}

// Repo is one [[repo]] table: a package repository, the base URL (or
// folder) of an index.
type Repo struct {
	// Name is what the user calls it (`modup install NAME/PACKAGE`).
	Name string `toml:"name"`
	// URL is an https:// base URL, an http:// one on loopback, or a
	// folder (relative to the file; ~ is the home folder).
	URL string `toml:"url"`
	// Enabled is false for a repository that is listed but never asked
	// (default true).
	Enabled *bool `toml:"enabled"`
	// Mirror downloads every zip from the repository's mirror, never
	// from the authors' hosts.
	Mirror bool `toml:"mirror"`
	// Key pins the key that signs the index ("RW...", minisign's public
	// key): every document read from the repository must verify with it.
	Key string `toml:"key"`
}

// IsEnabled reports whether the repository is asked (enabled unset is
// enabled).
func (r Repo) IsEnabled() bool { return r.Enabled == nil || *r.Enabled }

// Error is a problem with the file, at a line (0 when unknown) and key.
type Error struct {
	Path string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Path is the file modup reads: $MODUP_CONFIG, else
// <user config dir>/modup/config.toml. userConfigDir is os.UserConfigDir
// (tests pass their own).
func Path(getenv func(string) string, userConfigDir func() (string, error)) (string, error) {
	if p := strings.TrimSpace(getenv(EnvPath)); p != "" {
		return filepath.Abs(ExpandHome(p, getenv))
	}
	dir, err := userConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration folder (%w): set %s to a file", err, EnvPath)
	}
	return filepath.Join(dir, "modup", "config.toml"), nil
}

// Load reads the file at path. A missing file is not an error: it says
// nothing (File.Exists is false). getenv expands "~" in roots.
func Load(path string, getenv func(string) string) (*File, error) {
	f := &File{Path: path}
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	f.Exists = true
	if err := f.decode(data); err != nil {
		return nil, err
	}
	for i, r := range f.Roots {
		// A relative root is relative to the file, not to wherever modup
		// happens to run.
		f.Roots[i] = f.localPath(r, getenv)
	}
	for i, r := range f.Repos {
		if RepoURLIsFolder(r.URL) {
			f.Repos[i].URL = f.localPath(strings.TrimSpace(r.URL), getenv)
		}
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// localPath makes a path of the file absolute: ~ is the home folder, a
// relative path is relative to the file.
func (f *File) localPath(p string, getenv func(string) string) string {
	p = ExpandHome(p, getenv)
	if p != "" && !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(f.Path), p)
	}
	return p
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: path, Msg: "not a regular file"}
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("larger than %d bytes; is this the right file?", maxFileSize)}
	}
	return data, nil
}

// decode parses data strictly into f and indexes the line of every key.
func (f *File) decode(data []byte) error {
	lines, kinds, ok := index(data)
	if ok {
		// Values read from TOML strings (durations, sizes) must be
		// strings: the decoder would hand a number to their parser
		// without saying where it was.
		for _, s := range Settings() {
			if k, set := kinds[s.Key]; set && k != unstable.String && stringValued(s.Key) {
				return &Error{Path: f.Path, Line: lines[s.Key], Key: s.Key, Msg: "wrong type: want " + s.Hint}
			}
		}
	}
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	err := dec.Decode(f)
	var missing *toml.StrictMissingError
	var derr *toml.DecodeError
	switch {
	case errors.As(err, &missing) && len(missing.Errors) > 0:
		var errs []error
		for _, e := range missing.Errors {
			line, _ := e.Position()
			errs = append(errs, &Error{Path: f.Path, Line: line, Key: strings.Join(e.Key(), "."),
				Msg: "unknown key (`modup config show` lists the keys)"})
		}
		return errors.Join(errs...)
	case errors.As(err, &derr):
		line, _ := derr.Position()
		key := strings.Join(derr.Key(), ".")
		msg := strings.TrimPrefix(derr.Error(), "toml: ")
		if strings.HasPrefix(msg, "cannot decode") {
			if h := hint(key); h != "" {
				msg = "wrong type: want " + h
			}
		}
		return &Error{Path: f.Path, Line: line, Key: key, Msg: msg}
	case err != nil:
		return &Error{Path: f.Path, Msg: err.Error()}
	}
	f.lines = lines
	return nil
}

// stringValued reports whether key's field is read from a TOML string.
func stringValued(key string) bool {
	v, ok := lookup(reflect.ValueOf(&File{}).Elem(), strings.Split(key, "."))
	if !ok {
		return false
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == reflect.TypeFor[Duration]() || t == reflect.TypeFor[Size]() || t.Kind() == reflect.String
}

// index maps each dotted key of a TOML document to its line and the kind
// of its value; ok is false when the document does not parse. Entries of
// arrays of tables are numbered: "github[0].web".
func index(data []byte) (lines map[string]int, kinds map[string]unstable.Kind, ok bool) {
	lines = map[string]int{}
	kinds = map[string]unstable.Kind{}
	counts := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		line := 0
		for it := e.Key(); it.Next(); {
			n := it.Node()
			parts = append(parts, string(n.Data))
			if line == 0 {
				line = p.Shape(n.Raw).Start.Line
			}
		}
		key := strings.Join(parts, ".")
		switch e.Kind {
		case unstable.Table:
			table = key
			lines[table] = line
		case unstable.ArrayTable:
			table = fmt.Sprintf("%s[%d]", key, counts[key])
			counts[key]++
			lines[table] = line
		case unstable.KeyValue:
			if table != "" {
				key = table + "." + key
			}
			lines[key] = line
			kinds[key] = e.Value().Kind
		}
	}
	return lines, kinds, p.Error() == nil
}

// errorAt is a validation error of key, at the line that sets it.
func (f *File) errorAt(key, format string, args ...any) error {
	return &Error{Path: f.Path, Line: f.lines[key], Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (f *File) validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i, r := range f.Roots {
		if strings.TrimSpace(r) == "" {
			add(f.errorAt("roots", "entry %d is empty", i+1))
		}
	}
	if f.KeepBackups != nil && *f.KeepBackups < 0 {
		add(f.errorAt("keep_backups", "%d: want 0 or more", *f.KeepBackups))
	}
	if f.LogFormat != nil && *f.LogFormat != "text" && *f.LogFormat != "json" {
		add(f.errorAt("log_format", "%q: want text or json", *f.LogFormat))
	}
	if f.Host != nil {
		if _, err := ParseHost(*f.Host); err != nil {
			add(f.errorAt("host", "%v", err))
		}
	}
	if f.HostVersion != nil {
		if _, err := ParseHostVersion(*f.HostVersion); err != nil {
			add(f.errorAt("host_version", "%v", err))
		}
	}
	for key, d := range map[string]*Duration{"lock_timeout": f.LockTimeout, "fetch_timeout": f.FetchTimeout, "daemon.hook_timeout": f.Daemon.HookTimeout, "repo_max_age": f.RepoMaxAge} {
		if d != nil && d.D < 0 {
			add(f.errorAt(key, "%s: want 0 or more", d.D))
		}
	}
	if d := f.Daemon.Interval; d != nil && d.D <= 0 {
		add(f.errorAt("daemon.interval", "%s: want a positive duration such as \"6h\"", d.D))
	}
	if p := f.Daemon.Policy; p != nil && *p != "auto" && *p != "notify" {
		add(f.errorAt("daemon.policy", "%q: want auto or notify", *p))
	}
	if c := f.Daemon.Concurrency; c != nil && *c < 1 {
		add(f.errorAt("daemon.concurrency", "%d: want 1 or more", *c))
	}
	if l := f.Daemon.Listen; l != nil {
		if err := CheckListen(*l); err != nil {
			add(f.errorAt("daemon.listen", "%v", err))
		}
	}
	for i, w := range f.Daemon.Webhooks {
		key := func(k string) string { return fmt.Sprintf("daemon.webhook[%d].%s", i, k) }
		if strings.TrimSpace(w.URL) == "" {
			add(f.errorAt(fmt.Sprintf("daemon.webhook[%d]", i), "url is missing: write url = \"https://HOST/PATH\""))
		} else if err := CheckWebhookURL(w.URL); err != nil {
			add(f.errorAt(key("url"), "%v", err))
		}
		if w.Secret != "" && w.SecretEnv != "" {
			add(f.errorAt(key("secret_env"), "set secret or secret_env, not both"))
		}
		if w.SecretEnv != "" && !validEnvName(w.SecretEnv) {
			add(f.errorAt(key("secret_env"), "%q is not an environment variable name", w.SecretEnv))
		}
		for _, e := range w.Events {
			if strings.TrimSpace(e) == "" {
				add(f.errorAt(key("events"), "an empty event name"))
			}
		}
	}
	var githubWebs, gitlabWebs []string
	for i := range f.GitHub {
		add(f.GitHub[i].normalize(f, i))
		githubWebs = append(githubWebs, f.GitHub[i].Web)
	}
	for i := range f.GitLab {
		add(f.GitLab[i].normalize(f, i))
		gitlabWebs = append(gitlabWebs, f.GitLab[i].Web)
	}
	add(f.uniqueWebs("github", githubWebs))
	add(f.uniqueWebs("gitlab", gitlabWebs))
	seen := map[string]int{}
	for i, r := range f.Repos {
		add(r.check(f, i))
		if j, dup := seen[strings.ToLower(r.Name)]; dup && r.Name != "" {
			add(f.errorAt(fmt.Sprintf("repo[%d].name", i), "%q is also the name of [[repo]] number %d", r.Name, j+1))
			continue
		}
		seen[strings.ToLower(r.Name)] = i
	}
	return errors.Join(errs...)
}

// uniqueWebs refuses two tables of one kind ([[github]], [[gitlab]]) with
// the same web.
func (f *File) uniqueWebs(table string, webs []string) error {
	var errs []error
	seen := map[string]int{}
	for i, web := range webs {
		if web == "" {
			continue
		}
		if j, dup := seen[web]; dup {
			errs = append(errs, f.errorAt(fmt.Sprintf("%s[%d].web", table, i), "%s is also the web of [[%s]] number %d", web, table, j+1))
			continue
		}
		seen[web] = i
	}
	return errors.Join(errs...)
}

// normalize checks one [[gitlab]] table and fills its defaults.
func (h *GitLabHost) normalize(f *File, i int) error {
	key := func(k string) string { return fmt.Sprintf("gitlab[%d].%s", i, k) }
	if strings.TrimSpace(h.Web) == "" {
		return f.errorAt(fmt.Sprintf("gitlab[%d]", i), "web is missing: write web = \"https://HOST/\"")
	}
	h.Web = withSlash(h.Web)
	if err := checkBaseURL(h.Web); err != nil {
		return f.errorAt(key("web"), "%v", err) // api defaults to it
	}
	if h.API == "" {
		h.API = h.Web + "api/v4/"
	}
	h.API = withSlash(h.API)
	var errs []error
	if err := checkBaseURL(h.API); err != nil {
		errs = append(errs, f.errorAt(key("api"), "%v", err))
	}
	if h.TokenEnv != "" && !validEnvName(h.TokenEnv) {
		errs = append(errs, f.errorAt(key("token_env"), "%q is not an environment variable name", h.TokenEnv))
	}
	return errors.Join(errs...)
}

// normalize checks one [[github]] table and fills its defaults.
func (h *GitHubHost) normalize(f *File, i int) error {
	key := func(k string) string { return fmt.Sprintf("github[%d].%s", i, k) }
	var errs []error
	if strings.TrimSpace(h.Web) == "" {
		return f.errorAt(fmt.Sprintf("github[%d]", i), "web is missing: write web = \"https://HOST/\"")
	}
	h.Web = withSlash(h.Web)
	if err := checkBaseURL(h.Web); err != nil {
		return f.errorAt(key("web"), "%v", err) // api and raw default to it
	}
	if h.API == "" {
		h.API = h.Web + "api/v3/"
	}
	if h.Raw == "" {
		h.Raw = h.Web + "raw/"
	}
	h.API, h.Raw = withSlash(h.API), withSlash(h.Raw)
	for _, kv := range [][2]string{{"api", h.API}, {"raw", h.Raw}} {
		if err := checkBaseURL(kv[1]); err != nil {
			errs = append(errs, f.errorAt(key(kv[0]), "%v", err))
		}
	}
	if h.TokenEnv != "" && !validEnvName(h.TokenEnv) {
		errs = append(errs, f.errorAt(key("token_env"), "%q is not an environment variable name", h.TokenEnv))
	}
	return errors.Join(errs...)
}

// check checks one [[repo]] table.
func (r Repo) check(f *File, i int) error {
	key := func(k string) string { return fmt.Sprintf("repo[%d].%s", i, k) }
	var errs []error
	switch {
	case strings.TrimSpace(r.Name) == "":
		errs = append(errs, f.errorAt(fmt.Sprintf("repo[%d]", i), "name is missing: write name = \"main\""))
	default:
		if err := CheckRepoName(r.Name); err != nil {
			errs = append(errs, f.errorAt(key("name"), "%v", err))
		}
	}
	switch {
	case strings.TrimSpace(r.URL) == "":
		errs = append(errs, f.errorAt(fmt.Sprintf("repo[%d]", i), "url is missing: write url = \"https://HOST/PATH/\" or a folder"))
	default:
		if err := CheckRepoURL(r.URL); err != nil {
			errs = append(errs, f.errorAt(key("url"), "%v", err))
		}
	}
	if k := strings.TrimSpace(r.Key); k != "" {
		if _, err := trust.ParsePublicKey(k); err != nil {
			errs = append(errs, f.errorAt(key("key"), "%v: write the index's public key, key = \"RW...\"", err))
		}
	}
	return errors.Join(errs...)
}

// repoNameRE is what a repository may be called: one word that can stand
// before "/" in `modup install REPO/NAME` and name a folder of the cache.
var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckRepoName says whether name can name a repository.
func CheckRepoName(name string) error {
	if !repoNameRE.MatchString(name) || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return fmt.Errorf("%q cannot name a repository: use letters, digits and . _ - (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// RepoURLIsFolder reports whether a repository's URL is a folder path
// (an exported index on a share) rather than a URL.
func RepoURLIsFolder(s string) bool {
	s = strings.TrimSpace(s)
	return !strings.Contains(s, "://")
}

// CheckRepoURL accepts what a repository's URL may be: an https:// base
// URL, an http:// one on loopback, a file:// URL or a folder path.
func CheckRepoURL(s string) error {
	s = strings.TrimSpace(s)
	if RepoURLIsFolder(s) || strings.HasPrefix(strings.ToLower(s), "file://") {
		if s == "" || s == "file://" {
			return fmt.Errorf("%q names no folder", s)
		}
		return nil
	}
	if err := checkBaseURL(s); err != nil {
		return fmt.Errorf("%q: want an https:// URL (plain http only on loopback), or a folder", s)
	}
	return nil
}

func withSlash(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") + "/" }

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// ExpandHome replaces a leading "~" or "~/" with the home folder ($HOME,
// else the user's profile folder).
func ExpandHome(p string, getenv func(string) string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p
	}
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	if home == "" {
		return p
	}
	return filepath.Join(home, p[1:])
}

// Get returns the value the file gives key (a dotted key of Settings) in
// the form its flag takes, and whether the file sets it. Roots are joined
// with the OS list separator.
func (f *File) Get(key string) (string, bool) {
	v, ok := lookup(reflect.ValueOf(f).Elem(), strings.Split(key, "."))
	if !ok {
		return "", false
	}
	switch x := v.Interface().(type) {
	case []string:
		if x == nil {
			return "", false
		}
		return strings.Join(x, string(os.PathListSeparator)), true
	}
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return "", false
	}
	switch x := v.Elem().Interface().(type) {
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case string:
		return x, true
	case Duration:
		return x.D.String(), true
	case Size:
		return x.Text, true
	}
	return "", false
}

// lookup finds the struct field of a dotted key by its toml tag.
func lookup(v reflect.Value, path []string) (reflect.Value, bool) {
	for _, name := range path {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		t := v.Type()
		found := false
		for i := range t.NumField() {
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag == name && tag != "-" {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}

// Keys lists the dotted scalar keys a File can hold, in declaration
// order (for tests that keep Settings complete).
func Keys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			ft := t.Field(i).Type
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Duration]() && ft != reflect.TypeFor[Size]():
				walk(ft, prefix+tag+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				// arrays of tables ([[github]]) are not settings
			default:
				out = append(out, prefix+tag)
			}
		}
	}
	walk(reflect.TypeFor[File](), "")
	return slices.Clip(out)
}

// CheckListen checks a listen address: host:port with a numeric port
// (":7391" and "0.0.0.0:7391" listen everywhere).
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not an address such as \"127.0.0.1:7391\"", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q is not an address such as \"127.0.0.1:7391\"", addr)
	}
	return nil
}

// CheckWebhookURL accepts an http:// or https:// URL with a host.
func CheckWebhookURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" {
		return fmt.Errorf("%q is not an http:// or https:// URL such as \"https://hooks.example.com/modup\"", s)
	}
	return nil
}

// checkBaseURL accepts an https:// URL, or http:// on loopback (tests, a
// local mirror).
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not a base URL such as \"https://ghe.example.com/\"", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q: want an https:// URL (plain http only on loopback)", s)
}

// Line is the line of the file that sets key (a dotted key), 0 when the
// file does not set it.
func (f *File) Line(key string) int { return f.lines[key] }
