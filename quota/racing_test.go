package quota

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
)

// TestRacingRefusalsAreExceeded: on the memory store, credential B has spent its burst and
// keeps trying: each try charges the tenant's burst window, then its own (over), then takes
// both charges back. Credential A tries once the tenant window has one unit left. A refund of
// B's landing between A's charge and A's own refund made A's reported counts fit every window,
// and A's refusal a plain error (a 500) instead of an *ExceededError (a 429).
func TestRacingRefusalsAreExceeded(t *testing.T) {
	q := testQuota()
	big := rates(10, 10*time.Second, 1_000_000, time.Hour)
	q.Plans["standard"]["lookup"] = config.ClassLimits{Tenant: big, Credential: rates(6, 10*time.Second, 1_000_000, time.Hour)}
	c := newClock()
	l := newLimiter(t, q, c, Options{})
	ctx := context.Background()
	var plain atomic.Int64
	var sample atomic.Value
	for iter := 0; iter < 300 && plain.Load() == 0; iter++ {
		c.Add(10 * time.Second)
		for range 6 {
			if _, err := l.Charge(ctx, acmeB, lookup(1)); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if _, err := l.Charge(ctx, acmeA, lookup(1)); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = l.Charge(ctx, acmeB, lookup(1))
				}
			})
		}
		time.Sleep(time.Millisecond) // B's tries are under way
		for range 200 {
			_, err := l.Charge(ctx, acmeA, lookup(1))
			if err == nil {
				break
			}
			var ex *ExceededError
			if !errors.As(err, &ex) {
				plain.Add(1)
				sample.Store(err.Error())
			}
		}
		close(stop)
		wg.Wait()
	}
	if n := plain.Load(); n > 0 {
		t.Errorf("%d refusals were not an *ExceededError, e.g. %q", n, sample.Load())
	}
}
