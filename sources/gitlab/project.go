package gitlab

import (
	"net/url"
	"slices"
	"strings"

	"github.com/modup/modup/sources"
)

// Project is a GitLab project named by an update_url: its full path
// (GROUP[/SUBGROUP...]/PROJECT, as written) and the branch of a
// /-/tree/BRANCH form (empty otherwise).
type Project struct {
	Path   string
	Branch string
}

// Name is the project's own name, the last element of its path.
func (p Project) Name() string {
	return p.Path[strings.LastIndexByte(p.Path, '/')+1:]
}

// String is the path, with "@BRANCH" when a branch is named.
func (p Project) String() string {
	if p.Branch != "" {
		return p.Path + "@" + p.Branch
	}
	return p.Path
}

// key names the project as GitLab matches it: without regard to case.
func (p Project) key() string { return strings.ToLower(p.Path) }

// maxDepth is GitLab's limit on nested groups (20) plus the project.
const maxDepth = 21

// ParseProjectURL reads an update_url of the forms
//
//	https://gitlab.com/GROUP/PROJECT
//	https://gitlab.com/GROUP/SUBGROUP/.../PROJECT
//	https://gitlab.com/GROUP/PROJECT.git
//	https://gitlab.com/GROUP/PROJECT/-/tree/BRANCH   (BRANCH may hold slashes)
//
// in any letter case, with or without a trailing slash, where the host (and
// any path prefix) is webURL's. It reports false for anything else,
// including other pages of a project (/-/releases) and names GitLab would
// not accept.
func ParseProjectURL(updateURL, webURL string) (Project, bool) {
	web, err := url.Parse(strings.TrimSpace(webURL))
	if err != nil || web.Host == "" {
		return Project{}, false
	}
	raw := strings.TrimSpace(updateURL)
	if strings.ContainsAny(raw, " \t\r\n\\") {
		return Project{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Project{}, false
	}
	if (u.Scheme != "http" && u.Scheme != "https") || !sources.SameHost(u, web) {
		return Project{}, false
	}
	path := u.EscapedPath()
	prefix := strings.TrimRight(web.EscapedPath(), "/") + "/"
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return Project{}, false
	}
	rest := strings.TrimSuffix(path[len(prefix):], "/")
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		dec, err := url.PathUnescape(s)
		if err != nil || dec == "" || strings.Contains(dec, "/") {
			return Project{}, false
		}
		segs[i] = dec
	}
	var p Project
	if i := slices.Index(segs, "-"); i >= 0 {
		// GROUP/PROJECT/-/tree/BRANCH...
		if len(segs) < i+3 || !strings.EqualFold(segs[i+1], "tree") {
			return Project{}, false
		}
		p.Branch = strings.Join(segs[i+2:], "/")
		if !sources.ValidRef(p.Branch) {
			return Project{}, false
		}
		segs = segs[:i]
	} else if last := segs[len(segs)-1]; len(last) > len(".git") && strings.EqualFold(last[len(last)-4:], ".git") {
		segs[len(segs)-1] = last[:len(last)-4]
	}
	if len(segs) < 2 || len(segs) > maxDepth {
		return Project{}, false
	}
	for _, s := range segs {
		if !validPathSegment(s) {
			return Project{}, false
		}
	}
	p.Path = strings.Join(segs, "/")
	return p, true
}

// validPathSegment applies GitLab's rules for group and project paths:
// letters, digits, '_', '-' and '.', starting with a letter, digit or '_',
// not ending in '.', ".git" or ".atom", at most 255 bytes.
func validPathSegment(s string) bool {
	if s == "" || len(s) > 255 || s[0] == '-' || s[0] == '.' || strings.HasSuffix(s, ".") {
		return false
	}
	lower := strings.ToLower(s)
	if strings.HasSuffix(lower, ".git") || strings.HasSuffix(lower, ".atom") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
