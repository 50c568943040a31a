package views

import (
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTextCache: a builder that has built many statements gives, for every query, exactly
// the SQL and arguments a fresh builder (squirrel alone) gives, whatever was cached before:
// other tenants, values, lists of other lengths, projections, orders, cursors, page sizes.
func TestTextCache(t *testing.T) {
	cat := testCatalog(t)
	inv := cat.View("invoices")
	wheres := []string{
		`{}`,
		`{"status":{"eq":"paid"}}`,
		`{"status":{"eq":"void"}}`,
		`{"status":{"in":["paid"]}}`,
		`{"status":{"in":["paid","void","draft"]}}`,
		`{"number":{"startsWith":"A-"},"amount":{"gte":"10.5"}}`,
		`{"or":[{"status":{"eq":"paid"}},{"not":{"customerName":{"lt":"M"}}}]}`,
	}
	orders := [][]OrderTerm{nil, {{Column: "due_date"}, {Column: "customer_name", Desc: true}}, {{Column: "amount", Desc: true}}}
	for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
		warm := testBuilder(t, d)
		for round := range 2 { // the second round hits what the first cached
			for _, tenant := range []string{"acme", "globex"} {
				for wi, w := range wheres {
					for oi, order := range orders {
						for _, fields := range [][]*Column{inv.Columns[:3], inv.Columns[1:5]} {
							for _, first := range []int{1, 10} {
								q := &Query{View: inv, Fields: fields, Where: where(t, inv, w), OrderBy: order, First: first, Tenant: tenant}
								if wi == 0 && oi == 0 {
									q.Search = tenant
								}
								compare(t, d, warm, q, round)
								row := make([]any, len(fields)+3)
								st, err := testBuilder(t, d).Select(q)
								if err != nil {
									t.Fatal(err)
								}
								row = row[:len(st.Columns)]
								for i, c := range st.Columns {
									row[i] = sample(c)
								}
								q.After = st.Cursor(row)
								compare(t, d, warm, q, round)
							}
						}
					}
				}
			}
		}
	}
}

var bigInts = cmp.Comparer(func(a, b *big.Int) bool { return (a == nil) == (b == nil) && (a == nil || a.Cmp(b) == 0) })

func compare(t *testing.T, d *Dialect, warm *Builder, q *Query, round int) {
	t.Helper()
	fresh := testBuilder(t, d)
	for _, kind := range []string{"select", "count"} {
		build := func(b *Builder) (*Statement, error) {
			if kind == "count" {
				return b.Count(q)
			}
			return b.Select(q)
		}
		want, err := build(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := build(warm)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{want.SQL, want.Args}, []any{got.SQL, got.Args}, bigInts); diff != "" {
			t.Errorf("%s %s round %d tenant %s: cached statement differs (-squirrel +cached):\n%s", d.Name(), kind, round, q.Tenant, diff)
		}
	}
}

// TestTextCacheHits: a repeated shape is served from the cache, with the new request's own
// tenant as its argument.
func TestTextCacheHits(t *testing.T) {
	inv := testCatalog(t).View("invoices")
	b := testBuilder(t, Postgres)
	q := &Query{View: inv, Fields: inv.Columns[:3], First: 5, Tenant: "acme"}
	if _, err := b.Select(q); err != nil {
		t.Fatal(err)
	}
	if n := len(b.texts.m); n != 1 {
		t.Fatalf("%d texts cached, want 1", n)
	}
	q.Tenant = "globex"
	st, err := b.Select(q)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.texts.m); n != 1 {
		t.Errorf("%d texts cached after the same shape, want 1", n)
	}
	if diff := cmp.Diff([]any{"globex", 6}, st.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	allocs := testing.AllocsPerRun(50, func() { _, _ = b.Select(q) })
	if allocs > 40 {
		t.Errorf("a cached Select allocates %v times, want at most 40", allocs)
	}
}
