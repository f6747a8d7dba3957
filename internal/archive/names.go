package archive

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxComponent is the longest path component (in bytes) accepted; longer
// ones fail on most file systems, and we want to fail before writing.
const maxComponent = 255

// checkName validates an entry name as stored in a zip and returns it without
// the trailing '/' that marks a folder. reason is "" when the name is
// acceptable on every platform modup runs on (Windows above all: a2 is a
// Windows program, and an archive must not extract differently there).
func checkName(name string) (clean string, dir bool, reason string) {
	if name == "" {
		return "", false, "empty name"
	}
	if !utf8.ValidString(name) {
		return "", false, "name is not valid UTF-8"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", false, fmt.Sprintf("control character %q in name", r)
		}
	}
	if len(name) >= 2 && name[1] == ':' && isASCIILetter(name[0]) {
		return "", false, "drive letter in name"
	}
	if strings.ContainsRune(name, '\\') {
		return "", false, "backslash in name"
	}
	if name[0] == '/' {
		return "", false, "absolute path"
	}
	if strings.ContainsRune(name, ':') {
		return "", false, "':' in name (Windows alternate data stream)"
	}
	if i := strings.IndexAny(name, `<>"|?*`); i >= 0 {
		return "", false, fmt.Sprintf("character %q is not allowed in Windows file names", name[i])
	}
	clean, dir = strings.CutSuffix(name, "/")
	for c := range strings.SplitSeq(clean, "/") {
		if r := checkComponent(c); r != "" {
			return "", false, r
		}
	}
	return clean, dir, ""
}

func checkComponent(c string) string {
	switch {
	case c == "":
		return "empty path component"
	case c == "..":
		return `".." path component`
	case c == ".":
		return `"." path component`
	case strings.HasSuffix(c, ".") || strings.HasSuffix(c, " "):
		return fmt.Sprintf("path component %s ends in a dot or space", quoteName(c))
	case len(c) > maxComponent:
		return fmt.Sprintf("path component longer than %d bytes", maxComponent)
	case isReserved(c):
		return fmt.Sprintf("reserved Windows device name %q", c)
	}
	return ""
}

func isASCIILetter(b byte) bool { return 'a' <= b|0x20 && b|0x20 <= 'z' }

// isReserved reports whether Windows treats the component as a device: the
// part before the first dot (trailing spaces ignored) is CON, PRN, AUX, NUL,
// CONIN$, CONOUT$, COM0-9 or LPT0-9 (superscript ¹²³ too), in any case.
func isReserved(c string) bool {
	stem, _, _ := strings.Cut(c, ".")
	stem = strings.TrimRight(stem, " ")
	switch strings.ToUpper(stem) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) < 4 {
		return false
	}
	head := strings.ToUpper(stem[:3])
	if head != "COM" && head != "LPT" {
		return false
	}
	switch stem[3:] {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}

// foldKey maps a path to a key equal for all paths that a case-insensitive
// file system (NTFS, APFS by default) treats as one: every rune becomes the
// smallest rune of its Unicode case-folding orbit, as strings.EqualFold
// compares. APFS also ignores the Unicode normalization form, so a
// non-ASCII path is decomposed (NFD) first: "é" written as one rune and as
// "e" plus a combining accent give the same key.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// For ASCII the smallest rune of each orbit is the upper-case letter
		// (even for k and s, whose orbits hold U+212A and U+017F).
		return strings.ToUpper(s)
	}
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		b.WriteRune(m)
	}
	return b.String()
}

// Names in messages: one longer than maxShown bytes is shown as its first
// and last shownEach bytes around an ellipsis, so that a name 1,000
// folders deep makes an error of a few lines, not of 13 KB.
const (
	maxShown  = 120
	shownEach = 40
)

// shortName is name, or for a long one its start and end around "…" and
// its length in bytes. Cuts fall on rune boundaries.
func shortName(name string) string {
	if len(name) <= maxShown {
		return name
	}
	i := shownEach
	for i > 0 && !utf8.RuneStart(name[i]) {
		i--
	}
	j := len(name) - shownEach
	for j < len(name) && !utf8.RuneStart(name[j]) {
		j++
	}
	return fmt.Sprintf("%s…%s (%d bytes)", name[:i], name[j:], len(name))
}

// quoteName quotes a name for a message, shortened as shortName does: the
// quotes hold the start and end, the length follows them.
func quoteName(name string) string {
	if len(name) <= maxShown {
		return strconv.Quote(name)
	}
	short := shortName(name)
	k := strings.LastIndex(short, " (")
	return strconv.Quote(short[:k]) + short[k:]
}
