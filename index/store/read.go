package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modup/modup/index/doc"
)

// Source is one source as recorded, with its versions.
type Source struct {
	UpdateURL      string
	Kind           string
	Name           string
	Pointer        []byte
	PointerVersion string
	LastOK         time.Time
	LastError      string
	// Checked is the last refresh; Changed when its data last changed.
	Checked, Changed time.Time
	// Versions in the order they were first seen.
	Versions []Version
}

// Snapshot is the whole index as one transaction saw it.
type Snapshot struct {
	// Revision counts the index's commits: a reader that holds a snapshot
	// of the same revision holds the current state.
	Revision int64
	// Generated is when the index data last changed; Refreshed when the
	// last crawl ended.
	Generated, Refreshed time.Time
	// Sources in the order they were added.
	Sources []Source
}

// Revision is the index's current commit count (cheap: one row).
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'revision'").Scan(&n)
	return n, err
}

// Snapshot reads the whole index in one read transaction on the readers'
// connections: a refresh writing at the same time neither blocks it nor
// shows through half done.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", s.path, err)
	}
	defer tx.Rollback()
	snap, err := readSnapshot(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", s.path, err)
	}
	return snap, nil
}

func readSnapshot(ctx context.Context, tx *sql.Tx) (*Snapshot, error) {
	snap := &Snapshot{}
	rows, err := tx.QueryContext(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		switch k {
		case "revision":
			snap.Revision = v
		case "generated":
			snap.Generated = fromMillis(v)
		case "refreshed":
			snap.Refreshed = fromMillis(v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	byID := map[int64]int{}
	rows, err = tx.QueryContext(ctx, `SELECT id, update_url, kind, name, pointer, pointer_version, last_ok, last_error, checked, changed
		FROM sources ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var src Source
		var id, lastOK, checked, changed int64
		if err := rows.Scan(&id, &src.UpdateURL, &src.Kind, &src.Name, &src.Pointer, &src.PointerVersion,
			&lastOK, &src.LastError, &checked, &changed); err != nil {
			rows.Close()
			return nil, err
		}
		src.LastOK, src.Checked, src.Changed = fromMillis(lastOK), fromMillis(checked), fromMillis(changed)
		byID[id] = len(snap.Sources)
		snap.Sources = append(snap.Sources, src)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	// Versions and their modules, in two passes over two queries.
	type where struct{ src, ver int }
	verAt := map[int64]where{}
	rows, err = tx.QueryContext(ctx, `SELECT id, source_id, version, tag, published, first_seen, payload_url, size, sha256,
		prerelease, manifest, problems, mirrored, public_key, key_rotation, signature FROM versions ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v Version
		var id, srcID, published, firstSeen int64
		var problems, rotation string
		if err := rows.Scan(&id, &srcID, &v.Version, &v.Tag, &published, &firstSeen, &v.PayloadURL, &v.Size, &v.SHA256,
			&v.Prerelease, &v.Manifest, &problems, &v.Mirrored, &v.PublicKey, &rotation, &v.Signature); err != nil {
			rows.Close()
			return nil, err
		}
		v.Published, v.FirstSeen = fromMillis(published), fromMillis(firstSeen)
		if err := json.Unmarshal([]byte(problems), &v.Problems); err != nil {
			rows.Close()
			return nil, fmt.Errorf("version %s: problems: %w", v.Version, err)
		}
		if rotation != "" {
			v.KeyRotation = &doc.KeyRotation{}
			if err := json.Unmarshal([]byte(rotation), v.KeyRotation); err != nil {
				rows.Close()
				return nil, fmt.Errorf("version %s: key_rotation: %w", v.Version, err)
			}
		}
		i, ok := byID[srcID]
		if !ok {
			continue
		}
		verAt[id] = where{i, len(snap.Sources[i].Versions)}
		snap.Sources[i].Versions = append(snap.Sources[i].Versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.QueryContext(ctx, `SELECT version_id, name, display_name, version, description, author, tags
		FROM modules ORDER BY version_id, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var vid int64
		var m doc.Module
		var tags string
		if err := rows.Scan(&vid, &m.Name, &m.DisplayName, &m.Version, &m.Description, &m.Author, &tags); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil {
			return nil, fmt.Errorf("module %s: tags: %w", m.Name, err)
		}
		if len(m.Tags) == 0 {
			m.Tags = nil
		}
		w, ok := verAt[vid]
		if !ok {
			continue
		}
		v := &snap.Sources[w.src].Versions[w.ver]
		v.Modules = append(v.Modules, m)
	}
	return snap, rows.Err()
}

// SourceURLs lists the index's sources in the order they were added.
func (s *Store) SourceURLs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT update_url FROM sources ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Known is what a refresh needs to know of a source's recorded state.
type Known struct {
	Name           string
	PointerVersion string
	// Versions maps each recorded version to whether it is mirrored and
	// its digest (to verify a later mirror copy against).
	Versions map[string]KnownVersion
}

// KnownVersion is one recorded version, for a refresh.
type KnownVersion struct {
	SHA256     string
	PayloadURL string
	Mirrored   bool
	Blocking   bool
	// PublicKey is the key recorded from the author's source ("" none);
	// Signature the mirrored signature's sha256, as Version's.
	PublicKey string
	Signature string
}

// Known reads what is recorded of the source at updateURL (empty when
// nothing is).
func (s *Store) Known(ctx context.Context, updateURL string) (Known, error) {
	k := Known{Versions: map[string]KnownVersion{}}
	var id int64
	err := s.r.QueryRowContext(ctx, "SELECT id, name, pointer_version FROM sources WHERE update_url = ?", updateURL).
		Scan(&id, &k.Name, &k.PointerVersion)
	if err == sql.ErrNoRows {
		return k, nil
	}
	if err != nil {
		return k, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT version, sha256, payload_url, mirrored, blocking, public_key, signature FROM versions WHERE source_id = ?", id)
	if err != nil {
		return k, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var kv KnownVersion
		if err := rows.Scan(&v, &kv.SHA256, &kv.PayloadURL, &kv.Mirrored, &kv.Blocking, &kv.PublicKey, &kv.Signature); err != nil {
			return k, err
		}
		k.Versions[v] = kv
	}
	return k, rows.Err()
}

// NameOwner is the update_url of the source whose package is called name
// (ignoring case); "" when none is. (Asking for a non-empty name lets SQLite
// use the partial index of names.)
func (s *Store) NameOwner(ctx context.Context, name string) (string, error) {
	var u string
	err := s.r.QueryRowContext(ctx, "SELECT update_url FROM sources WHERE name = ? COLLATE NOCASE AND name != ''", name).Scan(&u)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return u, err
}
