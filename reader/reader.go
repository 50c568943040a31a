// Package reader reads views for one caller, free of GraphQL: arguments → views query →
// statement → rows → typed values, with PII masking, the tenant predicate, the query log and the
// request's database-time budget. GraphQL (resolvers), exports and aggregates read through it.
package reader

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/views"
)

// Runner runs one read-only statement and hands its rows to fn.
type Runner interface {
	Query(ctx context.Context, sql string, args []any, fn func(replica.Rows) error) error
	Name() string
}

// Source is where a view's statements are built and run.
type Source struct {
	Runner  Runner
	Builder *views.Builder
	Label   bool // show each statement's requestId and view to DBAs in pg_stat_activity / the process list
	// Bound is the longest Runner lets a statement hold its caller (its statement timeout and
	// client-side backstop); 0 when unknown. A request's database time bounds a statement
	// with a timer of its own only when less than Bound is left.
	Bound time.Duration
}

// Options configures a Reader.
type Options struct {
	Sources         map[string]Source  // by catalog source name
	Log             *querylog.Logger   // the query log; nil logs nothing
	DefaultPageSize int                // first, when the caller gives none (capped by the view)
	PIIKey          []byte             // keys the hash of pii: hash columns
	ErrorCode       func(error) string // the error vocabulary, for the query log
	Now             func() time.Time
}

// Reader reads views; it is safe for concurrent use.
type Reader struct{ o Options }

// New returns a Reader; every catalog source must be in o.Sources (the gateway checks this).
func New(o Options) *Reader {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reader{o: o}
}

// Errors born here.
var (
	ErrUnauthenticated = fault.New(fault.Unauthenticated, "not authenticated")
	ErrForbidden       = fault.New(fault.Forbidden, "forbidden")
)

// PIIMask is what a text PII column shows to callers without the pii role in mask mode.
const PIIMask = "****"

// Args are a connection's arguments as plain values: first (int), after and search (string),
// where (map[string]any, as views.ParseWhere takes it) and orderBy ([]any of maps with field
// and direction). Absent keys take their defaults.
type Args map[string]any

// Shown says how one selected column is presented.
type Shown struct {
	Col   *views.Column
	Mode  views.PII // PIINone: as is
	At    int       // the column's position in the statement's row; -1 when it is not read
	scope []byte    // PIIHash: what the hash is keyed by besides the value (see hashScope)
}

// Read is one compiled read of a view for one caller.
type Read struct {
	View  *views.View
	Query *views.Query
	Stmt  *views.Statement
	Show  []Shown // the selected columns, in catalog order

	r   *Reader
	who *auth.Principal
	src Source
}

// Open checks that the caller in ctx may read v, compiles args into a query that selects the
// fields in want (node field names; PII the caller may not see in clear and that needs no
// value is not read), and builds its page statement. It returns ErrUnauthenticated, an error
// wrapping ErrForbidden, or the views package's errors for bad arguments.
func (r *Reader) Open(ctx context.Context, v *views.View, args Args, want map[string]bool) (*Read, error) {
	rd, err := r.compile(ctx, v, args, want)
	if err != nil {
		return nil, err
	}
	if rd.Stmt, err = rd.src.Builder.Select(rd.Query); err != nil {
		return nil, err
	}
	rd.locate()
	return rd, nil
}

// OpenExport is Open for an export: the statement reads up to limit rows, whatever the view's
// page size, and args' first is ignored (the caller bounds limit by it).
func (r *Reader) OpenExport(ctx context.Context, v *views.View, args Args, want map[string]bool, limit int) (*Read, error) {
	rd, err := r.compile(ctx, v, args, want)
	if err != nil {
		return nil, err
	}
	if rd.Stmt, err = rd.src.Builder.Export(rd.Query, limit); err != nil {
		return nil, err
	}
	rd.locate()
	return rd, nil
}

func (r *Reader) compile(ctx context.Context, v *views.View, args Args, want map[string]bool) (*Read, error) {
	who, src, err := r.admit(ctx, v)
	if err != nil {
		return nil, err
	}
	q, err := r.query(v, who, args)
	if err != nil {
		return nil, err
	}
	rd := &Read{View: v, Query: q, r: r, who: who, src: src}
	q.Fields, rd.Show = projection(v, who, want)
	return rd, nil
}

// admit returns the caller in ctx and v's source when the caller may read v.
func (r *Reader) admit(ctx context.Context, v *views.View) (*auth.Principal, Source, error) {
	who := auth.FromContext(ctx)
	if who == nil {
		return nil, Source{}, ErrUnauthenticated
	}
	if !who.HasAny(v.Roles) {
		return nil, Source{}, fmt.Errorf("%w: %s is not granted to your roles", ErrForbidden, v.Field)
	}
	src, ok := r.o.Sources[v.Source]
	if !ok {
		return nil, Source{}, fmt.Errorf("view %s: source %q is not configured", v.Field, v.Source)
	}
	return who, src, nil
}

