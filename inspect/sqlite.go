package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// liteRelation describes name in the main database; SQLite has no schemas besides attached files.
func liteRelation(ctx context.Context, db *sql.DB, schema, name string) (*Relation, error) {
	if schema != "" && schema != "main" {
		return nil, fmt.Errorf("%w (SQLite has no schema %q)", ErrNotFound, schema)
	}
	r := &Relation{Name: name}
	var typ string
	err := db.QueryRowContext(ctx, `SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')`, name).Scan(&typ)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Kind = Table
	if typ == "view" {
		r.Kind = View
	}
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull" FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Column
		var notNull bool
		if err := rows.Scan(&c.Name, &c.Type, &notNull); err != nil {
			return nil, err
		}
		c.Nullable = !notNull
		c.Base, c.Scale = liteClass(c.Type)
		r.Columns = append(r.Columns, c)
	}
	return r, rows.Err()
}

// liteClass returns what a SQLite declared type says about a column: its affinity (integer,
// text, blob, real, numeric; "" with no declared type), or, among NUMERIC-affinity names, the
// kind the name declares (datetime, date, boolean, json, uuid), with the scale of a decimal's
// (p,s) (-1 when not declared). Storage follows affinity, but the name is what the schema's
// author meant, and the SQLite driver reads DATE, DATETIME and TIMESTAMP columns as times.
func liteClass(declared string) (string, int) {
	aff := affinity(declared)
	if aff != "numeric" {
		return aff, -1
	}
	t := strings.ToUpper(strings.TrimSpace(declared))
	switch {
	case strings.HasPrefix(t, "DATETIME"), strings.HasPrefix(t, "TIMESTAMP"):
		return "datetime", -1
	case strings.HasPrefix(t, "DATE"):
		return "date", -1
	case strings.HasPrefix(t, "BOOL"):
		return "boolean", -1
	case strings.HasPrefix(t, "JSON"):
		return "json", -1
	case strings.HasPrefix(t, "UUID"), strings.HasPrefix(t, "GUID"):
		return "uuid", -1
	}
	if m := liteDecimal.FindStringSubmatch(t); m != nil {
		if m[1] == "" {
			return "numeric", 0 // NUMERIC(p) has scale 0, as in standard SQL
		}
		n, _ := strconv.Atoi(m[1])
		return "numeric", n
	}
	return "numeric", -1
}

// liteDecimal matches DECIMAL(p[,s]) and NUMERIC(p[,s]); the group is s.
var liteDecimal = regexp.MustCompile(`^(?:DECIMAL|NUMERIC)\s*\(\s*\d+\s*(?:,\s*(\d+)\s*)?\)$`)

// affinity returns the SQLite type affinity of a declared type (lower case: integer, text, blob,
// real, numeric), by SQLite's rules; a column with no declared type (an expression in a view) is "".
func affinity(declared string) string {
	t := strings.ToUpper(declared)
	switch {
	case t == "":
		return ""
	case strings.Contains(t, "INT"):
		return "integer"
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return "text"
	case strings.Contains(t, "BLOB"):
		return "blob"
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
		return "real"
	}
	return "numeric"
}

// liteNames lists the views (and tables) of the main database, without SQLite's own tables.
func liteNames(ctx context.Context, db *sql.DB, tables bool) ([][2]string, error) {
	q := `SELECT '', name FROM sqlite_master WHERE type = 'view' ORDER BY name`
	if tables {
		q = `SELECT '', name FROM sqlite_master WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name`
	}
	return queryPairs(ctx, db, q)
}
