package quota

import (
	"context"
	"fmt"
	"time"

	limiter "github.com/ulule/limiter/v3"
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
// It first peeks at every window of every class with a cost; if any has less left than the cost it
// returns an *ExceededError (the Decision is returned too, for the headers) and increments nothing,
// so a refused request burns nothing. Otherwise it increments every window by the class's cost.
// Peek and increment are separate store operations, so concurrent requests that all peek before
// any increments can overshoot a window by up to their combined cost.
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
	var exceeded *ExceededError
	fellBack, storeErr, err := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		exceeded = nil
		d.Windows = d.Windows[:0]
		state := make([]limiter.Context, len(slots))
		err := l.store.each(st, len(slots), func(i int) (err error) {
			state[i], err = peek(ctx, st, &slots[i])
			return err
		})
		if err != nil {
			return err
		}
		for i := range slots {
			if slotCost[i] > state[i].Remaining && exceeded == nil {
				exceeded = l.exceeded(&slots[i], state[i].Remaining, slotCost[i], now)
			}
		}
		if exceeded != nil {
			d.Windows = appendStates(d.Windows, slots, state)
			return nil
		}
		err = l.store.each(st, len(slots), func(i int) (err error) {
			state[i], err = incr(ctx, st, &slots[i], slotCost[i])
			return err
		})
		if err != nil {
			return err
		}
		d.Windows = appendStates(d.Windows, slots, state)
		return nil
	})
	d.FellBack = fellBack
	l.stats.storeResult(storeErr, fellBack)
	classesOf(costs, func(c Class) { l.stats.count(c, outcomeOf(err, exceeded)) })
	switch {
	case err != nil:
		return nil, err
	case exceeded != nil:
		return d, l.worst(exceeded, slots, d.Windows, slotCost, now)
	}
	for c, cost := range costs {
		if _, ok := p.classes[c]; ok {
			d.Cost += cost
		}
	}
	return d, nil
}

// peekOnly fills d with the state of slots, charging nothing.
func (l *Limiter) peekOnly(ctx context.Context, d *Decision, slots []slot) (*Decision, error) {
	fellBack, storeErr, err := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		d.Windows = d.Windows[:0]
		state := make([]limiter.Context, len(slots))
		err := l.store.each(st, len(slots), func(i int) (err error) {
			state[i], err = peek(ctx, st, &slots[i])
			return err
		})
		if err != nil {
			return err
		}
		d.Windows = appendStates(d.Windows, slots, state)
		return nil
	})
	l.stats.storeResult(storeErr, fellBack)
	if err != nil {
		return nil, err
	}
	d.FellBack = fellBack
	return d, nil
}

// worst returns, among the windows that cannot take the request, the one that frees up last: the
// request cannot pass before then.
func (l *Limiter) worst(first *ExceededError, slots []slot, states []WindowState, cost []int64, now time.Time) *ExceededError {
	out := first
	for i := range slots {
		if cost[i] > states[i].Remaining && slots[i].reset.After(out.ResetAt) {
			out = l.exceeded(&slots[i], states[i].Remaining, cost[i], now)
		}
	}
	return out
}

func (l *Limiter) exceeded(sl *slot, remaining, cost int64, now time.Time) *ExceededError {
	return &ExceededError{Class: sl.class, Scope: sl.r.scope, Window: sl.r.window, Limit: sl.r.rate.Limit,
		Remaining: remaining, Cost: cost, Period: sl.r.rate.Window, ResetAt: sl.reset, RetryAfter: retryAfter(sl.reset, now)}
}

// appendStates converts store answers into window states.
func appendStates(dst []WindowState, slots []slot, state []limiter.Context) []WindowState {
	for i := range slots {
		r := slots[i].r
		dst = append(dst, WindowState{Class: slots[i].class, Scope: r.scope, Window: r.window, Limit: r.rate.Limit,
			Remaining: max(state[i].Remaining, 0), Period: r.rate.Window, ResetAt: slots[i].reset})
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
