package demo_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
)

// engine opens a fresh demo database on one engine.
type engine struct {
	name string
	open func(t *testing.T) *sql.DB
}

var engines = []engine{
	{"sqlite", func(t *testing.T) *sql.DB { return open(t, "sqlite", dbtest.SQLite(t)) }},
	{"postgres", func(t *testing.T) *sql.DB { return open(t, "pgx", dbtest.Postgres(t)) }},
	{"mariadb", func(t *testing.T) *sql.DB { return open(t, "mysql", dbtest.MariaDB(t)) }},
}

func open(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCreateSQLiteRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	ctx := context.Background()
	if err := demo.CreateSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := demo.CreateSQLite(ctx, path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateSQLite: got %v, want fs.ErrExist", err)
	}
}

// aggregates are the same statements on every engine; each must give the totals of Generate().
var aggregates = []check{
	{"v_customers", `SELECT tenant_id, COUNT(*), COUNT(email), COUNT(phone), COUNT(country), SUM(CASE WHEN vip THEN 1 ELSE 0 END)
		FROM v_customers GROUP BY tenant_id ORDER BY tenant_id`, "siiiii", wantCustomers},
	{"v_products", `SELECT COUNT(*), SUM(unit_price), COUNT(weight_kg), SUM(CASE WHEN active THEN 1 ELSE 0 END)
		FROM v_products`, "idii", wantProducts},
	{"v_invoices", `SELECT tenant_id, COUNT(*), SUM(amount), SUM(line_count), COUNT(due_date), COUNT(paid_at), COUNT(metadata), COUNT(note), COUNT(customer_email)
		FROM v_invoices GROUP BY tenant_id ORDER BY tenant_id`, "sidiiiiii", wantInvoices},
}

// TestEngines loads the demo data into each engine once and checks it there.
func TestEngines(t *testing.T) {
	d := demo.Generate()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			t.Run("counts", func(t *testing.T) { checkCounts(t, db, d) })
			t.Run("aggregates", func(t *testing.T) { checkQueries(t, db, d, aggregates) })
			t.Run("round trip", func(t *testing.T) { checkQueries(t, db, d, viewDumps) })
			t.Run("differences", func(t *testing.T) { checkDifferences(t, db, e.name) })
			if e.name == "mariadb" {
				t.Run("utf8mb3", func(t *testing.T) { checkUTF8MB3(t, db) })
			}
		})
	}
}

func checkCounts(t *testing.T, db *sql.DB, d *demo.Dataset) {
	want := map[string]string{
		"erp_customer": strconv.Itoa(len(d.Customers)), "erp_product": strconv.Itoa(len(d.Products)),
		"erp_invoice": strconv.Itoa(len(d.Invoices)), "erp_invoice_line": strconv.Itoa(len(d.InvoiceLines)),
		"v_customers": strconv.Itoa(len(d.Customers)), "v_products": strconv.Itoa(len(d.Products)),
		"v_invoices": strconv.Itoa(len(d.Invoices)),
	}
	got := map[string]string{}
	for rel := range want {
		got[rel] = queryRows(t, db, "SELECT COUNT(*) FROM "+rel, "i")[0][0]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row counts (-want +got):\n%s", diff)
	}
}

// check is one statement and the normalised rows it must return for the data set.
type check struct {
	name, sql, kinds string
	want             func(d *demo.Dataset) [][]string
}

