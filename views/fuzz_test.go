package views

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var dialects = []*Dialect{Postgres, MySQL, SQLite}

// fuzzOrders are the orderBy arguments FuzzFilter picks from: valid ones, and ones Select must refuse.
var fuzzOrders = [][]OrderTerm{
	nil, // the view's default
	{},  // the key alone
	{{Column: "amount"}},
	{{Column: "due_date"}, {Column: "customer_name", Desc: true}},
	{{Column: "status", Desc: true}, {Column: "amount"}},
	{{Column: "customer_name"}},
	{{Column: "id", Desc: true}},
	{{Column: "number"}},                          // not sortable
	{{Column: "amount"}, {Column: "amount"}},      // twice
	{{Column: "customer_email"}},                  // PII
	{{Column: "nope"}},                            // unknown
	{{Column: "issued_at"}, {Column: "due_date"}}, // non-null then nullable
}

var fuzzFirsts = []int{10, 0, 500, 501, -1}

// cleanErrors are the sentinels a refused query may wrap; anything else is a bug.
var cleanErrors = []error{ErrBadFilter, ErrBadOrder, ErrBadPageSize, ErrBadCursor, ErrBadValue}

func isClean(err error) bool {
	return slices.ContainsFunc(cleanErrors, func(e error) bool { return errors.Is(err, e) })
}

