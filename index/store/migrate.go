package store

import (
	"context"
	"fmt"
)

// migrations are the schema's steps, in order: migrations[i] brings a
// database from user_version i to i+1. A step is never edited once
// released; a change of schema is a new step.
var migrations = []string{
	// 1: sources, their versions and modules, the request cache, meta.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generated', 0), ('refreshed', 0), ('revision', 0);

CREATE TABLE sources (
	id              INTEGER PRIMARY KEY,
	update_url      TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL DEFAULT '',
	name            TEXT NOT NULL DEFAULT '',
	pointer         BLOB,
	pointer_version TEXT NOT NULL DEFAULT '',
	last_ok         INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	checked         INTEGER NOT NULL DEFAULT 0,
	changed         INTEGER NOT NULL DEFAULT 0
);
-- One package per name, whatever its case: an export lands on file systems
-- that ignore case.
CREATE UNIQUE INDEX sources_name ON sources (name COLLATE NOCASE) WHERE name != '';

CREATE TABLE versions (
	id          INTEGER PRIMARY KEY,
	source_id   INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
	version     TEXT NOT NULL,
	tag         TEXT NOT NULL DEFAULT '',
	published   INTEGER NOT NULL DEFAULT 0,
	first_seen  INTEGER NOT NULL,
	payload_url TEXT NOT NULL,
	size        INTEGER NOT NULL DEFAULT 0,
	sha256      TEXT NOT NULL DEFAULT '',
	prerelease  INTEGER NOT NULL DEFAULT 0,
	manifest    BLOB,
	problems    TEXT NOT NULL DEFAULT '[]',
	blocking    INTEGER NOT NULL DEFAULT 0,
	mirrored    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (source_id, version)
);

CREATE TABLE modules (
	version_id   INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	version      TEXT NOT NULL DEFAULT '',
	description  TEXT NOT NULL DEFAULT '',
	author       TEXT NOT NULL DEFAULT '',
	tags         TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (version_id, name)
) WITHOUT ROWID;

CREATE TABLE http_cache (
	url           TEXT PRIMARY KEY,
	etag          TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	body          BLOB NOT NULL,
	stored        INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 2: each version's signing key as its author's source reports it
	// (public_key, key_rotation as JSON), and the sha256 of its signature
	// as mirrored beside its zip ('' none yet, '-' looked for and none
	// usable).
	`
ALTER TABLE versions ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN key_rotation TEXT NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN signature TEXT NOT NULL DEFAULT '';
`,
}

// SchemaVersion is the schema this modup writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the database to SchemaVersion in one transaction: a
// migration is applied whole or not at all.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: schema version %d, this modup knows up to %d; use a newer modup", ErrNewerSchema, v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate the schema to version %d: %w", i+1, err)
		}
	}
	// PRAGMA takes no parameters; the number is ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}
