package reader

import (
	"context"
	"encoding/json"
	"time"

	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/views"
)

// Explainer captures a statement's plan on the named replica (replica.Router and replica.Source
// implement it); a Runner that is not one gets no plans.
type Explainer interface {
	Explain(ctx context.Context, replica, sql string, args []any, timeout time.Duration) (json.RawMessage, error)
}

// traced returns ctx with a replica.Trace that labels the statement with the request id and
// the view for DBAs (when the source's Label is on) and learns which replica ran it.
func (r *Reader) traced(ctx context.Context, src Source, view string) (context.Context, *replica.Trace) {
	t := &replica.Trace{}
	if src.Label {
		t.Label = "vg " + requestid.From(ctx) + " " + view
	}
	return replica.WithTrace(ctx, t), t
}

// explainer returns how the query log captures st's plan on the replica that ran it, or nil.
func explainer(src Source, replicaName string, st *views.Statement) func(context.Context) (json.RawMessage, error) {
	ex, ok := src.Runner.(Explainer)
	if !ok || replicaName == "" {
		return nil
	}
	if d, ok := src.Runner.(interface{ Dialect() string }); ok && d.Dialect() == "sqlite" {
		return nil // SQLite has no plan to capture
	}
	return func(ctx context.Context) (json.RawMessage, error) {
		var timeout time.Duration
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		return ex.Explain(ctx, replicaName, st.SQL, st.Args, timeout)
	}
}
