package quota

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WindowState is one window's state for one subject.
type WindowState struct {
	Class     Class
	Scope     string        // ScopeTenant or ScopeCredential
	Window    string        // WindowBurst or WindowSustained
	Limit     int64         // cost units per Period
	Remaining int64         // left in the current window (0 when spent or overspent)
	Period    time.Duration // the window's length
	ResetAt   time.Time     // when the current window ends
}

// Decision is the outcome of Charge: the state of every window the request was charged to (or, for
// a free request, the lookup class's), for the RateLimit headers and the access log.
type Decision struct {
	Windows  []WindowState // by class, then tenant before credential, burst before sustained
	Cost     int64         // what was charged in total (0 when refused or free)
	FellBack bool          // answered from this instance's memory because Redis failed (fail-open)
	at       time.Time     // when it was decided, for the headers' seconds-to-reset
}

// Remaining returns the least left in any window of class (-1 if the decision has none), for the
// access log and extensions.cost.
func (d *Decision) Remaining(c Class) int64 {
	least := int64(-1)
	for _, w := range d.Windows {
		if w.Class == c && (least < 0 || w.Remaining < least) {
			least = w.Remaining
		}
	}
	return least
}

// Charge charges a request's cost per class to its subject's tenant and credential windows, or
// refuses it having charged nothing.
//
// If any window of a class with a cost has less left than the cost, it returns an *ExceededError
// (the Decision is returned too, for the headers) and leaves every window as it found it, so a
// refused request burns nothing; otherwise every window is charged its class's cost. On Redis
// the check and the charge run in one script, atomically. The memory store charges every window
// first and takes the charge back when one is then over its limit: no window admits more than
// its limit, but racing requests may refuse one another while a charge is taken back.
//
// A cost over a window's whole limit is a *CostError (ErrCostOverLimit), which no wait cures. When
// Redis fails, the request is decided from this instance's memory (on_redis_error: open, FellBack)
// or refused with an *UnavailableError (ErrUnavailable, closed). Every class's cost is 0 for a free
// request: nothing is charged, and the Decision holds the lookup class's windows. An unknown class or
// a negative cost is an error.
func (l *Limiter) Charge(ctx context.Context, s Subject, costs map[Class]int64) (*Decision, error) {
	now := l.now()
	d := &Decision{at: now}
	if !l.cfg.Enabled {
		return d, nil
	}
	p := l.planFor(s.Tenant)
	var slots []slot
	var slotCost []int64
	for _, c := range Classes {
		cost := costs[c]
		if cost < 0 {
			return nil, fmt.Errorf("quota: negative cost %d for class %s", cost, c)
		}
		if cost == 0 {
			continue
		}
		n := len(slots)
		slots = p.slots(c, s, now, slots)
		for range slots[n:] {
			slotCost = append(slotCost, cost)
		}
	}
	for c := range costs {
		if _, ok := p.classes[c]; !ok {
			return nil, fmt.Errorf("quota: unknown class %q", c)
		}
	}
	if len(slots) == 0 {
		return l.peekOnly(ctx, d, p.slots(Lookup, s, now, nil))
	}
	for i := range slots {
		if r := slots[i].r; slotCost[i] > r.rate.Limit {
			l.stats.count(slots[i].class, outcomeOverLimit)
			return d, &CostError{Class: slots[i].class, Scope: r.scope, Window: r.window, Cost: slotCost[i],
				Limit: r.rate.Limit, Period: r.rate.Window}
		}
	}
	res, fellBack, storeErr, err := l.store.batch(ctx, slots, slotCost, true)
	l.stats.storeResult(storeErr, fellBack)
	if err != nil {
		classesOf(costs, func(c Class) { l.stats.count(c, outcomeOf(err)) })
		return nil, err
	}
	d.FellBack = fellBack
	d.Windows = appendStates(d.Windows, slots, res.counts)
	if !res.charged {
		ex := l.worst(slots, res.counts, slotCost, now)
		if ex == nil {
			return nil, errors.New("quota: the store refused a request that fits every window")
		}
		classesOf(costs, func(c Class) { l.stats.count(c, outcomeLimited) })
		return d, ex
	}
	classesOf(costs, func(c Class) { l.stats.count(c, outcomeAllowed) })
	for _, c := range Classes {
		d.Cost += costs[c]
	}
	return d, nil
}

