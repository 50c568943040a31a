package quota

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// maker builds a Limiter for q on the clock c, on one kind of store.
type maker func(t *testing.T, q config.Quota, c *clock, o Options) *Limiter

// forStores runs fn on the memory store and on the shared test Redis, which must then never fall
// back to memory.
func forStores(t *testing.T, fn func(t *testing.T, mk maker)) {
	t.Run("memory", func(t *testing.T) { fn(t, newLimiter) })
	t.Run("redis", func(t *testing.T) {
		url, prefix := dbtest.Redis(t)
		fn(t, func(t *testing.T, q config.Quota, c *clock, o Options) *Limiter {
			t.Helper()
			q.RedisURL, o.KeyPrefix = url, prefix
			l := newLimiter(t, q, c, o)
			t.Cleanup(func() {
				if s := l.Stats(); s.FellBack != 0 || s.StoreErrors != 0 {
					t.Errorf("the Redis limiter fell back to memory: %+v", s)
				}
			})
			return l
		})
	})
}

func TestRedisSharedQuota(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	q := testQuota()
	q.RedisURL = url
	c := newClock()
	one := newLimiter(t, q, c, Options{KeyPrefix: prefix})
	two := newLimiter(t, q, c, Options{KeyPrefix: prefix})
	// Two instances share one credential burst of 6 and one tenant burst of 10.
	for i := range 6 {
		run(t, []*Limiter{one, two}[i%2], []step{{acmeA, lookup(1), ""}})
	}
	run(t, one, []step{{acmeA, lookup(1), "credential/burst"}})
	run(t, two, []step{{acmeA, lookup(1), "credential/burst"}})
	run(t, two, repeat(4, step{acmeB, lookup(1), ""}))
	run(t, one, []step{{acmeB, lookup(1), "tenant/burst"}})
	// A separate prefix is a separate quota.
	other := newLimiter(t, q, c, Options{KeyPrefix: prefix + ":other"})
	run(t, other, []step{{acmeA, lookup(1), ""}})
	t.Cleanup(func() { deleteKeys(t, url, prefix+":other") })
}

