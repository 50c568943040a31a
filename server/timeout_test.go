package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/replica"
)

// slowView is a view that takes minutes to compute on each engine. MariaDB stops recursive
// CTEs after max_recursive_iterations (1000) rows, so it counts a cross join instead.
var slowView = map[string]string{
	"sqlite":   `CREATE VIEW v_slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT COUNT(*) AS id FROM c`,
	"postgres": `CREATE VIEW v_slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT COUNT(*) AS id FROM c`,
	"mariadb":  `CREATE VIEW v_slow AS SELECT COUNT(*) AS id FROM information_schema.columns a, information_schema.columns b, information_schema.columns c`,
}

const slowCatalog = `views:
  - {name: Slow, field: slows, source: demo, relation: v_slow, key: [id], roles: [reporting], columns: [{name: id, type: bigint, nullable: false}]}
  - {name: Product, field: products, source: demo, relation: v_products, key: [id], roles: [reporting], columns: [{name: id, type: bigint, nullable: false}]}
`

// TestStatementTimeout: a statement over the source's timeout is stopped by the server side and
// answered 504 TIMEOUT with a generic message; the source keeps serving afterwards.
func TestStatementTimeout(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s := newStackOn(t, openSource(t, engine, slowView[engine], 300*time.Millisecond), []byte(slowCatalog))
			code, p := s.query(t, "globex", `{ slows { nodes { id } } }`, nil)
			if code != 504 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "TIMEOUT" {
				t.Fatalf("got %d %+v, want 504 TIMEOUT", code, p.Errors)
			}
			if code, p := s.query(t, "globex", `{ products(first: 2) { nodes { id } } }`, nil); code != 200 || len(p.Data["products"].Nodes) != 2 {
				t.Fatalf("after a timeout the source no longer answers: %d %+v", code, p.Errors)
			}
		})
	}
}

// TestUnavailable: when the database stops accepting connections, the answer is a clean
// 503 UNAVAILABLE with Retry-After, not a 500.
func TestUnavailable(t *testing.T) {
	dsn := dbtest.Postgres(t)
	src, err := replica.Open(context.Background(), replica.Options{Name: demo.SourceName, Driver: "postgres", DSN: dsn, MaxConns: 2, StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	s := newStackOn(t, src, demo.Catalog())
	if code, _ := s.query(t, "acme", `{ products(first: 1) { nodes { id } } }`, nil); code != 200 {
		t.Fatalf("before: %d", code)
	}
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, stmt := range []string{
		`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `'`,
	} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(`ALTER DATABASE ` + name + ` ALLOW_CONNECTIONS true`) })
	body, _ := json.Marshal(map[string]any{"query": `{ products(first: 1) { nodes { id } } }`})
	rec := s.do(t, "POST", "application/json", "acme", bytes.NewReader(body), "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d %s (Retry-After %q), want 503 UNAVAILABLE\nlog: %s", rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"), s.log.String())
	}
	if strings.Contains(rec.Body.String(), "postgres") || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Errorf("the 503 body leaks connection details: %s", rec.Body.String())
	}
}
