package pkgdir

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
)

// Leftover is something of modup's that an earlier run could not settle
// and kept for inspection.
type Leftover struct {
	Path string
	// What it is: "journal" (a change pending still), "set aside" (a
	// journal, record or lock holder modup could not use).
	What string
}

// Leftovers lists what is left in the root's .modup that modup could not
// settle: journals still pending (after Recover, one it could not
// settle), and what it set aside (name.broken-TIME) in journal/,
// journal/txn/, installed/ and locks/. Nothing is read or changed.
func (l Layout) Leftovers() ([]Leftover, error) {
	var out []Leftover
	for _, parts := range [][]string{{FolderJournal}, {FolderJournal, txnFolder}, {FolderInstalled}, {FolderLocks}, {FolderState}} {
		r, err := l.openOwn(false, parts...)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		ents, err := readDirIn(r, ".")
		r.Close()
		if err != nil {
			return out, err
		}
		dir := filepath.Join(append([]string{l.Dir()}, parts...)...)
		for _, e := range ents {
			name := e.Name()
			switch {
			case strings.Contains(name, ".broken-"):
				out = append(out, Leftover{Path: filepath.Join(dir, name), What: "set aside"})
			case parts[0] == FolderJournal && strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, "."):
				out = append(out, Leftover{Path: filepath.Join(dir, name), What: "journal"})
			}
		}
	}
	return out, nil
}
