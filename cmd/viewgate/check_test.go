package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/inspect"
)

// engineDB is a fresh demo database on one engine with what a config needs to reach it.
type engineDB struct {
	engine, driver, sqlDriver, dsn string
}

func freshDB(t *testing.T, engine string) engineDB {
	t.Helper()
	switch engine {
	case "postgres":
		return engineDB{engine, "postgres", "pgx", dbtest.Postgres(t)}
	case "mariadb":
		return engineDB{engine, "mysql", "mysql", dbtest.MariaDB(t)}
	}
	return engineDB{engine, "sqlite", "sqlite", dbtest.SQLite(t)}
}

func (e engineDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db, err := sql.Open(e.sqlDriver, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// writeConfig writes a config with one dev source demo (plus extra source keys) and the demo
// catalog, and returns its path.
func writeConfig(t *testing.T, e engineDB, extra string, catalog []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), catalog, 0o600); err != nil {
		t.Fatal(err)
	}
	if e.driver != "sqlite" {
		extra += ", require_replica: false" // the test servers are primaries
	}
	cfg := fmt.Sprintf(`catalog: catalog.yaml
cursor_secret: %s
environments:
  dev:
    sources:
      demo: {driver: %s, dsn: %q%s}
`, strings.Repeat("s", 40), e.driver, e.dsn, extra)
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) string { return "" }

func runCheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, append([]string{"check"}, args...), noEnv, &out, io.Discard)
	return out.String(), err
}

func checkJSON(t *testing.T, args ...string) (*checkReport, error) {
	t.Helper()
	out, err := runCheck(t, append(args, "--json")...)
	var r checkReport
	if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
		t.Fatalf("--json output does not parse: %v\n%s", jerr, out)
	}
	return &r, err
}

// TestCheckDemo is what a newcomer runs: viewgate check with no config checks the built-in demo.
func TestCheckDemo(t *testing.T) {
	out, err := runCheck(t)
	if err != nil {
		t.Fatalf("check on the demo: %v\n%s", err, out)
	}
	for _, want := range []string{"viewgate check: built-in demo", "0 errors", "SQLite is opened read-only"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckCleanDemo checks the demo catalog against a fresh demo database on every engine, as a
// read-only user would see it (superuser credentials are allowed here, as in development).
func TestCheckCleanDemo(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			extra := ""
			if engine != "sqlite" {
				extra = ", allow_write_privileges: true"
			}
			r, err := checkJSON(t, "-config", writeConfig(t, e, extra, demo.Catalog()))
			if err != nil || !r.OK || r.Errors != 0 {
				t.Fatalf("clean demo: err %v, report %+v", err, r.Findings)
			}
			// nullable: false is the catalog's word where views carry no NOT NULL (a note, not
			// a warning to acknowledge on every run); MariaDB says vg_int32() may be NULL.
			notes := 0
			for _, f := range r.Findings {
				allowed := strings.Contains(f.Message, "allow_write_privileges") ||
					engine == "mariadb" && strings.Contains(f.Message, "may be NULL, the database says: line_count;")
				if f.Level == inspect.Warning && !allowed {
					t.Errorf("unexpected warning: %+v", f)
				}
				if f.Level == inspect.Note && strings.Contains(f.Message, "is taken on the catalog's word for id,") {
					notes++
				}
			}
			if engine != "mariadb" && notes != 3 { // one per view
				t.Errorf("%d notes take nullable: false on the catalog's word, want 3: %+v", notes, r.Findings)
			}
			if len(r.Checked) != 1 {
				t.Errorf("checked %v, want the one DSN", r.Checked)
			}
		})
	}
}