func (rd *Read) locate() {
	for i := range rd.Show {
		rd.Show[i].At = index(rd.Stmt, rd.Show[i].Col)
	}
}

// query turns the arguments into a views.Query; bad arguments are errors from views.
func (r *Reader) query(v *views.View, who *auth.Principal, args Args) (*views.Query, error) {
	q := &views.Query{View: v, Tenant: who.Tenant, First: min(r.o.DefaultPageSize, v.MaxPageSize)}
	if first, ok := args["first"].(int); ok {
		q.First = first
	}
	q.After, _ = args["after"].(string)
	q.Search, _ = args["search"].(string)
	if w, ok := args["where"].(map[string]any); ok {
		f, err := views.ParseWhere(v, w)
		if err != nil {
			return nil, err
		}
		q.Where = f
	}
	if list, ok := args["orderBy"].([]any); ok {
		q.OrderBy = []views.OrderTerm{}
		for _, item := range list {
			m, _ := item.(map[string]any)
			col, _ := m["field"].(string)
			dir, _ := m["direction"].(string)
			q.OrderBy = append(q.OrderBy, views.OrderTerm{Column: col, Desc: dir == "DESC"})
		}
	}
	return q, nil
}

// projection picks the columns to read: requested ones, except PII the caller may not see in
// clear and that need no value to mask.
func projection(v *views.View, who *auth.Principal, want map[string]bool) ([]*views.Column, []Shown) {
	var cols []*views.Column
	var show []Shown
	clear := who.HasRole(views.PIIRole)
	for _, c := range v.Columns {
		if !want[c.Field] {
			continue
		}
		mode := c.PII
		if clear {
			mode = views.PIINone
		}
		sh := Shown{Col: c, Mode: mode}
		if mode == views.PIIHash {
			sh.scope = hashScope(who.Tenant, v.Name, c.Name)
		}
		show = append(show, sh)
		if mode == views.PIINone || mode == views.PIIHash {
			cols = append(cols, c)
		}
	}
	return cols, show
}

func index(st *views.Statement, c *views.Column) int {
	for i, sc := range st.Columns {
		if sc == c {
			return i
		}
	}
	return -1
}

// Value returns the value of one shown column of a row, masked as the caller's roles require.
func (rd *Read) Value(row []any, s Shown) any {
	switch s.Mode {
	case views.PIINone:
		return views.Output(s.Col, row[s.At])
	case views.PIIHash:
		return rd.r.hash(s.scope, views.Output(s.Col, row[s.At]))
	case views.PIIMask:
		if s.Col.Type == views.Text {
			return PIIMask
		}
	}
	return nil
}

// AppendJSON appends the JSON of one shown column of a row, as AppendJSON(buf, s.Col,
// rd.Value(row, s)) would, formatting dates and timestamps straight into buf.
func (rd *Read) AppendJSON(buf []byte, row []any, s *Shown) []byte {
	if s.Mode == views.PIINone {
		if t, ok := row[s.At].(time.Time); ok {
			layout := time.RFC3339Nano
			if s.Col.Type == views.Date {
				layout = "2006-01-02"
			}
			// Digits, '-', ':', '.', 'T', 'Z' and '+' need no escaping in a JSON string.
			return append(t.AppendFormat(append(buf, '"'), layout), '"')
		}
	}
	return AppendJSON(buf, s.Col, rd.Value(row, *s))
}

// Field returns the shown column of a node field, or nil when it is not selected.
func (rd *Read) Field(name string) *Shown {
	for i := range rd.Show {
		if rd.Show[i].Col.Field == name {
			return &rd.Show[i]
		}
	}
	return nil
}

// hash is the keyed hash a pii: hash column shows: HMAC-SHA256 over the scope (tenant, view,
// column) and the value, so equal values hash alike only within one tenant's column and a
// hash cannot be looked up in another tenant's or column's hashes.
func (r *Reader) hash(scope []byte, v any) any {
	if v == nil {
		return nil
	}
	m := hmac.New(sha256.New, r.o.PIIKey)
	m.Write(scope)
	fmt.Fprint(m, v)
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// hashScope encodes tenant, view and column unambiguously, each preceded by its length as a
// 4-byte big-endian number, for the PII hash's input ahead of the value.
func hashScope(tenant, view, column string) []byte {
	var b []byte
	for _, part := range []string{tenant, view, column} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
		b = append(b, part...)
	}
	return b
}

// Page reads the page: at most First rows, and whether more follow.
func (rd *Read) Page(ctx context.Context) (rows [][]any, hasNext bool, err error) {
	q := rd.Query
	if rows, err = rd.r.run(ctx, rd.src, rd.who, q, rd.Stmt, q.First+1); err != nil {
		return nil, false, err
	}
	if hasNext = len(rows) > q.First; hasNext {
		rows = rows[:q.First]
	}
	return rows, hasNext, nil
}

