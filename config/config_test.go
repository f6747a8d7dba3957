package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadMissingFileSaysNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none", "config.toml")
	f, err := Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Exists || f.Path != p {
		t.Errorf("Exists = %v, Path = %q", f.Exists, f.Path)
	}
	for _, k := range Keys() {
		if v, ok := f.Get(k); ok {
			t.Errorf("missing file sets %s = %q", k, v)
		}
	}
}

func TestLoadValid(t *testing.T) {
	p := write(t, `# modup
roots = ["~/a2/modules", "/srv/shared"]
allow_http = true
lock_timeout = "45s"
fetch_timeout = "2m"
min_rate = "2KiB"
max_size = "1GB"
keep_backups = 0
log_format = "json"
host = "a2"
host_version = "v0.5.7"
repo_max_age = "30m"

[daemon]
interval = "1h"
policy = "notify"
concurrency = 8
on_update = "echo $MODUP_PACKAGE"
hook_timeout = "30s"
listen = "127.0.0.1:7391"
listen_any = false
metrics_public = true

[[daemon.webhook]]
url = "https://hooks.example.com/modup"
secret = "s3cret"
events = ["installed", "failed"]

[[daemon.webhook]]
url = "http://127.0.0.1:9000/hook"
secret_env = "HOOK_SECRET"

[self_update]
repo = "me/modup-fork"
release_key = "RWQexample"

[[github]]
web = "https://ghe.example.com"
token_env = "GHE_TOKEN"

[[github]]
web = "https://git.corp.example/"
api = "https://api.git.corp.example/"
raw = "https://raw.git.corp.example"
`)
	f, err := Load(p, env(map[string]string{"HOME": "/home/u"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"roots":                   filepath.Join("/home/u", "a2/modules") + string(os.PathListSeparator) + "/srv/shared",
		"allow_http":              "true",
		"lock_timeout":            "45s",
		"fetch_timeout":           "2m0s",
		"min_rate":                "2KiB",
		"max_size":                "1GB",
		"keep_backups":            "0",
		"log_format":              "json",
		"host":                    "a2",
		"host_version":            "v0.5.7",
		"repo_max_age":            "30m0s",
		"daemon.interval":         "1h0m0s",
		"daemon.policy":           "notify",
		"daemon.concurrency":      "8",
		"daemon.on_update":        "echo $MODUP_PACKAGE",
		"daemon.hook_timeout":     "30s",
		"self_update.repo":        "me/modup-fork",
		"self_update.release_key": "RWQexample",
		"daemon.listen":           "127.0.0.1:7391",
		"daemon.listen_any":       "false",
		"daemon.metrics_public":   "true",
	}
	for _, k := range Keys() {
		got, ok := f.Get(k)
		if !ok || got != want[k] {
			t.Errorf("Get(%s) = %q, %v; want %q", k, got, ok, want[k])
		}
	}
	if f.MaxSize.Bytes != 1e9 || f.MinRate.Bytes != 2048 || f.LockTimeout.D != 45*time.Second {
		t.Errorf("typed values: max %d, min rate %d, lock %v", f.MaxSize.Bytes, f.MinRate.Bytes, f.LockTimeout.D)
	}
	wantHosts := []GitHubHost{
		{Web: "https://ghe.example.com/", API: "https://ghe.example.com/api/v3/", Raw: "https://ghe.example.com/raw/", TokenEnv: "GHE_TOKEN"},
		{Web: "https://git.corp.example/", API: "https://api.git.corp.example/", Raw: "https://raw.git.corp.example/"},
	}
	if len(f.Daemon.Webhooks) != 2 {
		t.Fatalf("webhooks: %+v", f.Daemon.Webhooks)
	}
	if w := f.Daemon.Webhooks[0]; w.URL != "https://hooks.example.com/modup" || w.Secret != "s3cret" || !slices.Equal(w.Events, []string{"installed", "failed"}) {
		t.Errorf("webhook 1: %+v", w)
	}
	if w := f.Daemon.Webhooks[1]; w.URL != "http://127.0.0.1:9000/hook" || w.SecretEnv != "HOOK_SECRET" || w.Events != nil {
		t.Errorf("webhook 2: %+v", w)
	}
	if n := f.Line("daemon.webhook[1].secret_env"); n != 31 {
		t.Errorf("line of daemon.webhook[1].secret_env = %d, want 31", n)
	}
	if !slices.Equal(f.GitHub, wantHosts) {
		t.Errorf("github hosts:\n%+v\nwant\n%+v", f.GitHub, wantHosts)
	}
}

// Every bad file names the file, the line and the key.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          string // after "<path>"
	}{
		{"unknown key", "roots = []\nlock_timout = \"5s\"\n", `:2: lock_timout: unknown key`},
		{"unknown table key", "[daemon]\nintervl = \"1h\"\n", `:2: daemon.intervl: unknown key`},
		{"wrong type", "keep_backups = \"three\"\n", `:1: keep_backups: wrong type: want a whole number`},
		{"duration as a number", "\n\nlock_timeout = 30\n", `:3: lock_timeout: wrong type: want a duration such as "30s" or "6h"`},
		{"bad duration", "[daemon]\ninterval = \"often\"\n", `:2: daemon.interval: "often" is not a duration`},
		{"zero interval", "[daemon]\ninterval = \"0s\"\n", `:2: daemon.interval: 0s: want a positive duration`},
		{"negative keep", "keep_backups = -1\n", `:1: keep_backups: -1: want 0 or more`},
		{"bad policy", "[daemon]\n\npolicy = \"sometimes\"\n", `:3: daemon.policy: "sometimes": want auto or notify`},
		{"bad size", "max_size = \"lots\"\n", `:1: max_size: "lots" is not a size`},
		{"bad log format", "log_format = \"xml\"\n", `:1: log_format: "xml": want text or json`},
		{"zero concurrency", "[daemon]\nconcurrency = 0\n", `:2: daemon.concurrency: 0: want 1 or more`},
		{"bad host version", "\nhost_version = \"latest\"\n", `:2: host_version: "latest" is not a version: write it like "0.5.7"`},
		{"host version as a number", "host_version = 0.5\n", `:1: host_version: wrong type: want a version in quotes such as "0.5.7"`},
		{"empty host", "host = \"\"\n", `:1: host: "": want the name of the application that loads the packages`},
		{"host with a space", "host = \"a 2\"\n", `:1: host: "a 2": a host name has no spaces`},
		{"syntax", "roots = [\"a\"\n", `:1: `},
		{"github without web", "[[github]]\ntoken_env = \"X\"\n", `:1: github[0]: web is missing`},
		{"github plain http", "[[github]]\nweb = \"http://ghe.example.com/\"\n", `:2: github[0].web: "http://ghe.example.com/": want an https:// URL`},
		{"github bad token env", "[[github]]\nweb = \"https://a.example/\"\n[[github]]\nweb = \"https://b.example/\"\ntoken_env = \"MY TOKEN\"\n", `:5: github[1].token_env: "MY TOKEN" is not an environment variable name`},
		{"bad listen", "[daemon]\nlisten = \"7391\"\n", `:2: daemon.listen: "7391" is not an address such as "127.0.0.1:7391"`},
		{"bad listen port", "[daemon]\nlisten = \"localhost:http\"\n", `:2: daemon.listen: "localhost:http": port "http" is not a number`},
		{"listen as a number", "[daemon]\nlisten = 7391\n", `:2: daemon.listen: wrong type: want an address such as "127.0.0.1:7391"`},
		{"listen_any as text", "[daemon]\nlisten_any = \"yes\"\n", `:2: daemon.listen_any: wrong type: want true or false`},
		{"webhook without url", "[[daemon.webhook]]\nsecret = \"x\"\n", `:1: daemon.webhook[0]: url is missing`},
		{"webhook bad url", "[[daemon.webhook]]\nurl = \"ftp://x.example/\"\n", `:2: daemon.webhook[0].url: "ftp://x.example/" is not an http:// or https:// URL`},
		{"webhook two secrets", "[[daemon.webhook]]\nurl = \"https://x.example/\"\nsecret = \"a\"\nsecret_env = \"B\"\n", `:4: daemon.webhook[0].secret_env: set secret or secret_env, not both`},
		{"webhook unknown key", "[[daemon.webhook]]\nurl = \"https://x.example/\"\ntoken = \"a\"\n", `:3: daemon.webhook.token: unknown key`},
		{"github twice", "[[github]]\nweb = \"https://a.example/\"\n[[github]]\nweb = \"https://a.example\"\n", `:4: github[1].web: https://a.example/ is also the web of [[github]] number 1`},
		{"repo without name", "[[repo]]\nurl = \"https://idx.example/\"\n", `:1: repo[0]: name is missing`},
		{"repo without url", "[[repo]]\nname = \"main\"\n", `:1: repo[0]: url is missing`},
		{"repo bad name", "[[repo]]\nname = \"a/b\"\nurl = \"https://idx.example/\"\n", `:2: repo[0].name: "a/b" cannot name a repository`},
		{"repo plain http", "[[repo]]\nname = \"lan\"\nurl = \"http://idx.example/\"\n", `:3: repo[0].url: "http://idx.example/": want an https:// URL (plain http only on loopback), or a folder`},
		{"repo twice", "[[repo]]\nname = \"lan\"\nurl = \"https://a.example/\"\n[[repo]]\nname = \"LAN\"\nurl = \"https://b.example/\"\n", `:5: repo[1].name: "LAN" is also the name of [[repo]] number 1`},
		{"repo enabled as text", "[[repo]]\nname = \"lan\"\nurl = \"https://a.example/\"\nenabled = \"no\"\n", `:4: repo.enabled: `},
		{"repo bad key", "[[repo]]\nname = \"lan\"\nurl = \"https://a.example/\"\nkey = \"RWnotakey\"\n", `:4: repo[0].key: `},
		{"bad repo_max_age", "repo_max_age = \"-1h\"\n", `:1: repo_max_age: -1h0m0s: want 0 or more`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.content)
			_, err := Load(p, env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), p+tc.want) {
				t.Errorf("error:\n%v\nwant it to start with\n%s%s", err, p, tc.want)
			}
		})
	}
}