// demoDrift drifts the demo views per engine: v_invoices.amount and line_count change type
// (SQLite: a DATETIME behind the catalog's decimal, which has NUMERIC affinity but is read as a
// time, and a REAL behind its int), v_customers loses country, v_products becomes a table, and
// v_invoices gains extra_col.
var demoDrift = map[string][]string{
	"postgres": {
		`DROP VIEW v_invoices`,
		`CREATE VIEW v_invoices AS SELECT i.id, i.tenant_id, i.number, i.customer_id, i.status, i.amount::float8 AS amount,
				i.currency, i.issued_at, i.due_date, i.paid_at, i.public_id, i.metadata, i.note, c.name AS customer_name,
				c.email AS customer_email, 1::bigint AS line_count, 'x'::text AS extra_col
			FROM erp_invoice i JOIN erp_customer c ON c.id = i.customer_id`,
		`DROP VIEW v_customers`,
		`CREATE VIEW v_customers AS SELECT id, tenant_id, name, email, phone, created_at, vip FROM erp_customer`,
		`DROP VIEW v_products`,
		`CREATE TABLE v_products AS SELECT * FROM erp_product`,
	},
	"mariadb": {
		`CREATE OR REPLACE VIEW v_invoices AS SELECT i.id, i.tenant_id, i.number, i.customer_id, i.status, CAST(i.amount AS DOUBLE) AS amount,
				i.currency, i.issued_at, i.due_date, i.paid_at, i.public_id, i.metadata, i.note, c.name AS customer_name,
				c.email AS customer_email, CAST(i.id AS SIGNED) AS line_count, 'x' AS extra_col
			FROM erp_invoice i JOIN erp_customer c ON c.id = i.customer_id`,
		`CREATE OR REPLACE VIEW v_customers AS SELECT id, tenant_id, name, email, phone, created_at, vip FROM erp_customer`,
		`DROP VIEW v_products`,
		`CREATE TABLE v_products AS SELECT * FROM erp_product`,
	},
	"sqlite": {
		`DROP VIEW v_invoices`,
		`CREATE VIEW v_invoices AS SELECT i.id, i.tenant_id, i.number, i.customer_id, i.status, i.issued_at AS amount,
				i.currency, i.issued_at, i.due_date, i.paid_at, i.public_id, i.metadata, i.note, c.name AS customer_name,
				c.email AS customer_email, CAST(1.5 AS REAL) AS line_count, 'x' AS extra_col
			FROM erp_invoice i JOIN erp_customer c ON c.id = i.customer_id`,
		`DROP VIEW v_customers`,
		`CREATE VIEW v_customers AS SELECT id, tenant_id, name, email, phone, created_at, vip FROM erp_customer`,
		`DROP VIEW v_products`,
		`CREATE TABLE v_products (id INTEGER, sku TEXT, name TEXT, unit_price NUMERIC(12,2), weight_kg REAL, active BOOLEAN)`,
	},
}

// TestCheckDrift drifts the demo views (a column dropped, a type changed, a view replaced by a
// table, a new column) and expects errors for the drift and a note for the new column.
func TestCheckDrift(t *testing.T) {
	wantErrors := []string{
		"Invoice.amount: column amount: the database type",
		"Invoice.line_count: column line_count: the database type",
		"Customer.country: column country is in the catalog but not in",
		"Product: ",
	}
	for _, engine := range []string{"postgres", "mariadb", "sqlite"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			e.exec(t, demoDrift[engine]...)
			cfg := writeConfig(t, e, ", allow_write_privileges: true", demo.Catalog())
			out, err := runCheck(t, "-config", cfg)
			if err == nil || err.Error() != "check found 4 errors" {
				t.Errorf("err = %v, want check found 4 errors\n%s", err, out)
			}
			for _, w := range wantErrors {
				if !strings.Contains(out, w) {
					t.Errorf("human output lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(out, "is a base table, not a view") || !strings.Contains(out, "not exposed by the catalog: extra_col") {
				t.Errorf("human output lacks the table error or the extra_col note:\n%s", out)
			}
			r, err := checkJSON(t, "-config", cfg)
			if err == nil || r.OK || r.Errors != 4 {
				t.Fatalf("--json: err %v, ok %v, errors %d", err, r.OK, r.Errors)
			}
			got := map[string]bool{}
			for _, f := range r.Findings {
				if f.Level == inspect.Error {
					got[f.View+"."+f.Column] = true
				}
			}
			for _, k := range []string{"Invoice.amount", "Invoice.line_count", "Customer.country", "Product."} {
				if !got[k] {
					t.Errorf("--json has no error for %s: %+v", k, r.Findings)
				}
			}
		})
	}
}

