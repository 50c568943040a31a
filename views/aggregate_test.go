package views

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"
)

func TestAggregateDefaults(t *testing.T) {
	c := loadSample(t, "valid_aggregate.yaml")
	v := c.View("orders")
	if c.AggregateView("ordersAggregate") != v || c.AggregateView("orders") != nil {
		t.Fatal("the aggregate field defaults to the view's field + Aggregate, and views are found by it")
	}
	if v.Aggregate.MaxGroups != DefaultMaxGroups || v.Aggregate.ScanCost != 1 {
		t.Errorf("defaults: max_groups %d, scan_cost %d", v.Aggregate.MaxGroups, v.Aggregate.ScanCost)
	}
	if got := c.View("refunds").Aggregate.Field; got != "refundStats" {
		t.Errorf("an explicit field is kept: got %q", got)
	}
	for name, want := range map[string][]Bucket{"placed_at": Buckets, "ship_date": {Month}, "region": nil, "total": nil} {
		if diff := cmp.Diff(want, v.Column(name).BucketsOffered()); diff != "" {
			t.Errorf("%s buckets (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff([]string{"region", "placed_at", "ship_date"}, names(v.Dimensions())); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"total", "placed_at"}, names(v.Measures(AggMax))); diff != "" {
		t.Errorf("max measures (-want +got):\n%s", diff)
	}
}

func names(cols []*Column) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Name)
	}
	return out
}

// aggQuery is the invoices aggregate query of the SQL and error tests.
func aggQuery(t *testing.T, v *View) *AggregateQuery {
	t.Helper()
	return &AggregateQuery{View: v, Tenant: "acme", First: 10,
		GroupBy: []GroupTerm{{Column: v.Column("status")}, {Column: v.Column("issued_at"), Bucket: Month}}}
}

func every(v *View) []Measure {
	m := []Measure{{Agg: AggCount}}
	for _, agg := range Aggs {
		for _, c := range v.Measures(agg) {
			m = append(m, Measure{agg, c})
		}
	}
	return m
}

// TestAggregateSQL pins each dialect's aggregate statements: totals alone; groups with
// totals, first and then resumed from a cursor (rows before it flagged and sorted last); groups
// alone, resumed (rows before it filtered out). Run with -update and read the diff.
func TestAggregateSQL(t *testing.T) {
	v := testCatalog(t).View("invoices")
	cases := []struct {
		name   string
		edit   func(q *AggregateQuery)
		resume bool
	}{
		{name: "totals", edit: func(q *AggregateQuery) { q.Totals, q.Where = every(v), where(t, v, `{"status":{"eq":"paid"}}`) }},
		{name: "groups_totals", resume: true, edit: func(q *AggregateQuery) {
			q.Totals, q.Groups = []Measure{{Agg: AggCount}, {AggSum, v.Column("amount")}}, every(v)
			q.OrderBy = []GroupOrder{{Agg: AggSum, Column: v.Column("amount"), Desc: true}}
		}},
		{name: "groups", resume: true, edit: func(q *AggregateQuery) {
			q.Groups = []Measure{{Agg: AggCount}}
			q.GroupBy = append(q.GroupBy, GroupTerm{Column: v.Column("due_date"), Bucket: Year}, GroupTerm{Column: v.Column("customer_name")})
			q.Search = "acme"
		}},
	}
	for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
		for _, tc := range cases {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				b := testBuilder(t, d)
				q := aggQuery(t, v)
				tc.edit(q)
				st, err := b.Aggregate(q)
				if err != nil {
					t.Fatal(err)
				}
				checkAggregateSQL(t, d, st)
				checkGolden(t, filepath.Join("testdata", "sql", d.Name()+"_aggregate_"+tc.name+".sql"), st.SQL+"\n")
				if !tc.resume {
					return
				}
				row := sampleRow(st)
				q.After = st.groupCursor(row)
				next, err := b.Aggregate(q)
				if err != nil {
					t.Fatalf("resume: %v", err)
				}
				checkAggregateSQL(t, d, next)
				checkGolden(t, filepath.Join("testdata", "sql", d.Name()+"_aggregate_"+tc.name+"_after.sql"), next.SQL+"\n")
			})
		}
	}
}

