package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
)

// sleepyView is a products view that sleeps once per statement, on the engines that have plans.
var sleepyView = map[string]string{
	// An uncorrelated condition is a one-time filter, evaluated once whatever the rows.
	"postgres": `CREATE VIEW v_sleepy AS SELECT id, name FROM v_products WHERE (SELECT true FROM pg_sleep(0.4))`,
	// A derived table of one row is materialized once, before the join (EXPLAIN sleeps too).
	"mariadb": `CREATE VIEW v_sleepy AS SELECT p.id, p.name FROM v_products p JOIN (SELECT SLEEP(0.2) AS z) s ON s.z = 0`,
}

const sleepyCatalog = `views:
  - {name: Sleepy, field: sleepies, source: demo, relation: v_sleepy, key: [id], roles: [reporting], columns: [{name: id, type: bigint, nullable: false}, {name: name, type: text, nullable: false, filter: [eq]}]}
`

// secretValue is a filter value that must never reach a log or a plan.
const secretValue = "NOPE-SECRET-4711"

const sleepyQuery = `{ sleepies(first: 3, where: {name: {eq: "` + secretValue + `"}}) { nodes { id } } }`

// safeBuffer is a buffer the gateway writes and the test reads.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sleepyStack is the stack on engine's demo database with the sleepy view, slow statements at
// 100 ms, plans once per hour per query ID, and statements labelled for DBAs.
func sleepyStack(t *testing.T, engine string, qlog *safeBuffer, slowPath string, label *bool) (*stack, string) {
	t.Helper()
	o := replica.Options{Name: demo.SourceName, Driver: "postgres", MaxConns: 4, StatementTimeout: 10 * time.Second}
	driver := "pgx"
	if engine == "mariadb" {
		o.Driver, driver = "mysql", "mysql"
		o.DSN = dbtest.MariaDB(t)
	} else {
		o.DSN = dbtest.Postgres(t)
	}
	admin, err := sql.Open(driver, o.DSN)
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(sleepyView[engine])
	admin.Close()
	if err != nil {
		t.Fatal(err)
	}
	src, err := replica.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return newStackConfig(t, src, []byte(sleepyCatalog), nil, func(o *gateway.Options) {
		o.Stderr = qlog
		ql := &o.Config.QueryLog
		ql.SlowThreshold, ql.LabelStatements, ql.SlowLogPath = 100*time.Millisecond, label, slowPath
		ql.Plans.Interval, ql.Plans.PerMinute, ql.Plans.Timeout = time.Hour, 10, 5*time.Second
	}), o.DSN
}

// TestSlowStatementPlans: on Postgres and MariaDB a slow statement gets its plan captured once
// per query ID per interval, on the replica that ran it, in the JSON log and the slow log, with
// no parameter value in it.
func TestSlowStatementPlans(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			qlog := &safeBuffer{}
			slowPath := filepath.Join(t.TempDir(), "slow.log")
			on := true
			s, _ := sleepyStack(t, engine, qlog, slowPath, &on)
			for range 3 {
				if code, p := s.query(t, "acme", sleepyQuery, nil); code != 200 {
					t.Fatalf("query: %d %+v", code, p.Errors)
				}
			}
			// The planned entry is written once its plan is captured, in the background.
			var entries []map[string]any
			deadline := time.Now().Add(30 * time.Second)
			for {
				entries = queryEntries(t, qlog.String(), "sleepies")
				if len(entries) == 3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if len(entries) != 3 {
				t.Fatalf("%d query log entries of sleepies, want 3:\n%s", len(entries), qlog.String())
			}
			var plans []json.RawMessage
			for _, e := range entries {
				if e["slow"] != true || e["replica"] != "demo" {
					t.Errorf("entry not slow or without its replica: %v", e)
				}
				if p, ok := e["plan"]; ok {
					b, _ := json.Marshal(p)
					plans = append(plans, b)
				}
			}
			if len(plans) != 1 {
				t.Fatalf("%d entries carry a plan, want 1 (one per query ID per interval):\n%s", len(plans), qlog.String())
			}
			want := map[string]string{"postgres": `"Node Type"`, "mariadb": `"query_block"`}[engine]
			if !strings.Contains(string(plans[0]), want) {
				t.Errorf("plan lacks %s: %s", want, plans[0])
			}
			slow, err := os.ReadFile(slowPath)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(slow), "\n# plan: "); n != 1 {
				t.Errorf("slow log has %d plan lines, want 1:\n%s", n, slow)
			}
			for name, text := range map[string]string{"plan": string(plans[0]), "query log": qlog.String(), "slow log": string(slow)} {
				if strings.Contains(text, secretValue) {
					t.Errorf("the %s holds a parameter value:\n%s", name, text)
				}
			}
		})
	}
}

// queryEntries returns the query log's entries of view.
func queryEntries(t *testing.T, log, view string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("query log line %q: %v", line, err)
		}
		if m["msg"] == "query" && m["view"] == view {
			out = append(out, m)
		}
	}
	return out
}

// TestStatementLabelVisible: while a statement runs, a DBA sees its requestId and view in
// pg_stat_activity.application_name (Postgres) and in the process list's statement (MariaDB)
// when label_statements is on, and by default on MariaDB only: on Postgres the statement runs
// under the session's application_name, viewgate.
func TestStatementLabelVisible(t *testing.T) {
	on := true
	for _, tc := range []struct {
		engine string
		label  *bool
		shown  bool
	}{
		{"postgres", &on, true},
		{"mariadb", &on, true},
		{"postgres", nil, false},
		{"mariadb", nil, true},
	} {
		engine := tc.engine
		t.Run(fmt.Sprintf("%s/label_statements=%v", engine, map[bool]string{true: "on", false: "unset"}[tc.label != nil]), func(t *testing.T) {
			s, dsn := sleepyStack(t, engine, &safeBuffer{}, "", tc.label)
			watch, err := sql.Open(map[string]string{"postgres": "pgx", "mariadb": "mysql"}[engine], dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer watch.Close()
			const id = "dba-label-test-42"
			done := make(chan int, 1)
			go func() {
				body, _ := json.Marshal(map[string]any{"query": sleepyQuery})
				req := newRequest("POST", "/graphql", string(body))
				req.Header.Set("X-Request-ID", id)
				done <- serve(s, req).Code
			}()
			probe := map[string]string{
				"postgres": `SELECT application_name FROM pg_stat_activity WHERE query LIKE '%v_sleepy%' AND state = 'active' AND pid <> pg_backend_pid()`,
				"mariadb":  `SELECT SUBSTRING(INFO, 1, 60) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%v_sleepy%' AND ID <> CONNECTION_ID()`,
			}[engine]
			want := map[string]string{"postgres": "vg " + id + " sleepies", "mariadb": "/* vg " + id + " sleepies */"}[engine]
			if !tc.shown {
				want = "viewgate"
			}
			var seen string
			for seen == "" {
				select {
				case code := <-done:
					t.Fatalf("the statement ended (%d) before the probe saw it", code)
				default:
				}
				var got string
				if err := watch.QueryRowContext(context.Background(), probe).Scan(&got); err == nil {
					seen = got
				} else if err != sql.ErrNoRows {
					t.Fatal(err)
				}
			}
			if !strings.HasPrefix(seen, want) || (!tc.shown && strings.Contains(seen, id)) {
				t.Errorf("the database shows %q, want it to start with %q", seen, want)
			}
			if code := <-done; code != 200 {
				t.Errorf("request: %d", code)
			}
		})
	}
}
