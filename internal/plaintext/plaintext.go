// Package plaintext turns the HTML of a2 descriptions into plain text, for
// the terminal (modup info) and for an index's documents.
package plaintext

import (
	"html"
	"strings"
)

// Of shows a module description as text: a2 descriptions carry HTML
// (<b>, <br>, <a href=…>, &amp;), which a terminal or a plain-text
// document would show raw. Tags
// are dropped (a line break, paragraph or list item becomes a space), entities are
// decoded, and white space runs become one space. A '<' that starts no
// tag ("a < b") stays.
func Of(s string) string {
	if strings.ContainsAny(s, "<&") {
		var b strings.Builder
		for {
			i := strings.IndexByte(s, '<')
			if i < 0 {
				b.WriteString(s)
				break
			}
			b.WriteString(s[:i])
			s = s[i:]
			end := strings.IndexByte(s, '>')
			if len(s) < 2 || !isTagStart(s[1]) || end < 0 {
				b.WriteByte('<')
				s = s[1:]
				continue
			}
			if breaksLine(s[1:end]) {
				b.WriteByte(' ')
			}
			s = s[end+1:]
		}
		s = html.UnescapeString(b.String())
	}
	return strings.Join(strings.Fields(s), " ")
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c|0x20 && c|0x20 <= 'z')
}

// breaksLine reports whether a tag (its text between '<' and '>') ends a
// line when rendered: <br>, </p>, <li>, ...; inline tags (<b>, <a>) do not.
func breaksLine(tag string) bool {
	name := strings.TrimLeft(tag, "/")
	if i := strings.IndexAny(name, " \t\r\n/"); i >= 0 {
		name = name[:i]
	}
	switch strings.ToLower(name) {
	case "br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre":
		return true
	}
	return false
}
