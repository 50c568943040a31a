package replica

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteBusyTimeoutMS is how long a reader waits for a writer's lock before SQLITE_BUSY.
const sqliteBusyTimeoutMS = "5000"

func openSQLite(ctx context.Context, o Options) (*sqlDB, error) {
	dsn, err := sqliteReadOnlyDSN(o.DSN)
	if err != nil {
		return nil, err
	}
	conn, err := newSQLiteConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	s := &sqlDB{db: db, name: "sqlite"}
	if err := s.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteReadOnlyDSN turns a path or file: URI into a file: URI that opens the file
// read-only (mode=ro) with query_only and a busy timeout, replacing any mode or
// pragma of the same name the caller gave.
func sqliteReadOnlyDSN(dsn string) (string, error) {
	path, rawQuery, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("parse sqlite dsn parameters: %w", err)
	}
	if path == "" || path == ":memory:" || q.Get("mode") == "memory" {
		return "", fmt.Errorf("sqlite source needs a database file, got an in-memory database")
	}
	q.Set("mode", "ro")
	var pragmas []string
	for _, p := range q["_pragma"] {
		name := strings.ToLower(strings.TrimSpace(strings.SplitN(p, "(", 2)[0]))
		if name != "query_only" && name != "busy_timeout" {
			pragmas = append(pragmas, p)
		}
	}
	q["_pragma"] = append(pragmas, "busy_timeout("+sqliteBusyTimeoutMS+")", "query_only(1)")
	return "file:" + path + "?" + q.Encode(), nil
}
