package quota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	limiter "github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/viewgate/viewgate/config"
)

// Redis client timeouts: short, so a dead or hung Redis costs a request at most about this much
// (and, with the breaker in stores, one request per RedisRetry), never the request timeout.
const (
	redisDialTimeout = 200 * time.Millisecond
	redisIOTimeout   = 200 * time.Millisecond
	redisPoolTimeout = 250 * time.Millisecond
)

// stores picks the counter store for each operation: Redis when configured and answering, else
// the local memory store (fail-open) or ErrUnavailable (fail-closed).
type stores struct {
	local      limiter.Store
	redis      *redisBackend // nil: memory only
	failClosed bool
}

func newStores(cfg config.Quota, o Options) (*stores, error) {
	opts := limiter.StoreOptions{Prefix: o.KeyPrefix, CleanUpInterval: time.Minute}
	st := &stores{local: memory.NewStoreWithOptions(opts), failClosed: cfg.OnRedisError == "closed"}
	if cfg.RedisURL == "" {
		return st, nil
	}
	ro, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		// go-redis's parse errors can quote the URL; say only what the config names.
		return nil, errors.New("quota: redis_url (or " + config.QuotaRedisEnvVar + ") is not a valid Redis URL")
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = redisDialTimeout, redisIOTimeout, redisIOTimeout
	ro.PoolTimeout, ro.MaxRetries, ro.DialerRetries = redisPoolTimeout, -1, 1
	ro.ContextTimeoutEnabled = true
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// go-redis logs dial failures through a process-wide logger, as plain text on stderr; send them to
	// the slog logger at debug level instead (the breaker's WARN already reports an outage).
	redis.SetLogger(redisLog{o.Log})
	st.redis = &redisBackend{client: redis.NewClient(ro), opts: opts, retry: o.RedisRetry,
		warnEvery: o.WarnEvery, log: o.Log, leases: leases{now: o.Now}}
	return st, nil
}

// redisLog adapts go-redis's internal logging to slog.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, "quota: "+fmt.Sprintf(format, v...))
}

// describe names the store for the start-up text.
func (s *stores) describe() string {
	if s.redis == nil {
		return "memory (this instance only)"
	}
	mode := "open: local memory limits while it is down"
	if s.failClosed {
		mode = "closed: 503 while it is down"
	}
	return "redis (on error " + mode + ")"
}

func (s *stores) close() error {
	if s.redis == nil {
		return nil
	}
	return s.redis.client.Close()
}

// errRedisDown is the error of an operation not sent to Redis because it failed moments ago.
var errRedisDown = errors.New("redis failed moments ago; not retried yet")

// redisBackend is the limiter's Redis store behind a breaker. The store is built on first use,
// because building it loads its Lua scripts and Redis may be down at start-up; after a Redis
// restart the store reloads them by itself (on NOSCRIPT).
type redisBackend struct {
	client    *redis.Client
	opts      limiter.StoreOptions
	retry     time.Duration
	warnEvery time.Duration
	log       *slog.Logger

	leases leases // this instance's reservations in Redis windows

	mu        sync.Mutex
	store     atomic.Pointer[limiter.Store]
	downUntil atomic.Int64 // unix nanoseconds (wall clock); 0 = up
	lastWarn  atomic.Int64
	failures  atomic.Int64 // since the last WARN
}

// allow reports whether an operation may be sent to Redis: always while the breaker is closed;
// once its wait is over, to one caller (the probe) while the others keep waiting.
func (b *redisBackend) allow() bool {
	until := b.downUntil.Load()
	if until == 0 {
		return true
	}
	now := time.Now().UnixNano()
	return now >= until && b.downUntil.CompareAndSwap(until, now+int64(b.retry))
}

// get returns the limiter's Redis store, building it on first use, or an error while the breaker
// is open or Redis does not answer.
func (b *redisBackend) get() (limiter.Store, error) {
	if !b.allow() {
		return nil, errRedisDown
	}
	if s := b.store.Load(); s != nil {
		return *s, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.store.Load(); s != nil {
		return *s, nil
	}
	s, err := redisstore.NewStoreWithOptions(b.client, b.opts)
	if err != nil {
		b.failed(err)
		return nil, err
	}
	b.store.Store(&s)
	return s, nil
}

// failed opens the breaker and logs a WARN at most once per warnEvery.
func (b *redisBackend) failed(err error) {
	now := time.Now()
	b.downUntil.Store(now.Add(b.retry).UnixNano())
	n := b.failures.Add(1)
	last := b.lastWarn.Load()
	if now.UnixNano()-last < int64(b.warnEvery) || !b.lastWarn.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	b.failures.Add(-n)
	b.log.Warn("quota: redis unavailable", "err", err.Error(), "failures", n, "retry", b.retry.String())
}

// ok closes the breaker after a successful operation.
func (b *redisBackend) ok() {
	if b.downUntil.Load() != 0 && b.downUntil.Swap(0) != 0 {
		b.log.Info("quota: redis answers again")
	}
}

// op is one counter operation against a store.
type op func(ctx context.Context, st limiter.Store) error

// run applies fn to Redis, falling back to local memory (fail-open, fellBack true) or returning an
// *UnavailableError (fail-closed) when Redis fails; err is otherwise fn's own error.
func (s *stores) run(ctx context.Context, fn op) (fellBack bool, storeErr, err error) {
	if s.redis == nil {
		return false, nil, fn(ctx, s.local)
	}
	st, rerr := s.redis.get()
	if rerr == nil {
		if rerr = fn(ctx, st); rerr == nil {
			s.redis.ok()
			return false, nil, nil
		}
		if ctx.Err() != nil {
			return false, nil, ctx.Err() // the caller gave up; Redis may be fine
		}
		s.redis.failed(rerr)
	}
	if s.failClosed {
		return false, rerr, &UnavailableError{RetryAfter: retryAfter(time.Now().Add(s.redis.retry), time.Now()), Err: rerr}
	}
	return true, rerr, fn(ctx, s.local)
}

// peek returns what is used of sl's window.
func peek(ctx context.Context, st limiter.Store, sl *slot) (limiter.Context, error) {
	lc, err := st.Peek(ctx, sl.key, limiter.Rate{Limit: sl.r.rate.Limit, Period: sl.r.ttl()})
	if err != nil {
		return lc, fmt.Errorf("peek: %w", err)
	}
	return lc, nil
}

// incr charges cost to sl's window and returns what is then left.
func incr(ctx context.Context, st limiter.Store, sl *slot, cost int64) (limiter.Context, error) {
	lc, err := st.Increment(ctx, sl.key, cost, limiter.Rate{Limit: sl.r.rate.Limit, Period: sl.r.ttl()})
	if err != nil {
		return lc, fmt.Errorf("increment: %w", err)
	}
	return lc, nil
}
