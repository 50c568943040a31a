package quota

import (
	"context"
	"math"
	"time"

	limiter "github.com/ulule/limiter/v3"
)

// WindowRows is the Window of an ExceededError refused by the export rows budget.
const WindowRows = "rows_per_day"

// rowsWindow is the length of the export rows budget's window: a UTC day.
const rowsWindow = 24 * time.Hour

// RowBudget is what is left of a subject's export rows for the current UTC day.
type RowBudget struct {
	Limit     int64     // rows per day; 0: no budget, and Remaining is math.MaxInt64
	Remaining int64     // rows left today (0 when spent or overspent)
	ResetAt   time.Time // when the day ends (UTC midnight)
	Scope     string    // ScopeTenant, or ScopeCredential for a subject without a tenant
	at        time.Time
}

// ExportRows charges n rows (0 charges nothing) to the subject's export rows budget for
// the current UTC day, and returns what is then left. Rows are charged as an export streams
// them: it asks for the budget before its first row and charges what it sent at each
// checkpoint. The charge is never refused (the rows are sent); a spent budget shows as
// Remaining 0, and Exceeded makes the 429. Instances sharing Redis share the budget; a tenant
// exporting through several instances at once may overshoot it by one checkpoint's rows per
// instance. Errors are the store's, as in Charge.
func (l *Limiter) ExportRows(ctx context.Context, s Subject, n int64) (RowBudget, error) {
	now := l.now()
	b := RowBudget{Remaining: math.MaxInt64, at: now, Scope: ScopeTenant}
	if !l.cfg.Enabled {
		return b, nil
	}
	cr := l.planFor(s.Tenant).classes[Export]
	if cr.rows.rate.Limit <= 0 {
		return b, nil
	}
	id := s.Tenant
	if id == "" {
		id, b.Scope = s.Credential, ScopeCredential
	}
	sl := slotFor(Export, &cr.rows, id, now)
	if b.Scope == ScopeCredential {
		sl.key = "c" + sl.key[1:]
	}
	limit := cr.rows.rate.Limit
	var count int64
	fellBack, storeErr, err := l.store.run(ctx, func(ctx context.Context, st limiter.Store) error {
		var lc limiter.Context
		var err error
		if n > 0 {
			lc, err = incr(ctx, st, &sl, n)
		} else {
			lc, err = peek(ctx, st, &sl)
		}
		count = used(lc, limit)
		return err
	})
	l.stats.storeResult(storeErr, fellBack)
	if err != nil {
		return b, err
	}
	b.Limit, b.Remaining, b.ResetAt = limit, max(limit-count, 0), sl.reset
	return b, nil
}

// Exceeded returns the refusal of an export whose rows budget is spent: 429 with Retry-After
// until the day ends.
func (b RowBudget) Exceeded() *ExceededError {
	return &ExceededError{Class: Export, Scope: b.Scope, Window: WindowRows, Limit: b.Limit, Remaining: b.Remaining,
		Period: rowsWindow, ResetAt: b.ResetAt, RetryAfter: retryAfter(b.ResetAt, b.at)}
}