// checkAggregateSQL: one SELECT, a bound LIMIT, as many placeholders as arguments, report class.
func checkAggregateSQL(t *testing.T, d *Dialect, st *Statement) {
	t.Helper()
	limit := "LIMIT ?"
	if d == Postgres {
		limit = "LIMIT $" + strconv.Itoa(len(st.Args))
	}
	if !strings.HasPrefix(st.SQL, "SELECT ") || !strings.HasSuffix(st.SQL, limit) {
		t.Errorf("not a SELECT ending in a bound LIMIT: %s", st.SQL)
	}
	if d != Postgres && strings.Count(st.SQL, "?") != len(st.Args) {
		t.Errorf("%d placeholders, %d args", strings.Count(st.SQL, "?"), len(st.Args))
	}
	if strings.Contains(st.SQL, ";") || st.Class != ReportClass {
		t.Errorf("class %q, SQL %s", st.Class, st.SQL)
	}
}

// sampleRow is a decoded row of st with a value of the right normal form in every slot.
func sampleRow(st *Statement) []any {
	row := make([]any, len(st.agg.slots))
	for i, s := range st.agg.slots {
		switch {
		case s.kind == asFlag:
			row[i] = int64(1)
		case s.norm.Type == Int:
			row[i] = int64(7)
		case s.norm.Type == Decimal:
			row[i] = formatDecimal("12.5", *s.norm.Scale)
		default:
			row[i] = sample(s.norm)
		}
	}
	return row
}

func TestAggregateRefusals(t *testing.T) {
	v := testCatalog(t).View("invoices")
	b := testBuilder(t, Postgres)
	good := aggQuery(t, v)
	good.Groups = []Measure{{Agg: AggCount}}
	st, err := b.Aggregate(good)
	if err != nil {
		t.Fatal(err)
	}
	cursor := st.groupCursor(sampleRow(st))
	list, _ := b.Select(&Query{View: v, First: 1, Tenant: "acme"})
	listCursor := list.Cursor(make([]any, len(list.Columns)))
	cases := []struct {
		name string
		edit func(q *AggregateQuery)
		want error
	}{
		{"first over max_groups", func(q *AggregateQuery) { q.First = 51 }, ErrBadPageSize},
		{"negative first", func(q *AggregateQuery) { q.First = -1 }, ErrBadPageSize},
		{"not a dimension", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: v.Column("amount")}} }, ErrBadGroup},
		{"PII dimension", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: v.Column("customer_email")}} }, ErrBadGroup},
		{"column of another view", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: &Column{Name: "status", Dimension: true}}} }, ErrBadGroup},
		{"bucket not offered", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: v.Column("due_date"), Bucket: Week}} }, ErrBadGroup},
		{"unknown bucket", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: v.Column("issued_at"), Bucket: "decade"}} }, ErrBadGroup},
		{"bucket on text", func(q *AggregateQuery) { q.GroupBy = []GroupTerm{{Column: v.Column("status"), Bucket: Day}} }, ErrBadGroup},
		{"dimension twice", func(q *AggregateQuery) { q.GroupBy = append(q.GroupBy, GroupTerm{Column: v.Column("status")}) }, ErrBadGroup},
		{"PII measure", func(q *AggregateQuery) { q.Totals = []Measure{{AggMin, v.Column("customer_email")}} }, ErrBadGroup},
		{"aggregate not offered", func(q *AggregateQuery) { q.Groups = []Measure{{AggSum, v.Column("customer_name")}} }, ErrBadGroup},
		{"count of a column", func(q *AggregateQuery) { q.Totals = []Measure{{AggCount, v.Column("amount")}} }, ErrBadGroup},
		{"order by a key not grouped", func(q *AggregateQuery) { q.OrderBy = []GroupOrder{{Column: v.Column("customer_name")}} }, ErrBadOrder},
		{"order by an aggregate not offered", func(q *AggregateQuery) { q.OrderBy = []GroupOrder{{Agg: AggAvg, Column: v.Column("status")}} }, ErrBadOrder},
		{"order term twice", func(q *AggregateQuery) { q.OrderBy = []GroupOrder{{Agg: AggCount}, {Agg: AggCount, Desc: true}} }, ErrBadOrder},
		{"no tenant", func(q *AggregateQuery) { q.Tenant = "" }, ErrNoTenant},
		{"garbage cursor", func(q *AggregateQuery) { q.After = "not a cursor" }, ErrBadCursor},
		{"list cursor", func(q *AggregateQuery) { q.After = listCursor }, ErrBadCursor},
		{"other tenant", func(q *AggregateQuery) { q.After, q.Tenant = cursor, "globex" }, ErrBadCursor},
		{"other groupBy", func(q *AggregateQuery) { q.After, q.GroupBy = cursor, q.GroupBy[:1] }, ErrBadCursor},
		{"other bucket", func(q *AggregateQuery) { q.After, q.GroupBy[1].Bucket = cursor, Year }, ErrBadCursor},
		{"other order", func(q *AggregateQuery) {
			q.After, q.OrderBy = cursor, []GroupOrder{{Column: v.Column("status"), Desc: true}}
		}, ErrBadCursor},
		{"other filter", func(q *AggregateQuery) { q.After, q.Where = cursor, where(t, v, `{"status":{"eq":"paid"}}`) }, ErrBadCursor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := *good
			q.GroupBy = slices.Clone(good.GroupBy)
			tc.edit(&q)
			if _, err := b.Aggregate(&q); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	q := *good
	q.After = cursor
	if _, err := b.Aggregate(&q); err != nil {
		t.Fatalf("the good cursor is refused: %v", err)
	}
}