// [[repo]] tables: a folder is relative to the file, enabled defaults
// to true.
func TestLoadRepos(t *testing.T) {
	p := write(t, `[[repo]]
name = "main"
url = "https://index.example/a2/"

[[repo]]
name = "share"
url = "../shared/index"
enabled = false
mirror = true

[[repo]]
name = "home"
url = "~/index"
`)
	f, err := Load(p, env(map[string]string{"HOME": "/home/u"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, url       string
		enabled, mirror bool
	}{
		{name: "main", url: "https://index.example/a2/", enabled: true},
		{name: "share", url: filepath.Join(filepath.Dir(filepath.Dir(p)), "shared", "index"), mirror: true},
		{name: "home", url: filepath.Join("/home/u", "index"), enabled: true},
	}
	if len(f.Repos) != len(want) {
		t.Fatalf("repos: %+v", f.Repos)
	}
	for i, w := range want {
		r := f.Repos[i]
		if r.Name != w.name || r.URL != w.url || r.IsEnabled() != w.enabled || r.Mirror != w.mirror {
			t.Errorf("repo %d = %+v (enabled %v), want %+v", i, r, r.IsEnabled(), w)
		}
	}
	if n := f.Line("repo[1].url"); n != 7 {
		t.Errorf("line of repo[1].url = %d, want 7", n)
	}
}

func TestLoadRefusesNonRegularFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, env(nil)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(folder) = %v", err)
	}
}

