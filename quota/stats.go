package quota

import (
	"errors"
	"sync/atomic"
)

// Outcomes of a decision, as Stats counts them.
const (
	outcomeAllowed = iota
	outcomeLimited
	outcomeOverLimit
	outcomeUnavailable
	outcomeError
	numOutcomes
)

// counters are the Limiter's running totals; every field is updated atomically.
type counters struct {
	decisions    [4][numOutcomes]atomic.Uint64 // by index in Classes
	fellBack     atomic.Uint64
	storeErrors  atomic.Uint64
	authBlocked  atomic.Uint64
	authFailures atomic.Uint64
	concLimited  [4]atomic.Uint64
}

// ClassCounts are one class's decisions since start; a free request (every cost 0) is not a decision.
type ClassCounts struct {
	Allowed     uint64 // charged and let through
	Limited     uint64 // refused with an *ExceededError (429), concurrency caps included
	OverLimit   uint64 // refused with a *CostError (the cost is over a window's whole limit)
	Unavailable uint64 // refused with an *UnavailableError (Redis down, fail-closed)
	Errors      uint64 // other errors (the caller's context ended)
}

// Stats is a snapshot of the Limiter's counters, for a /metrics endpoint.
type Stats struct {
	Classes      map[Class]ClassCounts
	FellBack     uint64 // decisions answered from local memory because Redis failed (fail-open)
	StoreErrors  uint64 // Redis operations that failed (each opens the breaker for RedisRetry)
	AuthBlocked  uint64 // AuthBlocked answers that refused a client
	AuthFailures uint64 // AuthFailed calls
}

// Stats returns the counters so far.
func (l *Limiter) Stats() Stats {
	c := &l.stats
	s := Stats{Classes: make(map[Class]ClassCounts, len(Classes)), FellBack: c.fellBack.Load(),
		StoreErrors: c.storeErrors.Load(), AuthBlocked: c.authBlocked.Load(), AuthFailures: c.authFailures.Load()}
	for i, class := range Classes {
		d := &c.decisions[i]
		s.Classes[class] = ClassCounts{Allowed: d[outcomeAllowed].Load(), Limited: d[outcomeLimited].Load() + c.concLimited[i].Load(),
			OverLimit: d[outcomeOverLimit].Load(), Unavailable: d[outcomeUnavailable].Load(), Errors: d[outcomeError].Load()}
	}
	return s
}

// classIndex returns c's index in Classes, or -1.
func classIndex(c Class) int {
	for i, k := range Classes {
		if k == c {
			return i
		}
	}
	return -1
}

func (c *counters) count(class Class, outcome int) {
	if i := classIndex(class); i >= 0 {
		c.decisions[i][outcome].Add(1)
	}
}

// storeResult counts a store error and a fall-back to memory.
func (c *counters) storeResult(storeErr error, fellBack bool) {
	if storeErr != nil && !errors.Is(storeErr, errRedisDown) {
		c.storeErrors.Add(1)
	}
	if fellBack {
		c.fellBack.Add(1)
	}
}

// outcomeOf classifies a store error of Charge.
func outcomeOf(err error) int {
	var unavailable *UnavailableError
	if errors.As(err, &unavailable) {
		return outcomeUnavailable
	}
	return outcomeError
}
