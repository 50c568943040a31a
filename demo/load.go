package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver CreateSQLite uses
)

// maxParams bounds the placeholders of one INSERT, well below every engine's limit.
const maxParams = 8000

// Load creates the demo tables and views in db and inserts d; dialect is "postgres", "mysql"
// (MySQL and MariaDB) or "sqlite". The rows go in one transaction; DDL runs before it, because
// MySQL commits implicitly on DDL. Load fails if the tables already exist.
func Load(ctx context.Context, db *sql.DB, dialect string, d *Dataset) error {
	stmts, err := ddl(dialect)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("demo: create schema (%s): %w", firstLine(s), err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: begin: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	v := values{dialect: dialect}
	for _, t := range v.tables(d) {
		if err := insert(ctx, tx, dialect, t); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: commit: %w", err)
	}
	return analyze(ctx, db, dialect)
}

// analyze collects planner statistics: without them a freshly loaded Postgres picks nested-loop
// plans a hundred times slower than the real ones, and tests and benchmarks would measure that.
func analyze(ctx context.Context, db *sql.DB, dialect string) error {
	stmt := "ANALYZE"
	if dialect == MySQL {
		stmt = "ANALYZE TABLE erp_customer, erp_product, erp_invoice, erp_invoice_line"
	}
	rows, err := db.QueryContext(ctx, stmt) // MySQL answers ANALYZE TABLE with a result set
	if err != nil {
		return fmt.Errorf("demo: analyze: %w", err)
	}
	return rows.Close()
}

// CreateSQLite writes a new SQLite database holding the demo data to path; it returns an error
// wrapping fs.ErrExist if path already exists.
func CreateSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("demo: create %s: %w", path, fs.ErrExist)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return fmt.Errorf("demo: open %s: %w", path, err)
	}
	err = Load(ctx, db, SQLite, Generate())
	return errors.Join(err, db.Close())
}

type table struct {
	name    string
	columns []string
	rows    [][]any
}

func insert(ctx context.Context, tx *sql.Tx, dialect string, t table) error {
	per := maxParams / len(t.columns)
	for start := 0; start < len(t.rows); start += per {
		batch := t.rows[start:min(start+per, len(t.rows))]
		var args []any
		for _, row := range batch {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, insertSQL(dialect, t, len(batch)), args...); err != nil {
			return fmt.Errorf("demo: insert into %s: %w", t.name, err)
		}
	}
	return nil
}

func insertSQL(dialect string, t table, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range t.columns {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			if dialect == Postgres {
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// values converts dataset fields to driver arguments the dialect stores as specified:
// Postgres takes time.Time; MySQL and SQLite take UTC text, so no driver time zone applies.
type values struct{ dialect string }

func (v values) ts(t time.Time) any {
	if v.dialect == Postgres {
		return t.UTC()
	}
	return t.UTC().Format(time.DateTime)
}

func (v values) tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return v.ts(*t)
}

func (v values) date(t *time.Time) any {
	switch {
	case t == nil:
		return nil
	case v.dialect == Postgres:
		return t.UTC()
	}
	return t.UTC().Format(time.DateOnly)
}

func (v values) tables(d *Dataset) []table {
	return []table{v.customers(d), v.products(d), v.invoices(d), v.lines(d)}
}

func (v values) customers(d *Dataset) table {
	t := table{name: "erp_customer", columns: []string{"id", "tenant_id", "name", "email", "phone", "country", "created_at", "vip"}}
	for _, c := range d.Customers {
		t.rows = append(t.rows, []any{c.ID, c.TenantID, c.Name, str(c.Email), str(c.Phone), str(c.Country), v.ts(c.CreatedAt), c.VIP})
	}
	return t
}

func (v values) products(d *Dataset) table {
	t := table{name: "erp_product", columns: []string{"id", "sku", "name", "unit_price", "weight_kg", "active"}}
	for _, p := range d.Products {
		var w any
		if p.WeightKg != nil {
			w = *p.WeightKg
		}
		t.rows = append(t.rows, []any{p.ID, p.SKU, p.Name, p.UnitPrice.String(), w, p.Active})
	}
	return t
}

func (v values) invoices(d *Dataset) table {
	t := table{name: "erp_invoice", columns: []string{"id", "tenant_id", "number", "customer_id", "status", "amount", "currency",
		"issued_at", "due_date", "paid_at", "public_id", "metadata", "note"}}
	for _, i := range d.Invoices {
		t.rows = append(t.rows, []any{i.ID, i.TenantID, i.Number, i.CustomerID, i.Status, i.Amount.String(), i.Currency,
			v.ts(i.IssuedAt), v.date(i.DueDate), v.tsPtr(i.PaidAt), i.PublicID, str(i.Metadata), str(i.Note)})
	}
	return t
}

func (v values) lines(d *Dataset) table {
	t := table{name: "erp_invoice_line", columns: []string{"id", "invoice_id", "product_id", "quantity", "unit_price"}}
	for _, l := range d.InvoiceLines {
		t.rows = append(t.rows, []any{l.ID, l.InvoiceID, l.ProductID, l.Quantity, l.UnitPrice.String()})
	}
	return t
}

// str turns a nullable string into a driver argument.
func str(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
