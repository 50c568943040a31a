package inspect

import (
	"context"
	"database/sql"
	"fmt"
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
		c.Nullable, c.Base, c.Scale = !notNull, affinity(c.Type), -1
		r.Columns = append(r.Columns, c)
	}
	return r, rows.Err()
}

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
