package views

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzSignedGroupCursor signs arbitrary payloads as the server would, so that their values reach
// the aggregate keyset: every one is a clean ErrBadCursor or a statement with a placeholder per
// value, on every dialect.
func FuzzSignedGroupCursor(f *testing.F) {
	for _, seed := range []string{
		`{"w":"invoicesAggregate","o":"sum.amount desc,key.status,key.issued_at/month","s":"%s","k":["12.50","paid","2024-01-01T00:00:00Z"]}`,
		`{"w":"invoicesAggregate","o":"sum.amount desc,key.status,key.issued_at/month","s":"%s","k":[null,"paid","2024-01-01T00:00:00Z"]}`,
		`{"w":"invoicesAggregate","o":"sum.amount desc,key.status,key.issued_at/month","s":"%s","k":["-0.001","",null]}`,
		`{"w":"invoicesAggregate","o":"sum.amount desc,key.status,key.issued_at/month","s":"%s","k":[1e400,7,true]}`,
		`{"w":"invoicesAggregate","o":"sum.amount desc,key.status,key.issued_at/month","s":"%s","k":["99999999999999999999999999999999999999.99","x","2024-13-01T00:00:00Z"]}`,
		`{"w":"invoicesAggregate","o":"x","s":"%s","k":[]}`,
	} {
		f.Add(seed)
	}
	v := testCatalog(f).View("invoices")
	builders := []*Builder{testBuilder(f, Postgres), testBuilder(f, MySQL), testBuilder(f, SQLite)}
	f.Fuzz(func(t *testing.T, payload string) {
		for _, b := range builders {
			q := &AggregateQuery{View: v, Tenant: "acme", First: 5, Groups: []Measure{{Agg: AggCount}},
				Totals:  []Measure{{AggAvg, v.Column("amount")}},
				GroupBy: []GroupTerm{{Column: v.Column("status")}, {Column: v.Column("issued_at"), Bucket: Month}},
				OrderBy: []GroupOrder{{Agg: AggSum, Column: v.Column("amount"), Desc: true}}}
			st, err := b.Aggregate(q)
			if err != nil {
				t.Fatal(err)
			}
			p := []byte(strings.Replace(payload, "%s", st.agg.scope, 1))
			q.After = base64.RawURLEncoding.EncodeToString(append(append([]byte{cursorVersion}, b.Cursors.mac(p)...), p...))
			next, err := aggregateNoPanic(t, b, q)
			if err != nil {
				if !errors.Is(err, ErrBadCursor) {
					t.Fatalf("%s: error %v does not wrap ErrBadCursor", b.Dialect.Name(), err)
				}
				continue
			}
			if !strings.HasPrefix(next.SQL, "SELECT ") || (b.Dialect != Postgres && strings.Count(next.SQL, "?") != len(next.Args)) {
				t.Fatalf("%s: %d args for %s", b.Dialect.Name(), len(next.Args), next.SQL)
			}
		}
	})
}

// FuzzGroupSort: any sort key is a group ordering of the view or a clean ErrBadOrder.
func FuzzGroupSort(f *testing.F) {
	for _, s := range []string{"count", "key.status", "sum.amount", "avg.line_count", "key.amount", "sum.status", "max.", ".", "key.", "min.customer_email", "count.amount"} {
		f.Add(s)
	}
	v := testCatalog(f).View("invoices")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseGroupSort(v, s, false)
		if err != nil {
			if !errors.Is(err, ErrBadOrder) {
				t.Fatalf("%q: %v does not wrap ErrBadOrder", s, err)
			}
			return
		}
		if got := GroupSortKey(o.Agg, o.Column); got != s {
			t.Fatalf("%q parses to %q", s, got)
		}
		if o.Agg != AggCount && (o.Column.PII != PIINone || (o.Agg == "" && !o.Column.Dimension) || (o.Agg != "" && !o.Column.Offers(o.Agg))) {
			t.Fatalf("%q orders by something the catalog does not offer: %+v", s, o)
		}
	})
}

func aggregateNoPanic(t *testing.T, b *Builder, q *AggregateQuery) (st *Statement, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("regression: %s: Aggregate panics: %v", b.Dialect.Name(), p)
		}
	}()
	return b.Aggregate(q)
}
