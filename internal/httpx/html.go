package httpx

import "bytes"

// LooksLikeHTML reports whether b starts, after an optional UTF-8 byte order
// mark and white space, with '<': an HTML page (a captive portal, a login
// page) or an XML error document where JSON was expected.
func LooksLikeHTML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n\f\v")
	return len(b) > 0 && b[0] == '<'
}
