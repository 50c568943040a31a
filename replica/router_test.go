package replica

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
)

// fake is an engine whose answers the test sets; it stands in for a database only in
// the router's unit tests (the integration tests use real servers).
type fake struct {
	mu       sync.Mutex
	name     string
	probe    probe
	checkErr error
	queryErr error         // returned by query (after rows, when rows > 0)
	rows     int           // rows handed to fn before queryErr
	block    chan struct{} // when set, query waits for it to close
	calls    int
}

func (f *fake) dialect() string                { return "postgres" }
func (f *fake) ping(ctx context.Context) error { return nil }
func (f *fake) close()                         {}
func (f *fake) explain(context.Context, string, []any, time.Duration) (json.RawMessage, error) {
	return json.RawMessage(`{"fake": true}`), nil
}

func (f *fake) check(context.Context, []string) (probe, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.probe, f.checkErr
}

func (f *fake) query(ctx context.Context, _ string, _ []any, _ time.Duration, fn func(Rows) error) error {
	f.mu.Lock()
	f.calls++
	block, err, n := f.block, f.queryErr, f.rows
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil && n == 0 {
		return err
	}
	if ferr := fn(&fakeRows{n: n}); ferr != nil {
		return ferr
	}
	return err
}

func (f *fake) set(fn func(f *fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type fakeRows struct{ n, i int }

func (r *fakeRows) Next() bool        { r.i++; return r.i <= r.n }
func (r *fakeRows) Scan(...any) error { return nil }
func (r *fakeRows) Err() error        { return nil }

// clock is an injected time source that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var replicaProbe = probe{readOnly: true, lagKnown: true}

// testRouter builds a router over fakes named r1, r2, … with the given weights (and
// optionally a fallback fake last), checked once, with no background loop.
func testRouter(t *testing.T, o RouterOptions, weights []int, fallback bool) (*Router, []*fake, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	o.Name, o.Driver, o.CheckInterval, o.Now = "erp", "postgres", -1, clk.now
	o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	var fakes []*fake
	for i, w := range weights {
		o.Replicas = append(o.Replicas, ReplicaOptions{Name: fmt.Sprintf("r%d", i+1), DSN: "postgres://u:s3cret@h/db", Weight: w, MaxLag: 5 * time.Second})
	}
	if fallback {
		o.Fallback = &ReplicaOptions{Name: "primary", DSN: "postgres://u:s3cret@p/db"}
	}
	r := newRouter(o)
	for _, m := range r.members() {
		f := &fake{name: m.name, probe: replicaProbe}
		if m.fallback {
			f.probe = probe{readOnly: false, lagKnown: true}
		}
		m.conns.Store(&pools{query: f, check: f})
		fakes = append(fakes, f)
	}
	r.dialect = "postgres"
	r.Check(context.Background())
	t.Cleanup(r.Close)
	return r, fakes, &logs
}

func noop(Rows) error { return nil }

func healthyNames(r *Router) []string {
	var out []string
	for _, st := range r.Status().Replicas {
		if st.Healthy {
			out = append(out, st.Name)
		}
	}
	return out
}

func TestRouterLeastInFlight(t *testing.T) {
	r, fakes, _ := testRouter(t, RouterOptions{}, []int{1, 1, 1}, false)
	// Hold one statement on r1 and two on r2: the next goes to r3, then r1.
	hold := func(f *fake, n int) func() {
		block := make(chan struct{})
		f.set(func(f *fake) { f.block = block })
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { _ = r.Query(context.Background(), "SELECT 1", nil, noop) })
		}
		return func() { close(block); wg.Wait() }
	}
	// Route the held statements deterministically: only the target is healthy while queuing.
	only := func(name string, fn func()) {
		for _, m := range r.replicas {
			m.up.Store(m.name == name)
		}
		fn()
		for _, m := range r.replicas {
			m.up.Store(true)
		}
	}
	var free1, free2 func()
	only("r1", func() { free1 = hold(fakes[0], 1); waitInFlight(t, r, "r1", 1) })
	only("r2", func() { free2 = hold(fakes[1], 2); waitInFlight(t, r, "r2", 2) })
	defer free1()
	defer free2()
	if got := r.pick(nil).name; got != "r3" {
		t.Fatalf("pick = %s, want r3 (0 in flight)", got)
	}
	if got := r.pick(r.replicas[2]).name; got != "r1" {
		t.Fatalf("pick without r3 = %s, want r1 (1 in flight, r2 has 2)", got)
	}
}

