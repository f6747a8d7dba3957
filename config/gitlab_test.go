package config

import (
	"slices"
	"strings"
	"testing"
)

// [[gitlab]] tables: self-hosted GitLab instances, the API defaulting to
// the web's /api/v4/, and every mistake named by line and key.
func TestGitLabHosts(t *testing.T) {
	p := write(t, `[[gitlab]]
web = "https://git.example.com"
token_env = "GITLAB_CORP_TOKEN"

[[gitlab]]
web = "https://code.example.org/gitlab/"
api = "https://code.example.org/gitlab/api/v4"
`)
	f, err := Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []GitLabHost{
		{Web: "https://git.example.com/", API: "https://git.example.com/api/v4/", TokenEnv: "GITLAB_CORP_TOKEN"},
		{Web: "https://code.example.org/gitlab/", API: "https://code.example.org/gitlab/api/v4/"},
	}
	if !slices.Equal(f.GitLab, want) {
		t.Errorf("gitlab hosts:\n%+v\nwant\n%+v", f.GitLab, want)
	}

	for _, tc := range []struct{ name, content, want string }{
		{"without web", "[[gitlab]]\ntoken_env = \"X\"\n", `:1: gitlab[0]: web is missing`},
		{"plain http", "[[gitlab]]\nweb = \"http://git.example.com/\"\n", `:2: gitlab[0].web: "http://git.example.com/": want an https:// URL`},
		{"bad api", "[[gitlab]]\nweb = \"https://a.example/\"\napi = \"ftp://a.example/\"\n", `:3: gitlab[0].api: `},
		{"bad token env", "[[gitlab]]\nweb = \"https://a.example/\"\ntoken_env = \"MY TOKEN\"\n", `:3: gitlab[0].token_env: "MY TOKEN" is not an environment variable name`},
		{"twice", "[[gitlab]]\nweb = \"https://a.example/\"\n[[gitlab]]\nweb = \"https://a.example\"\n", `:4: gitlab[1].web: https://a.example/ is also the web of [[gitlab]] number 1`},
		{"unknown key", "[[gitlab]]\nweb = \"https://a.example/\"\nraw = \"https://a.example/raw/\"\n", `:3: gitlab.raw: unknown key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.content)
			_, err := Load(p, env(nil))
			if err == nil || !strings.HasPrefix(err.Error(), p+tc.want) {
				t.Errorf("error:\n%v\nwant it to start with\n%s%s", err, p, tc.want)
			}
		})
	}
}