func FuzzFilter(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"number":{"eq":"A-1","in":["A-1","A-2"],"startsWith":"50%_!","contains":"x","startsWithExact":"A-[*?%_!","containsExact":"Ü😀"},"status":{"neq":"void","notIn":["draft"]},"amount":{"gte":"10.5","lt":99},"dueDate":{"isNull":true},"publicId":{"eq":"123E4567-E89B-12D3-A456-426614174000"}}`,
		`{"or":[{"status":{"eq":"paid"}},{"and":[{"amount":{"gt":"100"}},{"not":{"customerName":{"lt":"M"}}}]}]}`,
		`{"issuedAt":{"gte":"2024-01-01T00:00:00Z","lt":"2024-02-01T00:00:00+01:00"},"dueDate":{"lt":"2024-03-01"}}`,
		`{"customerName":{"eq":"O'Brien; DROP TABLE x --","contains":"\" OR 1=1 /*"}}`,
		`{"not":{"or":[{},{"number":{"in":["?","$1","'"]}}]}}`,
		`{"amount":{"in":["1","2.005",3.5]},"or":[]}`,
		`{"status":{"in":[]}}`,
		`{"tenantId":{"eq":"other"}}`,
		`[1,2]`,
		`{"not":{"not":{"not":{"not":{"not":{"not":{"not":{"not":{"not":{}}}}}}}}}}`,
	} {
		for i, search := range []string{"", "acme", "100%_off!", "' OR '1'='1"} {
			f.Add([]byte(seed), byte(i*5+len(seed)), search)
		}
	}
	cat := testCatalog(f)
	v := cat.View("invoices")
	builders := map[*Dialect]*Builder{}
	for _, d := range dialects {
		builders[d] = testBuilder(f, d)
	}
	f.Fuzz(func(t *testing.T, whereJSON []byte, sel byte, search string) {
		var m map[string]any
		if json.Unmarshal(whereJSON, &m) != nil || m == nil {
			t.Skip()
		}
		w, err := ParseWhere(v, m)
		if err != nil {
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("ParseWhere error %v does not wrap ErrBadFilter", err)
			}
			return
		}
		q := &Query{View: v, Fields: v.Columns, Where: w, Search: search, Tenant: "acme",
			OrderBy: fuzzOrders[int(sel&0x0f)%len(fuzzOrders)], First: fuzzFirsts[int(sel>>4)%len(fuzzFirsts)]}
		for _, d := range dialects {
			b := builders[d]
			st, err := b.Select(q)
			if err != nil {
				if !isClean(err) {
					t.Fatalf("%s: Select error %v wraps no known sentinel", d.Name(), err)
				}
				continue
			}
			checkStatement(t, d, v, st)
			checkNoValues(t, d, b, q, st, m, search)
			checkCursorBinding(t, b, q, st, sel&0x80 != 0)
		}
	})
}

// checkStatement is the property every compiled statement has: one SELECT over catalog identifiers,
// values only as placeholders, as many placeholders as arguments.
func checkStatement(t *testing.T, d *Dialect, v *View, st *Statement) {
	t.Helper()
	if err := sqlShape(d, v, st.SQL, len(st.Args)); err != nil {
		t.Fatalf("%s: %v\nSQL: %s\nargs: %d", d.Name(), err, st.SQL, len(st.Args))
	}
}

// sqlWords are the bare words viewgate's SQL may contain outside quoted identifiers.
var sqlWords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true,
	"IN": true, "ANY": true, "ORDER": true, "BY": true, "ASC": true, "DESC": true, "NULLS": true, "FIRST": true,
	"LAST": true, "LIMIT": true, "LIKE": true, "GLOB": true, "ESCAPE": true, "COLLATE": true, "CAST": true, "AS": true,
	"BINARY": true, "DECIMAL": true, "LOWER": true, "lower": true, "vg_lower": true,
	"1": true, "0": true, "65": true, "30": true,
}

// sqlShape checks the text of a statement with a small scanner; it returns what is wrong, or nil.
func sqlShape(d *Dialect, v *View, sql string, nargs int) error {
	if !strings.HasPrefix(sql, "SELECT ") {
		return errors.New("does not start with SELECT")
	}
	for _, bad := range []string{";", "--", "/*"} {
		if strings.Contains(sql, bad) {
			return fmt.Errorf("contains %q", bad)
		}
	}
	idents := map[string]bool{v.TenantColumn: v.TenantColumn != ""}
	for _, p := range strings.Split(v.Relation, ".") {
		idents[p] = true
	}
	for _, c := range v.Columns {
		idents[c.Name] = true
	}
	quote := byte('"')
	if d == MySQL {
		quote = '`'
	} else if d == Postgres {
		idents["C"] = true // COLLATE "C"
	}
	placeholders, depth := 0, 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == quote:
			end := strings.IndexByte(sql[i+1:], quote)
			if end < 0 {
				return fmt.Errorf("unterminated identifier at %d", i)
			}
			if id := sql[i+1 : i+1+end]; !idents[id] {
				return fmt.Errorf("identifier %q is not in the catalog", id)
			}
			i += end + 2
		case c == '\'':
			if !strings.HasPrefix(sql[i:], "'!'") || !strings.HasSuffix(sql[:i], "ESCAPE ") {
				return fmt.Errorf("string literal at %d: only ESCAPE '!' is allowed", i)
			}
			i += 3
		case c == '?':
			if d == Postgres {
				return fmt.Errorf("'?' at %d in Postgres SQL", i)
			}
			placeholders++
			i++
		case c == '$':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(sql[i+1 : j])
			if d != Postgres || err != nil || n != placeholders+1 {
				return fmt.Errorf("placeholder %q at %d, want $%d", sql[i:j], i, placeholders+1)
			}
			placeholders++
			i = j
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			if !sqlWords[sql[i:j]] {
				return fmt.Errorf("unexpected word %q at %d", sql[i:j], i)
			}
			i = j
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth--; depth < 0 {
				return fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case strings.IndexByte(" ,=<>.", c) >= 0:
			i++
		default:
			return fmt.Errorf("unexpected byte %q at %d", c, i)
		}
	}
	if depth != 0 {
		return errors.New("unbalanced parentheses")
	}
	if placeholders != nargs {
		return fmt.Errorf("%d placeholders for %d args", placeholders, nargs)
	}
	return nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// checkNoValues checks that input values reach the statement only as arguments: the SQL text is the
// same when every value is replaced by a dummy of its type (so it cannot depend on any value), and no
// input string holding a character the generator never emits (not ' or ", which ESCAPE '!' and quoted
// identifiers use) appears in it.
func checkNoValues(t *testing.T, d *Dialect, b *Builder, q *Query, st *Statement, where map[string]any, search string) {
	t.Helper()
	dummy := *q
	dummy.Where = skeleton(q.Where)
	dummy.Search = strings.Repeat("x", len(q.Search))
	other, err := b.Select(&dummy)
	if err != nil {
		t.Fatalf("%s: the same query with dummy values fails: %v", d.Name(), err)
	}
	if other.SQL != st.SQL || len(other.Args) != len(st.Args) {
		t.Fatalf("%s: the SQL depends on the values:\n%s\n%s", d.Name(), st.SQL, other.SQL)
	}
	for _, s := range append(stringLeaves(where), search) {
		if len(s) > 3 && strings.ContainsFunc(s, func(r rune) bool { return r > 0x7e || strings.ContainsRune(";-/*\\%#@{}[]|&^~:+\x00\n\t", r) }) &&
			strings.Contains(st.SQL, s) {
			t.Fatalf("%s: the value %q appears in the SQL: %s", d.Name(), s, st.SQL)
		}
	}
}

