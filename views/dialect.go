package views

import (
	"fmt"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Dialect renders catalog identifiers, comparisons and orderings for one SQL engine.
//
// The semantics are the same on every engine: text equality is exact (byte for byte, trailing
// spaces count), text ordering and ranges use Unicode code-point order, startsWith and contains
// are case-insensitive, NULLs sort last ascending and first descending.
type Dialect struct {
	name   string
	format sq.PlaceholderFormat
}

// The supported dialects.
var (
	Postgres = &Dialect{name: "postgres", format: sq.Dollar}
	MySQL    = &Dialect{name: "mysql", format: sq.Question}
	SQLite   = &Dialect{name: "sqlite", format: sq.Question}
)

// DialectFor returns the dialect for a driver or server flavour name, or an error naming the allowed ones.
func DialectFor(name string) (*Dialect, error) {
	switch name {
	case "postgres", "postgresql", "pgx":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return nil, fmt.Errorf("unknown SQL dialect %q (allowed: postgres, mysql, mariadb, sqlite)", name)
}

// Name returns the dialect's name.
func (d *Dialect) Name() string { return d.name }

// Quote quotes one identifier.
func (d *Dialect) Quote(ident string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// QuoteRelation quotes a [schema.]name relation part by part.
func (d *Dialect) QuoteRelation(rel string) string {
	parts := strings.Split(rel, ".")
	for i, p := range parts {
		parts[i] = d.Quote(p)
	}
	return strings.Join(parts, ".")
}

// ordered returns the expression that compares and sorts a column in code-point order.
func (d *Dialect) ordered(c *Column) string {
	q := d.Quote(c.Name)
	if c.Type != Text {
		return q
	}
	switch d {
	case Postgres:
		return q + ` COLLATE "C"`
	case MySQL:
		return "CAST(" + q + " AS BINARY)"
	}
	return q
}

// lower returns the case-folded form of an expression for case-insensitive matching.
func (d *Dialect) lower(expr string) string {
	switch d {
	case MySQL:
		// The binary cast keeps the default _ci collation from also ignoring accents.
		return "CAST(LOWER(" + expr + ") AS BINARY)"
	case SQLite:
		// SQLite's lower() folds ASCII only; the replica registers vg_lower (Unicode).
		return "vg_lower(" + expr + ")"
	}
	return "lower(" + expr + ")"
}

// orderBy renders one ORDER BY term with the shared NULL placement.
func (d *Dialect) orderBy(c *Column, desc bool) []string {
	e, dir := d.ordered(c), "ASC"
	if desc {
		dir = "DESC"
	}
	if !c.IsNullable() {
		return []string{e + " " + dir}
	}
	switch d {
	case MySQL:
		return []string{d.Quote(c.Name) + " IS NULL " + dir, e + " " + dir}
	case Postgres, SQLite:
		if desc {
			return []string{e + " DESC NULLS FIRST"}
		}
		return []string{e + " ASC NULLS LAST"}
	}
	return []string{e + " " + dir}
}
