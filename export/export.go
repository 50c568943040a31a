// Package export streams a view as a file: POST or GET /export takes a GraphQL document that
// selects one connection's nodes and answers CSV or NDJSON rows as the database produces them,
// from one snapshot, charged to the export quota, resumable from signed checkpoints.
package export

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// Quota is what an export is charged to (*quota.Limiter): its request cost, a concurrency
// slot of the export class, and its rows against the tenant's rows-per-day budget.
type Quota interface {
	Charge(ctx context.Context, s quota.Subject, costs map[quota.Class]int64) (*quota.Decision, error)
	Acquire(ctx context.Context, s quota.Subject, c quota.Class) (release func(), err error)
	ExportRows(ctx context.Context, s quota.Subject, n int64) (quota.RowBudget, error)
}

// Options configures the export endpoint.
type Options struct {
	Front   *server.Front   // authentication, document preparation, errors: as /graphql
	Schema  *graphql.Schema // the schema documents were validated against (argument types)
	Catalog *views.Catalog
	Reader  *reader.Reader
	Plan    plan.Options // the planner; its ClassOf is set to export
	Quota   Quota        // nil: no quotas
	Key     []byte       // signs resume checkpoints
	Log     *slog.Logger

	StatementTimeout time.Duration // of the export's statement
	IdleTimeout      time.Duration // the stream is cut when a write blocks this long
	CheckpointRows   int           // rows between checkpoints, flushes and quota charges (default 1000)
	Now              func() time.Time
}

// Errors born here.
var (
	ErrNotExportable = fault.New(fault.Forbidden, "forbidden: this view is not exportable")
	ErrNotAcceptable = server.WithStatus(http.StatusNotAcceptable,
		fault.New(fault.BadUserInput, "not acceptable: an export is text/csv (format=csv) or application/x-ndjson (format=ndjson)"))
	ErrTooManyRows = fault.New(fault.QueryTooComplex, "the export is over the view's max_export_rows")
	errStop        = fault.New(fault.RateLimited, "the export rows budget is spent")
)

// Handler is the /export endpoint.
type Handler struct{ o Options }

// New returns the export endpoint.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckpointRows <= 0 {
		o.CheckpointRows = 1000
	}
	o.Plan.ClassOf = func(string) (plan.Class, bool) { return plan.Export, true }
	return &Handler{o: o}
}

// request is one export request as understood.
type request struct {
	format      Format
	formulas    bool // CSV injection prefix
	checkpoints bool
	gzip        bool
	resume      string
}

// ServeHTTP answers an export: errors before the first row with their status; after it, in
// the stream (see stream.go).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		h.o.Front.Fail(w, r, server.WithStatus(http.StatusMethodNotAllowed, fault.New(fault.BadUserInput, "method not allowed: use POST, or GET")))
		return
	}
	who, ok := h.o.Front.Admit(w, r)
	if !ok {
		return
	}
	ctx := auth.NewContext(r.Context(), who)
	server.SetLogAttrs(ctx, slog.String("class", string(plan.Export)))
	req, err := h.understand(r)
	if err != nil {
		h.o.Front.Fail(w, r, err)
		return
	}
	if err := h.run(ctx, w, r, who, req); err != nil {
		h.o.Front.Fail(w, r, err)
	}
}

// understand reads the format and the export options from the query string and headers.
func (h *Handler) understand(r *http.Request) (*request, error) {
	q := r.URL.Query()
	req := &request{formulas: true, resume: q.Get("resume")}
	if req.resume == "" {
		req.resume = r.Header.Get("Viewgate-Resume")
	}
	f, err := negotiate(q.Get("format"), r.Header.Get("Accept"))
	if err != nil {
		return nil, err
	}
	req.format = f
	for name, dst := range map[string]*bool{"escape_formulas": &req.formulas, "checkpoints": &req.checkpoints} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %s must be true or false", errBadParam, name)
			}
			*dst = b
		}
	}
	if r.Header.Get("Viewgate-Checkpoints") == "1" {
		req.checkpoints = true
	}
	req.gzip = acceptsGzip(r.Header.Get("Accept-Encoding"))
	return req, nil
}

var errBadParam = fault.New(fault.BadUserInput, "bad export parameter")

// negotiate picks the format from format= or, without it, from Accept; anything else is 406.
func negotiate(param, accept string) (Format, error) {
	switch param {
	case "csv":
		return CSV, nil
	case "ndjson":
		return NDJSON, nil
	case "":
	default:
		return "", fmt.Errorf("%w; format=%.20q is not one of them", ErrNotAcceptable, param)
	}
	if strings.TrimSpace(accept) == "" {
		return CSV, nil
	}
	best, bestQ := Format(""), 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		qv := 1.0
		if s, ok := params["q"]; ok {
			if qv, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		var f Format
		switch mt {
		case "text/csv", "text/*", "*/*":
			f = CSV
		case "application/x-ndjson", "application/ndjson", "application/jsonl":
			f = NDJSON
		default:
			continue
		}
		if qv > bestQ {
			best, bestQ = f, qv
		}
	}
	if best == "" {
		return "", fmt.Errorf("%w; Accept names neither", ErrNotAcceptable)
	}
	return best, nil
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			p := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return p != "q=0" && p != "q=0.0" && p != "q=0.00" && p != "q=0.000"
		}
	}
	return false
}
