package github

import (
	"net/url"
	"strings"
	"unicode/utf8"
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
	if !sameHost(u, web) {
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
		if !validBranch(r.Branch) {
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

// sameHost reports whether u names web's host: letter case, a "www." prefix
// and default ports aside. The scheme does not matter (an update_url is a
// name, never fetched as written).
func sameHost(u, web *url.URL) bool {
	host, port := splitHost(u)
	whost, wport := splitHost(web)
	if port != wport {
		return false
	}
	host = strings.TrimPrefix(host, "www.")
	whost = strings.TrimPrefix(whost, "www.")
	return host != "" && host == whost
}

func splitHost(u *url.URL) (host, port string) {
	host = strings.ToLower(u.Hostname())
	port = u.Port()
	if port == "" || (port == "443" && u.Scheme == "https") || (port == "80" && u.Scheme == "http") {
		// Default ports compare equal whichever scheme names them.
		port = ""
	}
	return host, port
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

// validBranch applies git's ref-name rules (git check-ref-format) so that a
// branch can travel in a URL path unchanged.
func validBranch(s string) bool {
	if s == "" || len(s) > 255 || !utf8.ValidString(s) || s == "@" {
		return false
	}
	if strings.HasPrefix(s, "-") || strings.HasSuffix(s, ".") ||
		strings.Contains(s, "..") || strings.Contains(s, "@{") {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\#%", c) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
