// Package inspect reads a live database's relations, columns and privileges.
package inspect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// The engines Open accepts; they are the config's driver names.
const (
	Postgres = "postgres"
	MySQL    = "mysql" // MySQL and MariaDB
	SQLite   = "sqlite"
)

// ErrNotFound is returned by Relation when no table or view has the name.
var ErrNotFound = errors.New("relation does not exist")

// Kind says what a relation is.
type Kind string

// The relation kinds.
const (
	View  Kind = "view"  // a view or a materialized view
	Table Kind = "table" // a base, partitioned or foreign table
	Other Kind = "other" // a sequence or anything else
)

// Relation is a table or view with its columns in declaration order.
type Relation struct {
	Schema  string // "" when the engine has none (SQLite main)
	Name    string
	Kind    Kind
	Columns []Column
}

// Column is one column of a relation as the database declares it.
type Column struct {
	Name string
	Type string // as the database spells it: "numeric(14,2)", "varchar(64)", "tinyint(1)", "INTEGER"
	// Base is the lower-case name without size or modifiers: "numeric", "varchar", "tinyint";
	// on SQLite the affinity, or the kind a NUMERIC-affinity name declares ("datetime", "date",
	// "boolean", "json", "uuid"); "" for a SQLite view column with no declared type.
	Base      string
	Scale     int    // digits after the point of a decimal type; -1 when not declared
	Unsigned  bool   // MySQL unsigned integer
	Collation string // MySQL: the collation of a text column ("" otherwise)
	Nullable  bool
}

// Column returns the column named name, or nil.
func (r *Relation) Column(name string) *Column {
	for i := range r.Columns {
		if r.Columns[i].Name == name {
			return &r.Columns[i]
		}
	}
	return nil
}

// QualifiedName returns schema.name, or name when there is no schema.
func (r *Relation) QualifiedName() string {
	if r.Schema == "" {
		return r.Name
	}
	return r.Schema + "." + r.Name
}

// DB is an open connection pool to one database, for reading its catalog.
type DB struct {
	db     *sql.DB
	engine string
}

// Open connects to dsn with the config driver name (postgres, mysql or sqlite) and pings it;
// it returns an error for an unknown driver or an unreachable database. SQLite is opened read-only.
func Open(ctx context.Context, driver, dsn string) (*DB, error) {
	name := map[string]string{Postgres: "pgx", MySQL: "mysql", SQLite: "sqlite"}[driver]
	if name == "" {
		return nil, fmt.Errorf("inspect: unknown driver %q (want postgres, mysql or sqlite)", driver)
	}
	if driver == SQLite {
		dsn = sqliteReadOnly(dsn)
	}
	db, err := sql.Open(name, dsn)
	if err != nil {
		return nil, fmt.Errorf("inspect: open %s: %w", driver, err)
	}
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		var lite *sqlite.Error
		if errors.As(err, &lite) && lite.Code()&0xff == sqlite3.SQLITE_CANTOPEN {
			return nil, fmt.Errorf("inspect: connect to sqlite: the database file does not exist or cannot be read: %w", err)
		}
		return nil, fmt.Errorf("inspect: connect to %s: %w", driver, err)
	}
	return &DB{db: db, engine: driver}, nil
}

// sqliteReadOnly turns a path or file: URI into a URI that opens the file read-only.
func sqliteReadOnly(dsn string) string {
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&mode=ro"
	}
	return dsn + "?mode=ro"
}

// Engine returns postgres, mysql or sqlite.
func (d *DB) Engine() string { return d.engine }

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }

// Relation describes the table or view named [schema.]name (unqualified names resolve as a query
// would: the search path on Postgres, the connection's database on MySQL); it returns an error
// wrapping ErrNotFound when there is none.
func (d *DB) Relation(ctx context.Context, name string) (*Relation, error) {
	schema, rel, _ := strings.Cut(name, ".")
	if rel == "" {
		schema, rel = "", schema
	}
	var r *Relation
	var err error
	switch d.engine {
	case Postgres:
		r, err = pgRelation(ctx, d.db, schema, rel)
	case MySQL:
		r, err = myRelation(ctx, d.db, schema, rel)
	default:
		r, err = liteRelation(ctx, d.db, schema, rel)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	return r, nil
}

// Relations describes the views in schemas (MySQL: databases; SQLite: ignored), and the base
// tables too when tables is true, ordered by schema and name.
func (d *DB) Relations(ctx context.Context, schemas []string, tables bool) ([]*Relation, error) {
	var names [][2]string
	var err error
	switch d.engine {
	case Postgres:
		names, err = pgNames(ctx, d.db, schemas, tables)
	case MySQL:
		names, err = myNames(ctx, d.db, schemas, tables)
	default:
		names, err = liteNames(ctx, d.db, tables)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect: list relations: %w", err)
	}
	out := make([]*Relation, 0, len(names))
	for _, n := range names {
		name := n[1]
		if n[0] != "" {
			name = n[0] + "." + n[1]
		}
		r, err := d.Relation(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// queryStrings runs q and returns the first column of each row.
func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// queryPairs runs q and returns the first two columns of each row.
func queryPairs(ctx context.Context, db *sql.DB, q string, args ...any) ([][2]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CurrentSchema returns the schema unqualified names resolve to: current_schema() on Postgres,
// DATABASE() on MySQL, "" on SQLite or when there is none.
func (d *DB) CurrentSchema(ctx context.Context) (string, error) {
	var q string
	switch d.engine {
	case Postgres:
		q = `SELECT COALESCE(current_schema(), '')`
	case MySQL:
		q = `SELECT COALESCE(DATABASE(), '')`
	default:
		return "", nil
	}
	var s string
	if err := d.db.QueryRowContext(ctx, q).Scan(&s); err != nil {
		return "", fmt.Errorf("inspect: current schema: %w", err)
	}
	return s, nil
}
