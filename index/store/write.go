package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/sources"
)

// ErrNameTaken: another source already publishes a package of that name
// (names are compared ignoring case).
var ErrNameTaken = errors.New("package name already in the index")

// Version is one recorded version of a source's package.
type Version struct {
	Version    string
	Tag        string
	Published  time.Time
	FirstSeen  time.Time
	PayloadURL string
	Size       int64
	SHA256     string
	Prerelease bool
	// Manifest is the version's a2modsource.json as found in its zip; nil
	// when there was none that parsed.
	Manifest []byte
	Problems []doc.Problem
	Modules  []doc.Module
	// Mirrored: the zip is in the mirror folder.
	Mirrored bool
	// PublicKey and KeyRotation are the release's signing key and key
	// rotation as the author's source reports them ("" and nil when it
	// names none).
	PublicKey   string
	KeyRotation *doc.KeyRotation
	// Signature is the sha256 of the release's signature as mirrored
	// beside its zip (NAME/VERSION.zip.minisig), verified with the
	// release's key; "" when none is, NoSignature when one was looked for
	// and none is usable.
	Signature string
}

// NoSignature is Version.Signature of a mirrored version whose signature
// was looked for once and is missing or does not verify: not asked again.
const NoSignature = "-"

// MirroredSignature reports whether v's signature is in the mirror.
func (v Version) MirroredSignature() bool { return v.Signature != "" && v.Signature != NoSignature }

// Blocking reports whether v has a problem that keeps it from install.
func (v Version) Blocking() bool {
	return slices.ContainsFunc(v.Problems, func(p doc.Problem) bool { return p.Blocking })
}

// Update is what one refresh of one source learned; Apply writes it in one
// transaction.
type Update struct {
	UpdateURL string
	Kind      string
	// Checked is when the refresh ran.
	Checked time.Time
	// Err is the refresh's error ("" when it went well). The source keeps
	// its data either way; only what Read says was read replaces it.
	Err string
	// Read is set when the pointer manifest was read: Name, Pointer and
	// PointerVersion replace the recorded ones.
	Read           bool
	Name           string
	Pointer        []byte
	PointerVersion string
	// Add are versions seen for the first time.
	Add []Version
	// Mirrored are recorded versions whose zip is now in the mirror.
	Mirrored []string
	// Drop are recorded versions the source no longer publishes.
	Drop []string
	// Keys give recorded versions that have no key yet the one their
	// author's source now reports (a version recorded by an older modup).
	Keys map[string]Key
	// Signatures are recorded versions whose signature was looked for:
	// the sha256 of the one now mirrored, or NoSignature.
	Signatures map[string]string
	// Problems are found later with recorded versions (a signature that
	// does not verify): each is added to its version's, never blocking.
	Problems map[string]doc.Problem
	// Cache are the conditional-request entries the refresh stored.
	Cache map[string]sources.CacheEntry
}

// Key is a release's signing key as its author's source reports it.
type Key struct {
	PublicKey   string
	KeyRotation *doc.KeyRotation
}

// SetSources makes the index's sources exactly urls (in that order for new
// ones): sources not listed are removed with their versions.
func (s *Store) SetSources(ctx context.Context, urls []string) (added, removed int, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT update_url FROM sources")
	if err != nil {
		return 0, 0, err
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return 0, 0, err
		}
		have[u] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	want := map[string]bool{}
	for _, u := range urls {
		want[u] = true
		if have[u] {
			continue
		}
		have[u] = true
		if _, err := tx.ExecContext(ctx, "INSERT INTO sources (update_url) VALUES (?)", u); err != nil {
			return 0, 0, fmt.Errorf("add source %s: %w", u, err)
		}
		added++
	}
	for u := range have {
		if want[u] {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sources WHERE update_url = ?", u); err != nil {
			return 0, 0, fmt.Errorf("remove source %s: %w", u, err)
		}
		removed++
	}
	if added+removed > 0 {
		now := toMillis(time.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'generated'", now); err != nil {
			return 0, 0, err
		}
	}
	if err := bumpRevision(ctx, tx); err != nil {
		return 0, 0, err
	}
	return added, removed, tx.Commit()
}

