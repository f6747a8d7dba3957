package store_test

import (
	"strings"
	"testing"
)

// TestQueriesUseIndexes: the look-ups a refresh makes per source use an
// index, not a scan of every source (an index of 10,000 sources made
// every new source scan them all twice).
func TestQueriesUseIndexes(t *testing.T) {
	_, db := newRaw(t)
	for _, q := range []string{
		"SELECT update_url FROM sources WHERE name = 'x' COLLATE NOCASE AND name != ''",
		"SELECT update_url FROM sources WHERE name = 'x' COLLATE NOCASE AND name != '' AND id != 1",
		"SELECT id, name, pointer_version FROM sources WHERE update_url = 'u'",
		"SELECT version, sha256, payload_url, mirrored, blocking, public_key, signature FROM versions WHERE source_id = 1",
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING") || strings.HasPrefix(p, "SCAN") {
			t.Errorf("%s: plan %q, want an index", q, p)
		}
	}
}