// skeleton copies a filter with every value replaced by a dummy of the column's type.
func skeleton(f *Filter) *Filter {
	if f == nil {
		return nil
	}
	out := &Filter{Not: skeleton(f.Not)}
	for _, c := range f.Conds {
		if c.Op != IsNull {
			if list, ok := c.Value.([]any); ok {
				vals := make([]any, len(list))
				for i := range vals {
					vals[i] = dummyValue(c.Column)
				}
				c.Value = vals
			} else {
				c.Value = dummyValue(c.Column)
			}
		}
		out.Conds = append(out.Conds, c)
	}
	for _, s := range f.And {
		out.And = append(out.And, skeleton(s))
	}
	for _, s := range f.Or {
		out.Or = append(out.Or, skeleton(s))
	}
	return out
}

func dummyValue(c *Column) any {
	switch c.Type {
	case Int:
		return int64(0)
	case BigInt:
		return "0"
	case Decimal:
		return "0"
	case Float:
		return 0.0
	case Bool:
		return false
	case Date, Timestamp:
		return time.Time{}
	case UUID:
		return "00000000-0000-0000-0000-000000000000"
	}
	return "x"
}

func stringLeaves(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringLeaves(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range x {
			out = append(out, stringLeaves(e)...)
		}
		return out
	}
	return nil
}

// checkCursorBinding resumes the statement's page with a cursor: the identical query accepts it and
// compiles to a clean statement; another tenant, order, filter or search refuses it with ErrBadCursor.
func checkCursorBinding(t *testing.T, b *Builder, q *Query, st *Statement, nulls bool) {
	t.Helper()
	row := make([]any, len(st.Columns))
	for i, c := range st.Columns {
		if !(nulls && c.IsNullable()) {
			row[i] = sample(c)
		}
	}
	resumed := *q
	resumed.After = st.Cursor(row)
	next, err := b.Select(&resumed)
	if err != nil {
		t.Fatalf("%s: the identical query refuses its own cursor: %v", b.Dialect.Name(), err)
	}
	checkStatement(t, b.Dialect, q.View, next)
	flipped := make([]OrderTerm, len(st.Terms))
	for i, term := range st.Terms {
		flipped[i] = OrderTerm{Column: term.Column.Name, Desc: term.Desc != (i == 0)}
	}
	status := q.View.Column("status")
	mutations := map[string]func(q *Query){
		"tenant": func(q *Query) { q.Tenant += "x" },
		"order":  func(q *Query) { q.OrderBy = flipped },
		"filter": func(q *Query) {
			q.Where = &Filter{And: []*Filter{q.Where, {Conds: []Cond{{Column: status, Op: Eq, Value: "zz"}}}}}
		},
		"search": func(q *Query) {
			if len(q.Search) < maxSearch {
				q.Search += "z"
			} else {
				q.Search = "z"
			}
		},
	}
	for name, mutate := range mutations {
		other := resumed
		mutate(&other)
		if _, err := b.Select(&other); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("%s: a cursor is accepted with another %s: err %v", b.Dialect.Name(), name, err)
		}
	}
}