func waitInFlight(t *testing.T, r *Router, name string, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, st := range r.Status().Replicas {
			if st.Name == name && st.InFlight == n {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s never reached %d in flight: %+v", name, n, r.Status())
}

func TestRouterWeightsBreakTies(t *testing.T) {
	r, _, _ := testRouter(t, RouterOptions{}, []int{3, 1}, false)
	counts := map[string]int{}
	for range 4 * 4 * tieRun { // four rounds of (3+1) runs
		counts[r.pick(nil).name]++
	}
	if diff := cmp.Diff(map[string]int{"r1": 12 * tieRun, "r2": 4 * tieRun}, counts); diff != "" {
		t.Errorf("idle picks by weight (-want +got):\n%s", diff)
	}
}

func TestRouterHysteresis(t *testing.T) {
	r, fakes, logs := testRouter(t, RouterOptions{RiseAfter: 3}, []int{1, 1}, false)
	ctx := context.Background()
	fakes[0].set(func(f *fake) { f.probe.lag = 9 * time.Second })
	r.Check(ctx)
	if diff := cmp.Diff([]string{"r2"}, healthyNames(r)); diff != "" {
		t.Fatalf("after a lagging check (-want +got):\n%s", diff)
	}
	if st := r.Status().Replicas[0]; st.Reason != "lag 9s over max_lag 5s" || st.LagSecs == nil || *st.LagSecs != 9 ||
		!st.Since.Equal(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)) || !st.CheckedAt.Equal(st.Since) {
		t.Errorf("status = %+v", st)
	}
	fakes[0].set(func(f *fake) { f.probe.lag = time.Second })
	for i := 1; i < 3; i++ {
		r.Check(ctx)
		if len(healthyNames(r)) != 1 {
			t.Fatalf("r1 rejoined after %d good checks, want 3", i)
		}
	}
	// A bad check in between starts the count again.
	fakes[0].set(func(f *fake) {
		f.checkErr = &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}
	})
	r.Check(ctx)
	fakes[0].set(func(f *fake) { f.checkErr = nil })
	r.Check(ctx)
	r.Check(ctx)
	if len(healthyNames(r)) != 1 {
		t.Fatal("r1 rejoined though the count restarted after a failed check")
	}
	r.Check(ctx)
	if diff := cmp.Diff([]string{"r1", "r2"}, healthyNames(r)); diff != "" {
		t.Fatalf("after three good checks (-want +got):\n%s", diff)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"replica out of rotation","source":"erp","replica":"r1"`, `"reason":"lag 9s over max_lag 5s"`, `"msg":"replica back in rotation"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "postgres://") {
		t.Errorf("log holds a DSN:\n%s", out)
	}
}