// TestAggregateNothingToRead: groups without groupBy, and totals without aggregates, run
// nothing, and the empty result still says count 0.
func TestAggregateNothingToRead(t *testing.T) {
	v := testCatalog(t).View("invoices")
	b := testBuilder(t, SQLite)
	for _, q := range []*AggregateQuery{
		{View: v, Tenant: "acme", Groups: []Measure{{Agg: AggCount}}},
		{View: v, Tenant: "acme", Totals: []Measure{}},
	} {
		st, err := b.Aggregate(q)
		if err != nil || st != nil {
			t.Fatalf("got %v, %v; want no statement", st, err)
		}
		if res := st.Result(nil); len(res.Groups) != 0 || res.HasNext {
			t.Errorf("empty result %+v", res)
		}
	}
	st, err := b.Aggregate(&AggregateQuery{View: v, Tenant: "acme", Totals: []Measure{{Agg: AggCount}, {AggSum, v.Column("amount")}}})
	if err != nil {
		t.Fatal(err)
	}
	res := st.Result(nil)
	if got := res.Totals.Value(Measure{Agg: AggCount}); got != int64(0) {
		t.Errorf("count of nothing = %v, want 0", got)
	}
	if got := res.Totals.Value(Measure{AggSum, v.Column("amount")}); got != nil {
		t.Errorf("sum of nothing = %v, want nil", got)
	}
}

// TestAggregateResultPaging: rows past first set HasNext, flagged rows (before the cursor) are
// not groups, and totals come from any row.
func TestAggregateResultPaging(t *testing.T) {
	v := testCatalog(t).View("invoices")
	b := testBuilder(t, SQLite)
	q := aggQuery(t, v)
	q.First, q.Totals, q.Groups = 2, []Measure{{Agg: AggCount}}, []Measure{{Agg: AggCount}}
	st, _ := b.Aggregate(q)
	q.After = st.groupCursor(sampleRow(st))
	st, err := b.Aggregate(q)
	if err != nil {
		t.Fatal(err)
	}
	p := st.agg
	row := func(status string, in int64) []any {
		r := sampleRow(st)
		r[p.keys[0]], r[p.in], r[p.totals[Measure{Agg: AggCount}]] = status, in, int64(99)
		return r
	}
	for _, tc := range []struct {
		rows    [][]any
		groups  []string
		hasNext bool
	}{
		{[][]any{row("a", 1), row("b", 1), row("c", 1)}, []string{"a", "b"}, true},
		{[][]any{row("a", 1), row("b", 1)}, []string{"a", "b"}, false},
		{[][]any{row("a", 1), row("x", 0)}, []string{"a"}, false},
		{[][]any{row("x", 0)}, nil, false},
	} {
		res := st.Result(tc.rows)
		var got []string
		for _, g := range res.Groups {
			got = append(got, g.Key[0].(string))
		}
		if diff := cmp.Diff(tc.groups, got); diff != "" || res.HasNext != tc.hasNext {
			t.Errorf("groups (-want +got):\n%s hasNext %v", diff, res.HasNext)
		}
		if n := res.Totals.Value(Measure{Agg: AggCount}); n != int64(99) {
			t.Errorf("totals count %v", n)
		}
	}
}

