package querylog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 11, 28, 15, 4, 5, 123456000, time.UTC)

const testSQL = `SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`

func entry(d time.Duration, errCode string) Entry {
	return Entry{
		Time: at, RequestID: "req-1", Tenant: "acme", Credential: "key-7", View: "invoices",
		Class: "lookup", Source: "erp", Replica: "erp-a", Duration: d, Rows: 50, ErrorCode: errCode,
		SQL: testSQL,
	}
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		got = append(got, m)
	}
	return got
}

func TestLogJSONLine(t *testing.T) {
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{
			"time": "2026-11-28T15:04:05.123456Z", "level": "INFO", "msg": "query",
			"requestId": "req-1", "tenant": "acme", "credential": "key-7", "view": "invoices",
			"class": "lookup", "source": "erp", "replica": "erp-a", "queryId": QueryID(testSQL),
			"sql": testSQL, "rows": 50.0,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		e    Entry
		slow time.Duration
		want map[string]any
	}{
		{"fast success", entry(1500*time.Microsecond, ""), 500 * time.Millisecond, base(map[string]any{"durationMs": 1.5, "slow": false})},
		{"slow failure", entry(500*time.Millisecond, "TIMEOUT"), 500 * time.Millisecond, base(map[string]any{"durationMs": 500.0, "error": "TIMEOUT", "slow": true})},
		{"threshold zero makes every statement slow", entry(time.Microsecond, ""), 0, base(map[string]any{"durationMs": 0.001, "slow": true})},
		{"trace id", func() Entry {
			e := entry(time.Millisecond, "")
			e.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
			return e
		}(), time.Hour,
			base(map[string]any{"durationMs": 1.0, "slow": false, "traceId": "4bf92f3577b34da6a3ce929d0e0e4736"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			New(Options{JSON: &out, Threshold: tc.slow}).Log(tc.e)
			got := jsonLines(t, out.String())
			if diff := cmp.Diff([]map[string]any{tc.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogSlowRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Entry
		want string
	}{
		{
			name: "slow entry",
			e:    entry(512345*time.Microsecond, ""),
			want: `# Time: 2026-11-28T15:04:05.123456Z
# User@Host: key-7[acme] @ viewgate []  Id: 0
# Request_id: req-1  View: invoices  Class: lookup  Source: erp  Replica: erp-a  Error: -
# Query_time: 0.512345  Rows_sent: 50
SET timestamp=1795878245;
SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2;
`,
		},
		{
			name: "fields that would break the format",
			e: Entry{Time: at, Credential: "key 7]@x", Tenant: "a[b", RequestID: "r 1", TraceID: "t1", Duration: time.Second,
				ErrorCode: "TIMEOUT", SQL: "SELECT a\n# Time: 1\nFROM t;"},
			want: `# Time: 2026-11-28T15:04:05.123456Z
# User@Host: key_7__x[a_b] @ viewgate []  Id: 0
# Request_id: r_1  Trace_id: t1  View: -  Class: -  Source: -  Replica: -  Error: TIMEOUT
# Query_time: 1.000000  Rows_sent: 0
SET timestamp=1795878245;
SELECT a # Time: 1 FROM t;
`,
		},
		{name: "fast entry", e: entry(499*time.Millisecond, ""), want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, slow bytes.Buffer
			New(Options{JSON: &out, Threshold: 500 * time.Millisecond, Slow: &slow}).Log(tc.e)
			if diff := cmp.Diff(tc.want, slow.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestThresholds(t *testing.T) {
	l := New(Options{JSON: &bytes.Buffer{}, Threshold: 100 * time.Millisecond,
		ByClass: map[string]time.Duration{"search": time.Second},
		ByView:  map[string]time.Duration{"invoices": 10 * time.Millisecond, "customers": 0}})
	for _, tc := range []struct {
		view, class string
		d           time.Duration
		slow        bool
	}{
		{"orders", "lookup", 99 * time.Millisecond, false},
		{"orders", "lookup", 100 * time.Millisecond, true},
		{"orders", "search", 500 * time.Millisecond, false},
		{"orders", "search", time.Second, true},
		{"invoices", "search", 10 * time.Millisecond, true}, // the view's threshold wins over the class's
		{"invoices", "lookup", 9 * time.Millisecond, false},
		{"customers", "search", 0, true},
	} {
		e := Entry{View: tc.view, Class: tc.class, Duration: tc.d}
		if got := e.Duration >= l.threshold(&e); got != tc.slow {
			t.Errorf("%s/%s %v: slow = %v, want %v", tc.view, tc.class, tc.d, got, tc.slow)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

type testObserver struct {
	mu         sync.Mutex
	statements int
	failed     map[string]int
	plans      map[string]int
}

func (o *testObserver) Statement(*Entry) { o.mu.Lock(); o.statements++; o.mu.Unlock() }
func (o *testObserver) WriteFailed(f string) {
	o.mu.Lock()
	o.failed[f]++
	o.mu.Unlock()
}
func (o *testObserver) Plan(outcome string) { o.mu.Lock(); o.plans[outcome]++; o.mu.Unlock() }

func newObserver() *testObserver {
	return &testObserver{failed: map[string]int{}, plans: map[string]int{}}
}

// TestWriteFailure: a failing log is counted, told to the observer, and reported as an ERROR
// once per minute, with the count, instead of vanishing.
func TestWriteFailure(t *testing.T) {
	var svc bytes.Buffer
	now := at
	obs := newObserver()
	l := New(Options{JSON: failWriter{}, Slow: failWriter{}, Threshold: 0, Observer: obs,
		Log: slog.New(slog.NewJSONHandler(&svc, nil)), Now: func() time.Time { return now }})
	for range 5 {
		l.Log(entry(time.Millisecond, ""))
	}
	now = now.Add(time.Minute)
	l.Log(entry(time.Millisecond, ""))
	q, s := l.WriteFailures()
	if q != 6 || s != 6 {
		t.Errorf("WriteFailures = %d, %d; want 6, 6", q, s)
	}
	if diff := cmp.Diff(map[string]int{FileQueryLog: 6, FileSlowLog: 6}, obs.failed); diff != "" {
		t.Errorf("observer (-want +got):\n%s", diff)
	}
	var got []string
	for _, m := range jsonLines(t, svc.String()) {
		got = append(got, m["level"].(string)+" "+m["file"].(string)+" "+m["error"].(string))
		if m["file"] == FileQueryLog && m["failedTotal"] == 6.0 && m["failed"] != 5.0 {
			t.Errorf("second report counts %v failures since the first, want 5", m["failed"])
		}
	}
	want := []string{
		"ERROR query_log no space left on device", "ERROR slow_log no space left on device",
		"ERROR query_log no space left on device", "ERROR slow_log no space left on device",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service log (-want +got):\n%s", diff)
	}
}

// TestLogConcurrent is meant for -race: every line stays whole and valid JSON.
func TestLogConcurrent(t *testing.T) {
	var out, slow bytes.Buffer
	var slowMu sync.Mutex
	l := New(Options{JSON: lockedWriter{&out, new(sync.Mutex)}, Threshold: time.Millisecond, Slow: lockedWriter{&slow, &slowMu}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				l.Log(entry(time.Duration(i%3)*time.Millisecond, ""))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("invalid JSON line %q", line)
		}
	}
	if got := strings.Count(slow.String(), "# Time: "); got != 8*66 {
		t.Errorf("got %d slow records, want %d", got, 8*66)
	}
}

// lockedWriter lets the test read the buffer the logger writes; the logger itself
// serialises its writes.
type lockedWriter struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestPlans: a slow statement's plan is captured once per query ID per interval, within the
// rate, and lands in both logs; fast statements never ask for one.
func TestPlans(t *testing.T) {
	var out, slow bytes.Buffer
	var mu sync.Mutex
	now := at
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	obs := newObserver()
	l := New(Options{JSON: lockedWriter{&out, &mu2}, Slow: lockedWriter{&slow, &mu3}, Threshold: 100 * time.Millisecond,
		Plans: PlanOptions{Interval: time.Hour, PerMinute: 2}, Observer: obs, Now: clock})
	calls := map[string]int{}
	var cmu sync.Mutex
	withPlan := func(sql string, d time.Duration) Entry {
		e := entry(d, "")
		e.SQL = sql
		e.Explain = func(context.Context) (json.RawMessage, error) {
			cmu.Lock()
			calls[sql]++
			cmu.Unlock()
			return json.RawMessage(`[{"Plan": {"Node Type": "Seq Scan", "Filter": "(a = ';')"}}]`), nil
		}
		return e
	}
	a, b, c := `SELECT a FROM t WHERE x = $1`, `SELECT b FROM t WHERE x = $1`, `SELECT c FROM t WHERE x = $1`
	l.Log(withPlan(a, time.Millisecond)) // fast: no plan
	l.Log(withPlan(a, time.Second))      // captured
	l.Log(withPlan(a, time.Second))      // within the interval: none
	l.Log(withPlan(b, time.Second))      // captured: second of the minute
	l.Log(withPlan(c, time.Second))      // over the rate: none
	advance(time.Minute)
	l.Log(withPlan(c, time.Second)) // a new minute: captured
	advance(time.Hour)
	l.Log(withPlan(a, time.Second)) // the interval has passed: captured again
	l.Close()
	if diff := cmp.Diff(map[string]int{a: 2, b: 1, c: 1}, calls); diff != "" {
		t.Errorf("captures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{PlanCaptured: 4}, obs.plans); diff != "" {
		t.Errorf("observer (-want +got):\n%s", diff)
	}
	planned := 0
	for _, m := range jsonLines(t, out.String()) {
		if m["plan"] != nil {
			planned++
		}
	}
	if planned != 4 {
		t.Errorf("%d JSON lines carry a plan, want 4", planned)
	}
	if got := strings.Count(slow.String(), "\n# plan: "); got != 4 {
		t.Errorf("%d slow records carry a plan, want 4:\n%s", got, slow.String())
	}
	if strings.Contains(slow.String(), "';'") {
		t.Errorf("a semicolon in the plan was left as is, where it could end a record:\n%s", slow.String())
	}
}

var mu2, mu3 sync.Mutex
