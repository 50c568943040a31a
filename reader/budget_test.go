package reader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// stalled is a Runner that reports the deadline its statement runs under and, when hold is
// set, holds the statement until its context ends.
type stalled struct {
	hold     bool
	deadline time.Time
	has      bool
}

func (s *stalled) Query(ctx context.Context, _ string, _ []any, _ func(replica.Rows) error) error {
	s.deadline, s.has = ctx.Deadline()
	if s.hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *stalled) Name() string { return "stalled" }

// TestStatementBudget: a request's database time bounds a statement with a timer of its own
// only while less than the source's bound is left, and a statement it stops fails with
// ErrDBTimeSpent; with more left, the statement runs under the caller's context as it is.
func TestStatementBudget(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cur, err := views.NewCursors([]byte("reader-test-cursor-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		budget       time.Duration
		bound        time.Duration
		hold         bool
		wantDeadline bool
		wantErr      error
	}{
		{name: "no budget", bound: 6 * time.Second},
		{name: "budget over the bound", budget: 10 * time.Second, bound: 6 * time.Second},
		{name: "bound unknown", budget: 10 * time.Second, wantDeadline: true},
		{name: "budget under the bound", budget: 5 * time.Second, bound: 6 * time.Second, wantDeadline: true},
		{name: "budget stops the statement", budget: 20 * time.Millisecond, bound: 6 * time.Second, hold: true,
			wantDeadline: true, wantErr: reader.ErrDBTimeSpent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &stalled{hold: tt.hold}
			r := reader.New(reader.Options{
				Sources: map[string]reader.Source{demo.SourceName: {Runner: run, Bound: tt.bound,
					Builder: &views.Builder{Dialect: views.SQLite, Cursors: cur}}},
				DefaultPageSize: 20,
			})
			ctx := reader.WithDBTime(auth.NewContext(context.Background(), acme), tt.budget)
			rd, err := r.Open(ctx, view(t, cat, "invoices"), nil, map[string]bool{"id": true})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, _, err = rd.Page(ctx)
			end := time.Now()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Page: %v, want %v", err, tt.wantErr)
			}
			if run.has != tt.wantDeadline {
				t.Fatalf("the statement ran with a deadline: %v, want %v", run.has, tt.wantDeadline)
			}
			if run.has && (run.deadline.Before(start) || run.deadline.After(end.Add(tt.budget))) {
				t.Errorf("deadline %v after the start, want within the budget %v", run.deadline.Sub(start), tt.budget)
			}
		})
	}
}
