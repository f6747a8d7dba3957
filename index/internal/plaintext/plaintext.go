// Package plaintext turns the HTML bits of a2 descriptions into plain text.
package plaintext

import (
	"html"
	"strings"
)

// Of turns a module description, which a2 shows as HTML
// ("<b>formatting</b>", "&amp;"), into plain text: tags dropped (a line
// break for <br> and block ends), entities decoded, white space collapsed.
func Of(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := strings.IndexByte(s, '>')
		if end < 0 || !looksLikeTag(s[1:end]) {
			b.WriteByte('<') // a lone "<" (a < b) is text
			s = s[1:]
			continue
		}
		if breaks(s[1:end]) {
			b.WriteByte(' ')
		}
		s = s[end+1:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

// looksLikeTag reports whether what is between < and > is a tag or a
// comment: it starts with a letter, '/' or '!'.
func looksLikeTag(inner string) bool {
	if inner == "" {
		return false
	}
	c := inner[0]
	return c == '/' || c == '!' || ('a' <= c|0x20 && c|0x20 <= 'z')
}

// breaks reports tags that separate words (<br>, </p>, <li>).
func breaks(inner string) bool {
	name := strings.ToLower(strings.TrimLeft(inner, "/"))
	name, _, _ = strings.Cut(name, " ")
	name = strings.TrimRight(name, "/")
	switch name {
	case "br", "p", "div", "li", "ul", "ol", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}