func TestAggregateNumbers(t *testing.T) {
	scale2, scale6 := 2, 6
	cases := []struct {
		s    slot
		in   string
		want any
	}{
		{slot{norm: &Column{Type: Int}}, "42", int64(42)},
		{slot{norm: &Column{Type: Int}}, "42.0000", int64(42)}, // a DECIMAL sum of counts
		{slot{norm: &Column{Type: BigInt}}, "-9223372036854775808", "-9223372036854775808"},
		{slot{norm: &Column{Type: BigInt}}, "123456789012345678901234567890", "123456789012345678901234567890"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale2}}, "3517.15", "3517.15"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale2}}, "12.5", "12.50"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale2}, shift: 2}, "351715", "3517.15"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale2}, shift: 2}, "-5", "-0.05"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale6}, shift: 6}, "1925043612", "1925.043612"},
		{slot{norm: &Column{Type: Decimal, Scale: &scale6}, shift: 6}, "0", "0.000000"},
	}
	for _, tc := range cases {
		got, err := tc.s.number(&sql.NullString{String: tc.in, Valid: true})
		if err != nil || got != tc.want {
			t.Errorf("number(%q, shift %d) = %v, %v; want %v", tc.in, tc.s.shift, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1.5e+18", "NaN", "", "12.50"} { // the last: a shifted value is an integer
		if _, err := (slot{norm: &Column{Type: Decimal, Scale: &scale2}, shift: 2}).number(&sql.NullString{String: bad, Valid: true}); err == nil {
			t.Errorf("number(%q) is accepted", bad)
		}
	}
	if got, _ := (slot{norm: &Column{Type: Int}}).number(&sql.NullString{}); got != nil {
		t.Errorf("NULL = %v", got)
	}
	for in, want := range map[string]string{"3517.15": "351715", "-0.05": "-5", "0.000000": "0", "12.000000": "12000000"} {
		if got := unshift(in); got != want {
			t.Errorf("unshift(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBucketSQLite runs each dialect's SQLite bucket expression on SQLite itself; the engine
// tests in server check all three against each other.
func TestBucketSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := &Column{Name: "t", Type: Timestamp}
	day := &Column{Name: "d", Type: Date}
	for _, tc := range []struct {
		c    *Column
		in   string
		b    Bucket
		want string
	}{
		{ts, "2025-01-01 10:11:12.5", Week, "2024-12-30 00:00:00"}, // a Wednesday: its ISO week starts in 2024
		{ts, "2024-12-30 00:00:00", Week, "2024-12-30 00:00:00"},   // a Monday is its own week's start
		{ts, "2023-01-01 23:59:59", Week, "2022-12-26 00:00:00"},   // a Sunday belongs to the week before
		{ts, "2024-02-29 23:59:59.999", Month, "2024-02-01 00:00:00"},
		{ts, "2024-12-31 23:59:59", Quarter, "2024-10-01 00:00:00"},
		{ts, "2024-03-31 01:00:00", Quarter, "2024-01-01 00:00:00"},
		{ts, "2024-07-04 12:00:00", Year, "2024-01-01 00:00:00"},
		{ts, "2024-07-04 12:00:00", Day, "2024-07-04 00:00:00"},
		{day, "2025-01-05", Week, "2024-12-30"},
		{day, "2025-05-17", Quarter, "2025-04-01"},
	} {
		q := "SELECT " + strings.ReplaceAll(SQLite.bucket(tc.c, tc.b), SQLite.Quote(tc.c.Name), "?")
		n := strings.Count(q, "?")
		args := make([]any, n)
		for i := range args {
			args[i] = tc.in
		}
		var got string
		if err := db.QueryRow(q, args...).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != tc.want {
			t.Errorf("%s of %s = %s, want %s", tc.b, tc.in, got, tc.want)
		}
		if _, err := time.Parse(map[Type]string{Timestamp: sqliteTime, Date: "2006-01-02"}[tc.c.Type], got); err != nil {
			t.Errorf("%q does not decode: %v", got, err)
		}
	}
}
