package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// BenchmarkList runs Query through viewgate's full handler and through the minimal handler
// (pgx on Postgres, go-sql-driver on MariaDB), side by side on one fresh demo database per
// engine; the setup fails if they answer differently.
//
//	go test ./bench -run '^$' -bench . -benchmem -count 3
func BenchmarkList(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		dsn := dbtest.Postgres(b)
		analyze(b, dsn)
		vg := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Viewgate(ctx, "postgres", dsn, bench.DefaultConns)
		})
		mini := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Minimal(ctx, dsn, bench.DefaultConns)
		})
		if err := bench.Same(serve(b, vg), serve(b, mini)); err != nil {
			b.Fatal(err)
		}
		// label_statements on (off by default on Postgres): the application_name set beside
		// every statement, to measure what showing the requestId costs.
		label := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			on := true
			return bench.ViewgateConfig(ctx, "postgres", dsn, bench.DefaultConns, func(c *config.Config) { c.QueryLog.LabelStatements = &on })
		})
		b.Run("viewgate", serial(vg))
		b.Run("viewgate-label", serial(label))
		b.Run("minimal", serial(mini))
		b.Run("viewgate-parallel", parallel(vg))
		b.Run("viewgate-label-parallel", parallel(label))
		b.Run("minimal-parallel", parallel(mini))
	})
	b.Run("mariadb", func(b *testing.B) {
		dsn := dbtest.MariaDB(b)
		vg := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Viewgate(ctx, "mysql", dsn, bench.DefaultConns)
		})
		mini := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.MinimalMySQL(ctx, dsn, bench.DefaultConns)
		})
		againstMinimal(b, vg, mini)
	})
	b.Run("sqlite", func(b *testing.B) {
		dsn := dbtest.SQLite(b)
		vg := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Viewgate(ctx, "sqlite", dsn, bench.DefaultConns)
		})
		if _, err := bench.Nodes(serve(b, vg)); err != nil {
			b.Fatal(err)
		}
		b.Run("viewgate", serial(vg))
		b.Run("viewgate-parallel", parallel(vg))
	})
}

// againstMinimal checks that vg and mini answer the same rows, then runs each serially and on
// every core.
func againstMinimal(b *testing.B, vg, mini http.Handler) {
	b.Helper()
	if err := bench.Same(serve(b, vg), serve(b, mini)); err != nil {
		b.Fatal(err)
	}
	b.Run("viewgate", serial(vg))
	b.Run("minimal", serial(mini))
	b.Run("viewgate-parallel", parallel(vg))
	b.Run("minimal-parallel", parallel(mini))
}

func analyze(b *testing.B, dsn string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bench.Analyze(ctx, dsn); err != nil {
		b.Fatal(err)
	}
}

func handler(b *testing.B, open func(context.Context) (http.Handler, func(), error)) http.Handler {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, closeFn, err := open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeFn)
	return h
}

// serve sends one request in process and returns the body of a 200 answer.
func serve(tb testing.TB, h http.Handler) []byte {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(tb))
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func newRequest(tb testing.TB) *http.Request {
	req, err := bench.NewRequest(context.Background(), "http://127.0.0.1"+bench.Path)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func serial(h http.Handler) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(b))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
}

// parallel runs 2×GOMAXPROCS goroutines, so that requests overlap their database round trips.
func parallel(h http.Handler) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(2)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest(b))
				if rec.Code != http.StatusOK {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
}

func TestStatement(t *testing.T) {
	sql, args, err := bench.Statement("postgres")
	if err != nil {
		t.Fatal(err)
	}
	const want = `SELECT "id", "number", "status", "amount", "issued_at", "customer_name" FROM "v_invoices" WHERE ("tenant_id" = $1) ORDER BY "issued_at" DESC, "id" DESC LIMIT $2`
	if sql != want {
		t.Errorf("SQL:\n got %s\nwant %s", sql, want)
	}
	if len(args) != 2 || args[0] != "acme" || args[1] != bench.Rows+1 {
		t.Errorf("args = %v, want [acme %d]", args, bench.Rows+1)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres", true},
		{"http://[::1]:8080/graphql", true},
		{"postgres://localhost/postgres", true},
		{"postgres://db.example.com/postgres", false},
		{"http://10.0.0.5:8080/graphql", false},
		{"http://0.0.0.0:8080/", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			if err := bench.CheckLoopback(tc.url); (err == nil) != tc.ok {
				t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	r := bench.Result{}
	for i := 100; i >= 1; i-- {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := r.Percentile(tc.p); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestLoadRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-API-Key") == "" {
			http.Error(w, "no key", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	l := bench.Load{URL: srv.URL + bench.Path, Clients: 3, Duration: 5 * time.Second, Max: 30}
	r, err := l.Run(context.Background(), bench.NewClient(l.Clients))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 30 || r.Errors != 0 || len(r.Latencies) != 30 {
		t.Errorf("got %d requests, %d errors, %d latencies; want 30, 0, 30", r.Requests, r.Errors, len(r.Latencies))
	}
}