func checkQueries(t *testing.T, db *sql.DB, d *demo.Dataset, checks []check) {
	for _, c := range checks {
		if diff := cmp.Diff(c.want(d), queryRows(t, db, c.sql, c.kinds)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

// viewDumps read every view row back; they must equal Generate(), normalised.
var viewDumps = []check{
	{"v_customers", `SELECT id, tenant_id, name, email, phone, country, created_at, vip FROM v_customers ORDER BY id`, "issssstb", dumpCustomers},
	{"v_products", `SELECT id, sku, name, unit_price, weight_kg, active FROM v_products ORDER BY id`, "issdfb", dumpProducts},
	{"v_invoices", `SELECT id, tenant_id, number, customer_id, status, amount, currency, issued_at, due_date, paid_at,
		public_id, metadata, note, customer_name, customer_email, line_count FROM v_invoices ORDER BY id`, "issisdstDtsssssi", dumpInvoices},
}

// queryRows runs query and normalises every value by its kind letter, so engines compare:
// i integer, s text, d decimal (2 places), f float, b bool, t timestamp, D date.
func queryRows(t *testing.T, db *sql.DB, query, kinds string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(kinds))
		ptrs := make([]any, len(kinds))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(kinds))
		for i, v := range vals {
			row[i] = norm(kinds[i], v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func norm(kind byte, v any) string {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		if kind == 'D' {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format(time.DateTime)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if kind == 'd' {
			return strconv.FormatFloat(x, 'f', 2, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		switch kind {
		case 'b':
			return strconv.FormatBool(x != 0)
		case 'd':
			return strconv.FormatInt(x, 10) + ".00"
		}
		return strconv.FormatInt(x, 10)
	case string:
		switch kind {
		case 'b':
			return strconv.FormatBool(x != "0")
		case 'f':
			f, err := strconv.ParseFloat(x, 64)
			if err == nil {
				return strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		return x
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func s(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func dumpCustomers(d *demo.Dataset) [][]string {
	var out [][]string
	for _, c := range d.Customers {
		out = append(out, []string{i64(c.ID), c.TenantID, c.Name, s(c.Email), s(c.Phone), s(c.Country),
			c.CreatedAt.Format(time.DateTime), strconv.FormatBool(c.VIP)})
	}
	return out
}

func dumpProducts(d *demo.Dataset) [][]string {
	var out [][]string
	for _, p := range d.Products {
		w := "NULL"
		if p.WeightKg != nil {
			w = strconv.FormatFloat(*p.WeightKg, 'g', -1, 64)
		}
		out = append(out, []string{i64(p.ID), p.SKU, p.Name, p.UnitPrice.String(), w, strconv.FormatBool(p.Active)})
	}
	return out
}

func dumpInvoices(d *demo.Dataset) [][]string {
	customers := map[int64]demo.Customer{}
	for _, c := range d.Customers {
		customers[c.ID] = c
	}
	lines := map[int64]int{}
	for _, l := range d.InvoiceLines {
		lines[l.InvoiceID]++
	}
	var out [][]string
	for _, inv := range d.Invoices {
		c := customers[inv.CustomerID]
		out = append(out, []string{i64(inv.ID), inv.TenantID, inv.Number, i64(inv.CustomerID), inv.Status,
			inv.Amount.String(), inv.Currency, inv.IssuedAt.Format(time.DateTime), fmtTime(inv.DueDate, time.DateOnly),
			fmtTime(inv.PaidAt, time.DateTime), inv.PublicID, s(inv.Metadata), s(inv.Note), c.Name, s(c.Email),
			strconv.Itoa(lines[inv.ID])})
	}
	return out
}

func fmtTime(t *time.Time, layout string) string {
	if t == nil {
		return "NULL"
	}
	return t.Format(layout)
}

func wantCustomers(d *demo.Dataset) [][]string {
	agg := map[string]*[5]int{}
	for _, c := range d.Customers {
		a := tenantAgg(agg, c.TenantID)
		a[0]++
		a[1] += notNil(c.Email)
		a[2] += notNil(c.Phone)
		a[3] += notNil(c.Country)
		if c.VIP {
			a[4]++
		}
	}
	return aggRows(agg)
}

func wantProducts(d *demo.Dataset) [][]string {
	var sum demo.Cents
	weighted, active := 0, 0
	for _, p := range d.Products {
		sum += p.UnitPrice
		weighted += notNil(p.WeightKg)
		if p.Active {
			active++
		}
	}
	return [][]string{{strconv.Itoa(len(d.Products)), sum.String(), strconv.Itoa(weighted), strconv.Itoa(active)}}
}

func wantInvoices(d *demo.Dataset) [][]string {
	emails := map[int64]bool{}
	for _, c := range d.Customers {
		emails[c.ID] = c.Email != nil
	}
	lines := map[int64]int{}
	for _, l := range d.InvoiceLines {
		lines[l.InvoiceID]++
	}
	type acc struct {
		n, lines, due, paid, meta, note, email int
		amount                                 demo.Cents
	}
	agg := map[string]*acc{}
	for _, inv := range d.Invoices {
		a := agg[inv.TenantID]
		if a == nil {
			a = &acc{}
			agg[inv.TenantID] = a
		}
		a.n++
		a.amount += inv.Amount
		a.lines += lines[inv.ID]
		a.due += notNil(inv.DueDate)
		a.paid += notNil(inv.PaidAt)
		a.meta += notNil(inv.Metadata)
		a.note += notNil(inv.Note)
		if emails[inv.CustomerID] {
			a.email++
		}
	}
	var out [][]string
	for _, tenant := range []string{demo.TenantAcme, demo.TenantGlobex} {
		a := agg[tenant]
		out = append(out, []string{tenant, strconv.Itoa(a.n), a.amount.String(), strconv.Itoa(a.lines),
			strconv.Itoa(a.due), strconv.Itoa(a.paid), strconv.Itoa(a.meta), strconv.Itoa(a.note), strconv.Itoa(a.email)})
	}
	return out
}

func tenantAgg(m map[string]*[5]int, tenant string) *[5]int {
	if m[tenant] == nil {
		m[tenant] = &[5]int{}
	}
	return m[tenant]
}

func aggRows(m map[string]*[5]int) [][]string {
	var out [][]string
	for _, tenant := range []string{demo.TenantAcme, demo.TenantGlobex} {
		row := []string{tenant}
		for _, n := range m[tenant] {
			row = append(row, strconv.Itoa(n))
		}
		out = append(out, row)
	}
	return out
}

func notNil[T any](p *T) int {
	if p == nil {
		return 0
	}
	return 1
}
