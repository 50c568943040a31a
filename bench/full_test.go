package bench_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// BenchmarkListFull runs Query through viewgate as issue 12 measures it: the demo key (auth
// on), quotas on the memory store (limits too high to refuse) and the query log written to a
// file, against the minimal pgx handler on the same database. interleaved serves both once per
// iteration, so load from elsewhere on the machine hits them alike, and reports each one's
// mean time and speed = minimal time / viewgate time (1 = as fast as the minimal handler);
// the -parallel runs keep both cores busy, so their req/s ratio is closer to one of CPU.
//
//	go test ./bench -run '^$' -bench ListFull -benchmem -count 5
func BenchmarkListFull(b *testing.B) {
	dsn := dbtest.Postgres(b)
	analyze(b, dsn)
	logPath := filepath.Join(b.TempDir(), "query.log")
	vg := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateConfig(ctx, "postgres", dsn, bench.DefaultConns, func(c *config.Config) {
			c.Quota = bench.HighQuota()
			c.QueryLog.Path = logPath
		})
	})
	mini := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.Minimal(ctx, dsn, bench.DefaultConns)
	})
	againstMinimal(b, vg, mini)
	b.Run("interleaved", func(b *testing.B) {
		var spent [2]time.Duration
		hs := [2]http.Handler{vg, mini}
		i := 0
		for b.Loop() {
			i++
			for k := range 2 {
				k = (k + i) % 2 // alternate which goes first
				start := time.Now()
				serve(b, hs[k])
				spent[k] += time.Since(start)
			}
		}
		b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "ns/viewgate")
		b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "ns/minimal")
		b.ReportMetric(float64(spent[1])/float64(spent[0]), "speed")
	})
}
