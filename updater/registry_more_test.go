package updater_test

import (
	"strings"
	"testing"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/gist"
	"github.com/modup/modup/sources/gitlab"
	"github.com/modup/modup/sources/gitlab/gitlabtest"
	"github.com/modup/modup/updater"
)

// TestGitLabTokensStayWithTheirHosts: gitlab.com (moved to one fake by the
// environment) gets GITLAB_TOKEN; a self-hosted instance gets the token of
// its own token_env, and none without one, never gitlab.com's.
func TestGitLabTokensStayWithTheirHosts(t *testing.T) {
	com, corp, bare := gitlabtest.New(t), gitlabtest.New(t), gitlabtest.New(t)
	env := map[string]string{"GITLAB_TOKEN": "com-token", "CORP_TOKEN": "corp-token"}
	for _, kv := range com.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	s := updater.NewSources(updater.Config{
		Getenv: func(k string) string { return env[k] },
		GitLabHosts: []updater.GitLabHost{
			{Web: corp.Web.URL + "/", API: corp.API.URL + "/api/v4/", TokenEnv: "CORP_TOKEN"},
			{Web: bare.Web.URL + "/"},
		},
	})
	for _, tc := range []struct {
		srv   *gitlabtest.Server
		token string
	}{{com, "com-token"}, {corp, "corp-token"}, {bare, ""}} {
		tc.srv.SetPrivate("g/p", tc.token)
		tc.srv.SetManifest("g/p", "HEAD", []byte(`{"version": "1.0.0"}`))
		src, err := s.Registry.For(tc.srv.ProjectURL("g/p"))
		if err != nil || src.Kind() != gitlab.Kind {
			t.Fatalf("For(%s) = %v, %v", tc.srv.ProjectURL("g/p"), src, err)
		}
		_, err = src.Latest(t.Context(), sources.Query{UpdateURL: tc.srv.ProjectURL("g/p")})
		if (err == nil) != (tc.token != "") {
			t.Errorf("%s: Latest: %v", tc.srv.Web.URL, err)
		}
		for _, r := range tc.srv.Requests() {
			if r.Token && (r.Host != "api" || tc.token == "") {
				t.Errorf("%s: a token reached %s %s", tc.srv.Web.URL, r.Host, r.Path)
			}
		}
	}
	if src, err := s.Registry.For("https://gist.github.com/someone/0123abcd"); err != nil || src.Kind() != gist.Kind {
		t.Errorf("a gist URL: %v, %v", src, err)
	}
}
