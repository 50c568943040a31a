package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/viewgate/viewgate/demo"
)

// TestServeRefusesWriter starts serve with credentials that can write (the test servers'
// superusers): it must refuse to start, naming the privilege and the fix.
func TestServeRefusesWriter(t *testing.T) {
	want := map[string][]string{
		"postgres": {"SUPERUSER on role postgres", "ALTER ROLE postgres NOSUPERUSER;"},
		"mariadb":  {"INSERT", "on *.* (every database)", "REVOKE "},
	}
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := run(ctx, []string{"serve", "-config", writeConfig(t, e, "", demo.Catalog()), "-listen", "127.0.0.1:0"}, noEnv, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve started with write privileges")
			}
			for _, w := range append(want[engine], "privilege audit: ", "viewgate needs a read-only account") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "ro-pw") {
				t.Errorf("error shows a password: %v", err)
			}
		})
	}
}

// TestServeAllowWrite starts serve on a superuser DSN with allow_write_privileges in a
// development environment: it serves, and logs every violation as a warning.
func TestServeAllowWrite(t *testing.T) {
	e := freshDB(t, "postgres")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", writeConfig(t, e, ", allow_write_privileges: true", demo.Catalog()), "-listen", "127.0.0.1:0"}, noEnv, w, &logs)
		w.Close()
	}()
	waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); !strings.Contains(s, `"level":"WARN","msg":"PRIVILEGE AUDIT OVERRIDDEN`) || !strings.Contains(s, "SUPERUSER on role postgres") {
		t.Errorf("the override is not logged loudly:\n%s", s)
	}
}

