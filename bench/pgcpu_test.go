package bench_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// BenchmarkListPostgresCPU serves Query serially through each handler and reports the CPU
// the Postgres backends of the benchmark's own database spent per request (pg-µs/op), read
// from /proc/<pid>/schedstat of each backend: unlike the whole server's CPU, other clients of
// the same Postgres do not count. It needs the Postgres server on this machine and /proc
// access to its processes (root or the postgres user), and skips otherwise.
//
//	go test ./bench -run '^$' -bench ListPostgresCPU -benchtime 2000x -count 3
func BenchmarkListPostgresCPU(b *testing.B) {
	dsn := dbtest.Postgres(b)
	analyze(b, dsn)
	ctx := context.Background()
	probe, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close(ctx)
	if _, err := dbtest.BackendCPU(ctx, probe); err != nil {
		b.Skipf("cannot read the backends' CPU: %v", err)
	}
	handlers := []struct {
		name string
		open func(context.Context) (http.Handler, func(), error)
	}{
		{"minimal", func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Minimal(ctx, dsn, bench.DefaultConns)
		}},
		{"viewgate", func(ctx context.Context) (http.Handler, func(), error) {
			return bench.Viewgate(ctx, "postgres", dsn, bench.DefaultConns)
		}},
		{"viewgate-label", func(ctx context.Context) (http.Handler, func(), error) {
			on := true
			return bench.ViewgateConfig(ctx, "postgres", dsn, bench.DefaultConns, func(c *config.Config) { c.QueryLog.LabelStatements = &on })
		}},
	}
	for _, hc := range handlers {
		h := handler(b, hc.open)
		for range 20 { // the pool's connection and its prepared statements exist before timing
			serve(b, h)
		}
		b.Run(hc.name, func(b *testing.B) {
			before, err := dbtest.BackendCPU(ctx, probe)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				serve(b, h)
			}
			after, err := dbtest.BackendCPU(ctx, probe)
			if err != nil {
				b.Fatal(err)
			}
			reportCPU(b, before, after)
		})
	}
}

// reportCPU reports the backends' CPU per op as pg-µs/op; a backend started meanwhile counts
// from zero.
func reportCPU(b *testing.B, before, after map[int32]time.Duration) {
	var spent time.Duration
	for pid, t := range after {
		spent += t - before[pid]
	}
	b.ReportMetric(float64(spent.Nanoseconds())/1e3/float64(b.N), "pg-µs/op")
}
