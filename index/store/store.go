// Package store keeps what the index crawler learns in one embedded SQLite
// database (modernc.org/sqlite: pure Go, so modup cross-compiles without
// cgo).
//
// The database is opened in one place, Open, which brings its schema up to
// date with numbered migrations checked by PRAGMA user_version. It runs in
// WAL mode: a refresh writes through one connection, one transaction per
// source, while readers use their own connections and see the last
// committed state, never blocked by the writer. A refresh killed at any
// moment leaves the last committed data: SQLite rolls an unfinished
// transaction back when the database is next opened.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNoIndex: OpenExisting found no database at the path.
var ErrNoIndex = errors.New("no index database")

// ErrNewerSchema: the database was written by a newer modup.
var ErrNewerSchema = errors.New("index database from a newer modup")

// Store is an open index database. It is safe for concurrent use.
type Store struct {
	path string
	// w is the one writing connection; r are the readers' connections.
	w, r *sql.DB
}

// Open opens (creating when missing) the index database at path and
// migrates it to the current schema.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	if st, err := os.Stat(abs); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open index %s: not a regular file", path)
	}
	w, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	// SQLite has one writer at a time; one connection makes that explicit
	// and keeps every write in order.
	w.SetMaxOpenConns(1)
	s := &Store{path: abs, w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	return s, nil
}

// OpenExisting is Open for commands that read or refresh an index that
// `modup index build` made: a missing file is ErrNoIndex.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (run `modup index build --db %s` first)", path, ErrNoIndex, path)
	}
	return Open(ctx, path)
}

// dsn is the driver's name for the database at abs: WAL, a busy timeout
// (another process's writer), foreign keys, and for writers transactions
// that take the write lock when they begin. NORMAL synchronisation in WAL
// mode keeps the database consistent through a crash of modup (a power
// loss may lose the last transactions, never corrupt).
func dsn(abs string, readOnly bool) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x → /C:/x
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes every connection.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// Size is the database's size on disk in bytes (the main file and its
// write-ahead log).
func (s *Store) Size() int64 {
	var n int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// Checkpoint folds the write-ahead log into the database file (after a
// build, so the file alone holds everything).
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// times are stored as Unix milliseconds; 0 is "never".
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}
