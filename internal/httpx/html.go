package httpx

import "github.com/modup/modup/sources"

// LooksLikeHTML reports whether b starts, after an optional UTF-8 byte order
// mark and white space, with '<': an HTML page (a captive portal, a login
// page) or an XML error document where JSON was expected. It is
// sources.LooksLikeHTML, here for callers that hold raw HTTP bodies.
func LooksLikeHTML(b []byte) bool { return sources.LooksLikeHTML(b) }