// TestCheckRefusesWriter runs check with superuser credentials and no override: the audit fails
// the check with the fix, and the exit error counts it (MariaDB's root also holds GRANT OPTION).
func TestCheckRefusesWriter(t *testing.T) {
	for engine, want := range map[string]string{"postgres": "check found 1 error", "mariadb": "check found 2 errors"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			out, err := runCheck(t, "-config", writeConfig(t, e, "", demo.Catalog()))
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\n%s", err, out)
			}
			if !strings.Contains(out, "fix: ") || !strings.Contains(out, "can ") {
				t.Errorf("no privilege finding with a fix:\n%s", out)
			}
		})
	}
}

// readOnlyDSN creates a user with SELECT on the demo views only and returns a DSN for it.
func readOnlyDSN(t *testing.T, e engineDB) string {
	t.Helper()
	name := fmt.Sprintf("vg_ro_%d", time.Now().UnixNano()%1e9)
	switch e.engine {
	case "postgres":
		e.exec(t, "CREATE ROLE "+name+" LOGIN", "GRANT SELECT ON v_invoices, v_customers, v_products TO "+name)
		t.Cleanup(func() { e.exec(t, "DROP OWNED BY "+name, "DROP ROLE "+name) })
		u, _ := url.Parse(e.dsn)
		u.User = url.User(name)
		return u.String()
	default:
		cfg, _ := mysql.ParseDSN(e.dsn)
		e.exec(t, "CREATE USER '"+name+"'@'%' IDENTIFIED BY 'ro-pw'", "GRANT SELECT ON "+cfg.DBName+".* TO '"+name+"'@'%'",
			// MariaDB hides a view's columns from users who may not run the functions it calls.
			"GRANT EXECUTE ON FUNCTION "+cfg.DBName+".vg_int32 TO '"+name+"'@'%'")
		t.Cleanup(func() { e.exec(t, "DROP USER '"+name+"'@'%'") })
		cfg.User, cfg.Passwd = name, "ro-pw"
		return cfg.FormatDSN()
	}
}

// TestCheckReadOnlyUser is the production shape: a user with SELECT only passes the audit, and
// a configured erp_schemas entry that does not exist is an error where the user could see it:
// on Postgres, and on MariaDB for a user with SHOW DATABASES. A MariaDB user without it cannot
// see a database it holds no privilege on: that is clean (TestAuditInvisibleERPSchema).
func TestCheckReadOnlyUser(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			admin := e
			e.dsn = readOnlyDSN(t, e)
			r, err := checkJSON(t, "-config", writeConfig(t, e, "", demo.Catalog()))
			if err != nil || r.Errors != 0 {
				t.Fatalf("read-only user: %v %+v", err, r.Findings)
			}
			if engine == "mariadb" {
				admin.exec(t, "GRANT SHOW DATABASES ON *.* TO "+dsnUser(t, e, e.dsn))
			}
			r, err = checkJSON(t, "-config", writeConfig(t, e, ", erp_schemas: [no_such_schema]", demo.Catalog()))
			if err == nil || r.Errors != 1 || !strings.Contains(r.Findings[0].Message, "erp_schemas no_such_schema do not exist") {
				t.Fatalf("missing erp schema: %v %+v", err, r.Findings)
			}
		})
	}
}

func TestCheckBadConfig(t *testing.T) {
	r, err := checkJSON(t, "-config", "testdata/does-not-exist.yaml")
	if err == nil || r.Errors != 1 || !strings.Contains(r.Findings[0].Message, "does-not-exist.yaml") {
		t.Fatalf("%v %+v", err, r)
	}
}

