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
