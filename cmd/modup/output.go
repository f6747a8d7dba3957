package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/modup/modup/updater"
)

// colour decides whether w gets ANSI colours: only a terminal, never with
// NO_COLOR set.
func (a *app) colour(w io.Writer) bool {
	if a.getenv("NO_COLOR") != "" || a.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

var statusColour = map[updater.Status]string{
	updater.StatusUpToDate:        "32", // green
	updater.StatusUpdateAvailable: "33", // yellow
	updater.StatusWouldUpdate:     "33",
	updater.StatusUpdated:         "32",
	updater.StatusInstalled:       "32",
	updater.StatusRolledBack:      "32",
	updater.StatusError:           "31", // red
	updater.StatusFailed:          "31",
	updater.StatusUnreleased:      "36", // cyan
	updater.StatusRemoteOlder:     "36",
}

func paint(on bool, s updater.Status) string {
	code, ok := statusColour[s]
	if !on || !ok {
		return string(s)
	}
	return "\x1b[" + code + "m" + string(s) + "\x1b[0m"
}

// table writes aligned columns. tabwriter writes every cell and padding
// separately, so its output is buffered: 10,000 rows are then a few dozen
// writes instead of 80,000.
type table struct {
	tw  *tabwriter.Writer
	out *bufio.Writer
}

func newTable(w io.Writer, header ...string) *table {
	out := bufio.NewWriterSize(w, 64<<10)
	t := &table{tw: tabwriter.NewWriter(out, 0, 4, 2, ' ', 0), out: out}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	return t.out.Flush()
}

// rowsView says how a command shows its rows: as a table with notes under
// it, or with --json as the object {key: rows}.
type rowsView[T any] struct {
	key    string // the JSON object's one key
	header []string
	// none is said instead of an empty table; "" prints the header alone.
	none string
	// cells is r's table row; col says whether statuses get colours.
	cells func(r T, col bool) []string
	// notes, when set, prints r's lines under the table.
	notes func(r T)
}

// showRows prints rows as v says, to a.stdout. The rows go into the JSON
// as given: a nil slice is null.
func showRows[T any](a *app, asJSON bool, rows []T, v rowsView[T]) error {
	if asJSON {
		return writeJSON(a.stdout, map[string]any{v.key: rows})
	}
	if len(rows) == 0 && v.none != "" {
		fmt.Fprintln(a.stdout, v.none)
		return nil
	}
	col := a.colour(a.stdout)
	t := newTable(a.stdout, v.header...)
	for _, r := range rows {
		t.row(v.cells(r, col)...)
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
