package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgtype"
)

// things is the view of valid_all_types.yaml: one column per type, every operator allowed.
func things(t testing.TB) *View {
	t.Helper()
	return loadSample(t, "valid_all_types.yaml").View("things")
}

func parseJSON(t testing.TB, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return m
}

// argsEqual compares pgtype.Numeric arguments by value.
var argsEqual = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

func num(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

func uid(s string) pgtype.UUID {
	var u pgtype.UUID
	if err := u.Scan(s); err != nil {
		panic(err)
	}
	return u
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseWhereErrors(t *testing.T) {
	v := things(t)
	long := strings.Repeat("x", maxTextValue+1)
	cases := []struct {
		name  string
		where string
		path  string // the error names this path
		value bool   // the error also wraps ErrBadValue
		bug   string
	}{
		{name: "unknown field", where: `{"nope":{"eq":1}}`, path: `where.nope: Thing has no filterable field "nope"`},
		{name: "column name, not field", where: `{"street":{"eq":"x"}}`, path: `where.street: Thing has no filterable field`},
		{name: "pii field", where: `{"email":{"eq":"x"}}`, path: `where.email: Thing has no filterable field "email"`},
		{name: "unfilterable key", where: `{"id":{"eq":1}}`, path: `where.id: Thing has no filterable field "id"`},
		{name: "operator not configured", where: `{"ok":{"lt":true}}`, path: `where.ok.lt: operator not allowed on ok (allowed: eq, neq, isNull)`},
		{name: "unknown operator", where: `{"t":{"like":"x"}}`, path: `where.t.like: operator not allowed`},
		{name: "operators not an object", where: `{"t":"x"}`, path: `where.t: want an object of operators`},
		{name: "operators null", where: `{"t":null}`, path: `where.t: want an object of operators`},
		{name: "and not a list", where: `{"and":{"t":{"eq":"x"}}}`, path: `where.and: want a list of objects`},
		{name: "or item not an object", where: `{"or":[{"t":{"eq":"x"}},1]}`, path: `where.or[1]: want an object`},
		{name: "not a list for not", where: `{"not":[]}`, path: `where.not: want an object`},
		{name: "nested error path", where: `{"or":[{},{"and":[{"not":{"i":{"eq":"x"}}}]}]}`, path: `where.or[1].and[0].not.i.eq: bad value`, value: true},

		{name: "text number", where: `{"t":{"eq":5}}`, path: `where.t.eq: bad value: want a string`, value: true},
		{name: "text too long", where: `{"t":{"eq":"` + long + `"}}`, path: `where.t.eq: bad value`, value: true},
		{name: "text list", where: `{"t":{"lt":["a"]}}`, path: `where.t.lt: bad value`, value: true},
		{name: "startsWith empty", where: `{"t":{"startsWith":""}}`, path: `where.t.startsWith: bad value: want a non-empty string`, value: true},
		{name: "contains number", where: `{"t":{"contains":1}}`, path: `where.t.contains: bad value`, value: true},
		{name: "contains too long", where: `{"t":{"contains":"` + long + `"}}`, path: `where.t.contains: bad value`, value: true},
		// Postgres text cannot hold NUL (SQLSTATE 22021): every text operand is refused the same way.
		{name: "eq NUL", where: `{"t":{"eq":"a\u0000b"}}`, path: `where.t.eq: bad value: text cannot contain NUL characters`, value: true},
		{name: "in NUL", where: `{"t":{"in":["a","\u0000"]}}`, path: `where.t.in: [1]: bad value: text cannot contain NUL`, value: true},
		{name: "lt NUL", where: `{"t":{"lt":"\u0000"}}`, path: `where.t.lt: bad value: text cannot contain NUL`, value: true},
		{name: "startsWith NUL", where: `{"t":{"startsWith":"a\u0000"}}`, path: `where.t.startsWith: bad value: text cannot contain NUL`, value: true},
		{name: "contains NUL", where: `{"t":{"contains":"\u0000"}}`, path: `where.t.contains: bad value: text cannot contain NUL`, value: true},
		{name: "startsWithExact NUL", where: `{"t":{"startsWithExact":"\u0000x"}}`, path: `where.t.startsWithExact: bad value: text cannot contain NUL`, value: true},
		{name: "containsExact NUL", where: `{"t":{"containsExact":"x\u0000"}}`, path: `where.t.containsExact: bad value: text cannot contain NUL`, value: true},
		{name: "startsWithExact empty", where: `{"t":{"startsWithExact":""}}`, path: `where.t.startsWithExact: bad value: want a non-empty string`, value: true},
		{name: "int string", where: `{"i":{"eq":"x"}}`, path: `where.i.eq: bad value: want a whole number`, value: true},
		{name: "int fraction", where: `{"i":{"gt":1.5}}`, path: `where.i.gt: bad value: want a whole number`, value: true},
		{name: "int beyond 2^53", where: `{"i":{"lt":1e16}}`, path: `where.i.lt: bad value`, value: true},
		{name: "int bool", where: `{"i":{"eq":true}}`, path: `where.i.eq: bad value`, value: true},
		{name: "bigint fraction string", where: `{"b":{"eq":"1.0"}}`, path: `where.b.eq: bad value: want a whole number`, value: true},
		{name: "bigint overflow", where: `{"b":{"eq":"9223372036854775808"}}`, path: `where.b.eq: bad value: "9223372036854775808" is out of the 64-bit range`, value: true},
		{name: "bigint 20 digits", where: `{"b":{"eq":"10000000000000000000"}}`, path: `where.b.eq: bad value`, value: true},
		{name: "bigint plus sign", where: `{"b":{"eq":"+1"}}`, path: `where.b.eq: bad value`, value: true},
		{name: "decimal exponent", where: `{"d":{"eq":"1e5"}}`, path: `where.d.eq: bad value: want a decimal number as a string`, value: true},
		{name: "decimal no int part", where: `{"d":{"eq":".5"}}`, path: `where.d.eq: bad value`, value: true},
		{name: "decimal trailing point", where: `{"d":{"eq":"1."}}`, path: `where.d.eq: bad value`, value: true},
		{name: "decimal 41 digits", where: `{"d":{"eq":"` + strings.Repeat("9", 41) + `"}}`, path: `where.d.eq: bad value`, value: true},
		{name: "decimal bool", where: `{"d":{"eq":true}}`, path: `where.d.eq: bad value`, value: true},
		{name: "float string", where: `{"f":{"eq":"1.5"}}`, path: `where.f.eq: bad value: want a finite number`, value: true},
		{name: "float bool", where: `{"f":{"eq":false}}`, path: `where.f.eq: bad value`, value: true},
		{name: "bool string", where: `{"ok":{"eq":"true"}}`, path: `where.ok.eq: bad value: want true or false`, value: true},
		{name: "bool number", where: `{"ok":{"neq":1}}`, path: `where.ok.neq: bad value`, value: true},
		{name: "date month 13", where: `{"day":{"eq":"2024-13-01"}}`, path: `where.day.eq: bad value: want a date YYYY-MM-DD`, value: true},
		{name: "date with time", where: `{"day":{"eq":"2024-01-02T00:00:00Z"}}`, path: `where.day.eq: bad value`, value: true},
		{name: "date number", where: `{"day":{"eq":20240102}}`, path: `where.day.eq: bad value`, value: true},
		{name: "timestamp date only", where: `{"at":{"gte":"2024-01-02"}}`, path: `where.at.gte: bad value: want an RFC 3339 timestamp`, value: true},
		{name: "timestamp no zone", where: `{"at":{"gte":"2024-01-02T03:04:05"}}`, path: `where.at.gte: bad value`, value: true},
		{name: "timestamp space", where: `{"at":{"gte":"2024-01-02 03:04:05Z"}}`, path: `where.at.gte: bad value`, value: true},
		// go-sql-driver cannot bind year 0000 (MariaDB answered 500); years 0001..9999 in UTC bind everywhere.
		{name: "date year 0000", where: `{"day":{"eq":"0000-01-01"}}`, path: `where.day.eq: bad value: want a date YYYY-MM-DD with a year from 0001 to 9999`, value: true},
		{name: "date year 0000 in list", where: `{"day":{"in":["2024-01-01","0000-12-31"]}}`, path: `where.day.in: [1]: bad value`, value: true},
		{name: "timestamp year 0000", where: `{"at":{"lt":"0000-06-01T00:00:00Z"}}`, path: `where.at.lt: bad value: want an RFC 3339 timestamp like 2024-05-01T12:00:00Z with a year from 0001`, value: true},
		{name: "timestamp year 0000 in UTC", where: `{"at":{"gt":"0001-01-01T00:30:00+01:00"}}`, path: `where.at.gt: bad value`, value: true},
		{name: "timestamp year 10000 in UTC", where: `{"at":{"gt":"9999-12-31T23:30:00-01:00"}}`, path: `where.at.gt: bad value`, value: true},
		{name: "uuid no dashes", where: `{"u":{"eq":"123e4567e89b12d3a456426614174000"}}`, path: `where.u.eq: bad value: want a UUID`, value: true},
		{name: "uuid braces", where: `{"u":{"eq":"{123e4567-e89b-12d3-a456-426614174000}"}}`, path: `where.u.eq: bad value`, value: true},
		{name: "uuid number", where: `{"u":{"neq":5}}`, path: `where.u.neq: bad value`, value: true},

		{name: "null value", where: `{"t":{"eq":null}}`, path: `where.t.eq: bad value: null is not a text (use isNull to match NULL)`, value: true},
		{name: "null isNull", where: `{"t":{"isNull":null}}`, path: `where.t.isNull: bad value: want true or false`, value: true},
		{name: "null in list", where: `{"i":{"in":[1,null]}}`, path: `where.i.in: [1]: bad value: null is not a int`, value: true},
		{name: "null list", where: `{"i":{"in":null}}`, path: `where.i.in: bad value: want a list of 1 to 500 values`, value: true},
		{name: "bad list item", where: `{"day":{"notIn":["2024-01-01","2024-01-02","tomorrow"]}}`, path: `where.day.notIn: [2]: bad value`, value: true},
		{name: "in not a list", where: `{"t":{"in":"x"}}`, path: `where.t.in: bad value: want a list`, value: true},
		{name: "empty in", where: `{"t":{"in":[]}}`, path: `where.t.in: bad value: want a list of 1 to 500 values`, value: true},
		{name: "empty notIn", where: `{"u":{"notIn":[]}}`, path: `where.u.notIn: bad value`, value: true},
		{name: "in over the limit", where: `{"i":{"in":` + jsonInts(maxInValues+1) + `}}`, path: `where.i.in: bad value: want a list of 1 to 500 values`, value: true},

		{name: "nested too deep", where: nestNot(maxFilterDepth+1, `{"i":{"eq":1}}`), path: `where` + strings.Repeat(".not", maxFilterDepth+1) + `: nested deeper than 8 levels`},
		{name: "nested too deep in lists", where: nestAnd(maxFilterDepth+1, `{"i":{"eq":1}}`), path: `where` + strings.Repeat(".and[0]", maxFilterDepth+1) + `: nested deeper than 8 levels`},
		{name: "too many conditions", where: manyConds(maxConds + 1), path: `where.and[100].i.eq: `,
			bug: "the more-than-100-conditions error does not name the path of the offending condition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseWhere(v, parseJSON(t, tc.where))
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			if !errors.Is(err, ErrBadFilter) {
				t.Errorf("%v does not wrap ErrBadFilter", err)
			}
			if tc.value != errors.Is(err, ErrBadValue) {
				t.Errorf("errors.Is(%v, ErrBadValue) = %v, want %v", err, !tc.value, tc.value)
			}
			if !strings.Contains(err.Error(), tc.path) {
				if tc.bug != "" {
					t.Errorf("regression: %s: got %q", tc.bug, err)
					return
				}
				t.Errorf("error %q does not contain %q", err, tc.path)
			}
		})
	}
}

func jsonInts(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func nestNot(depth int, inner string) string {
	return strings.Repeat(`{"not":`, depth) + inner + strings.Repeat("}", depth)
}

func nestAnd(depth int, inner string) string {
	return strings.Repeat(`{"and":[`, depth) + inner + strings.Repeat("]}", depth)
}

// manyConds is a where argument of n conditions on the int column.
func manyConds(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"i":{"eq":%d}}`, i)
	}
	return `{"and":[` + strings.Join(items, ",") + `]}`
}

func TestParseWhereLimitsAreInclusive(t *testing.T) {
	v := things(t)
	for name, js := range map[string]string{
		"depth 8":           nestNot(maxFilterDepth, `{"i":{"eq":1}}`),
		"depth 8 in lists":  nestAnd(maxFilterDepth, `{"i":{"eq":1}}`),
		"100 conditions":    manyConds(maxConds),
		"500 values":        `{"i":{"in":` + jsonInts(maxInValues) + `}}`,
		"4096-byte text":    `{"t":{"eq":"` + strings.Repeat("é", maxTextValue/2) + `"}}`,
		"max bigint":        `{"b":{"eq":"9223372036854775807","gt":"-9223372036854775808"}}`,
		"int32 range":       `{"i":{"lte":2147483647,"gte":-2147483648}}`,
		"decimal 40.30":     `{"d":{"eq":"` + strings.Repeat("9", 40) + "." + strings.Repeat("9", 30) + `"}}`,
		"empty object":      `{}`,
		"empty alternative": `{"or":[{},{"i":{"eq":1}}]}`,
	} {
		if _, err := ParseWhere(v, parseJSON(t, js)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseWhereIntRange(t *testing.T) {
	v := things(t)
	for _, js := range []string{`{"i":{"eq":2147483648}}`, `{"i":{"in":[1,-2147483649]}}`} {
		if _, err := ParseWhere(v, parseJSON(t, js)); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: got %v, want ErrBadValue (int columns are 32-bit)", js, err)
		}
	}
}

func TestParseWhereNormalForm(t *testing.T) {
	v := things(t)
	f, err := ParseWhere(v, parseJSON(t, `{
		"u":{"eq":"123E4567-E89B-12D3-A456-426614174000"},
		"at":{"lt":"2024-01-02T03:04:05+02:00"},
		"d":{"in":["1","-2.345",3]},
		"b":{"isNull":false, "eq":12},
		"t":{"contains":"x","eq":"y"}}`))
	if err != nil {
		t.Fatal(err)
	}
	type cond struct {
		Column string
		Op     Op
		Value  any
	}
	var got []cond
	for _, c := range f.Conds {
		got = append(got, cond{c.Column.Name, c.Op, c.Value})
	}
	// Catalog order, then operator order; one normal form per type.
	want := []cond{
		{"t", Eq, "y"},
		{"t", Contains, "x"},
		{"b", Eq, "12"},
		{"b", IsNull, false},
		{"d", In, []any{"1.00", "-2.345", "3.00"}},
		{"at", Lt, time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)},
		{"u", Eq, "123e4567-e89b-12d3-a456-426614174000"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if loc := f.Conds[5].Value.(time.Time).Location(); loc != time.UTC {
		t.Errorf("timestamp location %v, want UTC", loc)
	}
}

type wantSQL struct {
	pred string // the WHERE predicate without its outer parentheses
	args []any  // without the LIMIT argument
}

// fullSQL is the statement Select produces for the things view with fields [id], default order, first 10.
func (w wantSQL) full(d *Dialect) (string, []any) {
	args := append(append([]any{}, w.args...), 11)
	switch d {
	case Postgres:
		return fmt.Sprintf(`SELECT "id" FROM "things" WHERE (%s) ORDER BY "id" ASC LIMIT $%d`, w.pred, len(args)), args
	case MySQL:
		return "SELECT `id` FROM `things` WHERE (" + w.pred + ") ORDER BY `id` ASC LIMIT ?", args
	}
	return `SELECT "id" FROM "things" WHERE (` + w.pred + `) ORDER BY "id" ASC LIMIT ?`, args
}

// TestFilterSQL pins the SQL and arguments of every operator on every type, per dialect.
func TestFilterSQL(t *testing.T) {
	v := things(t)
	const (
		ci   = `CAST(LOWER(` + "`t`" + `) AS BINARY) LIKE CAST(LOWER(?) AS BINARY) ESCAPE '!'`
		dec  = `CAST(? AS DECIMAL(65,30))`
		uuid = "123e4567-e89b-12d3-a456-426614174000"
		zero = "00000000-0000-0000-0000-000000000000"
	)
	cases := []struct {
		name         string
		where        string
		pg, my, lite wantSQL
	}{
		{name: "text eq", where: `{"t":{"eq":"a b"}}`,
			pg:   wantSQL{`"t" = $1`, []any{"a b"}},
			my:   wantSQL{"((`t` = ? OR ?) AND CAST(`t` AS BINARY) = ?)", []any{"a b", false, "a b"}},
			lite: wantSQL{`"t" = ?`, []any{"a b"}}},
		// A utf8mb3 column cannot hold U+1F600, and MariaDB refuses to compare one with it: the
		// narrowing half gets U+FFFD and OR true, so the binary comparison alone decides.
		{name: "text eq outside the BMP", where: `{"t":{"eq":"a😀"}}`,
			pg:   wantSQL{`"t" = $1`, []any{"a😀"}},
			my:   wantSQL{"((`t` = ? OR ?) AND CAST(`t` AS BINARY) = ?)", []any{"a\uFFFD", true, "a😀"}},
			lite: wantSQL{`"t" = ?`, []any{"a😀"}}},
		{name: "text ranges", where: `{"t":{"neq":"x","lt":"M","lte":"N","gt":"A","gte":"B"}}`,
			pg:   wantSQL{`("t" COLLATE "C" <> $1 AND "t" COLLATE "C" < $2 AND "t" COLLATE "C" <= $3 AND "t" COLLATE "C" > $4 AND "t" COLLATE "C" >= $5)`, []any{"x", "M", "N", "A", "B"}},
			my:   wantSQL{"(CAST(`t` AS BINARY) <> ? AND CAST(`t` AS BINARY) < ? AND CAST(`t` AS BINARY) <= ? AND CAST(`t` AS BINARY) > ? AND CAST(`t` AS BINARY) >= ?)", []any{"x", "M", "N", "A", "B"}},
			lite: wantSQL{`("t" <> ? AND "t" < ? AND "t" <= ? AND "t" > ? AND "t" >= ?)`, []any{"x", "M", "N", "A", "B"}}},
		{name: "text in", where: `{"t":{"in":["x","y"]}}`,
			pg:   wantSQL{`"t" = ANY($1)`, []any{[]string{"x", "y"}}},
			my:   wantSQL{"((`t` IN (?, ?) OR ?) AND CAST(`t` AS BINARY) IN (?, ?))", []any{"x", "y", false, "x", "y"}},
			lite: wantSQL{`"t" IN (?, ?)`, []any{"x", "y"}}},
		{name: "text in outside the BMP", where: `{"t":{"in":["x","😀"]}}`,
			pg:   wantSQL{`"t" = ANY($1)`, []any{[]string{"x", "😀"}}},
			my:   wantSQL{"((`t` IN (?, ?) OR ?) AND CAST(`t` AS BINARY) IN (?, ?))", []any{"x", "\uFFFD", true, "x", "😀"}},
			lite: wantSQL{`"t" IN (?, ?)`, []any{"x", "😀"}}},
		{name: "text notIn", where: `{"t":{"notIn":["x"]}}`,
			pg:   wantSQL{`NOT ("t" = ANY($1))`, []any{[]string{"x"}}},
			my:   wantSQL{"NOT (((`t` IN (?) OR ?) AND CAST(`t` AS BINARY) IN (?)))", []any{"x", false, "x"}},
			lite: wantSQL{`NOT ("t" IN (?))`, []any{"x"}}},
		{name: "isNull true", where: `{"t":{"isNull":true}}`,
			pg: wantSQL{`"t" IS NULL`, nil}, my: wantSQL{"`t` IS NULL", nil}, lite: wantSQL{`"t" IS NULL`, nil}},
		{name: "isNull false json", where: `{"doc":{"isNull":false}}`,
			pg: wantSQL{`"doc" IS NOT NULL`, nil}, my: wantSQL{"`doc` IS NOT NULL", nil}, lite: wantSQL{`"doc" IS NOT NULL`, nil}},
		{name: "startsWith escapes", where: `{"t":{"startsWith":"50%_!"}}`,
			pg:   wantSQL{`lower("t") LIKE lower($1) ESCAPE '!'`, []any{"50!%!_!!%"}},
			my:   wantSQL{ci, []any{"50!%!_!!%"}},
			lite: wantSQL{`vg_lower("t") LIKE vg_lower(?) ESCAPE '!'`, []any{"50!%!_!!%"}}},
		{name: "contains quote", where: `{"t":{"contains":"a'b"}}`,
			pg:   wantSQL{`lower("t") LIKE lower($1) ESCAPE '!'`, []any{"%a'b%"}},
			my:   wantSQL{ci, []any{"%a'b%"}},
			lite: wantSQL{`vg_lower("t") LIKE vg_lower(?) ESCAPE '!'`, []any{"%a'b%"}}},
		{name: "startsWithExact escapes", where: `{"t":{"startsWithExact":"5[*?%_!"}}`,
			pg:   wantSQL{`"t" COLLATE "C" LIKE $1 ESCAPE '!'`, []any{"5[*?!%!_!!%"}},
			my:   wantSQL{"((`t` LIKE ? ESCAPE '!' OR ?) AND CAST(`t` AS BINARY) LIKE CAST(? AS BINARY) ESCAPE '!')", []any{"5[*?!%!_!!%", false, "5[*?!%!_!!%"}},
			lite: wantSQL{`"t" GLOB ?`, []any{"5[[][*][?]%_!*"}}},
		{name: "startsWithExact outside the BMP", where: `{"t":{"startsWithExact":"😀"}}`,
			pg:   wantSQL{`"t" COLLATE "C" LIKE $1 ESCAPE '!'`, []any{"😀%"}},
			my:   wantSQL{"((`t` LIKE ? ESCAPE '!' OR ?) AND CAST(`t` AS BINARY) LIKE CAST(? AS BINARY) ESCAPE '!')", []any{"\uFFFD%", true, "😀%"}},
			lite: wantSQL{`"t" GLOB ?`, []any{"😀*"}}},
		{name: "containsExact", where: `{"t":{"containsExact":"Ab]"}}`,
			pg:   wantSQL{`"t" COLLATE "C" LIKE $1 ESCAPE '!'`, []any{"%Ab]%"}},
			my:   wantSQL{"CAST(`t` AS BINARY) LIKE CAST(? AS BINARY) ESCAPE '!'", []any{"%Ab]%"}},
			lite: wantSQL{`"t" GLOB ?`, []any{"*Ab]*"}}},
		{name: "int", where: `{"i":{"eq":42,"in":[1,2],"gt":3}}`,
			pg:   wantSQL{`("i" = $1 AND "i" = ANY($2) AND "i" > $3)`, []any{int64(42), []int64{1, 2}, int64(3)}},
			my:   wantSQL{"(`i` = ? AND `i` IN (?, ?) AND `i` > ?)", []any{int64(42), int64(1), int64(2), int64(3)}},
			lite: wantSQL{`("i" = ? AND "i" IN (?, ?) AND "i" > ?)`, []any{int64(42), int64(1), int64(2), int64(3)}}},
		{name: "bigint exact", where: `{"b":{"eq":"9007199254740993","in":["1",2],"lte":5}}`,
			pg:   wantSQL{`("b" = $1 AND "b" = ANY($2) AND "b" <= $3)`, []any{int64(9007199254740993), []int64{1, 2}, int64(5)}},
			my:   wantSQL{"(`b` = ? AND `b` IN (?, ?) AND `b` <= ?)", []any{int64(9007199254740993), int64(1), int64(2), int64(5)}},
			lite: wantSQL{`("b" = ? AND "b" IN (?, ?) AND "b" <= ?)`, []any{int64(9007199254740993), int64(1), int64(2), int64(5)}}},
		{name: "decimal", where: `{"d":{"eq":"12.345","in":["1","2.5"],"lt":"99"}}`,
			pg:   wantSQL{`("d" = $1 AND "d" = ANY($2) AND "d" < $3)`, []any{num("12.345"), []pgtype.Numeric{num("1.00"), num("2.50")}, num("99.00")}},
			my:   wantSQL{"(`d` = " + dec + " AND `d` IN (" + dec + ", " + dec + ") AND `d` < " + dec + ")", []any{"12.345", "1.00", "2.50", "99.00"}},
			lite: wantSQL{`("d" = ? AND "d" IN (?, ?) AND "d" < ?)`, []any{12.345, 1.0, 2.5, 99.0}}},
		{name: "float", where: `{"f":{"gt":1.5,"in":[1,2.5],"neq":0}}`,
			pg:   wantSQL{`("f" <> $1 AND "f" = ANY($2) AND "f" > $3)`, []any{0.0, []float64{1, 2.5}, 1.5}},
			my:   wantSQL{"(`f` <> ? AND `f` IN (?, ?) AND `f` > ?)", []any{0.0, 1.0, 2.5, 1.5}},
			lite: wantSQL{`("f" <> ? AND "f" IN (?, ?) AND "f" > ?)`, []any{0.0, 1.0, 2.5, 1.5}}},
		{name: "bool", where: `{"ok":{"eq":true,"neq":false}}`,
			pg:   wantSQL{`("ok" = $1 AND "ok" <> $2)`, []any{true, false}},
			my:   wantSQL{"(`ok` = ? AND `ok` <> ?)", []any{true, false}},
			lite: wantSQL{`("ok" = ? AND "ok" <> ?)`, []any{true, false}}},
		{name: "date", where: `{"day":{"lt":"2024-01-02","in":["2024-01-03"]}}`,
			pg:   wantSQL{`("day" = ANY($1) AND "day" < $2)`, []any{[]time.Time{day(2024, 1, 3)}, day(2024, 1, 2)}},
			my:   wantSQL{"(`day` IN (?) AND `day` < ?)", []any{day(2024, 1, 3), day(2024, 1, 2)}},
			lite: wantSQL{`("day" IN (?) AND "day" < ?)`, []any{"2024-01-03", "2024-01-02"}}},
		{name: "timestamp", where: `{"at":{"gte":"2024-01-02T03:04:05+02:00","in":["2024-01-02T03:04:05.5Z"]}}`,
			pg: wantSQL{`("at" = ANY($1) AND "at" >= $2)`, []any{
				[]time.Time{time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC)}, time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)}},
			my: wantSQL{"(`at` IN (?) AND `at` >= ?)", []any{
				time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC), time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)}},
			lite: wantSQL{`("at" IN (?) AND "at" >= ?)`, []any{"2024-01-02 03:04:05.5", "2024-01-02 01:04:05"}}},
		{name: "uuid", where: `{"u":{"eq":"123E4567-E89B-12D3-A456-426614174000","notIn":["` + zero + `"]}}`,
			pg:   wantSQL{`("u" = $1 AND NOT ("u" = ANY($2)))`, []any{uid(uuid), []pgtype.UUID{uid(zero)}}},
			my:   wantSQL{"(`u` = ? AND NOT (`u` IN (?)))", []any{uuid, zero}},
			lite: wantSQL{`("u" = ? AND NOT ("u" IN (?)))`, []any{uuid, zero}}},
		{name: "and or not", where: `{"or":[{"i":{"eq":1}},{"not":{"ok":{"eq":true}}}],"and":[{"t":{"eq":"x"}}],"not":{"b":{"gt":1}},"f":{"lt":2}}`,
			pg: wantSQL{`("f" < $1 AND "t" = $2 AND ("i" = $3 OR NOT ("ok" = $4)) AND NOT ("b" > $5))`,
				[]any{2.0, "x", int64(1), true, int64(1)}},
			my: wantSQL{"(`f` < ? AND ((`t` = ? OR ?) AND CAST(`t` AS BINARY) = ?) AND (`i` = ? OR NOT (`ok` = ?)) AND NOT (`b` > ?))",
				[]any{2.0, "x", false, "x", int64(1), true, int64(1)}},
			lite: wantSQL{`("f" < ? AND "t" = ? AND ("i" = ? OR NOT ("ok" = ?)) AND NOT ("b" > ?))`,
				[]any{2.0, "x", int64(1), true, int64(1)}}},
		{name: "empty alternative matches all", where: `{"or":[{},{"i":{"eq":1}}]}`,
			pg:   wantSQL{`(1=1 OR "i" = $1)`, []any{int64(1)}},
			my:   wantSQL{"(1=1 OR `i` = ?)", []any{int64(1)}},
			lite: wantSQL{`(1=1 OR "i" = ?)`, []any{int64(1)}}},
	}
	for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
		b := testBuilder(t, d)
		for _, tc := range cases {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				w := map[*Dialect]wantSQL{Postgres: tc.pg, MySQL: tc.my, SQLite: tc.lite}[d]
				st, err := b.Select(&Query{View: v, Fields: v.Columns[:1], Where: where(t, v, tc.where), First: 10})
				if err != nil {
					t.Fatal(err)
				}
				wantText, wantArgs := w.full(d)
				if diff := cmp.Diff(wantText, st.SQL); diff != "" {
					t.Errorf("SQL (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(wantArgs, st.Args, argsEqual); diff != "" {
					t.Errorf("args (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"plain":     "plain",
		"%":         "!%",
		"_":         "!_",
		"!":         "!!",
		"100%":      "100!%",
		"a%b_c!d":   "a!%b!_c!!d",
		"!%":        "!!!%",
		"!!":        "!!!!",
		`\%`:        `\!%`,
		"it's":      "it's",
		"é_ü%":      "é!_ü!%",
		"%%__!!":    "!%!%!_!_!!!!",
		"[a-z]*?^$": "[a-z]*?^$",
	} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLikePatternIsAnArg checks that text matched with LIKE travels only as an argument.
func TestLikePatternIsAnArg(t *testing.T) {
	v := things(t)
	for _, s := range []string{"x'); DROP TABLE t; --", `"t" IS NULL OR "t`, "50%_!", "/* */", "a?b"} {
		for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
			b := testBuilder(t, d)
			m := map[string]any{"t": map[string]any{"startsWith": s, "contains": s}}
			f, err := ParseWhere(v, m)
			if err != nil {
				t.Fatal(err)
			}
			st, err := b.Select(&Query{View: v, Where: f, Search: s, First: 1})
			if err != nil {
				t.Fatal(err)
			}
			want := []any{escapeLike(s) + "%", "%" + escapeLike(s) + "%", "%" + escapeLike(s) + "%", 2}
			if diff := cmp.Diff(want, st.Args); diff != "" {
				t.Errorf("%s %q: args (-want +got):\n%s", d.Name(), s, diff)
			}
			if strings.Contains(st.SQL, s) || strings.Contains(st.SQL, escapeLike(s)) {
				t.Errorf("%s: %q appears in the SQL: %s", d.Name(), s, st.SQL)
			}
			if n := strings.Count(st.SQL, " ESCAPE '!'"); n != 3 {
				t.Errorf("%s: %d ESCAPE clauses, want 3: %s", d.Name(), n, st.SQL)
			}
		}
	}
}

