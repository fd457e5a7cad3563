package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	// The SQLite driver FerretDB itself uses (registered as "sqlite").
	_ "modernc.org/sqlite"
)

// FerretDB 1.x's SQLite backend indexes `_id` as _ferretdb_sjson->"_id" but looks documents up by
// _ferretdb_sjson->'$._id'. SQLite matches an index to a query by its expression, so every lookup
// by `_id` scans the whole table, and a collection of N documents costs N JSON reads per lookup.
// keepLookupIndexes gives each collection an index on the lookup's own expression, soon after
// FerretDB creates its table. FerretDB does not list the index (it is not in its metadata) and
// drops it with the table.
const lookupExpr = `_ferretdb_sjson->'$._id'`

const lookupIndexSuffix = "__ferretdb_dev_id_lookup"

func keepLookupIndexes(ctx context.Context, dir string, every time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexDatabase(ctx, file); err != nil && ctx.Err() == nil {
				logger.Warn("lookup index", "file", file, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// indexDatabase adds the lookup index to every collection of one database file that lacks it.
// The file is opened read-write but never created: a database dropped meanwhile is skipped.
func indexDatabase(ctx context.Context, file string) error {
	q := url.Values{}
	q.Add("mode", "rw")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)
		AND EXISTS (SELECT 1 FROM sqlite_master t WHERE t.type = 'table' AND t.name = c.table_name)`,
		lookupIndexSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB is still creating
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err = rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	if err = rows.Close(); err != nil {
		return err
	}
	for _, table := range tables {
		stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, table+lookupIndexSuffix, table, lookupExpr)
		if _, err = db.ExecContext(ctx, stmt); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return err
		}
	}
	return nil
}
