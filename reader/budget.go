package reader

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/viewgate/viewgate/fault"
)

// ErrDBTimeSpent reports that a request's statements have used up its database time: the
// root fields not yet run fail with it, so that one request cannot hold a connection for
// statement after statement.
var ErrDBTimeSpent = fault.New(fault.Timeout, "the request's database time is spent")

// dbTime is what is left of one request's database time.
type dbTime struct {
	mu     sync.Mutex
	budget time.Duration
	spent  time.Duration
}

type dbTimeKey struct{}

// WithDBTime returns ctx with a database-time budget of d for the statements of one request;
// d <= 0 means no budget.
func WithDBTime(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, dbTimeKey{}, &dbTime{budget: d})
}

// statementContext returns the context a statement runs under, bounded by what is left of the
// request's database time, or ErrDBTimeSpent when nothing is. bound is the longest the source
// lets a statement run (0: unknown); while more than that is left, the budget cannot stop the
// statement before the source does, and ctx is returned as it is, without a timer of its own.
func statementContext(ctx context.Context, bound time.Duration) (context.Context, context.CancelFunc, *dbTime, error) {
	b, _ := ctx.Value(dbTimeKey{}).(*dbTime)
	if b == nil {
		return ctx, noCancel, nil, nil
	}
	left := b.left()
	if left <= 0 {
		return nil, nil, nil, fmt.Errorf("%w (%v): the remaining root fields were not run; split the request", ErrDBTimeSpent, b.budget)
	}
	if bound > 0 && left > bound {
		return ctx, noCancel, b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	return ctx, cancel, b, nil
}

func noCancel() {}

func (b *dbTime) left() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.budget - b.spent
}

func (b *dbTime) spend(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += d
}