// deleteKeys removes a prefix dbtest.Redis did not hand out.
func deleteKeys(t *testing.T, url, prefix string) {
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	keys, _ := c.Keys(ctx, prefix+":*").Result()
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// untilRedis charges acmeA a lookup until the decision comes from Redis again, polling at most
// 200 times; it fails the test if it never does.
func untilRedis(t *testing.T, l *Limiter) {
	t.Helper()
	var last error
	for range 200 {
		d, err := l.Charge(context.Background(), acmeA, lookup(1))
		if err == nil && !d.FellBack {
			return
		}
		last = err
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("the limiter did not return to Redis (last error %v)", last)
}

func TestRedisOutage(t *testing.T) {
	srv := dbtest.StartRedis(t)
	ctx := context.Background()
	q := testQuota()
	q.RedisURL = srv.URL()
	c := newClock()
	var logs logBuffer
	o := Options{RedisRetry: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	open := newLimiter(t, q, c, o)
	q.OnRedisError = "closed"
	closed := newLimiter(t, q, c, o)

	for _, l := range []*Limiter{open, closed} {
		d, err := l.Charge(ctx, acmeA, lookup(1))
		if err != nil || d.FellBack {
			t.Fatalf("Charge with Redis up = %+v, %v", d, err)
		}
	}

	srv.Stop()

	// Fail-open answers from this instance's memory, still enforcing the limits there.
	allowed := 0
	for range 10 {
		d, err := open.Charge(ctx, acmeA, lookup(1))
		var ex *ExceededError
		switch {
		case err == nil && d.FellBack:
			allowed++
		case errors.As(err, &ex):
		default:
			t.Fatalf("fail-open Charge with Redis down = %+v, %v", d, err)
		}
	}
	if allowed != 6 {
		t.Errorf("fail-open allowed %d of 10 lookups from memory, want the credential burst of 6", allowed)
	}
	if ex, err := open.AuthBlocked(ctx, "192.0.2.1"); ex != nil || err != nil {
		t.Errorf("fail-open AuthBlocked = %v, %v", ex, err)
	}
	if s := open.Stats(); s.FellBack < 10 || s.StoreErrors < 1 {
		t.Errorf("fail-open stats = %+v, want every decision counted as fallen back and a store error", s)
	}

	// Fail-closed refuses with ErrUnavailable.
	_, err := closed.Charge(ctx, acmeA, lookup(1))
	var ue *UnavailableError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.RetryAfter < time.Second {
		t.Fatalf("fail-closed Charge with Redis down = %v, want an UnavailableError", err)
	}
	// A client that has not failed here is not looked up at all; one that has is, and fails closed.
	before := closed.Stats().StoreErrors
	if ex, err := closed.AuthBlocked(ctx, "192.0.2.9"); ex != nil || err != nil || closed.Stats().StoreErrors != before {
		t.Errorf("fail-closed AuthBlocked of a client without failures = %v, %v (store errors %d → %d), want no store call", ex, err, before, closed.Stats().StoreErrors)
	}
	closed.AuthFailed(ctx, "192.0.2.1")
	if _, err := closed.AuthBlocked(ctx, "192.0.2.1"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("fail-closed AuthBlocked = %v", err)
	}
	if _, err := closed.Status(ctx, acmeA); !errors.Is(err, ErrUnavailable) {
		t.Errorf("fail-closed Status = %v", err)
	}
	if got := closed.Stats().Classes[Lookup].Unavailable; got < 1 {
		t.Errorf("fail-closed unavailable count = %d", got)
	}
	if !strings.Contains(logs.String(), "quota: redis unavailable") {
		t.Errorf("no WARN about Redis:\n%s", logs.String())
	}

	// Redis returns empty (no persistence, so no scripts): both limiters go back to it.
	srv.Start()
	untilRedis(t, open)
	untilRedis(t, closed)
	if !strings.Contains(logs.String(), "quota: redis answers again") {
		t.Errorf("no INFO about the recovery:\n%s", logs.String())
	}
	rc := srv.Client()
	defer rc.Close()
	key := "vg:q:" + slotFor(Lookup, &open.planFor("acme").classes[Lookup].rules[2], acmeA.Credential, c.Now()).key
	if n, err := rc.Get(ctx, key).Int64(); err != nil || n != 2 {
		t.Errorf("after recovery the credential counter in Redis = %d, %v; want 2 (one charge per limiter)", n, err)
	}
}

func TestRedisDownAtStart(t *testing.T) {
	srv := dbtest.StartRedis(t)
	srv.Stop()
	q := testQuota()
	q.RedisURL = srv.URL()
	l := newLimiter(t, q, newClock(), Options{RedisRetry: 20 * time.Millisecond})
	d, err := l.Charge(context.Background(), acmeA, lookup(1))
	if err != nil || !d.FellBack {
		t.Fatalf("Charge with Redis down since start = %+v, %v; want a fall-back decision", d, err)
	}
	srv.Start()
	untilRedis(t, l)
}

func TestRedisBreaker(t *testing.T) {
	srv := dbtest.StartRedis(t)
	srv.Stop()
	q := testQuota()
	q.RedisURL = srv.URL()
	// A long retry: after the first failure, no request tries Redis again, so none waits on it.
	l := newLimiter(t, q, newClock(), Options{RedisRetry: time.Hour})
	for range 6 {
		if _, err := l.Charge(context.Background(), globex, lookup(1)); err != nil {
			t.Fatal(err)
		}
	}
	if s := l.Stats(); s.StoreErrors != 1 || s.FellBack != 6 {
		t.Errorf("stats = %+v, want 1 store error and 6 fall-backs", s)
	}
}

func TestRedisAtomicAcrossInstances(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	q := testQuota()
	q.RedisURL = url
	c := newClock()
	limiters := []*Limiter{newLimiter(t, q, c, Options{KeyPrefix: prefix}), newLimiter(t, q, c, Options{KeyPrefix: prefix})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Go(func() {
			for range 5 {
				if _, err := limiters[g%2].Charge(context.Background(), acmeA, lookup(1)); err == nil {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 6 {
		t.Errorf("40 concurrent lookups through two instances: %d allowed, want exactly the burst of 6", allowed)
	}
}

func TestRedisHung(t *testing.T) {
	srv := dbtest.StartRedis(t)
	q := testQuota()
	q.RedisURL = srv.URL()
	l := newLimiter(t, q, newClock(), Options{RedisRetry: 50 * time.Millisecond})
	untilRedis(t, l)
	// A stopped (not dead) server accepts connections and never answers: the client's timeouts end
	// each attempt, and the breaker keeps the requests in between off it.
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	defer srv.Resume()
	for range 5 {
		d, err := l.Charge(context.Background(), globex, lookup(1))
		if err != nil || !d.FellBack {
			t.Fatalf("Charge with Redis hung = %+v, %v", d, err)
		}
	}
	if s := l.Stats(); s.StoreErrors < 1 || s.StoreErrors > 5 || s.FellBack != 5 {
		t.Errorf("stats = %+v", s)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	untilRedis(t, l)
}
