package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/viewgate/viewgate/demo"
)

// dbaServer is a server started by run from a config file on the demo's SQLite database, with
// its query log and slow log in files and metrics on a loopback port.
type dbaServer struct {
	base, metrics string
	dir           string
	hup           chan os.Signal
}

func startDBAServer(t *testing.T) *dbaServer {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(dir, "demo.db")
	if err := demo.CreateSQLite(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`catalog: catalog.yaml
cursor_secret: 0123456789abcdef0123456789abcdef
metrics_listen: 127.0.0.1:0
api_keys:
  - {id: acme-key, tenant: acme, roles: [reporting, analyst, pii], key: %s}
query_log: {path: query.log, slow_log_path: slow.log, slow_threshold: 0s}
environments:
  dev:
    sources:
      demo: {driver: sqlite, dsn: %q}
`, demo.KeyAcme, db)
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &dbaServer{dir: dir, hup: make(chan os.Signal, 1)}
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(withHangups(ctx, s.hup), []string{"-config", path, "-listen", "127.0.0.1:0"}, func(string) string { return "" }, w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not shut down")
		}
	})
	s.base, s.metrics = waitForURLs(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s
}

// waitForURLs reads the server's start-up lines up to its GraphQL and metrics URLs.
func waitForURLs(t *testing.T, r io.Reader) (base, metrics string) {
	t.Helper()
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/)`)
	metricsOn := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`)
	found := make(chan [2]string, 1)
	go func() {
		var got [2]string
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				got[0] = m[1]
			}
			if m := metricsOn.FindStringSubmatch(sc.Text()); m != nil {
				got[1] = m[1]
				break
			}
		}
		found <- got
	}()
	select {
	case got := <-found:
		if got[0] == "" || got[1] == "" {
			t.Fatalf("server start-up printed no URLs: %q", got)
		}
		return got[0], got[1]
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	return "", ""
}

func (s *dbaServer) graphql(t *testing.T, key, query string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+"graphql", strings.NewReader(fmt.Sprintf(`{"query": %q}`, query)))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the samples of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	sum := 0.0
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// TestMetricsEndToEnd scrapes /metrics of a running server before and after requests and
// parses it as Prometheus does: every documented family exists, the counters move by what the
// requests did, and no series carries a tenant or credential label.
func TestMetricsEndToEnd(t *testing.T) {
	s := startDBAServer(t)
	before := scrape(t, s.metrics)
	const lookups = 3
	for range lookups {
		if code := s.graphql(t, demo.KeyAcme, `{ invoices(first: 2) { totalCount nodes { number } } }`); code != 200 {
			t.Fatalf("graphql: %d", code)
		}
	}
	if code := s.graphql(t, "", `{ invoices { totalCount } }`); code != 401 {
		t.Fatalf("without a key: %d, want 401", code)
	}
	after := scrape(t, s.metrics)
	for _, name := range []string{
		"viewgate_http_requests_total", "viewgate_http_request_duration_seconds", "viewgate_statements_total",
		"viewgate_statement_duration_seconds", "viewgate_statement_rows_total", "viewgate_replica_up",
		"viewgate_replica_in_flight", "viewgate_replica_errors_total", "viewgate_quota_decisions_total",
		"viewgate_auth_failures_total", "viewgate_log_write_failures_total", "viewgate_document_cache_total",
		"viewgate_slow_plans_total", "viewgate_export_rows_total", "viewgate_export_bytes_total",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if after[name] == nil {
			t.Errorf("family %s is missing", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"viewgate_http_requests_total", map[string]string{"route": "/graphql", "status": "200", "class": "lookup"}, lookups},
		{"viewgate_http_requests_total", map[string]string{"route": "/graphql", "status": "401"}, 1},
		{"viewgate_http_request_duration_seconds", map[string]string{"route": "/graphql", "class": "lookup"}, lookups},
		{"viewgate_statements_total", map[string]string{"view": "invoices", "replica": "demo", "outcome": "ok"}, 2 * lookups}, // page + count
		{"viewgate_statement_rows_total", map[string]string{"view": "invoices"}, lookups * (2 + 1 + 1)},                       // first+1 rows, one count row
		{"viewgate_quota_decisions_total", map[string]string{"class": "lookup", "outcome": "allowed"}, lookups},
		{"viewgate_auth_failures_total", map[string]string{"reason": "no_credentials"}, 1},
		{"viewgate_document_cache_total", map[string]string{"result": "hit"}, lookups - 1},
		{"viewgate_document_cache_total", map[string]string{"result": "miss"}, 1}, // the 401 is refused before the cache
		{"viewgate_log_write_failures_total", nil, 0},
	} {
		b := max(value(before, c.name, c.labels), 0)
		if got := value(after, c.name, c.labels) - b; got != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.delta)
		}
	}
	if got := value(after, "viewgate_replica_up", map[string]string{"source": "demo", "replica": "demo"}); got != 1 {
		t.Errorf("viewgate_replica_up = %v, want 1", got)
	}
	for name, f := range after {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "tenant" || l.GetName() == "credential" {
					t.Errorf("%s has a %s label by default", name, l.GetName())
				}
			}
		}
	}
}

// TestHangupReopensLogs: after logrotate moves the logs away, a hangup makes the server write
// to new files at the same paths; the trace id of a traceparent is logged beside the requestId.
func TestHangupReopensLogs(t *testing.T) {
	s := startDBAServer(t)
	if code := s.graphql(t, demo.KeyAcme, `{ products(first: 1) { nodes { id } } }`); code != 200 {
		t.Fatalf("graphql: %d", code)
	}
	for _, name := range []string{"query.log", "slow.log"} {
		p := filepath.Join(s.dir, name)
		if err := os.Rename(p, p+".1"); err != nil {
			t.Fatal(err)
		}
	}
	s.hup <- syscall.SIGHUP
	// The reopen happens in the background; until it has, writes still go to the moved files.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(s.dir, "slow.log")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := s.graphql(t, demo.KeyAcme, `{ customers(first: 1) { nodes { id } } }`); code != 200 {
		t.Fatalf("graphql: %d", code)
	}
	for _, c := range []struct{ file, want, not string }{
		{"query.log.1", `"view":"products"`, `"view":"customers"`},
		{"query.log", `"view":"customers"`, `"view":"products"`},
		{"slow.log.1", "View: products", "View: customers"},
		{"slow.log", "View: customers", "View: products"},
		{"query.log", `"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"`, ""},
	} {
		b, err := os.ReadFile(filepath.Join(s.dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), c.want) || c.not != "" && strings.Contains(string(b), c.not) {
			t.Errorf("%s: want %q and not %q:\n%s", c.file, c.want, c.not, b)
		}
	}
}

// TestNotifyHangups: main's channel receives a real SIGHUP (while it is registered, the signal
// does not end the process).
func TestNotifyHangups(t *testing.T) {
	ch := notifyHangups()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no SIGHUP received")
	}
}

// TestDemoMetricsPortTaken: a demo whose metrics port is taken serves anyway, without metrics.
func TestDemoMetricsPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	var logs strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-metrics-listen", ln.Addr().String()}, func(string) string { return "" }, w, &lockedBuilder{b: &logs})
		w.Close()
	}()
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	res, err := http.Get(base + "healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("demo with a taken metrics port: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "metrics not served: the demo's metrics port is taken") {
		t.Errorf("the taken port was not logged:\n%s", logs.String())
	}
}

// lockedBuilder collects a server's log lines for the test to read after it stopped.
type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
