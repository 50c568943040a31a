package quota

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestExportRows: an export's rows are charged to its tenant's budget per UTC day, shared by the
// tenant's credentials and separate from other tenants; a spent budget reads as 0 left and makes
// a 429 until midnight; the next day starts afresh. On memory and on Redis.
func TestExportRows(t *testing.T) {
	forStores(t, func(t *testing.T, mk maker) {
		q := testQuota()
		p := q.Plans["standard"]
		ex := p["export"]
		ex.RowsPerDay = 2500
		p["export"] = ex
		c := newClock()
		day := time.Date(2027, 1, 15, 18, 0, 0, 0, time.UTC)
		c.Set(day)
		l := mk(t, q, c, Options{})
		ctx := context.Background()
		type got struct {
			Limit, Remaining int64
			ResetAt          time.Time
		}
		step := func(s Subject, n int64) got {
			t.Helper()
			b, err := l.ExportRows(ctx, s, n)
			if err != nil {
				t.Fatal(err)
			}
			return got{b.Limit, b.Remaining, b.ResetAt}
		}
		midnight := time.Date(2027, 1, 16, 0, 0, 0, 0, time.UTC)
		steps := []struct {
			s    Subject
			n    int64
			want got
		}{
			{acmeA, 0, got{2500, 2500, midnight}},
			{acmeA, 1000, got{2500, 1500, midnight}},
			{acmeB, 1000, got{2500, 500, midnight}}, // the tenant's budget, whatever the credential
			{globex, 10, got{2500, 2490, midnight}},
			{acmeA, 1000, got{2500, 0, midnight}}, // overspent by one checkpoint: reads as 0
		}
		for i, st := range steps {
			if diff := cmp.Diff(st.want, step(st.s, st.n)); diff != "" {
				t.Fatalf("step %d (-want +got):\n%s", i, diff)
			}
		}
		b, _ := l.ExportRows(ctx, acmeA, 0)
		var ex2 *ExceededError
		if err := error(b.Exceeded()); !errors.As(err, &ex2) || ex2.RetryAfter != 6*time.Hour || ex2.Window != WindowRows {
			t.Fatalf("Exceeded: %+v", ex2)
		}
		c.Set(midnight)
		if diff := cmp.Diff(got{2500, 2500, midnight.Add(24 * time.Hour)}, step(acmeA, 0)); diff != "" {
			t.Errorf("the next day (-want +got):\n%s", diff)
		}
	})
}

// TestExportRowsUnlimited: without rows_per_day, or with quotas off, nothing limits rows.
func TestExportRowsUnlimited(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		cfg := testQuota()
		cfg.Enabled = enabled
		l := newLimiter(t, cfg, newClock(), Options{})
		b, err := l.ExportRows(context.Background(), acmeA, 1_000_000)
		if err != nil || b.Remaining != math.MaxInt64 || b.Limit != 0 {
			t.Errorf("enabled %v: %+v %v", enabled, b, err)
		}
	}
}
