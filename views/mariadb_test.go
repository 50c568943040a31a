package views_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

// plan is the part of a MariaDB EXPLAIN row that says how the table is read: the access type,
// the index and how many bytes of it the predicate uses, and whether the rows are sorted
// after reading them.
type plan struct {
	Table, Type, Key, KeyLen string
	Filesort                 bool
}

// TestMariaDBTextComparisonsKeepIndexes: the narrowing half of a MariaDB text comparison (see
// narrowText) must still be served by an index, on the demo's utf8mb3 columns, and must stay
// correct (no error) when the value holds an emoji, for which the binary check alone decides.
func TestMariaDBTextComparisonsKeepIndexes(t *testing.T) {
	db, err := sql.Open("mysql", dbtest.MariaDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cur, err := views.NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	b := &views.Builder{Dialect: views.MySQL, Cursors: cur}
	cases := []struct {
		name, view, where string
		order             []views.OrderTerm
		want              plan
	}{
		// utf8mb3 tenant_id and name: 194 bytes are the tenant (64 × 3 + 2), 961 tenant and name.
		{"tenant", "customers", `{}`, []views.OrderTerm{{Column: "created_at"}},
			plan{"erp_customer", "range", "erp_customer_tenant_name", "194", true}},
		{"tenant and name eq", "customers", `{"name":{"eq":"Hansen"}}`, []views.OrderTerm{{Column: "created_at"}},
			plan{"erp_customer", "ref", "erp_customer_tenant_name", "961", true}},
		{"tenant and name in", "customers", `{"name":{"in":["Hansen","Zoë"]}}`, []views.OrderTerm{{Column: "created_at"}},
			plan{"erp_customer", "range", "erp_customer_tenant_name", "961", true}},
		{"sku eq", "products", `{"sku":{"eq":"HW-0001"}}`, nil,
			plan{"erp_product", "const", "sku", "194", false}},
		{"sku startsWithExact", "products", `{"sku":{"startsWithExact":"HW-000"}}`, nil,
			plan{"erp_product", "range", "sku", "194", true}},
		// An emoji: the name cannot narrow, the tenant still does, and nothing fails.
		{"tenant and name eq emoji", "customers", `{"name":{"eq":"😀"}}`, []views.OrderTerm{{Column: "created_at"}},
			plan{"erp_customer", "range", "erp_customer_tenant_name", "194", true}},
		{"sku startsWithExact emoji", "products", `{"sku":{"startsWithExact":"HW-😀"}}`, nil,
			plan{"erp_product", "index", "sku", "194", true}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := cat.View(tc.view)
			q := &views.Query{View: v, Fields: v.Columns[:1], OrderBy: tc.order, First: 20, Tenant: demo.TenantAcme}
			if tc.where != `{}` {
				var m map[string]any
				if err := json.Unmarshal([]byte(tc.where), &m); err != nil {
					t.Fatal(err)
				}
				f, err := views.ParseWhere(v, m)
				if err != nil {
					t.Fatal(err)
				}
				q.Where = f
			}
			st, err := b.Select(q)
			if err != nil {
				t.Fatal(err)
			}
			got := explain(ctx, t, db, st)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("EXPLAIN (-want +got):\n%s\nSQL: %s", diff, st.SQL)
			}
		})
	}
}

// explain returns the plan of the statement's first table that is not a subquery's.
func explain(ctx context.Context, t *testing.T, db *sql.DB, st *views.Statement) plan {
	t.Helper()
	rows, err := db.QueryContext(ctx, "EXPLAIN "+st.SQL, st.Args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v\nSQL: %s", err, st.SQL)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i].String
		}
		if row["select_type"] == "SIMPLE" || row["select_type"] == "PRIMARY" {
			return plan{row["table"], row["type"], row["key"], row["key_len"], strings.Contains(row["Extra"], "filesort")}
		}
	}
	t.Fatalf("EXPLAIN found no top-level table: %v", rows.Err())
	return plan{}
}