func bumpRevision(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE meta SET value = value + 1 WHERE key = 'revision'")
	return err
}

// SetRefreshed records when a whole crawl ended.
func (s *Store) SetRefreshed(ctx context.Context, t time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'refreshed'", toMillis(t)); err != nil {
		return err
	}
	if err := bumpRevision(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Apply writes one source's refresh in one transaction, and reports
// whether the index data changed (a new name or pointer, versions added,
// dropped or mirrored). A name another source holds is refused with
// ErrNameTaken, and nothing but the error is recorded.
func (s *Store) Apply(ctx context.Context, u Update) (changed bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var (
		id         int64
		oldName    string
		oldPointer []byte
		oldPV      string
	)
	err = tx.QueryRowContext(ctx, "SELECT id, name, pointer, pointer_version FROM sources WHERE update_url = ?", u.UpdateURL).
		Scan(&id, &oldName, &oldPointer, &oldPV)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.ExecContext(ctx, "INSERT INTO sources (update_url) VALUES (?)", u.UpdateURL)
		if err != nil {
			return false, err
		}
		if id, err = res.LastInsertId(); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	checked := toMillis(u.Checked)
	var taken error
	if u.Read && u.Name != oldName {
		var other string
		err := tx.QueryRowContext(ctx, "SELECT update_url FROM sources WHERE name = ? COLLATE NOCASE AND name != '' AND id != ?", u.Name, id).Scan(&other)
		switch {
		case err == nil:
			taken = fmt.Errorf("%w: %s already publishes %q (names are compared ignoring case)", ErrNameTaken, other, u.Name)
		case !errors.Is(err, sql.ErrNoRows):
			return false, err
		}
	}
	if taken != nil {
		if _, err := tx.ExecContext(ctx, "UPDATE sources SET kind = ?, last_error = ?, checked = ? WHERE id = ?",
			u.Kind, "the package name "+u.Name+" is taken: "+taken.Error(), checked, id); err != nil {
			return false, err
		}
		if err := writeCache(ctx, tx, u.Cache); err != nil {
			return false, err
		}
		if err := bumpRevision(ctx, tx); err != nil {
			return false, err
		}
		if err := tx.Commit(); err != nil {
			return false, err
		}
		return false, taken
	}

	if u.Err == "" {
		_, err = tx.ExecContext(ctx, "UPDATE sources SET kind = ?, last_error = '', last_ok = ?, checked = ? WHERE id = ?", u.Kind, checked, checked, id)
	} else {
		_, err = tx.ExecContext(ctx, "UPDATE sources SET kind = ?, last_error = ?, checked = ? WHERE id = ?", u.Kind, u.Err, checked, id)
	}
	if err != nil {
		return false, err
	}
	if u.Read && (u.Name != oldName || u.PointerVersion != oldPV || !bytes.Equal(u.Pointer, oldPointer)) {
		if _, err := tx.ExecContext(ctx, "UPDATE sources SET name = ?, pointer = ?, pointer_version = ? WHERE id = ?",
			u.Name, u.Pointer, u.PointerVersion, id); err != nil {
			return false, err
		}
		changed = true
	}
	for _, v := range u.Add {
		if err := insertVersion(ctx, tx, id, v); err != nil {
			return false, fmt.Errorf("record %s %s: %w", u.Name, v.Version, err)
		}
		changed = true
	}
	for _, v := range u.Mirrored {
		res, err := tx.ExecContext(ctx, "UPDATE versions SET mirrored = 1 WHERE source_id = ? AND version = ? AND mirrored = 0", id, v)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
	}
	for v, k := range u.Keys {
		rot, err := rotationJSON(k.KeyRotation)
		if err != nil {
			return false, err
		}
		res, err := tx.ExecContext(ctx, "UPDATE versions SET public_key = ?, key_rotation = ? WHERE source_id = ? AND version = ? AND public_key = ''",
			k.PublicKey, rot, id, v)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
	}
	for v, sum := range u.Signatures {
		res, err := tx.ExecContext(ctx, "UPDATE versions SET signature = ? WHERE source_id = ? AND version = ? AND signature != ?", sum, id, v, sum)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 && sum != NoSignature {
			changed = true
		}
	}
	for v, p := range u.Problems {
		added, err := addProblem(ctx, tx, id, v, p)
		if err != nil {
			return false, err
		}
		changed = changed || added
	}
	for _, v := range u.Drop {
		res, err := tx.ExecContext(ctx, "DELETE FROM versions WHERE source_id = ? AND version = ?", id, v)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
	}
	if changed {
		now := toMillis(time.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE sources SET changed = ? WHERE id = ?", now, id); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'generated'", now); err != nil {
			return false, err
		}
	}
	if err := writeCache(ctx, tx, u.Cache); err != nil {
		return false, err
	}
	if err := bumpRevision(ctx, tx); err != nil {
		return false, err
	}
	return changed, tx.Commit()
}

func insertVersion(ctx context.Context, tx *sql.Tx, sourceID int64, v Version) error {
	problems, err := json.Marshal(nonNil(v.Problems))
	if err != nil {
		return err
	}
	rot, err := rotationJSON(v.KeyRotation)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO versions
		(source_id, version, tag, published, first_seen, payload_url, size, sha256, prerelease, manifest, problems, blocking, mirrored,
		 public_key, key_rotation, signature)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sourceID, v.Version, v.Tag, toMillis(v.Published), toMillis(v.FirstSeen), v.PayloadURL, v.Size, v.SHA256,
		v.Prerelease, v.Manifest, string(problems), v.Blocking(), v.Mirrored, v.PublicKey, rot, v.Signature)
	if err != nil {
		return err
	}
	vid, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for _, m := range v.Modules {
		tags, err := json.Marshal(nonNil(m.Tags))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO modules (version_id, name, display_name, version, description, author, tags)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, vid, m.Name, m.DisplayName, m.Version, m.Description, m.Author, string(tags)); err != nil {
			return err
		}
	}
	return nil
}

