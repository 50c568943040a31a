package views

import (
	"fmt"
	"strings"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"
)

// Dialect renders catalog identifiers, comparisons and orderings for one SQL engine.
//
// The semantics are the same on every engine: text equality is exact (byte for byte, trailing
// spaces count), text ordering and ranges use Unicode code-point order, startsWith and contains
// are case-insensitive while startsWithExact and containsExact match byte for byte, NULLs sort
// last ascending and first descending.
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

// matchExact renders startsWithExact (prefix) and containsExact: a byte-for-byte match, as
// eq compares, in which %, _ and ! are plain characters.
//   - Postgres: LIKE under COLLATE "C", which is deterministic whatever the column's collation
//     (LIKE refuses nondeterministic ones).
//   - MySQL/MariaDB: LIKE on the binary casts; a prefix is first narrowed by the column's own
//     (case-insensitive) LIKE, which an index serves and which matches a superset.
//   - SQLite: GLOB, which is case-sensitive where SQLite's LIKE folds ASCII; its wildcards
//     *, ? and [ are bracketed.
func (d *Dialect) matchExact(col *Column, s string, prefix bool) sq.Sqlizer {
	q := d.Quote(col.Name)
	if d == SQLite {
		pattern := "*" + escapeGlob(s) + "*"
		if prefix {
			pattern = escapeGlob(s) + "*"
		}
		return sq.Expr(q+" GLOB ?", pattern)
	}
	pattern := "%" + escapeLike(s) + "%"
	if prefix {
		pattern = escapeLike(s) + "%"
	}
	esc := " ESCAPE '" + likeEscape + "'"
	switch {
	case d == Postgres:
		return sq.Expr(q+` COLLATE "C" LIKE ?`+esc, pattern)
	case prefix:
		narrow, wide := narrowText(pattern)
		return sq.Expr("(("+q+" LIKE ?"+esc+" OR ?) AND CAST("+q+" AS BINARY) LIKE CAST(? AS BINARY)"+esc+")", narrow, wide, pattern)
	}
	return sq.Expr("CAST("+q+" AS BINARY) LIKE CAST(? AS BINARY)"+esc, pattern)
}

var globEscaper = strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]")

// escapeGlob makes every character of s match itself in a GLOB pattern.
func escapeGlob(s string) string { return globEscaper.Replace(s) }

// narrowText returns s with every character outside the Basic Multilingual Plane replaced
// by U+FFFD, and whether any was. MySQL text comparisons narrow through the column's
// collation (so an index serves them) before an exact binary check; a utf8mb3 column cannot
// hold such a character, and MariaDB refuses to compare it with one (errors 1267 and 1270,
// "Illegal mix of collations"). So the narrowing half binds the replaced value, followed by
// "OR ?" bound to whether anything was replaced: when it was, the narrowing admits every row
// and the binary check alone decides, which is right for utf8mb3 and utf8mb4 columns alike.
func narrowText(s string) (string, bool) {
	wide := false
	out := strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			wide = true
			return utf8.RuneError
		}
		return r
	}, s)
	return out, wide
}

// bucket returns the first instant of the time bucket holding a date or timestamp column's
// value, in UTC: a date for date columns, a timestamp for timestamp columns. Weeks start on
// Monday (ISO 8601). Postgres sessions run in UTC (replica sets TimeZone), so date_trunc of a
// timestamptz truncates UTC time; SQLite keeps timestamps as UTC text and buckets them with its
// date functions, in the text form it stores.
func (d *Dialect) bucket(c *Column, b Bucket) string {
	q := d.Quote(c.Name)
	switch d {
	case Postgres:
		if c.Type == Date {
			return "CAST(date_trunc('" + string(b) + "', CAST(" + q + " AS timestamp)) AS date)"
		}
		return "date_trunc('" + string(b) + "', " + q + ")"
	case MySQL:
		switch b {
		case Week:
			return "DATE_SUB(DATE(" + q + "), INTERVAL WEEKDAY(" + q + ") DAY)"
		case Month:
			return "DATE_SUB(DATE(" + q + "), INTERVAL DAYOFMONTH(" + q + ") - 1 DAY)"
		case Quarter:
			return "DATE_ADD(MAKEDATE(YEAR(" + q + "), 1), INTERVAL (QUARTER(" + q + ") - 1) * 3 MONTH)"
		case Year:
			return "MAKEDATE(YEAR(" + q + "), 1)"
		}
		return "DATE(" + q + ")"
	}
	fn := "datetime("
	if c.Type == Date {
		fn = "date("
	}
	switch b {
	case Week:
		return fn + q + ", 'start of day', '-6 days', 'weekday 1')"
	case Month:
		return fn + q + ", 'start of month')"
	case Quarter:
		return fn + q + ", 'start of year', '+' || ((CAST(strftime('%m', " + q + ") AS INTEGER) - 1) / 3 * 3) || ' months')"
	case Year:
		return fn + q + ", 'start of year')"
	}
	return fn + q + ", 'start of day')"
}

// sum returns the exact sum of a numeric column and how many decimal places its integer result
// is shifted by: 0 where the engine sums decimals exactly (Postgres, MySQL), the column's scale
// on SQLite, which stores decimals as floats and so sums the scaled integers instead.
func (d *Dialect) sum(c *Column) (expr string, shift int) {
	if d == SQLite && c.Type == Decimal {
		return d.scaledSum(c), *c.Scale
	}
	return "SUM(" + d.Quote(c.Name) + ")", 0
}

// scaledSum returns the exact sum of a numeric column times 10^scale: an integer, in a type
// that does not overflow where the engine has one (numeric, DECIMAL).
func (d *Dialect) scaledSum(c *Column) string {
	q, scale := d.Quote(c.Name), 0
	if c.Scale != nil {
		scale = *c.Scale
	}
	factor := "1" + strings.Repeat("0", scale)
	switch {
	case d == SQLite && c.Type == Decimal:
		return "SUM(CAST(ROUND(" + q + " * " + factor + ") AS INTEGER))"
	case scale > 0:
		return "SUM(" + q + ") * " + factor
	case d == Postgres:
		return "CAST(SUM(" + q + ") AS NUMERIC)" // SUM(int) is a bigint there, which * 10000 overflows
	}
	return "SUM(" + q + ")"
}

// quotient returns the integer quotient a / b of two integer-valued expressions, truncated
// toward zero, exactly.
func (d *Dialect) quotient(a, b string) string {
	switch d {
	case Postgres:
		return "div(" + a + ", " + b + ")"
	case MySQL:
		return "(" + a + ") DIV (" + b + ")"
	}
	return "(" + a + ") / (" + b + ")" // integers: SQLite divides them as integers
}