func TestPath(t *testing.T) {
	ucd := func() (string, error) { return "/cfg", nil }
	if p, _ := Path(env(nil), ucd); p != filepath.Join("/cfg", "modup", "config.toml") {
		t.Errorf("default path = %q", p)
	}
	if p, _ := Path(env(map[string]string{EnvPath: "~/my.toml", "HOME": "/home/u"}), ucd); p != filepath.Join("/home/u", "my.toml") {
		t.Errorf("MODUP_CONFIG path = %q", p)
	}
}

// Settings and the File's keys are the same list, so `config show` and
// the decoder agree.
func TestSettingsCoverTheFile(t *testing.T) {
	var keys []string
	for _, s := range Settings() {
		keys = append(keys, s.Key)
		if s.Flag == "" || s.Hint == "" || s.Help == "" {
			t.Errorf("setting %s lacks a flag, hint or help", s.Key)
		}
	}
	if !slices.Equal(keys, Keys()) {
		t.Errorf("Settings keys %v\nFile keys     %v", keys, Keys())
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "512MiB", want: 512 << 20},
		{in: "1GB", want: 1e9},
		{in: "1gb", want: 1e9},
		{in: "64KiB", want: 64 << 10},
		{in: "1KiB/s", want: 1024},
		{in: "1.5 MiB", want: 3 << 19},
		{in: "1048576", want: 1 << 20},
		{in: "0", want: 0},
		{in: "10 k", want: 10000},
		{in: "", bad: true},
		{in: "MiB", bad: true},
		{in: "12 parsecs", bad: true},
		{in: "-5MiB", bad: true},
		{in: "1e30GB", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}
