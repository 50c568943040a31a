package replica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
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
	if _, err := os.Stat(sqlitePath(o.DSN)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, errNoFile)
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

// sqlitePath returns the file a path or file: URI names; a file: URI's path is percent-decoded.
func sqlitePath(dsn string) string {
	path, _, _ := strings.Cut(dsn, "?")
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		if p, err := url.PathUnescape(rest); err == nil {
			return p
		}
		return rest
	}
	return dsn
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
