package github

import (
	"net/url"
	"strings"

	"github.com/modup/modup/sources"
)

// Repo is a GitHub repository named by an update_url, with the branch of a
// /tree/BRANCH form (empty otherwise).
type Repo struct {
	Owner, Name, Branch string
}

// String is "OWNER/REPO", with "@BRANCH" when a branch is named.
func (r Repo) String() string {
	if r.Branch != "" {
		return r.Owner + "/" + r.Name + "@" + r.Branch
	}
	return r.Owner + "/" + r.Name
}

// key names the repository (not the branch) as GitHub matches it: owner and
// name without regard to case.
func (r Repo) key() string {
	return strings.ToLower(r.Owner + "/" + r.Name)
}

// ParseRepoURL reads an update_url of the forms
//
//	https://github.com/OWNER/REPO
//	https://github.com/OWNER/REPO.git
//	https://github.com/OWNER/REPO/
//	https://github.com/OWNER/REPO/tree/BRANCH   (BRANCH may hold slashes)
//
// in any letter case, over http or https, with or without "www.", where the
// host (and any path prefix) is webURL's. It reports false for anything
// else, including names GitHub would not accept.
func ParseRepoURL(updateURL string, webURL string) (Repo, bool) {
	web, err := url.Parse(strings.TrimSpace(webURL))
	if err != nil || web.Host == "" {
		return Repo{}, false
	}
	raw := strings.TrimSpace(updateURL)
	if strings.ContainsAny(raw, " \t\r\n\\") {
		return Repo{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery {
		return Repo{}, false
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Repo{}, false
	}
	if !sources.SameHost(u, web) {
		return Repo{}, false
	}

	// Everything below webURL's path: OWNER/REPO[/tree/BRANCH...].
	path := u.EscapedPath()
	prefix := strings.TrimRight(web.EscapedPath(), "/") + "/"
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return Repo{}, false
	}
	rest := strings.TrimSuffix(path[len(prefix):], "/")
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		dec, err := url.PathUnescape(s)
		if err != nil || dec == "" || strings.Contains(dec, "/") {
			return Repo{}, false
		}
		segs[i] = dec
	}

	var r Repo
	switch {
	case len(segs) == 2:
		r.Owner, r.Name = segs[0], segs[1]
		if len(r.Name) > len(".git") && strings.EqualFold(r.Name[len(r.Name)-4:], ".git") {
			r.Name = r.Name[:len(r.Name)-4]
		}
	case len(segs) >= 4 && strings.EqualFold(segs[2], "tree"):
		r.Owner, r.Name = segs[0], segs[1]
		r.Branch = strings.Join(segs[3:], "/")
		if !sources.ValidRef(r.Branch) {
			return Repo{}, false
		}
	default:
		return Repo{}, false
	}
	if !validOwner(r.Owner) || !validRepoName(r.Name) {
		return Repo{}, false
	}
	return r, true
}

// validOwner accepts GitHub user and organisation names: letters, digits,
// hyphens and (GitHub Enterprise managed users) underscores, starting with
// a letter or digit.
func validOwner(s string) bool {
	if s == "" || len(s) > 100 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validRepoName accepts GitHub repository names: letters, digits, '.', '-'
// and '_', at most 100, not made of dots only, not ".git".
func validRepoName(s string) bool {
	if s == "" || len(s) > 100 || strings.Trim(s, ".") == "" || strings.EqualFold(s, ".git") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