// TestCheckEveryReplica lists two replicas, one of them a dead port: check connects to both,
// reports the dead one as an error and checks the other.
func TestCheckEveryReplica(t *testing.T) {
	e := freshDB(t, "postgres")
	e.dsn = readOnlyDSN(t, e)
	u, _ := url.Parse(e.dsn)
	u.Host = "127.0.0.1:1"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`catalog: catalog.yaml
cursor_secret: %s
environments:
  dev:
    sources:
      demo:
        driver: postgres
        require_replica: false
        replicas:
          - {name: r1, dsn: %q}
          - {name: dead, dsn: %q}
`, strings.Repeat("s", 40), e.dsn, u.String())
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCheck(t, "-config", path)
	if err == nil || err.Error() != "check found 1 error" {
		t.Fatalf("err = %v\n%s", err, out)
	}
	for _, want := range []string{"source demo, replica r1 (", "source demo, replica dead (", "  error   cannot connect: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "replica dead"), strings.Index(out, "cannot connect"); j < i {
		t.Errorf("the connection error is not listed under the dead replica:\n%s", out)
	}
}

// TestCheckRotation: check reports what serve's health checks would decide. A writable server
// under the default require_replica leaves rotation; as the only replica that is an error (check
// said 0 errors, then serve answered 503 to everything); next to a hot standby, a warning.
func TestCheckRotation(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine+" writable only replica", func(t *testing.T) {
			e := freshDB(t, engine)
			path := writeSourceConfig(t, fmt.Sprintf("{driver: %s, dsn: %q, allow_write_privileges: true}", e.driver, e.dsn))
			out, err := runCheck(t, "-config", path)
			if err == nil || err.Error() != "check found 1 error" {
				t.Errorf("err = %v, want check found 1 error\n%s", err, out)
			}
			want := "error   serve would take replica demo out of rotation: writable: the server accepts writes, so it is not a read-only replica (set require_replica: false to allow it); none would be left, so every query on source demo would answer 503 UNAVAILABLE"
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
	t.Run("postgres primary next to a standby", func(t *testing.T) {
		primary, standby := dbtest.Standby(t)
		path := writeSourceConfig(t, fmt.Sprintf(`
        driver: postgres
        allow_write_privileges: true
        replicas:
          - {name: standby, dsn: %q}
          - {name: primary, dsn: %q}`, standby, primary))
		r, err := checkJSON(t, "-config", path)
		if err != nil || r.Errors != 0 {
			t.Fatalf("check: %v %+v", err, r.Findings)
		}
		found := false
		for _, f := range r.Findings {
			found = found || f.Level == inspect.Warning && strings.HasPrefix(f.Message, "serve would take replica primary out of rotation: writable") &&
				strings.HasPrefix(f.Target, "replica primary (")
		}
		if !found {
			t.Errorf("no warning that the primary leaves rotation: %+v", r.Findings)
		}
	})
}

// writeSourceConfig writes a config whose dev environment has source demo as given (YAML) and
// the demo catalog, and returns its path.
func writeSourceConfig(t *testing.T, source string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("catalog: catalog.yaml\ncursor_secret: %s\nenvironments:\n  dev:\n    sources:\n      demo: %s\n", strings.Repeat("s", 40), source)
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckRefusesEscalation: a read-only user that could make itself a writer (Postgres
// CREATEROLE) or reach the server's files (MariaDB FILE) fails check, with the fix.
func TestCheckRefusesEscalation(t *testing.T) {
	grant := map[string][2]string{
		"postgres": {"ALTER ROLE %s CREATEROLE", "ALTER ROLE %s NOCREATEROLE;"},
		"mariadb":  {"GRANT FILE ON *.* TO %s", "REVOKE FILE ON *.* FROM %s;"},
	}
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			admin := e
			e.dsn = readOnlyDSN(t, e)
			user := dsnUser(t, e, e.dsn)
			admin.exec(t, fmt.Sprintf(grant[engine][0], user))
			r, err := checkJSON(t, "-config", writeConfig(t, e, "", demo.Catalog()))
			if err == nil || r.Errors != 1 || !strings.HasPrefix(r.Findings[0].Fix, fmt.Sprintf(grant[engine][1], user)) {
				t.Fatalf("check: %v %+v", err, r.Findings)
			}
		})
	}
}
