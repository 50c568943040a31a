package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// myRelation describes schema.name, or name in the connection's database when schema is "".
func myRelation(ctx context.Context, db *sql.DB, schema, name string) (*Relation, error) {
	r := &Relation{}
	var typ string
	err := db.QueryRowContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?`, schema, name).Scan(&r.Schema, &r.Name, &typ)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	switch typ {
	case "VIEW", "SYSTEM VIEW":
		r.Kind = View
	case "BASE TABLE", "SYSTEM VERSIONED":
		r.Kind = Table
	default:
		r.Kind = Other
	}
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, COALESCE(NUMERIC_SCALE, -1), COALESCE(COLLATION_NAME, ''), IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, r.Schema, r.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type, &c.Base, &c.Scale, &c.Collation, &c.Nullable); err != nil {
			return nil, err
		}
		c.Type, c.Base = strings.ToLower(c.Type), strings.ToLower(c.Base)
		c.Unsigned = strings.Contains(c.Type, "unsigned")
		if c.Base != "decimal" {
			c.Scale = -1
		}
		r.Columns = append(r.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(r.Columns) == 0 {
		return nil, hiddenColumns(ctx, db, r)
	}
	return r, nil
}

// hiddenColumns explains a relation whose columns information_schema does not show: MariaDB
// hides a view's columns from a user who may not EXECUTE a function the view calls, although
// SELECT works (the view runs with its definer's rights). SHOW COLUMNS names the cause.
func hiddenColumns(ctx context.Context, db *sql.DB, r *Relation) error {
	rows, err := db.QueryContext(ctx, "SHOW COLUMNS FROM "+myIdent(r.Schema)+"."+myIdent(r.Name))
	if err == nil {
		rows.Close()
		return fmt.Errorf("information_schema shows no columns of %s %s", r.Kind, r.QualifiedName())
	}
	return fmt.Errorf("cannot read the columns of %s %s: %w (a view's columns are hidden from a user without EXECUTE on the functions it calls: GRANT EXECUTE ON FUNCTION <schema>.<function> TO the user)", r.Kind, r.QualifiedName(), err)
}

// myNames lists the views (and tables) of databases.
func myNames(ctx context.Context, db *sql.DB, schemas []string, tables bool) ([][2]string, error) {
	var out [][2]string
	for _, s := range schemas {
		q := `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'VIEW' ORDER BY TABLE_NAME`
		if tables {
			q = `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('VIEW', 'BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`
		}
		names, err := queryPairs(ctx, db, q, s)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

// myIdent quotes a MySQL identifier.
func myIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