func TestRouterWritableAndUnknownLag(t *testing.T) {
	r, fakes, _ := testRouter(t, RouterOptions{RequireReplica: true}, []int{1, 1, 1}, true)
	fakes[0].set(func(f *fake) { f.probe.readOnly = false })
	fakes[1].set(func(f *fake) { f.probe.lagKnown = false })
	r.Check(context.Background())
	got := map[string]string{}
	for _, st := range r.Status().Replicas {
		got[st.Name] = st.Reason
	}
	want := map[string]string{
		"r1":      "writable: the server accepts writes, so it is not a read-only replica (set require_replica: false to allow it)",
		"r2":      "replication lag unknown (not replicating, or no monitoring grant)",
		"r3":      "",
		"primary": "", // the fallback is writable by design
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

func TestRouterRetryOnce(t *testing.T) {
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	shutdown := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	for _, tc := range []struct {
		name      string
		err       error
		rows      int // rows the failing replica hands out before failing
		wantCalls int // statements run in total
		wantErr   error
		wantOut   int // replicas out of rotation afterwards
	}{
		{"refused, retried elsewhere", refused, 0, 2, nil, 1},
		{"admin shutdown, retried elsewhere", shutdown, 0, 2, nil, 1},
		{"recovery conflict, retried elsewhere", &pgconn.PgError{Code: "40001"}, 0, 2, nil, 1},
		{"failed after a row: not retried", shutdown, 1, 1, ErrUnavailable, 1},
		{"timeout: not retried", &pgconn.PgError{Code: "57014"}, 0, 1, ErrTimeout, 0},
		{"write refused: not retried", &pgconn.PgError{Code: "25006"}, 0, 1, ErrWriteRefused, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, fakes, _ := testRouter(t, RouterOptions{}, []int{1, 1}, false)
			first := r.pick(nil) // Query picks the same: runs of tieRun
			f := fakes[0]
			if first.name == "r2" {
				f = fakes[1]
			}
			f.set(func(f *fake) { f.queryErr, f.rows = tc.err, tc.rows })
			err := r.Query(context.Background(), "SELECT 1", nil, scanAll)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Query = %v, want %v", err, tc.wantErr)
			}
			if got := fakes[0].count() + fakes[1].count(); got != tc.wantCalls {
				t.Errorf("statements run = %d, want %d", got, tc.wantCalls)
			}
			if got := 2 - len(healthyNames(r)); got != tc.wantOut {
				t.Errorf("out of rotation = %d, want %d", got, tc.wantOut)
			}
		})
	}
}

func TestRouterRetryOnlyOnce(t *testing.T) {
	r, fakes, _ := testRouter(t, RouterOptions{}, []int{1, 1, 1}, false)
	for _, f := range fakes {
		f.set(func(f *fake) { f.queryErr = fmt.Errorf("dial: %w", syscall.ECONNREFUSED) })
	}
	err := r.Query(context.Background(), "SELECT 1", nil, noop)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoHealthyReplica) {
		t.Fatalf("Query = %v, want ErrUnavailable from the second replica", err)
	}
	if got := fakes[0].count() + fakes[1].count() + fakes[2].count(); got != 2 {
		t.Errorf("statements run = %d, want 2 (one retry)", got)
	}
}

func TestRouterFallbackAndNoHealthy(t *testing.T) {
	r, fakes, _ := testRouter(t, RouterOptions{RequireReplica: true}, []int{1}, true)
	ctx := context.Background()
	if err := r.Query(ctx, "SELECT 1", nil, noop); err != nil || fakes[0].count() != 1 || fakes[1].count() != 0 {
		t.Fatalf("healthy replica: err %v, calls %d/%d; want the replica only", err, fakes[0].count(), fakes[1].count())
	}
	fakes[0].set(func(f *fake) { f.checkErr = fmt.Errorf("dial: %w", syscall.ECONNREFUSED) })
	r.Check(ctx)
	if err := r.Query(ctx, "SELECT 1", nil, noop); err != nil || fakes[1].count() != 1 {
		t.Fatalf("replica down: err %v, fallback calls %d; want the fallback", err, fakes[1].count())
	}
	fakes[1].set(func(f *fake) { f.checkErr = errors.New("boom") })
	r.Check(ctx)
	err := r.Query(ctx, "SELECT 1", nil, noop)
	if !errors.Is(err, ErrNoHealthyReplica) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("nothing healthy: got %v, want ErrNoHealthyReplica wrapping ErrUnavailable", err)
	}
	if want := "source erp: replica: no healthy replica (r1: check failed: connection refused; primary: check failed: failed)"; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if r.Ping(ctx) == nil || r.Healthy() {
		t.Error("Ping/Healthy report a healthy source")
	}
}

