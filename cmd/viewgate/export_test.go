package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// fakeClock is the server's clock and the CLI's sleep: sleeping moves it forward.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// exportServer is the real request path on the demo SQLite database, on 127.0.0.1:0, with
// quotas on the fake clock; edit changes the quota first.
type exportServer struct {
	url      string
	clock    *fakeClock
	requests atomic.Int64 // /export requests
}

func newExportServer(t *testing.T, edit func(q *config.Quota)) *exportServer {
	t.Helper()
	s := &exportServer{clock: &fakeClock{t: time.Date(2026, 3, 10, 12, 0, 30, 0, time.UTC)}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := replica.Open(ctx, replica.Options{Name: demo.SourceName, Driver: "sqlite", DSN: dbtest.SQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Env: "test", CursorSecret: "export-cli-test-secret-0123456789abcdef", Limits: config.DefaultLimits(),
		QueryLog: config.QueryLog{SlowThreshold: time.Hour}, Quota: config.DefaultQuota(),
		APIKeys: []config.APIKey{{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "pii"}, Key: demo.KeyAcme}}}
	if edit != nil {
		edit(&cfg.Quota)
	}
	g, err := gateway.New(ctx, gateway.Options{Config: cfg, Catalog: cat, Log: slog.New(slog.DiscardHandler), Stderr: io.Discard,
		Sources: map[string]gateway.Source{demo.SourceName: src}, Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	h := g.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/export" {
			s.requests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

const cliQuery = `{ invoices(orderBy: [{field: AMOUNT}]) { nodes { number amount customerName note } } }`

// whole is the export as one plain request answers it.
func (s *exportServer) whole(t *testing.T, format string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": cliQuery})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/export?format="+format, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", demo.KeyAcme)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("whole export: %d %v", resp.StatusCode, err)
	}
	s.requests.Add(-1)
	return b
}

// cli runs viewgate export against url with the key in the environment; it returns the exit
// code main would use and what went to stderr.
func (s *exportServer) cli(t *testing.T, url string, env map[string]string, args ...string) (int, string) {
	t.Helper()
	return s.cliWith(t, nil, url, env, args...)
}

// plainHTTP asks for no gzip, so that a cutter's byte counts are those of the export.
var plainHTTP = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func (s *exportServer) cliWith(t *testing.T, hc *http.Client, url string, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	err := runExport(context.Background(), append([]string{"-url", url}, args...), func(k string) string { return env[k] },
		io.Discard, &stderr, exportDeps{http: hc, sleep: s.clock.sleep, jitter: func() float64 { return 1 }})
	if err == nil {
		return 0, stderr.String()
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, err.Error()
	}
	return 1, err.Error()
}

var keyEnv = map[string]string{APIKeyEnvVar: demo.KeyAcme}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestExportCLI: a download is the export, through FILE.partial renamed at the end, quiet off a
// terminal; -format follows -o's extension.
func TestExportCLI(t *testing.T) {
	s := newExportServer(t, nil)
	dir := t.TempDir()
	for _, tc := range []struct{ file, format string }{{"inv.csv", "csv"}, {"inv.ndjson", "ndjson"}} {
		out := filepath.Join(dir, tc.file)
		code, stderr := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", out)
		if code != 0 || stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", tc.file, code, stderr)
		}
		if !bytes.Equal(readFile(t, out), s.whole(t, tc.format)) {
			t.Errorf("%s differs from the export", tc.file)
		}
		if exists(out+".partial") || exists(out+".partial.checkpoint") {
			t.Errorf("%s: .partial files left behind", tc.file)
		}
	}
}

// cutter is a proxy that cuts each /export answer after the next of cuts bytes (then passes
// answers whole).
func cutter(t *testing.T, target string, cuts ...int) string {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		mu.Lock()
		limit := -1
		if len(cuts) > 0 && r.URL.Path == "/export" {
			limit, cuts = cuts[0], cuts[1:]
		}
		mu.Unlock()
		if limit < 0 {
			_, _ = io.Copy(w, resp.Body)
			return
		}
		_, _ = io.CopyN(w, resp.Body, int64(limit))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the connection drops: no terminating chunk
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestExportCLIResumesAfterDrop: a connection that drops after N bytes is resumed from the
// last checkpoint, and the file equals an uninterrupted export.
func TestExportCLIResumesAfterDrop(t *testing.T) {
	s := newExportServer(t, nil)
	out := filepath.Join(t.TempDir(), "inv.csv")
	// The first checkpoint comes after 1000 rows, about 50 KB: the first cut is past it, the
	// second before the next one.
	code, stderr := s.cliWith(t, plainHTTP, cutter(t, s.url, 60_000, 20_000), keyEnv, "-query", cliQuery, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !bytes.Equal(readFile(t, out), s.whole(t, "csv")) {
		t.Errorf("the resumed download differs from the export")
	}
	if n := s.requests.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (two cut, one resumed to the end)", n)
	}
	// Backoff after each cut, full jitter at its ceiling (jitter 1): 500ms after the cut that
	// made progress, then 1s after the one that did not.
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond, time.Second}, s.clock.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// TestExportCLIPartial: a download that gives up keeps FILE.partial and its checkpoint;
// -resume continues it to the whole file.
func TestExportCLIPartial(t *testing.T) {
	s := newExportServer(t, nil)
	out := filepath.Join(t.TempDir(), "inv.csv")
	code, msg := s.cliWith(t, plainHTTP, cutter(t, s.url, 60_000, 10, 10), keyEnv, "-query", cliQuery, "-o", out, "-attempts", "2")
	if code != exitServer || !strings.Contains(msg, "-resume") {
		t.Fatalf("exit %d, %s; want %d and a hint to -resume", code, msg, exitServer)
	}
	if exists(out) || !exists(out+".partial") || !exists(out+".partial.checkpoint") {
		t.Fatalf("after giving up: file %v, partial %v, checkpoint %v", exists(out), exists(out+".partial"), exists(out+".partial.checkpoint"))
	}
	whole := s.whole(t, "csv")
	if p := readFile(t, out+".partial"); len(p) == 0 || !bytes.HasPrefix(whole, p) {
		t.Fatalf("the partial file (%d bytes) is not a prefix of the export", len(p))
	}
	if code, msg := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", out, "-resume"); code != 0 {
		t.Fatalf("-resume: exit %d, %s", code, msg)
	}
	if !bytes.Equal(readFile(t, out), whole) || exists(out+".partial") {
		t.Errorf("after -resume the file is not the whole export, or .partial is left")
	}
}

// TestExportCLIBackoff429: a 429 is waited out for its Retry-After (counted on the fake
// clock) and retried; a Retry-After over -max-wait gives up at once with exit 4.
func TestExportCLIBackoff429(t *testing.T) {
	s := newExportServer(t, func(q *config.Quota) {
		p := q.Plans[config.StandardPlan]
		ex := p["export"]
		one := config.Windows{Burst: config.Rate{Limit: 10, Window: time.Minute}, Sustained: config.Rate{Limit: 1000, Window: time.Hour}}
		ex.Tenant, ex.Credential = one, one // weight 10: one export a minute
		p["export"] = ex
	})
	dir := t.TempDir()
	if code, msg := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", filepath.Join(dir, "a.csv")); code != 0 {
		t.Fatalf("first: exit %d, %s", code, msg)
	}
	if code, msg := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", filepath.Join(dir, "b.csv"), "-max-wait", "10s"); code != exitQuota {
		t.Fatalf("over -max-wait: exit %d, %s; want %d", code, msg, exitQuota)
	}
	if s.requests.Load() != 2 || len(s.clock.waits()) != 0 {
		t.Fatalf("over -max-wait: %d requests, waits %v; want 2 and none", s.requests.Load(), s.clock.waits())
	}
	if code, msg := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", filepath.Join(dir, "c.csv")); code != 0 {
		t.Fatalf("after waiting: exit %d, %s", code, msg)
	}
	// The clock stood at 12:00:30: the minute window frees at 12:01:00.
	if diff := cmp.Diff([]time.Duration{30 * time.Second}, s.clock.waits()); diff != "" || s.requests.Load() != 4 {
		t.Errorf("%d requests; waits (-want +got):\n%s", s.requests.Load(), diff)
	}
}