// Count runs the query's COUNT: the rows of every page together.
func (rd *Read) Count(ctx context.Context) (int, error) {
	cst, err := rd.src.Builder.Count(rd.Query)
	if err != nil {
		return 0, err
	}
	counted, err := rd.r.run(ctx, rd.src, rd.who, rd.Query, cst, 1)
	if err != nil {
		return 0, err
	}
	return views.Count(counted[0]), nil
}

// slabRows is how many rows' values run allocates at once.
const slabRows = 64

// wholeRows scans rows into one set of destinations and decodes each into normal forms cut
// from slabs of up to slabRows rows: one allocation, not one a row.
type wholeRows struct {
	st    *views.Statement
	view  string
	dests []any
	slab  []any
}

func newWholeRows(st *views.Statement, view string) *wholeRows {
	return &wholeRows{st: st, view: view, dests: st.Dests()}
}

// decode returns the normal forms of the row rows is on; left is how many rows, this one
// included, may still be read, so a slab is no larger than needed.
func (w *wholeRows) decode(rows replica.Rows, left int) ([]any, error) {
	if err := rows.Scan(w.dests...); err != nil {
		return nil, fmt.Errorf("scan %s: %w", w.view, err)
	}
	n := len(w.dests)
	if len(w.slab) < n {
		w.slab = make([]any, min(left, slabRows)*n)
	}
	row := w.slab[:n:n]
	w.slab = w.slab[n:]
	if err := w.st.DecodeInto(row, w.dests); err != nil {
		return nil, err
	}
	return row, nil
}

// run executes one statement, reads at most limit rows and writes the query-log entry.
func (r *Reader) run(ctx context.Context, src Source, who *auth.Principal, q *views.Query, st *views.Statement, limit int) ([][]any, error) {
	var out [][]any
	err := r.runWith(ctx, src, who, q, st, func(rows replica.Rows) (int, error) {
		w := newWholeRows(st, q.View.Field)
		for len(out) < limit && rows.Next() {
			row, err := w.decode(rows, limit-len(out))
			if err != nil {
				return len(out), err
			}
			if out == nil {
				out = make([][]any, 0, min(limit, slabRows))
			}
			out = append(out, row)
		}
		return len(out), rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// runWith executes one statement, hands its rows to read, which returns how many it read,
// and writes the query-log entry.
func (r *Reader) runWith(ctx context.Context, src Source, who *auth.Principal, q *views.Query, st *views.Statement, read func(replica.Rows) (int, error)) error {
	sctx, cancel, budget, err := statementContext(ctx, src.Bound)
	if err != nil {
		return fmt.Errorf("query %s: %w", q.View.Field, err)
	}
	defer cancel()
	sctx, trace := r.traced(sctx, src, q.View.Field)
	start := r.o.Now()
	n := 0
	err = src.Runner.Query(sctx, st.SQL, st.Args, func(rows replica.Rows) error {
		var err error
		n, err = read(rows)
		return err
	})
	took := r.o.Now().Sub(start)
	if budget != nil {
		budget.spend(took)
		if err != nil && ctx.Err() == nil && sctx.Err() != nil {
			err = fmt.Errorf("%w (%v): this statement was stopped, and later root fields will not run", ErrDBTimeSpent, budget.budget)
		}
	}
	e := querylog.Entry{
		Time: start, RequestID: requestid.From(ctx), Tenant: who.Tenant, Credential: who.CredentialID,
		View: q.View.Field, Class: cmp.Or(st.Class, Class(q)), Source: src.Runner.Name(), SQL: st.SQL,
		Duration: took, Rows: n, TraceID: requestid.TraceFrom(ctx),
		Replica: trace.Replica, Explain: explainer(src, trace.Replica, st),
	}
	return r.logged(e, q, err)
}

// logged writes e with err's code and returns err wrapped with the view.
func (r *Reader) logged(e querylog.Entry, q *views.Query, err error) error {
	if err != nil {
		err = fmt.Errorf("query %s: %w", q.View.Field, err)
		if r.o.ErrorCode != nil {
			e.ErrorCode = r.o.ErrorCode(err)
		}
	}
	if r.o.Log != nil {
		r.o.Log.Log(e)
	}
	return err
}

// Class returns the quota class of a query: search when it has a search argument or a
// text-matching filter, else lookup.
func Class(q *views.Query) string {
	if q.Search != "" || matchesText(q.Where) {
		return "search"
	}
	return "lookup"
}

func matchesText(f *views.Filter) bool {
	if f == nil {
		return false
	}
	for _, c := range f.Conds {
		if c.Op.MatchesText() {
			return true
		}
	}
	for _, s := range append(append([]*views.Filter{}, f.And...), f.Or...) {
		if matchesText(s) {
			return true
		}
	}
	return matchesText(f.Not)
}
