package quota

import (
	"context"

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
	sl := slotFor("auth", &l.auth, clientKey(ip), now)
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
	sl := slotFor("auth", &l.auth, clientKey(ip), l.now())
	fellBack, storeErr, _ := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		_, err := incr(ctx, st, &sl, 1)
		return err
	})
	l.stats.storeResult(storeErr, fellBack)
}
