package inspect

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// pgRelation describes schema.name, or name on the search path when schema is "".
func pgRelation(ctx context.Context, db *sql.DB, schema, name string) (*Relation, error) {
	qname := pgIdent(name)
	if schema != "" {
		qname = pgIdent(schema) + "." + qname
	}
	r := &Relation{}
	var oid int64
	var kind string
	err := db.QueryRowContext(ctx, `SELECT c.oid::int8, n.nspname, c.relname, c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)`, qname).Scan(&oid, &r.Schema, &r.Name, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Kind = pgKind(kind)
	rows, err := db.QueryContext(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
	CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END,
	NOT a.attnotnull
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Column
		var base string
		if err := rows.Scan(&c.Name, &c.Type, &base, &c.Nullable); err != nil {
			return nil, err
		}
		c.Base, c.Scale = pgBase(base)
		r.Columns = append(r.Columns, c)
	}
	return r, rows.Err()
}

func pgKind(relkind string) Kind {
	switch relkind {
	case "v", "m":
		return View
	case "r", "p", "f":
		return Table
	}
	return Other
}

var (
	pgParens  = regexp.MustCompile(`\([^)]*\)`)
	pgNumeric = regexp.MustCompile(`^numeric\(\d+,(\d+)\)$`)
)

// pgBase returns a format_type spelling without sizes ("character varying(64)" → "character
// varying"), and the scale of a numeric(p,s) (-1 otherwise). Arrays keep their "[]".
func pgBase(typ string) (string, int) {
	scale := -1
	if m := pgNumeric.FindStringSubmatch(typ); m != nil {
		scale, _ = strconv.Atoi(m[1])
	}
	base := strings.Join(strings.Fields(pgParens.ReplaceAllString(typ, "")), " ")
	return strings.TrimPrefix(base, "public."), scale
}

// pgNames lists the views (and tables) of schemas.
func pgNames(ctx context.Context, db *sql.DB, schemas []string, tables bool) ([][2]string, error) {
	kinds := "{v,m}"
	if tables {
		kinds = "{v,m,r,p,f}"
	}
	return queryPairs(ctx, db, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind::text = ANY($2::text[]) ORDER BY 1, 2`, schemas, kinds)
}

var plainPG = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// pgIdent quotes a Postgres identifier unless it is plain lower case.
func pgIdent(s string) string {
	if plainPG.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