func TestRouterTenantCap(t *testing.T) {
	type key struct{}
	tenant := func(ctx context.Context) string { s, _ := ctx.Value(key{}).(string); return s }
	r, fakes, _ := testRouter(t, RouterOptions{TenantMaxConcurrency: 2, Tenant: tenant}, []int{1}, false)
	block := make(chan struct{})
	fakes[0].set(func(f *fake) { f.block = block })
	acme := context.WithValue(context.Background(), key{}, "acme")
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { _ = r.Query(acme, "SELECT 1", nil, noop) })
	}
	waitInFlight(t, r, "r1", 2)
	// acme's third statement waits and gives up with its context.
	ctx, cancel := context.WithTimeout(acme, 50*time.Millisecond)
	defer cancel()
	err := r.Query(ctx, "SELECT 1", nil, noop)
	if !errors.Is(err, ErrTenantBusy) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("third acme statement: %v, want ErrTenantBusy", err)
	}
	if want := "source erp: replica: tenant concurrency cap reached: tenant acme already runs 2 statements (context deadline exceeded)"; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	// Another tenant is not held back by acme.
	globex := context.WithValue(context.Background(), key{}, "globex")
	done := make(chan error, 1)
	go func() { done <- r.Query(globex, "SELECT 1", nil, noop) }()
	waitInFlight(t, r, "r1", 3)
	close(block)
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatalf("globex: %v", err)
	}
	// Slots come back: acme runs again.
	if err := r.Query(acme, "SELECT 1", nil, noop); err != nil {
		t.Fatalf("acme after release: %v", err)
	}
}

func TestRouterLoopUsesInjectedTicker(t *testing.T) {
	r, fakes, _ := testRouter(t, RouterOptions{RiseAfter: 1}, []int{1}, false)
	ticks := make(chan time.Time)
	r.o.CheckInterval = time.Hour
	r.o.Tick = func(d time.Duration) (<-chan time.Time, func()) {
		if d != time.Hour {
			t.Errorf("tick interval %v, want 1h", d)
		}
		return ticks, func() {}
	}
	r.start()
	fakes[0].set(func(f *fake) { f.checkErr = errors.New("boom") })
	ticks <- time.Time{}
	ticks <- time.Time{} // the second send returns only after the first check finished
	if r.Healthy() {
		t.Fatal("still healthy after a failed check on tick")
	}
	fakes[0].set(func(f *fake) { f.checkErr = nil })
	ticks <- time.Time{}
	ticks <- time.Time{}
	if !r.Healthy() {
		t.Fatal("not back after a good check on tick")
	}
}

// TestRouterBound: Bound covers all a Query may hold its caller for: the wait for the
// tenant's slot when there is a cap, and one statement timeout plus backstop per attempt the
// router makes when every member it tries fails as unavailable (counted here, not assumed).
func TestRouterBound(t *testing.T) {
	const timeout = 300 * time.Millisecond
	unavailable := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	tests := []struct {
		name     string
		replicas int
		fallback bool
		capped   bool
	}{
		{name: "one replica", replicas: 1},
		{name: "two replicas", replicas: 2},
		{name: "three replicas", replicas: 3},
		{name: "a replica and the primary, capped", replicas: 1, fallback: true, capped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := RouterOptions{StatementTimeout: timeout}
			if tt.capped {
				o.TenantMaxConcurrency, o.Tenant = 1, func(context.Context) string { return "acme" }
			}
			weights := make([]int, tt.replicas)
			for i := range weights {
				weights[i] = 1
			}
			r, fakes, _ := testRouter(t, o, weights, tt.fallback)
			for _, f := range fakes {
				f.set(func(f *fake) { f.queryErr = unavailable })
			}
			if err := r.Query(context.Background(), "SELECT 1", nil, noop); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Query: %v, want ErrUnavailable", err)
			}
			attempts := 0
			for _, f := range fakes {
				f.mu.Lock()
				attempts += f.calls
				f.mu.Unlock()
			}
			want := time.Duration(attempts) * (timeout + backstop)
			if tt.capped {
				want += tenantWait
			}
			if attempts == 0 || r.Bound() < want {
				t.Errorf("Bound() = %v after %d attempts, want at least %v", r.Bound(), attempts, want)
			}
		})
	}
}
