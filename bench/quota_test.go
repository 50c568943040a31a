package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// BenchmarkQuota runs the list query with quotas off, on the memory store and on Redis (the
// shared test Redis), each a handler of its own on one demo database, in turn within one run,
// so that the cost of charging every request (a peek and an increment of four windows) shows
// against quotas off; the limits are so high that nothing is refused. redis-tight has burst
// windows of 3,200 a second, so that an instance's Redis leases (a 64th of the limit) run out
// every 50 requests, as they would for a tenant using most of its quota.
//
//	go test ./bench -run '^$' -bench Quota -benchmem -count 6
func BenchmarkQuota(b *testing.B) {
	dsn := dbtest.Postgres(b)
	analyze(b, dsn)
	redisURL, prefix := dbtest.Redis(b)
	mem, red, tight := bench.HighQuota(), bench.HighQuota(), bench.TightQuota()
	red.RedisURL, red.OnRedisError = redisURL, "closed"
	tight.RedisURL, tight.OnRedisError = redisURL, "closed"
	variants := []struct {
		name string
		q    config.Quota
	}{{"off", config.Quota{}}, {"memory", mem}, {"redis", red}, {"redis-tight", tight}}
	hs := make([]http.Handler, len(variants))
	for i, v := range variants {
		hs[i] = handler(b, func(ctx context.Context) (http.Handler, func(), error) {
			return bench.ViewgateQuota(ctx, "postgres", dsn, bench.DefaultConns, v.q, fmt.Sprintf("%s:%s", prefix, v.name))
		})
		serve(b, hs[i])
	}
	for i, v := range variants {
		b.Run("postgres/"+v.name, serial(hs[i]))
	}
	for i, v := range variants {
		b.Run("postgres/"+v.name+"-parallel", parallel(hs[i]))
	}
	// Interleaved: each iteration serves every variant once, so load from elsewhere on the machine
	// hits all of them alike; the metrics are each variant's mean time per request.
	b.Run("postgres/interleaved", func(b *testing.B) {
		spent := make([]time.Duration, len(variants))
		for b.Loop() {
			for i := range variants {
				start := time.Now()
				serve(b, hs[i])
				spent[i] += time.Since(start)
			}
		}
		for i, v := range variants {
			b.ReportMetric(float64(spent[i].Nanoseconds())/float64(b.N), "ns/"+v.name)
		}
	})
}
