package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/viewgate/viewgate/views"
)

// compatible lists, per engine and catalog type, the base database types that hold every value
// the catalog type promises without overflow or loss. SQLite is checked by declared affinity.
var compatible = map[string]map[views.Type][]string{
	Postgres: {
		views.Text:      {"text", "character varying", "character", "citext", "name"},
		views.Int:       {"smallint", "integer"},
		views.BigInt:    {"smallint", "integer", "bigint"},
		views.Decimal:   {"numeric"},
		views.Float:     {"real", "double precision"},
		views.Bool:      {"boolean"},
		views.Date:      {"date"},
		views.Timestamp: {"timestamp without time zone", "timestamp with time zone"},
		views.UUID:      {"uuid"},
		views.JSON:      {"json", "jsonb"},
	},
	MySQL: {
		views.Text:      {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum"},
		views.Int:       {"tinyint", "smallint", "mediumint", "int"},
		views.BigInt:    {"tinyint", "smallint", "mediumint", "int", "bigint"},
		views.Decimal:   {"decimal"},
		views.Float:     {"float", "double"},
		views.Bool:      {"tinyint(1)"},
		views.Date:      {"date"},
		views.Timestamp: {"datetime", "timestamp"},
		views.UUID:      {"char(36)", "uuid"},
		views.JSON:      {"json", "longtext"}, // MariaDB's JSON is LONGTEXT with a json_valid check
	},
	// SQLite by affinity, and by the declared name among NUMERIC-affinity types (liteClass): a
	// DATETIME column is read as a time, so it cannot serve a decimal, and the reverse.
	SQLite: {
		views.Text:      {"text"},
		views.Int:       {"integer"},
		views.BigInt:    {"integer"},
		views.Decimal:   {"numeric", "integer", "real"},
		views.Float:     {"real", "numeric", "integer"},
		views.Bool:      {"boolean", "integer"},
		views.Date:      {"date", "text"},
		views.Timestamp: {"datetime", "text"},
		views.UUID:      {"uuid", "text"},
		views.JSON:      {"json", "text"},
	},
}

// Level ranks a finding.
type Level string

// The finding levels: an error fails viewgate check, a warning and a note do not.
const (
	Error   Level = "error"
	Warning Level = "warning"
	Note    Level = "note"
)

// Compatible reports whether a database column can serve a catalog column of type t (with scale
// for decimals): it returns "" when it can, else the level and the reason.
func Compatible(engine string, t views.Type, scale *int, c Column) (Level, string) {
	if engine == SQLite && c.Base == "" {
		return Note, "the view column has no declared type (an expression), so SQLite cannot say whether it is " + string(t) + "; add a CAST"
	}
	key := c.Base
	if engine == MySQL && (key == "tinyint" && c.Type == "tinyint(1)" || key == "char" && c.Type == "char(36)") {
		if slices.Contains(compatible[engine][t], c.Type) {
			key = c.Type
		}
	}
	if !slices.Contains(compatible[engine][t], key) {
		return Error, fmt.Sprintf("the database type %s cannot hold catalog type %s%s", c.Type, t, overflowHint(engine, t, c))
	}
	if engine == MySQL && c.Unsigned && (t == views.BigInt && c.Base == "bigint" || t == views.Int && c.Base == "int") {
		return Error, fmt.Sprintf("the database type %s can exceed catalog type %s (unsigned overflow)", c.Type, t)
	}
	if t == views.Decimal && scale != nil && (engine != SQLite || c.Base == "numeric") {
		if c.Scale < 0 {
			return Warning, fmt.Sprintf("the database type %s declares no scale; values are printed with the catalog's scale %d, extra digits are rounded", c.Type, *scale)
		}
		if c.Scale != *scale {
			return Error, fmt.Sprintf("the database scale is %d (%s), the catalog's is %d", c.Scale, c.Type, *scale)
		}
	}
	return "", ""
}

// overflowHint explains the common case of a 64-bit column behind a catalog int.
func overflowHint(engine string, t views.Type, c Column) string {
	if t == views.Int && slices.Contains(compatible[engine][views.BigInt], c.Base) {
		return " (a 64-bit integer overflows GraphQL Int: declare the column bigint, or cast it to a 32-bit integer in the view)"
	}
	return ""
}

// CatalogType returns the catalog type that best serves a database column, with the scale of a
// decimal; ok is false when no catalog type fits (arrays, binary, intervals…).
func CatalogType(engine string, c Column) (t views.Type, scale int, ok bool) {
	if engine == MySQL && c.Type == "tinyint(1)" {
		return views.Bool, 0, true
	}
	if engine == MySQL && c.Type == "char(36)" {
		return views.UUID, 0, true
	}
	if engine == MySQL && c.Base == "longtext" && strings.HasSuffix(c.Collation, "_bin") {
		return views.JSON, 0, true // MariaDB's JSON is LONGTEXT with a binary collation
	}
	if engine == SQLite {
		return liteType(c)
	}
	// Narrow types first: int before bigint, so an integer column maps to int.
	for _, t := range []views.Type{views.Int, views.BigInt, views.Text, views.Decimal, views.Float, views.Bool, views.Date, views.Timestamp, views.UUID, views.JSON} {
		if slices.Contains(compatible[engine][t], c.Base) {
			if engine == MySQL && c.Unsigned && (t == views.Int && c.Base == "int" || c.Base == "bigint") {
				if c.Base == "int" {
					return views.BigInt, 0, true
				}
				return views.Decimal, 0, true
			}
			if t == views.Decimal {
				return t, max(c.Scale, 0), true
			}
			return t, 0, true
		}
	}
	return "", 0, false
}

// liteType reads SQLite's declared type, where affinity alone is ambiguous. INTEGER (the 64-bit
// rowid type ids are declared with) and BIGINT are bigint; INT, SMALLINT and the like are int,
// and so is CAST(… AS INTEGER) in a view, which SQLite reports as INT.
func liteType(c Column) (views.Type, int, bool) {
	t := strings.ToUpper(c.Type)
	switch c.Base {
	case "integer":
		switch {
		case t == "TINYINT(1)":
			return views.Bool, 0, true
		case t == "INTEGER", strings.Contains(t, "BIG"), t == "INT8":
			return views.BigInt, 0, true
		}
		return views.Int, 0, true
	case "real":
		return views.Float, 0, true
	case "text":
		if t == "CHAR(36)" {
			return views.UUID, 0, true
		}
		return views.Text, 0, true
	case "numeric":
		return views.Decimal, max(c.Scale, 0), true
	case "datetime":
		return views.Timestamp, 0, true
	case "date":
		return views.Date, 0, true
	case "boolean":
		return views.Bool, 0, true
	case "json":
		return views.JSON, 0, true
	case "uuid":
		return views.UUID, 0, true
	}
	return "", 0, false
}