// TestExportCLIQuotaNextDay: the rows budget runs out mid-export; the CLI waits for the next
// UTC day (the fake clock), resumes, and the file is the whole export.
func TestExportCLIQuotaNextDay(t *testing.T) {
	s := newExportServer(t, func(q *config.Quota) {
		p := q.Plans[config.StandardPlan]
		ex := p["export"]
		ex.RowsPerDay = 1000
		p["export"] = ex
	})
	out := filepath.Join(t.TempDir(), "inv.csv")
	if code, msg := s.cli(t, s.url, keyEnv, "-query", cliQuery, "-o", out, "-max-wait", "48h"); code != 0 {
		t.Fatalf("exit %d, %s", code, msg)
	}
	if diff := cmp.Diff([]time.Duration{12*time.Hour - 30*time.Second}, s.clock.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// The reference comes from a server without a rows budget: a plain CSV export over the
	// budget is cut (no terminating chunk), as TestExportQuotaMidStream shows for NDJSON.
	if !bytes.Equal(readFile(t, out), newExportServer(t, nil).whole(t, "csv")) {
		t.Errorf("the file differs from the export")
	}
}

// TestExportCLIExitCodes: each failure has its exit code; unreachable servers are retried
// with exponential backoff and full jitter (at its ceiling here) before exit 5.
func TestExportCLIExitCodes(t *testing.T) {
	s := newExportServer(t, nil)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(demo.KeyAcme+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	out := filepath.Join(dir, "x.csv")
	for _, tc := range []struct {
		name string
		url  string
		env  map[string]string
		args []string
		code int
	}{
		{"no_key", s.url, nil, []string{"-query", cliQuery, "-o", out}, exitUsage},
		{"key_file", s.url, nil, []string{"-query", cliQuery, "-o", out, "-key-file", keyFile}, 0},
		{"bad_key", s.url, map[string]string{APIKeyEnvVar: "vgk_not_a_key_000000000000000"}, []string{"-query", cliQuery, "-o", out}, exitAuth},
		{"not_exportable", s.url, keyEnv, []string{"-query", `{ customers { nodes { name } } }`, "-o", out}, exitAuth},
		{"bad_document", s.url, keyEnv, []string{"-query", `{ invoices { totalCount } }`, "-o", out}, exitUsage},
		{"bad_format", s.url, keyEnv, []string{"-query", cliQuery, "-o", out, "-format", "xlsx"}, exitUsage},
		{"no_output", s.url, keyEnv, []string{"-query", cliQuery}, exitUsage},
		{"two_queries", s.url, keyEnv, []string{"-query", cliQuery, "-query-file", keyFile, "-o", out}, exitUsage},
		{"resume_nothing", s.url, keyEnv, []string{"-query", cliQuery, "-o", filepath.Join(dir, "none.csv"), "-resume"}, exitUsage},
		{"unreachable", deadURL, keyEnv, []string{"-query", cliQuery, "-o", out, "-attempts", "4"}, exitServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.clock.waits())
			if code, msg := s.cli(t, tc.url, tc.env, tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, msg)
			}
			if tc.name == "unreachable" {
				want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
				if diff := cmp.Diff(want, s.clock.waits()[before:]); diff != "" {
					t.Errorf("backoff (-want +got):\n%s", diff)
				}
			}
		})
	}
}
