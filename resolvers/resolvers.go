// Package resolvers answers GraphQL fields: arguments → views query → replica → GraphQL values.
package resolvers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/auth"
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
}

// Options configures the resolvers.
type Options struct {
	Sources         map[string]Source  // by catalog source name
	Log             *querylog.Logger   // the query log
	DefaultPageSize int                // first, when the caller gives none (capped by the view)
	PIIKey          []byte             // keys the hash of pii: hash columns
	ErrorCode       func(error) string // the error vocabulary, for the query log
	Quota           Quota              // the rateLimit field's source; nil: quotas are off
	LabelStatements bool               // show the requestId and view to DBAs in pg_stat_activity / the process list
	Now             func() time.Time
}

// Resolvers resolves the root fields of the generated schema.
type Resolvers struct{ o Options }

// New returns the resolvers; every catalog source must be in o.Sources (main checks this at start-up).
func New(o Options) *Resolvers {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Resolvers{o: o}
}

// Errors born here.
var (
	ErrUnauthenticated = fault.New(fault.Unauthenticated, "not authenticated")
	ErrForbidden       = fault.New(fault.Forbidden, "forbidden")
)

// PIIMask is what a text PII column shows to callers without the pii role in mask mode.
const PIIMask = "****"

// Connection returns the resolver of a view's root field for graphql-go's own execution: it
// returns the connection as Go maps, which graphql-go completes field by field.
func (r *Resolvers) Connection(v *views.View) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		pg, err := r.fetch(v, p)
		if err != nil {
			return nil, err
		}
		return r.maps(pg), nil
	}
}

// RawConnection returns the resolver of a view's root field for the execution schema, where the
// field is a scalar: it returns the whole connection already encoded as JSON in selection order,
// which spares graphql-go completing every field of every row.
func (r *Resolvers) RawConnection(v *views.View) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		pg, err := r.fetch(v, p)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(r.encode(nil, pg, p.Info)), nil
	}
}

// page is one fetched page of a connection, before it is shaped for GraphQL.
type page struct {
	view    *views.View
	query   *views.Query
	st      *views.Statement
	rows    [][]any
	hasNext bool
	total   int // -1 when totalCount is not selected
	sel     *selection
	show    []shown
}

// fetch checks the caller's roles, compiles the query and reads the page when nodes, edges or
// pageInfo are selected, and the count when totalCount is. The page is compiled in any case,
// so its arguments (first, after, orderBy) are checked the same whatever is selected.
func (r *Resolvers) fetch(v *views.View, p graphql.ResolveParams) (*page, error) {
	ctx := p.Context
	who := auth.FromContext(ctx)
	if who == nil {
		return nil, ErrUnauthenticated
	}
	if !who.HasAny(v.Roles) {
		return nil, fmt.Errorf("%w: %s is not granted to your roles", ErrForbidden, v.Field)
	}
	src, ok := r.o.Sources[v.Source]
	if !ok {
		return nil, fmt.Errorf("view %s: source %q is not configured", v.Field, v.Source)
	}
	q, err := r.query(v, who, p)
	if err != nil {
		return nil, err
	}
	pg := &page{view: v, query: q, sel: selected(p.Info), total: -1}
	q.Fields, pg.show = r.projection(v, who, pg.sel)
	if pg.st, err = src.Builder.Select(q); err != nil {
		return nil, err
	}
	for i := range pg.show {
		pg.show[i].at = index(pg.st, pg.show[i].col)
	}
	if pg.sel.needsPage() {
		if pg.rows, err = r.run(ctx, src, who, q, pg.st, q.First+1); err != nil {
			return nil, err
		}
		if pg.hasNext = len(pg.rows) > q.First; pg.hasNext {
			pg.rows = pg.rows[:q.First]
		}
	}
	if pg.sel.totalCount {
		cst, err := src.Builder.Count(q)
		if err != nil {
			return nil, err
		}
		counted, err := r.run(ctx, src, who, q, cst, 1)
		if err != nil {
			return nil, err
		}
		pg.total = views.Count(counted[0])
	}
	return pg, nil
}