// addProblem adds p, never blocking, to the recorded version's problems
// unless one of the same check and detail is there.
func addProblem(ctx context.Context, tx *sql.Tx, sourceID int64, version string, p doc.Problem) (bool, error) {
	var text string
	err := tx.QueryRowContext(ctx, "SELECT problems FROM versions WHERE source_id = ? AND version = ?", sourceID, version).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var problems []doc.Problem
	if err := json.Unmarshal([]byte(text), &problems); err != nil {
		return false, fmt.Errorf("version %s: problems: %w", version, err)
	}
	p.Blocking = false
	if slices.ContainsFunc(problems, func(q doc.Problem) bool { return q.Check == p.Check && q.Detail == p.Detail }) {
		return false, nil
	}
	b, err := json.Marshal(append(problems, p))
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, "UPDATE versions SET problems = ? WHERE source_id = ? AND version = ?", string(b), sourceID, version)
	return err == nil, err
}

// rotationJSON is a key rotation as the key_rotation column keeps it: ""
// for none.
func rotationJSON(r *doc.KeyRotation) (string, error) {
	if r == nil {
		return "", nil
	}
	b, err := json.Marshal(r)
	return string(b), err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeCache(ctx context.Context, tx *sql.Tx, entries map[string]sources.CacheEntry) error {
	for u, e := range entries {
		if _, err := tx.ExecContext(ctx, `INSERT INTO http_cache (url, etag, last_modified, body, stored) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, body = excluded.body, stored = excluded.stored`,
			u, e.ETag, e.LastModified, nonNil(e.Body), toMillis(e.Stored)); err != nil {
			return fmt.Errorf("cache %s: %w", u, err)
		}
	}
	return nil
}

// CacheGet returns the conditional-request entry stored for url.
func (s *Store) CacheGet(ctx context.Context, url string) (sources.CacheEntry, bool) {
	var e sources.CacheEntry
	var stored int64
	err := s.r.QueryRowContext(ctx, "SELECT etag, last_modified, body, stored FROM http_cache WHERE url = ?", url).
		Scan(&e.ETag, &e.LastModified, &e.Body, &stored)
	if err != nil {
		return sources.CacheEntry{}, false
	}
	e.Stored = fromMillis(stored)
	return e, e.ETag != "" || e.LastModified != ""
}
