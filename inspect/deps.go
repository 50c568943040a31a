package inspect

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ReadsFrom returns the schemas (MySQL: databases) the relations named [schema.]name read from,
// through views of views, sorted: where their base tables live, which the privilege audit must
// cover although no catalog view names them. Postgres follows pg_depend, which every user may
// read. MySQL and MariaDB parse information_schema.VIEWS, whose definitions only the views'
// owners and users with SHOW VIEW see, so a locked-down user learns nothing there. SQLite has no
// schemas. Relations that do not exist are skipped.
func (d *DB) ReadsFrom(ctx context.Context, relations []string) ([]string, error) {
	var out []string
	var err error
	switch d.engine {
	case Postgres:
		out, err = d.pgReadsFrom(ctx, relations)
	case MySQL:
		out, err = d.myReadsFrom(ctx, relations)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect: the schemas the views read from: %w", err)
	}
	return out, nil
}

func (d *DB) pgReadsFrom(ctx context.Context, relations []string) ([]string, error) {
	names := make([]string, len(relations))
	for i, r := range relations {
		schema, name, ok := strings.Cut(r, ".")
		names[i] = pgIdent(schema)
		if ok {
			names[i] += "." + pgIdent(name)
		}
	}
	return queryStrings(ctx, d.db, `WITH RECURSIVE rel(oid) AS (
	SELECT to_regclass(x)::oid FROM unnest($1::text[]) AS x WHERE to_regclass(x) IS NOT NULL
  UNION
	SELECT dep.refobjid FROM rel
	JOIN pg_rewrite w ON w.ev_class = rel.oid
	JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = w.oid AND dep.refclassid = 'pg_class'::regclass
	WHERE dep.refobjid <> rel.oid
)
SELECT DISTINCT n.nspname FROM rel JOIN pg_class c ON c.oid = rel.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg!_toast%' ESCAPE '!'
ORDER BY 1`, names)
}

// myViewRef matches a table named in a FROM or JOIN of a MariaDB/MySQL view definition, which
// the server stores with every name qualified: from (`erp`.`invoice` `i` join `erp`.`customer` ...
var myViewRef = regexp.MustCompile("(?i)\\b(?:from|join)\\s+\\(*\\s*`((?:[^`]|``)+)`\\.`((?:[^`]|``)+)`")

// maxViewDepth bounds how deep views of views are followed.
const maxViewDepth = 16

func (d *DB) myReadsFrom(ctx context.Context, relations []string) ([]string, error) {
	type rel struct{ schema, name string }
	var todo []rel
	for _, r := range relations {
		schema, name, ok := strings.Cut(r, ".")
		if !ok {
			schema, name = "", schema
		}
		todo = append(todo, rel{schema, name})
	}
	seen := map[rel]bool{}
	var out []string
	for depth := 0; len(todo) > 0 && depth < maxViewDepth; depth++ {
		var next []rel
		for _, r := range todo {
			defs, err := queryPairs(ctx, d.db, `SELECT TABLE_SCHEMA, VIEW_DEFINITION FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND TABLE_NAME = ?`, r.schema, r.name)
			if err != nil {
				return nil, err
			}
			for _, def := range defs {
				for _, m := range myViewRef.FindAllStringSubmatch(def[1], -1) {
					ref := rel{unquote("`" + m[1] + "`"), unquote("`" + m[2] + "`")}
					if !slices.Contains(out, ref.schema) {
						out = append(out, ref.schema)
					}
					if !seen[ref] {
						seen[ref] = true
						next = append(next, ref)
					}
				}
			}
		}
		todo = next
	}
	slices.Sort(out)
	return out, nil
}