// peekOnly fills d with the state of slots, charging nothing.
func (l *Limiter) peekOnly(ctx context.Context, d *Decision, slots []slot) (*Decision, error) {
	if len(slots) == 0 {
		return d, nil
	}
	res, fellBack, storeErr, err := l.store.batch(ctx, slots, make([]int64, len(slots)), false)
	l.stats.storeResult(storeErr, fellBack)
	if err != nil {
		return nil, err
	}
	d.FellBack = fellBack
	d.Windows = appendStates(d.Windows, slots, res.counts)
	return d, nil
}

// worst returns, among the windows that cannot take the request, the one that frees up last: the
// request cannot pass before then.
func (l *Limiter) worst(slots []slot, counts, cost []int64, now time.Time) *ExceededError {
	var out *ExceededError
	for i := range slots {
		left := max(slots[i].r.rate.Limit-counts[i], 0)
		if cost[i] > left && (out == nil || slots[i].reset.After(out.ResetAt)) {
			out = l.exceeded(&slots[i], left, cost[i], now)
		}
	}
	return out
}

func (l *Limiter) exceeded(sl *slot, remaining, cost int64, now time.Time) *ExceededError {
	return &ExceededError{Class: sl.class, Scope: sl.r.scope, Window: sl.r.window, Limit: sl.r.rate.Limit,
		Remaining: remaining, Cost: cost, Period: sl.r.rate.Window, ResetAt: sl.reset, RetryAfter: retryAfter(sl.reset, now)}
}

// appendStates converts store counts into window states.
func appendStates(dst []WindowState, slots []slot, counts []int64) []WindowState {
	for i := range slots {
		r := slots[i].r
		dst = append(dst, WindowState{Class: slots[i].class, Scope: r.scope, Window: r.window, Limit: r.rate.Limit,
			Remaining: max(r.rate.Limit-counts[i], 0), Period: r.rate.Window, ResetAt: slots[i].reset})
	}
	return dst
}

// classesOf calls fn for each class with a cost, in Classes order, or for lookup on a free request.
func classesOf(costs map[Class]int64, fn func(Class)) {
	any := false
	for _, c := range Classes {
		if costs[c] > 0 {
			fn(c)
			any = true
		}
	}
	if !any {
		fn(Lookup)
	}
}

// ClassStatus is one class's windows for a subject, and its concurrency cap.
type ClassStatus struct {
	Class       Class
	Windows     []WindowState
	Concurrency int // requests of the class the tenant may run at once on this instance; 0 = no cap
	InFlight    int // of those, running now on this instance
}

// Status returns every class's windows for s without charging anything, for the free rateLimit
// field; errors are those of Charge's store (an *UnavailableError under on_redis_error: closed).
func (l *Limiter) Status(ctx context.Context, s Subject) ([]ClassStatus, error) {
	if !l.cfg.Enabled {
		return nil, nil
	}
	p := l.planFor(s.Tenant)
	now := l.now()
	var slots []slot
	for _, c := range Classes {
		slots = p.slots(c, s, now, slots)
	}
	d, err := l.peekOnly(ctx, &Decision{at: now}, slots)
	if err != nil {
		return nil, err
	}
	out := make([]ClassStatus, 0, len(Classes))
	for _, c := range Classes {
		cs := ClassStatus{Class: c, Concurrency: p.classes[c].concurrency, InFlight: l.conc.inFlight(concKey(s, c))}
		for _, w := range d.Windows {
			if w.Class == c {
				cs.Windows = append(cs.Windows, w)
			}
		}
		out = append(out, cs)
	}
	return out, nil
}
