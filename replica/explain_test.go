package replica

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRouterTraceAndExplain: the router tells the caller which replica ran a statement, and
// captures the plan there, read-only, with no parameter value in it, on Postgres and MariaDB.
func TestRouterTraceAndExplain(t *testing.T) {
	setup := []string{`CREATE TABLE t (id int PRIMARY KEY, name varchar(40))`, `INSERT INTO t VALUES (1, 'one'), (2, 'two')`}
	for _, tc := range []struct {
		driver, dsn, sql, planKey string
	}{
		{"postgres", newPGDatabase(t, setup...), `SELECT id FROM t WHERE name = $1 AND id > $2 LIMIT $3`, `"Node Type"`},
		{"mysql", newMySQLDatabase(t, setup...), "SELECT id FROM t WHERE name = ? AND id > ? LIMIT ?", `"query_block"`},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			ctx := testContext(t)
			r, err := OpenRouter(ctx, RouterOptions{Name: "erp", Driver: tc.driver, CheckInterval: -1,
				Replicas: []ReplicaOptions{{Name: "erp-a", DSN: tc.dsn, MaxConns: 2}}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			const secret = "SECRET-VALUE-99"
			args := []any{secret, int64(987654321), 10}
			tr := &Trace{Label: "vg req-1 things */ DROP"}
			if err := r.Query(WithTrace(ctx, tr), tc.sql, args, func(rows Rows) error {
				for rows.Next() {
				}
				return rows.Err()
			}); err != nil {
				t.Fatal(err)
			}
			if tr.Replica != "erp-a" {
				t.Errorf("Trace.Replica = %q, want erp-a", tr.Replica)
			}
			plan, err := r.Explain(ctx, tr.Replica, tc.sql, args, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(plan), tc.planKey) || strings.Contains(string(plan), secret) || strings.Contains(string(plan), "987654321") {
				t.Errorf("plan without %s or with a parameter value: %s", tc.planKey, plan)
			}
			// Twice on the same connection: the prepared statement did not outlive the capture.
			if _, err := r.Explain(ctx, tr.Replica, tc.sql, args, 2*time.Second); err != nil {
				t.Errorf("second capture: %v", err)
			}
			if _, err := r.Explain(ctx, "nope", tc.sql, args, time.Second); !errors.Is(err, ErrUnavailable) {
				t.Errorf("unknown replica: %v, want ErrUnavailable", err)
			}
			if _, err := r.Explain(ctx, tr.Replica, "DELETE FROM t", nil, time.Second); !errors.Is(err, ErrNoPlan) {
				t.Errorf("DELETE: %v, want ErrNoPlan", err)
			}
			if _, err := r.Explain(ctx, tr.Replica, "SELECT 1; DELETE FROM t", nil, time.Second); !errors.Is(err, ErrNoPlan) {
				t.Errorf("two statements: %v, want ErrNoPlan", err)
			}
		})
	}
}

func TestCleanLabel(t *testing.T) {
	for in, want := range map[string]string{
		"vg abc-1 invoices":                   "vg abc-1 invoices",
		"vg x */ DROP TABLE t; --":            "vg x _/ DROP TABLE t_ --",
		"vg 'quoted' \"x\"\nnext":             "vg _quoted_ _x__next",
		strings.Repeat("a", 100):              strings.Repeat("a", MaxLabel),
		"vg é":                                "vg _",
		"vg req=1 view=invoices/page:2.x_y-z": "vg req=1 view=invoices/page:2.x_y-z",
	} {
		if got := cleanLabel(in); got != want {
			t.Errorf("cleanLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
