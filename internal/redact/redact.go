// Package redact hides the credentials a URL can carry
// (https://user:password@host/) wherever modup shows, logs or stores a URL,
// or a message that quotes one: check and info output, errors, -v and
// daemon logs, state files and the request cache.
//
// A password becomes "xxxxx", as net/url's Redacted writes it
// (https://user:xxxxx@host/). A user name without a password is hidden as
// well (https://xxxxx@host/), since it is often a token.
package redact

import "strings"

// Mask replaces what is hidden.
const Mask = "xxxxx"

// URL returns the URL raw with its credentials hidden; everything else is
// kept as written.
func URL(raw string) string { return Text(raw) }

// Text returns s with the credentials of every URL in it hidden, as URL
// does: for messages that quote URLs.
func Text(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s // no URL, or none with credentials
	}
	var b strings.Builder
	rest := s
	changed := false
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			break
		}
		start := i + len("://")
		end := start + authorityEnd(rest[start:])
		at := strings.LastIndexByte(rest[start:end], '@')
		if at < 0 {
			b.WriteString(rest[:end])
			rest = rest[end:]
			continue
		}
		changed = true
		userinfo := rest[start : start+at]
		b.WriteString(rest[:start])
		if user, _, hasPassword := strings.Cut(userinfo, ":"); hasPassword {
			b.WriteString(user + ":" + Mask)
		} else {
			b.WriteString(Mask)
		}
		rest = rest[start+at:]
	}
	if !changed {
		return s
	}
	b.WriteString(rest)
	return b.String()
}

// authorityEnd is the length of the authority (userinfo@host:port) at the
// start of s: up to the path, query or fragment, or to anything that
// cannot be part of a URL in running text (space, quotes, brackets).
func authorityEnd(s string) int {
	if i := strings.IndexAny(s, "/?#\\ \t\r\n\"'`<>()[]{}|"); i >= 0 {
		return i
	}
	return len(s)
}

// Error returns err with a message whose URLs are redacted (Text);
// errors.Is and errors.As see err itself. A nil or clean err is returned
// as it is.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := Text(msg)
	if clean == msg {
		return err
	}
	return &redacted{err: err, msg: clean}
}

type redacted struct {
	err error
	msg string
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
