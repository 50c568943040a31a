package export

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// run checks and plans the export, charges it, opens the read and streams it; an error it
// returns is answered with its status (nothing has been sent then).
func (h *Handler) run(ctx context.Context, w http.ResponseWriter, r *http.Request, who *auth.Principal, req *request) error {
	gr, err := h.o.Front.Read(ctx, r)
	if err != nil {
		return err
	}
	sh, err := shapeOf(h.o.Catalog, gr.Doc, gr.Operation, gr.Variables)
	if err != nil {
		return err
	}
	v := sh.view
	if !v.Export {
		return fmt.Errorf("%w: %s is not marked export: true in the catalog; page it through /graphql", ErrNotExportable, v.Field)
	}
	if !who.HasAny(v.Roles) {
		return fmt.Errorf("%w: %s is not granted to your roles", reader.ErrForbidden, v.Field)
	}
	args := arguments(h.o.Schema, gr.Operation, sh.field, gr.Variables)
	sig := signer{key: h.o.Key}
	doc := docHash(gr.Query, gr.OperationName, gr.Variables, req.format)
	var cp Checkpoint
	if req.resume != "" {
		if cp, err = sig.parse(req.resume, doc); err != nil {
			return err
		}
		if cp.After != "" {
			args["after"] = cp.After
		}
	}
	limit, capped, err := bounds(v, args, cp.Rows)
	if err != nil {
		return err
	}
	pl, err := plan.New(h.o.Plan, gr.Doc, gr.OperationName, gr.Variables)
	if err != nil {
		return fmt.Errorf("plan the export: %w", err)
	}
	s := quota.Subject{Tenant: who.Tenant, Credential: who.CredentialID}
	release, budget, err := h.charge(ctx, w, pl, s)
	defer release()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, c := range sh.columns {
		want[c.Field] = true
	}
	readLimit := limit
	if capped {
		readLimit++ // one more row says the view holds more than max_export_rows
	}
	rd, err := h.o.Reader.OpenExport(ctx, v, args, want, int(min(readLimit, math.MaxInt32)))
	if err != nil {
		return err
	}
	st := h.newStream(w, r, req, rd, sh.columns, sig, doc, cp)
	st.limit, st.capped, st.left, st.subject = limit, capped, budget.Remaining, s
	st.budget, st.release = budget, release
	return st.run(ctx)
}

// bounds returns how many rows this request may send: first when given (less what a resumed
// export sent), else the view's max_export_rows less that (capped: more rows are an error).
func bounds(v *views.View, args map[string]any, sent int64) (limit int64, capped bool, err error) {
	if first, ok := args["first"].(int); ok {
		if first < 0 || first > v.MaxExportRows {
			return 0, false, fmt.Errorf("%w: first must be between 0 and %d (max_export_rows of %s), got %d", views.ErrBadPageSize, v.MaxExportRows, v.Field, first)
		}
		return max(int64(first)-sent, 0), false, nil
	}
	limit = int64(v.MaxExportRows) - sent
	if limit <= 0 {
		return 0, false, fmt.Errorf("%w: %s exports at most %d rows; narrow the export with where", ErrTooManyRows, v.Field, v.MaxExportRows)
	}
	return limit, true, nil
}

// charge refuses an export whose rows budget is spent (429 up front), takes the tenant's
// export slot (429 when its cap is reached), and charges the request's cost; release gives
// the slot back.
func (h *Handler) charge(ctx context.Context, w http.ResponseWriter, pl *plan.Plan, s quota.Subject) (release func(), b quota.RowBudget, err error) {
	release, b.Remaining = func() {}, math.MaxInt64
	if h.o.Quota == nil {
		return release, b, nil
	}
	if b, err = h.o.Quota.ExportRows(ctx, s, 0); err != nil {
		return release, b, err
	}
	if b.Remaining <= 0 {
		return release, b, b.Exceeded()
	}
	if release, err = h.o.Quota.Acquire(ctx, s, quota.Export); err != nil {
		return func() {}, b, err
	}
	// An export costs its class weight once, like one page: its rows are charged to the rows
	// budget as they stream, so first (up to max_export_rows) does not scale the cost.
	weight := h.o.Plan.Weights[plan.Export]
	costs := map[quota.Class]int64{quota.Class(pl.Class()): int64(plan.FieldCost(weight, 1, true, false))}
	d, err := h.o.Quota.Charge(ctx, s, costs)
	d.SetHeaders(w.Header())
	return release, b, err
}
