package sources

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ValidRef applies git's ref-name rules (git check-ref-format) so that a
// branch or tag can travel in a URL path or query unchanged.
func ValidRef(s string) bool {
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

var tagVersionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]*$`)

// ValidTagVersion accepts versions that can travel as a tag in a URL path.
func ValidTagVersion(v string) bool {
	return len(v) <= 128 && tagVersionRE.MatchString(v) && !strings.Contains(v, "..") && !strings.HasSuffix(v, ".lock")
}

// SameHost reports whether u names web's host: letter case, a "www."
// prefix and default ports aside. The scheme does not matter (an
// update_url is a name, never fetched as written).
func SameHost(u, web *url.URL) bool {
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
