package github

import (
	"strings"
	"testing"
)

func TestParseRepoURL(t *testing.T) {
	const gh = "https://github.com/"
	tests := []struct {
		name string
		url  string
		web  string
		want Repo
		ok   bool
	}{
		{name: "plain", url: "https://github.com/ewerybody/a2.modules", web: gh, want: Repo{Owner: "ewerybody", Name: "a2.modules"}, ok: true},
		{name: "trailing slash", url: "https://github.com/ewerybody/a2.modules/", web: gh, want: Repo{Owner: "ewerybody", Name: "a2.modules"}, ok: true},
		{name: "dot git", url: "https://github.com/ewerybody/a2.modules.git", web: gh, want: Repo{Owner: "ewerybody", Name: "a2.modules"}, ok: true},
		{name: "dot GIT upper", url: "https://github.com/o/r.GIT", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "upper case host and path", url: "HTTPS://GITHUB.COM/Ewerybody/A2.Modules", web: gh, want: Repo{Owner: "Ewerybody", Name: "A2.Modules"}, ok: true},
		{name: "http", url: "http://github.com/o/r", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "www", url: "https://www.github.com/o/r", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "default port", url: "https://github.com:443/o/r", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "surrounding space", url: "  https://github.com/o/r \n", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "fragment ignored", url: "https://github.com/o/r#readme", web: gh, want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "tree branch", url: "https://github.com/a2script/a2.modlab/tree/main", web: gh, want: Repo{Owner: "a2script", Name: "a2.modlab", Branch: "main"}, ok: true},
		{name: "tree branch with slashes", url: "https://github.com/o/r/tree/feature/new-ui", web: gh, want: Repo{Owner: "o", Name: "r", Branch: "feature/new-ui"}, ok: true},
		{name: "tree branch trailing slash", url: "https://github.com/o/r/tree/dev/", web: gh, want: Repo{Owner: "o", Name: "r", Branch: "dev"}, ok: true},
		{name: "tree branch keeps case", url: "https://github.com/o/r/tree/Release-2.x", web: gh, want: Repo{Owner: "o", Name: "r", Branch: "Release-2.x"}, ok: true},
		{name: "owner with hyphen and underscore", url: "https://github.com/my-org_emu/repo_1", web: gh, want: Repo{Owner: "my-org_emu", Name: "repo_1"}, ok: true},
		{name: "enterprise host", url: "https://git.example.com/team/mods", web: "https://git.example.com/", want: Repo{Owner: "team", Name: "mods"}, ok: true},
		{name: "test server port", url: "http://127.0.0.1:8080/o/r", web: "http://127.0.0.1:8080", want: Repo{Owner: "o", Name: "r"}, ok: true},
		{name: "web path prefix", url: "https://example.com/git/o/r", web: "https://example.com/git/", want: Repo{Owner: "o", Name: "r"}, ok: true},

		{name: "empty", url: "", web: gh},
		{name: "not a url", url: "github.com/o/r", web: gh},
		{name: "other host", url: "https://gitlab.com/o/r", web: gh},
		{name: "host suffix trick", url: "https://github.com.evil.example/o/r", web: gh},
		{name: "host prefix trick", url: "https://evilgithub.com/o/r", web: gh},
		{name: "wrong port", url: "http://127.0.0.1:9090/o/r", web: "http://127.0.0.1:8080"},
		{name: "enterprise url against github.com", url: "https://git.example.com/o/r", web: gh},
		{name: "github.com against enterprise", url: "https://github.com/o/r", web: "https://git.example.com/"},
		{name: "ftp", url: "ftp://github.com/o/r", web: gh},
		{name: "user info", url: "https://me:secret@github.com/o/r", web: gh},
		{name: "query", url: "https://github.com/o/r?tab=readme", web: gh},
		{name: "owner only", url: "https://github.com/o", web: gh},
		{name: "owner only slash", url: "https://github.com/o/", web: gh},
		{name: "root", url: "https://github.com/", web: gh},
		{name: "double slash", url: "https://github.com/o//r", web: gh},
		{name: "dot dot repo", url: "https://github.com/o/..", web: gh},
		{name: "dot repo", url: "https://github.com/o/.", web: gh},
		{name: "dot dot owner", url: "https://github.com/../r", web: gh},
		{name: "dots only repo", url: "https://github.com/o/...", web: gh},
		{name: "just .git", url: "https://github.com/o/.git", web: gh},
		{name: "encoded slash", url: "https://github.com/o%2Fx/r", web: gh},
		{name: "encoded dot dot", url: "https://github.com/o/%2e%2e", web: gh},
		{name: "space in name", url: "https://github.com/o/r r", web: gh},
		{name: "odd char in owner", url: "https://github.com/o$/r", web: gh},
		{name: "owner starts with hyphen", url: "https://github.com/-o/r", web: gh},
		{name: "unicode owner", url: "https://github.com/ö/r", web: gh},
		{name: "backslash", url: `https://github.com/o\r`, web: gh},
		{name: "blob path", url: "https://github.com/o/r/blob/main/a2modsource.json", web: gh},
		{name: "releases page", url: "https://github.com/o/r/releases", web: gh},
		{name: "tree without branch", url: "https://github.com/o/r/tree", web: gh},
		{name: "tree empty branch", url: "https://github.com/o/r/tree/", web: gh},
		{name: "branch with dot dot", url: "https://github.com/o/r/tree/a/../b", web: gh},
		{name: "branch with double slash", url: "https://github.com/o/r/tree/a//b", web: gh},
		{name: "branch .lock", url: "https://github.com/o/r/tree/x.lock", web: gh},
		{name: "branch starting with dash", url: "https://github.com/o/r/tree/-x", web: gh},
		{name: "branch with colon", url: "https://github.com/o/r/tree/a:b", web: gh},
		{name: "branch with encoded newline", url: "https://github.com/o/r/tree/a%0Ab", web: gh},
		{name: ".git with tree", url: "https://github.com/o/r.git/tree/main", web: gh, want: Repo{Owner: "o", Name: "r.git", Branch: "main"}, ok: true},
		{name: "long owner", url: "https://github.com/" + strings.Repeat("a", 101) + "/r", web: gh},
		{name: "long repo", url: "https://github.com/o/" + strings.Repeat("a", 101), web: gh},
		{name: "bad web url", url: "https://github.com/o/r", web: "::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRepoURL(tt.url, tt.web)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseRepoURL(%q, %q) = %+v, %v; want %+v, %v", tt.url, tt.web, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRepoURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/o/r",
		"https://github.com/o/r.git",
		"http://www.github.com/o/r/",
		"https://github.com/o/r/tree/feature/x",
		"https://github.com/o/%2e%2e",
		"https://github.com/../..",
		"https://github.com/o/r/tree/a/../b",
		"HTTPS://GITHUB.COM:443/O/R",
		"https://github.com/o/r?x#y",
	} {
		f.Add(s, "https://github.com/")
	}
	f.Add("http://127.0.0.1:1/o/r", "http://127.0.0.1:1/")
	f.Fuzz(func(t *testing.T, updateURL, webURL string) {
		r, ok := ParseRepoURL(updateURL, webURL)
		if !ok {
			if r != (Repo{}) {
				t.Fatalf("not ok but %+v", r)
			}
			return
		}
		for _, s := range []string{r.Owner, r.Name} {
			if s == "" || strings.ContainsAny(s, "/\\") || strings.Trim(s, ".") == "" {
				t.Fatalf("ParseRepoURL(%q, %q) = %+v: bad name %q", updateURL, webURL, r, s)
			}
		}
		if r.Branch != "" && (strings.Contains(r.Branch, "..") || strings.HasPrefix(r.Branch, "/") || strings.HasSuffix(r.Branch, "/")) {
			t.Fatalf("ParseRepoURL(%q, %q) = %+v: bad branch", updateURL, webURL, r)
		}
	})
}
