package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modup/modup/updater"
)

// colour decides whether w gets ANSI colours: only a terminal, never with
// NO_COLOR set.
func (a *app) colour(w io.Writer) bool {
	if a.getenv("NO_COLOR") != "" || a.getenv("TERM") == "dumb" {
		return false
	}
	return a.terminal(w)
}

var statusColour = map[updater.Status]string{
	updater.StatusUpToDate:         "32", // green
	updater.StatusUpdateAvailable:  "33", // yellow
	updater.StatusWouldUpdate:      "33",
	updater.StatusWouldInstall:     "33",
	updater.StatusRolledForward:    "32",
	updater.StatusUpdated:          "32",
	updater.StatusInstalled:        "32",
	updater.StatusRolledBack:       "32",
	updater.StatusError:            "31", // red
	updater.StatusSignatureInvalid: "31",
	updater.StatusFailed:           "31",
	updater.StatusUnreleased:       "36", // cyan
	updater.StatusRemoteOlder:      "36",
	updater.StatusHeld:             "36",
	updater.StatusHeldBack:         "36",
	updater.StatusDisabled:         "36",
	updater.VerifyOK:               "32",
	updater.VerifyChanged:          "31",
}

// paint colours a status (known ones only), its text already clean.
func paint(s string) string {
	code, ok := statusColour[updater.Status(s)]
	if !ok {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// table writes aligned columns. Rows are kept until flush, which measures
// each column by what shows (runes, not the bytes of escape sequences),
// pads, and only then paints the status column: coloured statuses never
// push the columns after them out of line. The output is buffered: 10,000
// rows are a few dozen writes.
//
// Every cell is cleaned (cleanLine) before it is measured: cells show what
// remotes sent. The table adds the only escape sequences it writes itself,
// the colour of the status column.
type table struct {
	out  *bufio.Writer
	rows []tableRow
	// statusCol is the index of the column painted by status, -1 for none.
	statusCol int
}

type tableRow struct {
	cells  []string
	header bool // the title row, never painted
}

// tablePadding is the space between columns.
const tablePadding = 2

func newTable(w io.Writer, header ...string) *table {
	t := &table{out: bufio.NewWriterSize(w, 64<<10), statusCol: -1}
	if len(header) > 0 {
		t.header(header...)
	}
	return t
}

// header adds the title row, which is never painted.
func (t *table) header(cells ...string) {
	t.rows = append(t.rows, tableRow{cells: cells, header: true})
}

// row adds a row of cells, which it keeps (and cleans in place).
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		cells[i] = cleanLine(c)
	}
	t.rows = append(t.rows, tableRow{cells: cells})
}

// blanks is what pad writes spaces from (no string built per cell).
const blanks = "                                                                "

// pad writes n spaces.
func pad(w *bufio.Writer, n int) {
	for n > 0 {
		k := min(n, len(blanks))
		w.WriteString(blanks[:k])
		n -= k
	}
}

func (t *table) flush() error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r.cells {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		cells := r.cells
		for i, c := range cells {
			if i == t.statusCol && !r.header {
				t.out.WriteString(paint(c))
			} else {
				t.out.WriteString(c)
			}
			if i < len(cells)-1 {
				pad(t.out, widths[i]-utf8.RuneCountInString(c)+tablePadding)
			}
		}
		t.out.WriteByte('\n')
	}
	t.rows = nil
	return t.out.Flush()
}

// rowsView says how a command shows its rows: as a table with notes under
// it, or with --json as the object {key: rows}.
type rowsView[T any] struct {
	key    string // the JSON object's one key
	header []string
	// none is said instead of an empty table; "" prints the header alone.
	none string
	// cells is r's table row.
	cells func(r T) []string
	// statusCol is the position, from 1, of the column holding a status,
	// coloured on a terminal; 0 for none.
	statusCol int
	// notes, when set, prints r's lines under the table (through printf).
	notes func(r T)
	// root, when set, is r's root: a ROOT column shows it when the command
	// works on several roots.
	root func(r T) string
}

// showRows prints rows as v says, to a.stdout. The rows go into the JSON
// as given: a nil slice is null.
func showRows[T any](a *app, asJSON bool, rows []T, v rowsView[T]) error {
	if asJSON {
		return writeJSON(a.stdout, map[string]any{v.key: rows})
	}
	if len(rows) == 0 && v.none != "" {
		printf(a.stdout, "%s\n", v.none)
		return nil
	}
	withRoot := a.multiRoot && v.root != nil
	header := v.header
	if withRoot {
		header = append(slices.Clip(header), "ROOT")
	}
	t := newTable(a.stdout, header...)
	if a.colour(a.stdout) {
		t.statusCol = v.statusCol - 1
	}
	for _, r := range rows {
		cells := v.cells(r)
		if withRoot {
			cells = append(cells, v.root(r))
		}
		t.row(cells...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if v.notes != nil {
		for _, r := range rows {
			v.notes(r)
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// oneLine shortens multi-line text (news) for a table cell.
func oneLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// printf writes what format says to w, cleaned (cleanText): every human
// line of modup goes through it, since lines quote what remotes sent
// (names, versions, news, error texts). JSON output does not: it keeps
// the exact text.
func printf(w io.Writer, format string, args ...any) {
	io.WriteString(w, cleanText(fmt.Sprintf(format, args...)))
}

// cleanText makes text safe to print on a terminal: control characters
// (ESC above all: OSC 0 retitles the window, OSC 52 writes the clipboard,
// CSI 2J clears the screen), C1 controls, bidirectional overrides, line
// and paragraph separators and invalid UTF-8 are written as Go escapes
// (\x1b, \u009b, \u202e, \xff), so that they show instead of acting.
// Newlines and tabs stay.
func cleanText(s string) string { return clean(s, false) }

// cleanLine is cleanText for one line (a table cell): newlines and tabs
// are escaped too.
func cleanLine(s string) string { return clean(s, true) }

func clean(s string, line bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if line || (c != '\n' && c != '\t') {
					break
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			if line {
				b.WriteString(strconv.QuoteRune(r)[1:3])
			} else {
				b.WriteRune(r)
			}
		case r < 0x20 || r == 0x7f:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\r'
			b.WriteString(q[1 : len(q)-1])
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports the non-ASCII runes a terminal may act on or that
// reorder what is shown: C1 controls (U+0080-U+009F, CSI among them),
// bidirectional marks, embeddings, overrides and isolates, and the line
// and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