var matchesAll = regexp.MustCompile(`WHERE \(+1=1\)+ ORDER`)

// TestNotOfEmptyFilter: an empty filter matches every row (an empty or alternative is 1=1), so
// its negation must match none; dropping it silently turns "not everything" into "everything".
func TestNotOfEmptyFilter(t *testing.T) {
	v := things(t)
	b := testBuilder(t, Postgres)
	all, err := b.Select(&Query{View: v, First: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range []string{`{"not":{}}`, `{"or":[{"not":{}}]}`, `{"not":{"and":[{}]}}`} {
		f, err := ParseWhere(v, parseJSON(t, js))
		if errors.Is(err, ErrBadFilter) {
			continue // refusing an empty not is a fine answer too
		}
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.Select(&Query{View: v, Where: f, First: 10})
		if err != nil {
			t.Fatal(err)
		}
		if st.SQL == all.SQL || matchesAll.MatchString(st.SQL) {
			t.Errorf("regression: where %s compiles to the unfiltered query (matches every row; want none): %s", js, st.SQL)
		}
	}
}

// TestFilterArgumentsFitEveryEngine: a where argument within the documented bounds must compile to
// a statement every engine accepts. SQLite binds at most 32766 parameters (SQLITE_MAX_VARIABLE_NUMBER),
// MySQL and Postgres 65535.
func TestFilterArgumentsFitEveryEngine(t *testing.T) {
	v := things(t)
	items := make([]string, maxConds)
	for i := range items {
		items[i] = `{"t":{"in":` + jsonStrings(maxInValues) + `}}`
	}
	js := `{"and":[` + strings.Join(items, ",") + `]}`
	f, err := ParseWhere(v, parseJSON(t, js))
	if errors.Is(err, ErrBadFilter) {
		return // a bound on the total number of values is the fix
	}
	if err != nil {
		t.Fatal(err)
	}
	for d, limit := range map[*Dialect]int{Postgres: 65535, MySQL: 65535, SQLite: 32766} {
		st, err := testBuilder(t, d).Select(&Query{View: v, Where: f, First: 10})
		if errors.Is(err, ErrBadFilter) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Args) > limit {
			t.Errorf("regression: %s: %d bind parameters, the engine accepts at most %d (100 in-lists of 500 values pass ParseWhere)", d.Name(), len(st.Args), limit)
		}
	}
}

func jsonStrings(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf(`"v%d"`, i)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// TestFilterSizeIsBounded: the filter bounds exist "so that a where argument cannot grow without
// limit", but and/or lists are not counted: 10000 empty alternatives compile to 10000 "1=1".
func TestFilterSizeIsBounded(t *testing.T) {
	v := things(t)
	js := `{"or":[` + strings.Repeat(`{},`, 9999) + `{}]}`
	f, err := ParseWhere(v, parseJSON(t, js))
	if errors.Is(err, ErrBadFilter) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := testBuilder(t, Postgres).Select(&Query{View: v, Where: f, First: 10})
	if err != nil {
		return
	}
	if len(st.SQL) > 20000 {
		t.Errorf("regression: a where of 10000 empty alternatives is accepted and compiles to %d bytes of SQL", len(st.SQL))
	}
}

// TestTextIsCheckedOnce: text no engine can bind the same way (NUL, invalid UTF-8) is a bad
// filter or search on every path, before any SQL is built; years 0001 and 9999 still pass.
func TestTextIsCheckedOnce(t *testing.T) {
	v := things(t)
	for _, op := range []string{"eq", "neq", "lt", "startsWith", "contains", "startsWithExact", "containsExact"} {
		for _, s := range []string{"a\x00", "\xff", "ok\xc3"} {
			_, err := ParseWhere(v, map[string]any{"t": map[string]any{op: s}})
			if !errors.Is(err, ErrBadValue) || !errors.Is(err, ErrBadFilter) {
				t.Errorf("%s %q: err %v, want a bad value", op, s, err)
			}
		}
	}
	inv := testCatalog(t).View("invoices")
	for _, s := range []string{"a\x00b", "\xff"} {
		for _, d := range dialects {
			_, err := testBuilder(t, d).Select(&Query{View: inv, Search: s, First: 1, Tenant: "acme"})
			if !errors.Is(err, ErrBadFilter) || !errors.Is(err, ErrBadValue) {
				t.Errorf("%s: search %q: err %v, want a bad filter", d.Name(), s, err)
			}
		}
	}
	for _, js := range []string{`{"day":{"eq":"0001-01-01"}}`, `{"day":{"eq":"9999-12-31"}}`, `{"at":{"lt":"9999-12-31T23:59:59.999Z"}}`, `{"at":{"gt":"0001-01-01T00:00:00Z"}}`} {
		if _, err := ParseWhere(v, parseJSON(t, js)); err != nil {
			t.Errorf("%s: %v", js, err)
		}
	}
}

func TestMatchesText(t *testing.T) {
	want := map[Op]bool{StartsWith: true, Contains: true, StartsWithExact: true, ContainsExact: true}
	for _, op := range Ops {
		if got := op.MatchesText(); got != want[op] {
			t.Errorf("%s.MatchesText() = %v, want %v", op, got, want[op])
		}
	}
}

func TestEscapeGlob(t *testing.T) {
	for in, want := range map[string]string{
		"":        "",
		"HW-0012": "HW-0012",
		"*":       "[*]",
		"?":       "[?]",
		"[":       "[[]",
		"]":       "]",
		"a[b]*c?": "a[[]b][*]c[?]",
		"%_!^":    "%_!^",
	} {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
}