func FuzzCursor(f *testing.F) {
	cat := testCatalog(f)
	v := cat.View("invoices")
	b := testBuilder(f, Postgres)
	base := &Query{View: v, Fields: v.Columns[:3], First: 10, Tenant: "acme"}
	st, err := b.Select(base)
	if err != nil {
		f.Fatal(err)
	}
	row := make([]any, len(st.Columns))
	for i, c := range st.Columns {
		row[i] = sample(c)
	}
	good := st.Cursor(row)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	payload := raw[1+macSize:]
	f.Add(good)
	f.Add("")
	for _, n := range []int{1, 2, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	for _, i := range []int{0, 1, macSize, macSize + 1, len(raw) - 1} {
		flipped := slices.Clone(raw)
		flipped[i] ^= 0x01
		f.Add(base64.RawURLEncoding.EncodeToString(flipped))
	}
	f.Add(base64.RawURLEncoding.EncodeToString(payload))                                                 // JSON without MAC
	f.Add(base64.RawURLEncoding.EncodeToString(append([]byte{cursorVersion}, payload...)))               // no MAC
	f.Add(base64.RawURLEncoding.EncodeToString(append(make([]byte, 1+macSize), payload...)))             // zero MAC, version 0
	f.Add(base64.RawURLEncoding.EncodeToString(append([]byte{cursorVersion}, make([]byte, macSize)...))) // no payload
	f.Add(base64.StdEncoding.EncodeToString(raw))                                                        // padded
	f.Add(good + "=")
	f.Add(strings.Repeat("A", maxCursorLen+1))
	f.Add(`{"w":"invoices","o":"issued_at desc,id desc","s":"","k":["2024-01-02T03:04:05Z","7"]}`)
	builders := []*Builder{b, testBuilder(f, MySQL), testBuilder(f, SQLite)}
	f.Fuzz(func(t *testing.T, after string) {
		for _, b := range builders {
			q := *base
			q.After = after
			st, err := b.Select(&q)
			if err != nil {
				if !errors.Is(err, ErrBadCursor) {
					t.Fatalf("%s: error %v does not wrap ErrBadCursor", b.Dialect.Name(), err)
				}
				for _, other := range []error{ErrBadFilter, ErrBadOrder, ErrBadPageSize} {
					if errors.Is(err, other) {
						t.Fatalf("%s: a cursor error also wraps %v: %v", b.Dialect.Name(), other, err)
					}
				}
				continue
			}
			checkStatement(t, b.Dialect, v, st)
		}
	})
}

// FuzzSignedCursor fuzzes what the MAC protects: payloads signed with the server's secret, as a
// server-issued cursor over unexpected rows (or a leaked secret) would carry. Select must still
// return a statement or ErrBadCursor.
func FuzzSignedCursor(f *testing.F) {
	v := testCatalog(f).View("invoices")
	for _, seed := range []string{
		`{"w":"invoices","o":"issued_at desc,id desc","s":"%s","k":["2024-01-02T03:04:05Z","7"]}`,
		`{"w":"invoices","o":"issued_at desc,id desc","s":"%s","k":["2024-01-02T03:04:05.123+02:00",7]}`,
		`{"w":"invoices","o":"issued_at desc,id desc","s":"%s","k":["2024-01-02T03:04:05Z"]}`,
		`{"w":"invoices","o":"issued_at desc,id desc","s":"%s","k":[1e400,"x"]}`,
		`{"w":"invoices","o":"x","s":"%s","k":[]}`,
		`{"w":"invoices","o":"issued_at desc,id desc","s":"%s","k":[null,"7"]}`,
	} {
		f.Add(seed)
	}
	builders := []*Builder{testBuilder(f, Postgres), testBuilder(f, MySQL), testBuilder(f, SQLite)}
	f.Fuzz(func(t *testing.T, payload string) {
		for _, b := range builders {
			q := &Query{View: v, Fields: v.Columns[:1], First: 10, Tenant: "acme"}
			st, err := b.Select(q)
			if err != nil {
				t.Fatal(err)
			}
			p := []byte(strings.Replace(payload, "%s", st.scope, 1))
			raw := append(append([]byte{cursorVersion}, b.Cursors.mac(p)...), p...)
			q.After = base64.RawURLEncoding.EncodeToString(raw)
			next, err := selectNoPanic(t, b, q)
			if err != nil {
				if !errors.Is(err, ErrBadCursor) {
					t.Fatalf("%s: error %v does not wrap ErrBadCursor", b.Dialect.Name(), err)
				}
				continue
			}
			checkStatement(t, b.Dialect, v, next)
		}
	})
}

// selectNoPanic turns a panic into a test failure, so that one bad corpus entry does not abort the package's tests.
func selectNoPanic(t *testing.T, b *Builder, q *Query) (st *Statement, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("regression: %s: Select panics: %v", b.Dialect.Name(), p)
		}
	}()
	return b.Select(q)
}

