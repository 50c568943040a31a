package demo

import (
	"fmt"
	"strings"
)

// The dialects Load accepts.
const (
	Postgres = "postgres"
	MySQL    = "mysql" // MySQL and MariaDB
	SQLite   = "sqlite"
)

// types maps a logical column type to each dialect's spelling: postgres, mysql, sqlite. SQLite
// stores by affinity whatever the name, but the names say what the columns hold, as in a real
// schema: viewgate catalog init and check read them (DATETIME is a timestamp, not a number).
//
// On MySQL/MariaDB the codes and names are utf8mb3, as in many real ERPs (MySQL's "utf8"
// before 8.0), and the rest is the database's utf8mb4: a utf8mb3 column cannot hold a
// character outside the Basic Multilingual Plane, such as an emoji, and MariaDB refuses to
// compare it with one, which viewgate must answer as a match that finds nothing.
var types = map[string][3]string{
	"id":       {"BIGINT", "BIGINT", "INTEGER"},
	"tenant":   {"TEXT", "VARCHAR(64) CHARACTER SET utf8mb3", "TEXT"},
	"name":     {"TEXT", "VARCHAR(255)", "TEXT"},
	"name3":    {"TEXT", "VARCHAR(255) CHARACTER SET utf8mb3", "TEXT"},
	"name3uca": {"TEXT", "VARCHAR(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci", "TEXT"},
	"short":    {"TEXT", "VARCHAR(64)", "TEXT"},
	"code3":    {"TEXT", "VARCHAR(64) CHARACTER SET utf8mb3", "TEXT"},
	"code3uca": {"TEXT", "VARCHAR(64) CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci", "TEXT"},
	"longtext": {"TEXT", "TEXT", "TEXT"},
	"char3":    {"CHAR(3)", "CHAR(3) CHARACTER SET utf8mb3", "TEXT"},
	"int":      {"INTEGER", "INT", "INTEGER"},
	"money12":  {"NUMERIC(12,2)", "DECIMAL(12,2)", "NUMERIC(12,2)"},
	"money14":  {"NUMERIC(14,2)", "DECIMAL(14,2)", "NUMERIC(14,2)"},
	"float":    {"DOUBLE PRECISION", "DOUBLE", "REAL"},
	"bool":     {"BOOLEAN", "BOOLEAN", "BOOLEAN"},
	"date":     {"DATE", "DATE", "DATE"},
	"ts":       {"TIMESTAMP", "DATETIME", "DATETIME"},
	"uuid":     {"UUID", "CHAR(36)", "CHAR(36)"},
	"json":     {"JSONB", "JSON", "JSON"},
}

// tableDDL is the base tables in dependency order; {type} placeholders are resolved per dialect.
var tableDDL = []string{
	`CREATE TABLE erp_customer (
	id {id} PRIMARY KEY,
	tenant_id {tenant} NOT NULL,
	name {name3} NOT NULL,
	email {name},
	phone {short},
	country {short},
	created_at {ts} NOT NULL,
	vip {bool} NOT NULL
)`,
	`CREATE TABLE erp_product (
	id {id} PRIMARY KEY,
	sku {code3uca} NOT NULL UNIQUE,
	name {name3uca} NOT NULL,
	unit_price {money12} NOT NULL,
	weight_kg {float},
	active {bool} NOT NULL
)`,
	`CREATE TABLE erp_invoice (
	id {id} PRIMARY KEY,
	tenant_id {tenant} NOT NULL,
	number {code3} NOT NULL,
	customer_id {id} NOT NULL REFERENCES erp_customer (id),
	status {code3} NOT NULL,
	amount {money14} NOT NULL,
	currency {char3} NOT NULL,
	issued_at {ts} NOT NULL,
	due_date {date},
	paid_at {ts},
	public_id {uuid} NOT NULL UNIQUE,
	metadata {json},
	note {longtext},
	UNIQUE (tenant_id, number)
)`,
	`CREATE TABLE erp_invoice_line (
	id {id} PRIMARY KEY,
	invoice_id {id} NOT NULL REFERENCES erp_invoice (id),
	product_id {id} NOT NULL REFERENCES erp_product (id),
	quantity {int} NOT NULL,
	unit_price {money12} NOT NULL
)`,
}

// indexDDL supports the views' default orders, the tenant filter and the line count.
var indexDDL = []string{
	`CREATE INDEX erp_customer_tenant_name ON erp_customer (tenant_id, name, id)`,
	`CREATE INDEX erp_invoice_tenant_issued ON erp_invoice (tenant_id, issued_at, id)`,
	`CREATE INDEX erp_invoice_customer ON erp_invoice (customer_id)`,
	`CREATE INDEX erp_invoice_line_invoice ON erp_invoice_line (invoice_id)`,
}

// viewDDL is the stable interface viewgate exposes; {int32(}…{)int32} makes the line count a
// 32-bit integer column on every engine, as its catalog type int promises.
var viewDDL = []string{
	`CREATE VIEW v_customers AS
SELECT id, tenant_id, name, email, phone, country, created_at, vip
FROM erp_customer`,
	`CREATE VIEW v_products AS
SELECT id, sku, name, unit_price, weight_kg, active
FROM erp_product`,
	`CREATE VIEW v_invoices AS
SELECT i.id, i.tenant_id, i.number, i.customer_id, i.status, i.amount, i.currency,
	i.issued_at, i.due_date, i.paid_at, i.public_id, i.metadata, i.note,
	c.name AS customer_name, c.email AS customer_email,
	{int32(}(SELECT COUNT(*) FROM erp_invoice_line l WHERE l.invoice_id = i.id){)int32} AS line_count
FROM erp_invoice i
JOIN erp_customer c ON c.id = i.customer_id AND c.tenant_id = i.tenant_id`,
}

// int32Open and int32Close wrap an expression so that it is a 32-bit integer column: MySQL and
// MariaDB can only CAST to a 64-bit SIGNED, so there a function declared RETURNS INT does it
// (and fails on overflow in strict mode instead of wrapping).
var (
	int32Open  = [3]string{"CAST(", "vg_int32(", "CAST("}
	int32Close = [3]string{" AS INTEGER)", ")", " AS INTEGER)"}
)

// funcDDL is created before the views, on MySQL and MariaDB only.
var funcDDL = []string{
	`CREATE FUNCTION vg_int32(n BIGINT) RETURNS INT DETERMINISTIC NO SQL RETURN n`,
}

// ddl returns the statements that create the demo tables, indexes and views, one per element;
// it returns an error for an unknown dialect.
func ddl(dialect string) ([]string, error) {
	d, err := dialectIndex(dialect)
	if err != nil {
		return nil, err
	}
	pairs := []string{"{int32(}", int32Open[d], "{)int32}", int32Close[d]}
	for k, v := range types {
		pairs = append(pairs, "{"+k+"}", v[d])
	}
	r := strings.NewReplacer(pairs...)
	var out []string
	groups := [][]string{tableDDL, indexDDL, viewDDL}
	if dialect == MySQL {
		groups = [][]string{tableDDL, indexDDL, funcDDL, viewDDL}
	}
	for _, group := range groups {
		for _, s := range group {
			out = append(out, r.Replace(s))
		}
	}
	return out, nil
}

func dialectIndex(dialect string) (int, error) {
	switch dialect {
	case Postgres:
		return 0, nil
	case MySQL:
		return 1, nil
	case SQLite:
		return 2, nil
	}
	return 0, fmt.Errorf("demo: unknown dialect %q (want postgres, mysql or sqlite)", dialect)
}
