package quota

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// leaseQuota has a lookup window big enough to lease from (640 a minute for the tenant: leases of
// 10) and generous credential windows, so the tenant window is the one that refuses.
func leaseQuota(url string) config.Quota {
	q := testQuota()
	q.RedisURL = url
	big := rates(1_000_000, time.Minute, 1_000_000, time.Hour)
	q.Plans["standard"]["lookup"] = config.ClassLimits{Tenant: rates(640, time.Minute, 640_000, time.Hour), Credential: big}
	return q
}

// redisCount reads a window counter straight from Redis; 0 when it does not exist.
func redisCount(t *testing.T, url, key string) int64 {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	n, err := c.Get(context.Background(), key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0
	}
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	return n
}

func TestLeaseSavesRoundTrips(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	c := newClock()
	l := newLimiter(t, leaseQuota(url), c, Options{KeyPrefix: prefix})
	key := prefix + ":" + slotFor(Lookup, &l.planFor("acme").classes[Lookup].rules[0], "acme", c.Now()).key
	for range 10 {
		run(t, l, []step{{acmeA, lookup(1), ""}})
	}
	// The first charge reserved what it needed and a 64th of the limit more; the nine after it
	// spent from that lease without touching Redis.
	if got := redisCount(t, url, key); got != 11 {
		t.Errorf("Redis counter after 10 charges = %d, want 11 (one reservation of 1+10)", got)
	}
	st, err := l.Status(context.Background(), acmeA)
	if err != nil {
		t.Fatal(err)
	}
	if got := st[0].Windows[0]; got.Remaining != 630 {
		t.Errorf("tenant burst remaining = %d, want 630 (what this instance holds unspent is not used)", got.Remaining)
	}
	run(t, l, []step{{acmeA, lookup(1), ""}}) // the lease's last unit
	if got := redisCount(t, url, key); got != 11 {
		t.Errorf("Redis counter after 11 charges = %d, want 11", got)
	}
	run(t, l, []step{{acmeA, lookup(1), ""}})
	if got := redisCount(t, url, key); got != 22 {
		t.Errorf("Redis counter after the lease ran out = %d, want 22 (a second reservation)", got)
	}
}

// TestLeaseNeverOvershoots charges one tenant window from two instances at once until both are
// refused: every unit of the limit is admitted exactly once, none more, whatever the interleaving,
// because a reservation is atomic in Redis and a refused charge gives back what it took.
func TestLeaseNeverOvershoots(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	c := newClock()
	q := leaseQuota(url)
	ls := []*Limiter{newLimiter(t, q, c, Options{KeyPrefix: prefix}), newLimiter(t, q, c, Options{KeyPrefix: prefix})}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			l := ls[g%2]
			s := Subject{Tenant: "acme", Credential: "acme-" + strconv.Itoa(g)}
			for range 2000 { // bounded: 8×2000 tries for a limit of 640
				cost := int64(1 + g%3)
				_, err := l.Charge(context.Background(), s, lookup(cost))
				var ex *ExceededError
				switch {
				case err == nil:
					admitted.Add(cost)
				case errors.As(err, &ex):
					if cost == 1 {
						return
					}
				default:
					t.Errorf("Charge: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got > 640 {
		t.Errorf("admitted %d units in a window of 640", got)
	}
	// A cost-1 goroutine may have been refused while a bigger charge on its instance held units it
	// then gave back; charging 1 at a time on each instance until it is refused spends them.
	for _, l := range ls {
		for range 640 {
			if _, err := l.Charge(context.Background(), acmeA, lookup(1)); err != nil {
				break
			}
			admitted.Add(1)
		}
	}
	if got := admitted.Load(); got != 640 {
		t.Errorf("admitted %d units, want all 640 (a refused charge must give back its lease)", got)
	}
}

func TestLeaseRefusedBurnsNothing(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	c := newClock()
	q := leaseQuota(url)
	one := newLimiter(t, q, c, Options{KeyPrefix: prefix})
	two := newLimiter(t, q, c, Options{KeyPrefix: prefix})
	run(t, one, []step{{acmeA, lookup(1), ""}})   // one holds 10
	run(t, two, []step{{acmeB, lookup(629), ""}}) // two takes the rest of Redis's 640
	run(t, one, []step{{acmeA, lookup(11), "tenant/burst"}})
	// The refused 11 gave back the 10 it took from one's lease, so they are still there.
	run(t, one, []step{{acmeA, lookup(10), ""}})
	run(t, one, []step{{acmeA, lookup(1), "tenant/burst"}})
	// The next window starts from zero on both.
	c.Add(time.Minute)
	run(t, two, []step{{acmeB, lookup(640), ""}})
}

func TestLeaseSweep(t *testing.T) {
	now := time.Now()
	ls := leases{now: func() time.Time { return now }}
	for i := range 3000 {
		reset := now.Add(-time.Second) // ended
		if i%2 == 0 {
			reset = now.Add(time.Hour)
		}
		ls.get("k"+strconv.Itoa(i), reset)
	}
	if len(ls.m) > 2048 {
		t.Errorf("%d leases kept, want the ended ones swept as the map grows", len(ls.m))
	}
	live := 0
	for _, l := range ls.m {
		if l.reset.After(now) {
			live++
		}
	}
	if live != 1500 {
		t.Errorf("%d live leases kept, want all 1500", live)
	}
}
