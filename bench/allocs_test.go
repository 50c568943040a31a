//go:build !race

package bench_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// maxListAllocs bounds the allocations of one list request with auth, memory quotas and the
// query log to a file: 948 when it was set (issue 12; 1,334 before), 860 with compiled
// operations (cap lowered from 1,200), 419 with Postgres's wire forms formatted straight
// into the answer (reader.PageRows; cap lowered from 1,100), 378 once an operation without
// variables got no map of them per request, 200 once decimals (the query's amount) got a wire
// form and headers and timers were trimmed (cap lowered from 600), so the margin is wide and
// only a regression of the hot path's shape trips it. Not run with -race, which allocates
// for itself.
const maxListAllocs = 350

func TestListAllocations(t *testing.T) {
	dsn := dbtest.Postgres(t)
	ctx := context.Background()
	h, closeFn, err := bench.ViewgateConfig(ctx, "postgres", dsn, bench.DefaultConns, func(c *config.Config) {
		c.Quota = bench.HighQuota()
		c.QueryLog.Path = filepath.Join(t.TempDir(), "query.log")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	serve(t, h) // warm the document cache, the statement texts and pgx's statement cache
	n := testing.AllocsPerRun(20, func() { serve(t, h) })
	t.Logf("%v allocations per list request", n)
	if n > maxListAllocs {
		t.Errorf("a list request allocates %v times, over the budget of %d", n, maxListAllocs)
	}
}
