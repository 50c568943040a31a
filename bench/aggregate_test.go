package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/viewgate/viewgate/bench"
)

// BenchmarkAggregate compares viewgate's aggregate with the same SQL run by a minimal pgx
// handler, on the 1M-row view of ../shared/peer-bench (one tenant's 100,000 invoices by status
// and month, 144 groups). It is opt-in: it needs that benchmark's data (its setup-data.sh loads
// it) at VIEWGATE_PEER_DSN (default bench.DefaultPeerDSN), and skips without it. The setup
// fails if the two answers differ or if Postgres does not read through the benchmark's index.
//
//	go test ./bench -run '^$' -bench Aggregate -benchtime 20x -count 5
//
// paired alternates the two handlers request by request and reports each one's median latency
// and speed = minimal median / viewgate median (1 = as fast as the minimal handler).
func BenchmarkAggregate(b *testing.B) {
	dsn := os.Getenv("VIEWGATE_PEER_DSN")
	if dsn == "" {
		dsn = bench.DefaultPeerDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plan, usesIndex, err := bench.ExplainAggregate(ctx, dsn)
	if err != nil {
		b.Skipf("no peer benchmark data at %s (run ../shared/peer-bench/setup-data.sh --pg-only): %v", dsn, err)
	}
	b.Logf("plan:\n%s", plan)
	if !usesIndex {
		b.Fatalf("the plan does not use %s", bench.PeerIndex)
	}
	vg, closeVG, err := bench.ViewgateAggregate(ctx, dsn, bench.DefaultConns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeVG)
	mini, closeMini, err := bench.MinimalAggregate(ctx, dsn, bench.DefaultConns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeMini)
	if err := bench.SameGroups(serveAggregate(b, vg), serveAggregate(b, mini)); err != nil {
		b.Fatal(err)
	}
	b.Run("viewgate", func(b *testing.B) {
		for b.Loop() {
			serveAggregate(b, vg)
		}
	})
	b.Run("minimal", func(b *testing.B) {
		for b.Loop() {
			serveAggregate(b, mini)
		}
	})
	b.Run("paired", func(b *testing.B) {
		handlers := [2]http.Handler{vg, mini}
		var took [2][]time.Duration
		i := 0
		for b.Loop() {
			i++
			for k := range 2 {
				k = (k + i) % 2 // alternate which goes first
				start := time.Now()
				serveAggregate(b, handlers[k])
				took[k] = append(took[k], time.Since(start))
			}
		}
		mv, mm := median(took[0]), median(took[1])
		b.ReportMetric(float64(mv)/1e6, "viewgate-ms")
		b.ReportMetric(float64(mm)/1e6, "minimal-ms")
		b.ReportMetric(float64(mm)/float64(mv), "speed")
	})
}

func serveAggregate(tb testing.TB, h http.Handler) []byte {
	tb.Helper()
	req, err := bench.NewAggregateRequest(context.Background(), "http://127.0.0.1"+bench.Path)
	if err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
