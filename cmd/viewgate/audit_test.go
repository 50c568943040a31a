package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

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