// query turns the field's arguments into a views.Query; bad arguments are errors from views.
func (r *Resolvers) query(v *views.View, who *auth.Principal, p graphql.ResolveParams) (*views.Query, error) {
	q := &views.Query{View: v, Tenant: who.Tenant, First: min(r.o.DefaultPageSize, v.MaxPageSize)}
	if first, ok := p.Args["first"].(int); ok {
		q.First = first
	}
	q.After, _ = p.Args["after"].(string)
	q.Search, _ = p.Args["search"].(string)
	if w, ok := p.Args["where"].(map[string]any); ok {
		f, err := views.ParseWhere(v, w)
		if err != nil {
			return nil, err
		}
		q.Where = f
	}
	if list, ok := p.Args["orderBy"].([]any); ok {
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

// shown says how one requested column is presented.
type shown struct {
	col   *views.Column
	mode  views.PII // PIINone: as is
	at    int       // the column's position in the statement's row; -1 when not read
	scope []byte    // PIIHash: what the hash is keyed by besides the value (see hashScope)
}

// projection picks the columns to read: requested ones, except PII the caller may not see in clear
// and that need no value to mask.
func (r *Resolvers) projection(v *views.View, who *auth.Principal, sel *selection) ([]*views.Column, []shown) {
	var cols []*views.Column
	var show []shown
	clear := who.HasRole(views.PIIRole)
	for _, c := range v.Columns {
		if !sel.fields[c.Field] {
			continue
		}
		mode := c.PII
		if clear {
			mode = views.PIINone
		}
		sh := shown{col: c, mode: mode}
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

// maps shapes a page as the Go maps graphql-go completes.
func (r *Resolvers) maps(pg *page) map[string]any {
	nodes := make([]any, len(pg.rows))
	edges := []any{}
	for i, row := range pg.rows {
		n := make(map[string]any, len(pg.show))
		for _, s := range pg.show {
			n[s.col.Field] = r.present(row, s)
		}
		nodes[i] = n
		if pg.sel.edges {
			edges = append(edges, map[string]any{"cursor": pg.st.Cursor(row), "node": n})
		}
	}
	info := map[string]any{"hasNextPage": pg.hasNext, "hasPreviousPage": pg.query.After != ""}
	info["startCursor"], info["endCursor"] = r.bounds(pg)
	conn := map[string]any{"nodes": nodes, "edges": edges, "pageInfo": info}
	if pg.total >= 0 {
		conn["totalCount"] = pg.total
	}
	return conn
}

// bounds returns the start and end cursors of a page, nil when it is empty.
func (r *Resolvers) bounds(pg *page) (start, end any) {
	if len(pg.rows) == 0 || !pg.sel.pageInfo {
		return nil, nil
	}
	return pg.st.Cursor(pg.rows[0]), pg.st.Cursor(pg.rows[len(pg.rows)-1])
}

// present returns the GraphQL value of one column of a row, masked as the caller's roles require.
func (r *Resolvers) present(row []any, s shown) any {
	switch s.mode {
	case views.PIINone:
		return views.Output(s.col, row[s.at])
	case views.PIIHash:
		return r.hash(s.scope, views.Output(s.col, row[s.at]))
	case views.PIIMask:
		if s.col.Type == views.Text {
			return PIIMask
		}
	}
	return nil
}

func index(st *views.Statement, c *views.Column) int {
	for i, sc := range st.Columns {
		if sc == c {
			return i
		}
	}
	return -1
}

// hash is the keyed hash a pii: hash column shows: HMAC-SHA256 over the scope (tenant, view,
// column) and the value, so equal values hash alike only within one tenant's column and a
// hash cannot be looked up in another tenant's or column's hashes.
func (r *Resolvers) hash(scope []byte, v any) any {
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

// run executes one statement, reads at most limit rows and writes the query-log entry.
func (r *Resolvers) run(ctx context.Context, src Source, who *auth.Principal, q *views.Query, st *views.Statement, limit int) ([][]any, error) {
	sctx, cancel, budget, err := statementContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.View.Field, err)
	}
	defer cancel()
	sctx, trace := r.traced(sctx, q.View.Field)
	start := r.o.Now()
	var out [][]any
	err = src.Runner.Query(sctx, st.SQL, st.Args, func(rows replica.Rows) error {
		dests := st.Dests()
		for len(out) < limit && rows.Next() {
			if err := rows.Scan(dests...); err != nil {
				return fmt.Errorf("scan %s: %w", q.View.Field, err)
			}
			row, err := st.Decode(dests)
			if err != nil {
				return err
			}
			out = append(out, row)
		}
		return rows.Err()
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
		View: q.View.Field, Class: Class(q), Source: src.Runner.Name(), SQL: st.SQL,
		Duration: took, Rows: len(out), TraceID: requestid.TraceFrom(ctx),
		Replica: trace.Replica, Explain: explainer(src, trace.Replica, st),
	}
	if err != nil {
		err = fmt.Errorf("query %s: %w", q.View.Field, err)
		if r.o.ErrorCode != nil {
			e.ErrorCode = r.o.ErrorCode(err)
		}
	}
	if r.o.Log != nil {
		r.o.Log.Log(e)
	}
	return out, err
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
