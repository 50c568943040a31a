package bench_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/replica"
)

// routerCheckInterval is shorter than the 5s default, so the health checks' cost shows.
const routerCheckInterval = time.Second

// BenchmarkRouter measures what routing and health checks cost on the list query: the same
// demo database served by one replica.Source (direct) and by a replica.Router with two
// replicas (both on that database, half the connections each, so the pools total the same),
// in one run. The design budget is 2% of throughput.
//
//	go test ./bench -run '^$' -bench Router -benchmem -count 5
func BenchmarkRouter(b *testing.B) {
	dsn := dbtest.Postgres(b)
	analyze(b, dsn)
	direct := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.Viewgate(ctx, "postgres", dsn, bench.DefaultConns)
	})
	routed := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateRouter(ctx, "postgres", []string{dsn, dsn}, bench.DefaultConns/2,
			replica.RouterOptions{RequireReplica: false, CheckInterval: routerCheckInterval})
	})
	// One replica behind the router separates the router's own cost from that of spreading
	// statements over two pools.
	routed1 := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateRouter(ctx, "postgres", []string{dsn}, bench.DefaultConns,
			replica.RouterOptions{RequireReplica: false, CheckInterval: routerCheckInterval})
	})
	if !bytes.Equal(serve(b, direct), serve(b, routed)) || !bytes.Equal(serve(b, direct), serve(b, routed1)) {
		b.Fatal("direct and routed answers differ")
	}
	b.Run("direct", serial(direct))
	b.Run("router-2", serial(routed))
	b.Run("router-1", serial(routed1))
	b.Run("direct-parallel", parallel(direct))
	b.Run("router-2-parallel", parallel(routed))
	b.Run("router-1-parallel", parallel(routed1))
	// Paired rounds share the machine's noise, which on a busy box swamps a 2% effect when the
	// handlers run one after the other: each iteration times a round on each handler, in
	// alternating order, and the ratio of the totals is reported.
	b.Run("paired/router-2-vs-direct", paired(direct, routed, 1))
	b.Run("paired/router-2-vs-direct-parallel", paired(direct, routed, 2*runtime.GOMAXPROCS(0)))
	b.Run("paired/router-1-vs-direct", paired(direct, routed1, 1))
}

// paired times rounds of 20 requests from workers goroutines on base and on h, alternating
// which goes first, and reports h's total time over base's ("ratio") and the difference in
// percent of base ("overhead-%").
func paired(base, h http.Handler, workers int) func(*testing.B) {
	const round = 20
	return func(b *testing.B) {
		var tBase, tH time.Duration
		i := 0
		for b.Loop() {
			if i++; i%2 == 0 {
				tBase += runRound(b, base, round, workers)
				tH += runRound(b, h, round, workers)
			} else {
				tH += runRound(b, h, round, workers)
				tBase += runRound(b, base, round, workers)
			}
		}
		ratio := float64(tH) / float64(tBase)
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric((ratio-1)*100, "overhead-%")
	}
}

func runRound(b *testing.B, h http.Handler, n, workers int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest(b))
				if rec.Code != http.StatusOK {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