// TestServeReadOnlyUser starts serve as a user with SELECT on the views only: the audit passes.
func TestServeReadOnlyUser(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			e.dsn = readOnlyDSN(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, w := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "-config", writeConfig(t, e, "", demo.Catalog()), "-listen", "127.0.0.1:0"}, noEnv, w, io.Discard)
				w.Close()
			}()
			waitForURL(t, out)
			go func() { _, _ = io.Copy(io.Discard, out) }()
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeRefusesDrift starts serve where the catalog asks for what the database cannot serve
// (demoDrift, and a relation that does not exist): it must refuse to start, naming the view, the
// column and the declared and live types, on every engine. It used to start and answer 500.
func TestServeRefusesDrift(t *testing.T) {
	want := map[string][]string{
		"postgres": {"view Invoice: column amount: the database type double precision cannot hold catalog type decimal",
			"view Invoice: column line_count: the database type bigint cannot hold catalog type int"},
		"mariadb": {"view Invoice: column amount: the database type double cannot hold catalog type decimal",
			"view Invoice: column line_count: the database type bigint(20) cannot hold catalog type int"},
		"sqlite": {"view Invoice: column amount: the database type DATETIME cannot hold catalog type decimal",
			"view Invoice: column line_count: the database type REAL cannot hold catalog type int"},
	}
	for _, engine := range []string{"postgres", "mariadb", "sqlite"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			e.exec(t, demoDrift[engine]...)
			extra := ""
			if engine != "sqlite" {
				extra = ", allow_write_privileges: true"
			}
			cat := append(demo.Catalog(), []byte(`
  - name: Gone
    field: gone
    source: demo
    relation: v_gone
    key: [id]
    roles: [reporting]
    columns: [{name: id, type: bigint}]
`)...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := run(ctx, []string{"serve", "-config", writeConfig(t, e, extra, cat), "-listen", "127.0.0.1:0"}, noEnv, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve started on a catalog the database cannot serve")
			}
			for _, w := range append(want[engine], "the catalog does not match the database (5 problems)",
				"view Customer: column country is in the catalog but not in ", "v_products is a base table, not a view",
				"view Gone: relation v_gone does not exist") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// ledgerView is a catalog view over a table in another schema (MySQL: database) than the view.
const ledgerView = `
  - name: Ledger
    field: ledger
    source: demo
    relation: v_ledger
    key: [id]
    roles: [reporting]
    columns: [{name: id, type: bigint}, {name: amount, type: decimal, scale: 2}]
`

// withLedger creates schema (database) erp with table ledger and the view v_ledger over it in
// the demo's schema, and returns erp's name.
func withLedger(t *testing.T, e engineDB) string {
	t.Helper()
	erp := fmt.Sprintf("vgerp_%d", time.Now().UnixNano()%1e9)
	switch e.engine {
	case "postgres":
		e.exec(t, "CREATE SCHEMA "+erp, "CREATE TABLE "+erp+".ledger (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL)",
			"CREATE VIEW v_ledger AS SELECT id, amount FROM "+erp+".ledger")
	default:
		e.exec(t, "CREATE DATABASE "+erp, "CREATE TABLE "+erp+".ledger (id bigint PRIMARY KEY, amount decimal(12,2) NOT NULL)",
			"CREATE VIEW v_ledger AS SELECT id, amount FROM "+erp+".ledger")
		t.Cleanup(func() { e.exec(t, "DROP DATABASE "+erp) })
	}
	return erp
}

// dsnUser returns the user name in a DSN of e's engine.
func dsnUser(t *testing.T, e engineDB, dsn string) string {
	t.Helper()
	if e.engine == "postgres" {
		u, _ := url.Parse(dsn)
		return u.User.Username()
	}
	cfg, _ := mysql.ParseDSN(dsn)
	return "'" + cfg.User + "'@'%'"
}

// TestAuditDerivedSchemas: the base tables of a catalog view live in a schema no catalog entry
// and no erp_schemas names. The audit follows the view there by default and refuses an INSERT
// grant on the table (MariaDB shows view definitions to users with SHOW VIEW only).
func TestAuditDerivedSchemas(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			e := freshDB(t, engine)
			erp := withLedger(t, e)
			ro := readOnlyDSN(t, e)
			user := dsnUser(t, e, ro)
			if engine == "postgres" {
				e.exec(t, "GRANT SELECT ON v_ledger TO "+user, "GRANT USAGE ON SCHEMA "+erp+" TO "+user, "GRANT INSERT ON "+erp+".ledger TO "+user)
			} else {
				cfg, _ := mysql.ParseDSN(e.dsn)
				e.exec(t, "GRANT SHOW VIEW ON "+cfg.DBName+".* TO "+user, "GRANT INSERT ON "+erp+".ledger TO "+user)
			}
			e.dsn = ro
			cat := append(demo.Catalog(), ledgerView...)
			r, err := checkJSON(t, "-config", writeConfig(t, e, "", cat))
			if err == nil || r.Errors != 1 || !strings.Contains(r.Findings[0].Message, "INSERT on table "+erp+".ledger") ||
				!strings.Contains(r.Findings[0].Fix, "REVOKE INSERT ON") {
				t.Fatalf("an INSERT grant on the view's base table: %v %+v", err, r.Findings)
			}
		})
	}
}

// TestAuditInvisibleERPSchema is a correctly locked-down MariaDB account: it may read the views,
// and cannot even see the database of their base tables, named in erp_schemas. That database is
// audited and clean, not missing: check passes, serve starts, and both say what was covered.
func TestAuditInvisibleERPSchema(t *testing.T) {
	e := freshDB(t, "mariadb")
	erp := withLedger(t, e)
	e.dsn = readOnlyDSN(t, e)
	cfg, _ := mysql.ParseDSN(e.dsn)
	path := writeConfig(t, e, ", erp_schemas: ["+erp+"]", append(demo.Catalog(), ledgerView...))
	r, err := checkJSON(t, "-config", path)
	if err != nil || r.Errors != 0 {
		t.Fatalf("check: %v %+v", err, r.Findings)
	}
	covered := fmt.Sprintf("privilege audit passed: user %s@%% cannot change the ERP database; it covered schema %s (8 tables and views); %s, which %s@%% cannot see, so it holds no privilege there",
		cfg.User, cfg.DBName, erp, cfg.User)
	found := false
	for _, f := range r.Findings {
		found = found || f.Message == covered
	}
	if !found {
		t.Errorf("no finding says %q: %+v", covered, r.Findings)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", path, "-listen", "127.0.0.1:0"}, noEnv, w, &logs)
		w.Close()
	}()
	waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"privilege audit passed"`) || !strings.Contains(logs.String(), erp+", which") {
		t.Errorf("serve does not log what the audit covered:\n%s", logs.String())
	}
}
