package views

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := LoadCatalog("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testBuilder(t testing.TB, d *Dialect) *Builder {
	t.Helper()
	cur, err := NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return &Builder{Dialect: d, Cursors: cur}
}

func where(t testing.TB, v *View, js string) *Filter {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	f, err := ParseWhere(v, m)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSelectSQL pins the SQL text per dialect: it must stay stable so digests group and
// statement caches hit. Run with -update and read the diff.
func TestSelectSQL(t *testing.T) {
	cat := testCatalog(t)
	inv := cat.View("invoices")
	cases := []struct {
		name  string
		where string
		order []OrderTerm
		srch  string
	}{
		{name: "default", where: `{}`},
		{name: "every_operator", where: `{"number":{"eq":"A-1","in":["A-1","A-2"],"startsWith":"50%_!","contains":"x","startsWithExact":"A-[*?%_!","containsExact":"Ü😀"},"status":{"neq":"void","notIn":["draft"]},"amount":{"gte":"10.5","lt":99},"dueDate":{"isNull":true},"publicId":{"eq":"123E4567-E89B-12D3-A456-426614174000"}}`},
		{name: "and_or_not", where: `{"or":[{"status":{"eq":"paid"}},{"and":[{"amount":{"gt":"100"}},{"not":{"customerName":{"lt":"M"}}}]}]}`},
		{name: "order_nullable", where: `{}`, order: []OrderTerm{{Column: "due_date"}, {Column: "customer_name", Desc: true}}},
		{name: "search", where: `{}`, srch: "acme"},
	}
	for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
		for _, tc := range cases {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				b := testBuilder(t, d)
				q := &Query{View: inv, Fields: inv.Columns[:3], Where: where(t, inv, tc.where), OrderBy: tc.order, Search: tc.srch, First: 10, Tenant: "acme"}
				st, err := b.Select(q)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "sql", d.Name()+"_"+tc.name+".sql"), st.SQL+"\n")
				if got, want := strings.Count(st.SQL, placeholderMark(d)), len(st.Args); d != Postgres && got != want {
					t.Errorf("%d placeholders, %d args", got, want)
				}
				// A cursor from this page resumes it with a keyset predicate.
				row := make([]any, len(st.Columns))
				for i, c := range st.Columns {
					row[i] = sample(c)
				}
				q.After = st.Cursor(row)
				next, err := b.Select(q)
				if err != nil {
					t.Fatalf("resume: %v", err)
				}
				checkGolden(t, filepath.Join("testdata", "sql", d.Name()+"_"+tc.name+"_after.sql"), next.SQL+"\n")
			})
		}
	}
}

func placeholderMark(d *Dialect) string { return "?" }

func sample(c *Column) any {
	v, err := parseValue(c, map[Type]any{Text: "x", BigInt: "7", Decimal: "1.00", Timestamp: "2024-01-02T03:04:05Z", Date: "2024-01-02", UUID: "123e4567-e89b-12d3-a456-426614174000"}[c.Type])
	if err != nil {
		return nil
	}
	return v
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestCursorRejections(t *testing.T) {
	cat := testCatalog(t)
	inv := cat.View("invoices")
	b := testBuilder(t, Postgres)
	base := &Query{View: inv, Fields: inv.Columns[:2], First: 5, Tenant: "acme"}
	st, err := b.Select(base)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(st.Columns))
	for i, c := range st.Columns {
		row[i] = sample(c)
	}
	good := st.Cursor(row)
	other := testBuilder(t, Postgres)
	other.Cursors, _ = NewCursors([]byte("another-secret-another-secret-0123"))
	cases := []struct {
		name   string
		mutate func(q *Query)
		b      *Builder
	}{
		{"garbage", func(q *Query) { q.After = "not a cursor!" }, b},
		{"tampered", func(q *Query) { q.After = good[:len(good)-2] + "AA" }, b},
		{"other tenant", func(q *Query) { q.Tenant = "globex" }, b},
		{"other order", func(q *Query) { q.OrderBy = []OrderTerm{{Column: "amount"}} }, b},
		{"other filter", func(q *Query) { q.Where = where(t, inv, `{"status":{"eq":"paid"}}`) }, b},
		{"other secret", func(q *Query) {}, other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := *base
			q.After = good
			tc.mutate(&q)
			if _, err := tc.b.Select(&q); !errors.Is(err, ErrBadCursor) {
				t.Fatalf("got %v, want ErrBadCursor", err)
			}
		})
	}
	q := *base
	q.After = good
	if _, err := b.Select(&q); err != nil {
		t.Fatalf("the good cursor is refused: %v", err)
	}
}
