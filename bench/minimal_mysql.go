package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/go-sql-driver/mysql"
)

// minimalMySQL is Minimal's twin on MySQL/MariaDB: one go-sql-driver query through
// database/sql (which prepares it, as for viewgate), a scan, encoding/json. No auth, no
// GraphQL, no transaction, no session settings, no logs.
type minimalMySQL struct {
	db   *sql.DB
	sql  string
	args []any
}

// MinimalMySQL returns the reference handler on the MySQL/MariaDB database at dsn (a
// go-sql-driver DSN), running the statement viewgate builds for Query with a pool of conns
// connections; it returns an error if the database cannot be reached. close releases the pool.
func MinimalMySQL(ctx context.Context, dsn string, conns int) (h http.Handler, close func(), err error) {
	query, args, err := Statement("mysql")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: parse DSN: %w", err)
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: configure connector: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("minimal: ping: %w", err)
	}
	return &minimalMySQL{db: db, sql: query, args: args}, func() { db.Close() }, nil
}

func (m *minimalMySQL) ServeHTTP(w http.ResponseWriter, r *http.Request) { serveList(w, r, m.list) }

// list reads the page.
func (m *minimalMySQL) list(ctx context.Context) ([]invoice, error) {
	rows, err := m.db.QueryContext(ctx, m.sql, m.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanPage(rows)
}
