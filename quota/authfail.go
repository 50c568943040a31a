package quota

import (
	"context"

	"github.com/maypok86/otter/v2"
	limiter "github.com/ulule/limiter/v3"
)

// AuthBlocked reports whether the client at ip has failed authentication too often in the current
// window (quota.auth_failures): it returns an *ExceededError (Class "", Scope ScopeClient, Window
// WindowAuth) to answer with 429, or nil. Call it before authenticating; it charges nothing. An
// IPv6 address counts as its /64. Store failures follow on_redis_error (an *UnavailableError when
// closed).
func (l *Limiter) AuthBlocked(ctx context.Context, ip string) (*ExceededError, error) {
	if !l.cfg.Enabled {
		return nil, nil
	}
	now := l.now()
	key := clientKey(ip)
	sl := slotFor("auth", &l.auth, key, now)
	if !l.failed.recent(key, sl.index) {
		return nil, nil // no failure from this client here in this window or the last: nothing to block
	}
	var blocked *ExceededError
	fellBack, storeErr, err := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		lc, err := peek(ctx, st, &sl)
		if err != nil {
			return err
		}
		blocked = nil
		if lc.Remaining <= 0 {
			blocked = l.exceeded(&sl, 0, 1, now)
			blocked.Class = ""
		}
		return nil
	})
	l.stats.storeResult(storeErr, fellBack)
	if err != nil {
		return nil, err
	}
	if blocked != nil {
		l.stats.authBlocked.Add(1)
	}
	return blocked, nil
}

// AuthFailed counts one failed authentication by the client at ip; a store failure is counted in
// Stats and otherwise ignored (the failure is answered with 401 anyway).
func (l *Limiter) AuthFailed(ctx context.Context, ip string) {
	if !l.cfg.Enabled {
		return
	}
	l.stats.authFailures.Add(1)
	key := clientKey(ip)
	sl := slotFor("auth", &l.auth, key, l.now())
	l.failed.add(key, sl.index)
	fellBack, storeErr, _ := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		_, err := incr(ctx, st, &sl, 1)
		return err
	})
	l.stats.storeResult(storeErr, fellBack)
}

// failedClients remembers, per client, the last window in which it failed authentication on this
// instance, so that AuthBlocked asks the store only about clients that have failed here lately:
// every other request would otherwise pay a store round trip before it is even authenticated. A
// client blocked by failures it made only on other instances gets one more try here, whose
// failure is then counted and remembered. At most maxFailedClients are remembered; the oldest
// are forgotten first.
type failedClients struct {
	c *otter.Cache[string, int64]
}

const maxFailedClients = 100000

func newFailedClients() failedClients {
	return failedClients{c: otter.Must(&otter.Options[string, int64]{MaximumSize: maxFailedClients})}
}

func (f failedClients) add(key string, window int64) { f.c.Set(key, window) }

// recent reports whether key failed in window or in the one before it.
func (f failedClients) recent(key string, window int64) bool {
	w, ok := f.c.GetIfPresent(key)
	return ok && w >= window-1
}