// TestCursorBinding: a cursor resumes exactly the query it was issued for, on every engine.
func TestCursorBinding(t *testing.T) {
	cat := loadSample(t, "valid_two_views.yaml")
	inv, arch := cat.View("invoices"), cat.View("archivedInvoices")
	pg := testBuilder(t, Postgres)
	base := &Query{View: inv, Fields: inv.Columns, Where: where(t, inv, `{"status":{"eq":"paid"}}`), First: 10, Tenant: "acme"}
	st, err := pg.Select(base)
	if err != nil {
		t.Fatal(err)
	}
	cursor := st.Cursor([]any{"7", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "paid"})
	accept := map[string]func(q *Query){
		"identical":              func(q *Query) {},
		"other page size":        func(q *Query) { q.First = 3 },
		"other fields":           func(q *Query) { q.Fields = inv.Columns[:1] },
		"same filter reparsed":   func(q *Query) { q.Where = where(t, inv, `{"status":{"eq":"paid"}}`) },
		"explicit default order": func(q *Query) { q.OrderBy = []OrderTerm{{Column: "issued_at", Desc: true}} },
	}
	reject := map[string]func(q *Query){
		"other view": func(q *Query) {
			q.View = arch
			q.Fields = arch.Columns
			q.Where = where(t, arch, `{"status":{"eq":"paid"}}`)
		},
		"other tenant": func(q *Query) { q.Tenant = "globex" },
		"other order":  func(q *Query) { q.OrderBy = []OrderTerm{{Column: "issued_at"}} },
		"key order":    func(q *Query) { q.OrderBy = []OrderTerm{} },
		"other filter": func(q *Query) { q.Where = where(t, inv, `{"status":{"eq":"void"}}`) },
		"no filter":    func(q *Query) { q.Where = nil },
		"search":       func(q *Query) { q.Search = "x" },
	}
	for _, d := range dialects {
		b := testBuilder(t, d)
		for name, mutate := range accept {
			q := *base
			q.After = cursor
			mutate(&q)
			if _, err := b.Select(&q); err != nil {
				t.Errorf("%s %s: refused: %v", d.Name(), name, err)
			}
		}
		for name, mutate := range reject {
			q := *base
			q.After = cursor
			mutate(&q)
			if _, err := b.Select(&q); !errors.Is(err, ErrBadCursor) && !(name == "search" && errors.Is(err, ErrBadFilter)) {
				t.Errorf("%s %s: got %v, want ErrBadCursor", d.Name(), name, err)
			}
		}
	}
}

// TestCursorNullInNotNullColumn: the catalog promises that key columns (and columns declared
// nullable: false) hold no NULL, but a view cannot enforce it. A row that breaks the promise yields
// a signed cursor carrying null; resuming from it must fail cleanly, not panic.
func TestCursorNullInNotNullColumn(t *testing.T) {
	v := testCatalog(t).View("invoices")
	for _, d := range dialects {
		b := testBuilder(t, d)
		q := &Query{View: v, Fields: v.Columns[:1], First: 10, Tenant: "acme"}
		st, err := b.Select(q)
		if err != nil {
			t.Fatal(err)
		}
		q.After = st.Cursor(make([]any, len(st.Columns))) // issued_at and id are NULL
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("regression: %s: Select panics on a cursor with NULL in NOT NULL order columns: %v", d.Name(), p)
				}
			}()
			if _, err := b.Select(q); err != nil && !errors.Is(err, ErrBadCursor) {
				t.Errorf("%s: %v", d.Name(), err)
			}
		}()
	}
}

// TestCursorNonFiniteFloat: Postgres double precision holds NaN and ±Infinity; the cursor of a page
// ending on such a row must still resume it, not be refused as malformed.
func TestCursorNonFiniteFloat(t *testing.T) {
	cat, err := ParseCatalog([]byte(`
views:
  - name: Reading
    field: readings
    source: s
    relation: v_readings
    key: [id]
    default_order: [{column: value}]
    roles: [r]
    columns:
      - {name: id, type: bigint}
      - {name: value, type: float, sort: true, nullable: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	v := cat.View("readings")
	b := testBuilder(t, Postgres)
	q := &Query{View: v, Fields: v.Columns, First: 10}
	st, err := b.Select(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []float64{1.5, math.NaN(), math.Inf(1), math.Inf(-1)} {
		q.After = st.Cursor([]any{"1", f})
		if _, err := b.Select(q); err != nil {
			t.Errorf("regression: the cursor after value %v is refused: %v", f, err)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	v := testCatalog(b).View("invoices")
	bld := testBuilder(b, Postgres)
	w := where(b, v, `{"status":{"in":["paid","open"]},"amount":{"gte":"100.00"},"issuedAt":{"gte":"2024-01-01T00:00:00Z"}}`)
	q := &Query{View: v, Fields: v.Columns[:5], Where: w, First: 50, Tenant: "acme"}
	st, err := bld.Select(q)
	if err != nil {
		b.Fatal(err)
	}
	q.After = st.Cursor([]any{"7", "A-7", "paid", "120.00", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)})
	if _, err := bld.Select(q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bld.Select(q); err != nil {
			b.Fatal(err)
		}
	}
}
