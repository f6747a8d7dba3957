package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/config"
	"github.com/modup/modup/trust"
)

// repos.json keeps what repo add, remove, enable and disable change; the
// configuration file's repositories come first and are changed there.
func TestList(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte("[[repo]]\nname = \"corp\"\nurl = \"https://corp.example/a2/\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	path := PathFor(cfgPath)
	l, err := Load(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Repos) != 1 || l.Repos[0].Name != "corp" || !l.Repos[0].Enabled || l.Repos[0].From != cfgPath+":1" {
		t.Fatalf("from the config file: %+v", l.Repos)
	}
	if err := l.Add(Repo{Name: "lan", URL: "http://127.0.0.1:8090/", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(Repo{Name: "share", URL: dir, Enabled: true, Mirror: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"LAN", "corp"} {
		if err := l.Add(Repo{Name: name, URL: "https://x.example/", Enabled: true}); err == nil || !strings.Contains(err.Error(), "is there already") {
			t.Errorf("add %s twice: %v", name, err)
		}
	}
	if _, err := l.SetEnabled("lan", false); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SetEnabled("corp", false); err == nil || !strings.Contains(err.Error(), "write enabled = false there") {
		t.Errorf("disable a configuration file's repository: %v", err)
	}
	if _, err := l.Remove("corp"); err == nil || !strings.Contains(err.Error(), cfgPath+":1") {
		t.Errorf("remove a configuration file's repository: %v", err)
	}
	again, err := Load(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range again.Repos {
		got = append(got, r.Name+" "+r.URL+" "+map[bool]string{true: "on", false: "off"}[r.Enabled])
	}
	want := []string{"corp https://corp.example/a2/ on", "lan http://127.0.0.1:8090/ off", "share " + dir + " on"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("after reload: %q, want %q", got, want)
	}
	if enabled := again.Enabled(); len(enabled) != 2 || enabled[1].Name != "share" || !enabled[1].Mirror {
		t.Errorf("enabled: %+v", enabled)
	}
	if _, err := again.Remove("lan"); err != nil {
		t.Fatal(err)
	}
	if _, err := again.Remove("lan"); err == nil || !strings.Contains(err.Error(), "no such repository") {
		t.Errorf("remove twice: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil || strings.Contains(string(data), "lan") || strings.Contains(string(data), "corp") {
		t.Errorf("repos.json:\n%s (%v)", data, err)
	}
}

// A repos.json modup did not write, or that names a repository the
// configuration file declares too, stops every repository command with
// a message naming the file.
func TestListBadFile(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{name: "not JSON", content: "{", want: "unexpected EOF"},
		{name: "unknown field", content: `{"version":1,"repos":[{"name":"a","url":"https://a.example/","enabled":true,"token":"x"}]}`, want: `unknown field "token"`},
		{name: "bad name", content: `{"version":1,"repos":[{"name":"a/b","url":"https://a.example/","enabled":true}]}`, want: `"a/b" cannot name a repository`},
		{name: "bad URL", content: `{"version":1,"repos":[{"name":"a","url":"ftp://a.example/","enabled":true}]}`, want: "repository a:"},
		{name: "declared twice", content: `{"version":1,"repos":[{"name":"corp","url":"https://b.example/","enabled":true}]}`, want: "repository corp is also declared at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := &config.File{Path: filepath.Join(dir, "config.toml"), Repos: []config.Repo{{Name: "corp", URL: "https://corp.example/"}}}
			_, err := Load(path, cfg)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want it to name %s and say %q", err, path, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want  string
		allowHTTP bool
		bad       string
	}{
		{in: "https://index.example.com/a2", want: "https://index.example.com/a2/"},
		{in: "http://127.0.0.1:8090", want: "http://127.0.0.1:8090/"},
		{in: "http://localhost:8090/x/", want: "http://localhost:8090/x/"},
		{in: "idx", want: filepath.Join(wd, "idx")},
		{in: "file:///srv/index", want: "file:///srv/index"},
		{in: "http://lan.example/", bad: "plain http only on loopback"},
		{in: "http://lan.example/", allowHTTP: true, want: "http://lan.example/"},
		{in: "https://user:pw@index.example/", bad: "want an https:// URL"},
		{in: "https://index.example/?x=1", bad: "want an https:// URL"},
		{in: "ftp://index.example/", bad: "want an https:// URL"},
		{in: " ", bad: "no URL"},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.in, tc.allowHTTP)
		switch {
		case tc.bad != "":
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("Normalize(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.bad)
			}
		case err != nil || got != tc.want:
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// A repository's key comes from the [[repo]] table or repos.json; one that
// is not a key is refused, naming the file.
func TestListKeys(t *testing.T) {
	pub, _, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte("[[repo]]\nname = \"corp\"\nurl = \"https://corp.example/a2/\"\nkey = \""+pub.String()+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	path := PathFor(cfgPath)
	l, err := Load(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Repos) != 1 || l.Repos[0].Key != pub.String() || l.Repos[0].KeyID() != pub.ID() {
		t.Fatalf("from the config file: %+v", l.Repos)
	}
	if err := l.Add(Repo{Name: "lan", URL: "http://127.0.0.1:8090/", Enabled: true, Key: pub.String()}); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path, nil)
	if err != nil || len(again.Repos) != 1 || again.Repos[0].Key != pub.String() {
		t.Fatalf("repos.json: %+v, %v", again, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), pub.String(), "RWnotakey", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), path+": repository lan: key: ") {
		t.Errorf("a bad key in repos.json: %v", err)
	}
}
