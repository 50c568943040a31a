package quota

import (
	"context"
	"sync"
	"time"
)

// concurrency counts the requests in flight per tenant and class on this instance.
type concurrency struct {
	mu      sync.Mutex
	running map[string]int
}

// concKey is what a concurrency cap counts: the tenant, or the credential of a subject without one.
func concKey(s Subject, c Class) string {
	if s.Tenant != "" {
		return "t:" + s.Tenant + ":" + string(c)
	}
	return "c:" + s.Credential + ":" + string(c)
}

func (k *concurrency) inFlight(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running[key]
}

// acquire takes a slot under limit, reporting false when all are taken.
func (k *concurrency) acquire(key string, limit int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running == nil {
		k.running = map[string]int{}
	}
	if k.running[key] >= limit {
		return false
	}
	k.running[key]++
	return true
}

func (k *concurrency) release(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running[key]--; k.running[key] <= 0 {
		delete(k.running, key)
	}
}

// Acquire takes one of the tenant's concurrent slots for class and returns the function that gives
// it back (safe to call more than once), or an *ExceededError (Window WindowConcurrency, RetryAfter
// 1s) at once when the plan's cap is reached. Caps count per instance, not across instances
// sharing Redis. A class without a cap always succeeds.
func (l *Limiter) Acquire(ctx context.Context, s Subject, class Class) (release func(), err error) {
	if !l.cfg.Enabled {
		return func() {}, nil
	}
	cr, ok := l.planFor(s.Tenant).classes[class]
	if !ok {
		return nil, &unknownClassError{class}
	}
	if cr.concurrency <= 0 {
		return func() {}, nil
	}
	key := concKey(s, class)
	if !l.conc.acquire(key, cr.concurrency) {
		if i := classIndex(class); i >= 0 {
			l.stats.concLimited[i].Add(1)
		}
		scope := ScopeTenant
		if s.Tenant == "" {
			scope = ScopeCredential
		}
		now := l.now()
		return nil, &ExceededError{Class: class, Scope: scope, Window: WindowConcurrency, Limit: int64(cr.concurrency),
			ResetAt: now.Add(time.Second), RetryAfter: time.Second}
	}
	var once sync.Once
	return func() { once.Do(func() { l.conc.release(key) }) }, nil
}

type unknownClassError struct{ class Class }

func (e *unknownClassError) Error() string { return "quota: unknown class " + string(e.class) }
