// Package resolvers answers GraphQL fields: arguments → views query → replica → GraphQL values.
package resolvers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// Runner runs one read-only statement and hands its rows to fn.
type Runner = reader.Runner

// Source is where a view's statements are built and run.
type Source = reader.Source

// Options configures the resolvers.
type Options struct {
	Sources         map[string]Source  // by catalog source name
	Log             *querylog.Logger   // the query log
	DefaultPageSize int                // first, when the caller gives none (capped by the view)
	PIIKey          []byte             // keys the hash of pii: hash columns
	ErrorCode       func(error) string // the error vocabulary, for the query log
	Quota           Quota              // the rateLimit field's source; nil: quotas are off
	Now             func() time.Time
	// Reader reads the views; nil: one built from the fields above. The gateway shares one
	// reader between GraphQL and exports.
	Reader *reader.Reader
}

// Resolvers resolves the root fields of the generated schema.
type Resolvers struct {
	o  Options
	rd *reader.Reader
}

// New returns the resolvers; every catalog source must be in o.Sources (main checks this at start-up).
func New(o Options) *Resolvers {
	if o.Now == nil {
		o.Now = time.Now
	}
	rd := o.Reader
	if rd == nil {
		rd = reader.New(reader.Options{Sources: o.Sources, Log: o.Log, DefaultPageSize: o.DefaultPageSize,
			PIIKey: o.PIIKey, ErrorCode: o.ErrorCode, Now: o.Now})
	}
	return &Resolvers{o: o, rd: rd}
}

// Errors born in the reader, under the names the resolvers have always had.
var (
	ErrUnauthenticated = reader.ErrUnauthenticated
	ErrForbidden       = reader.ErrForbidden
	ErrDBTimeSpent     = reader.ErrDBTimeSpent
)

// PIIMask is what a text PII column shows to callers without the pii role in mask mode.
const PIIMask = reader.PIIMask

// WithDBTime returns ctx with a database-time budget of d for the statements of one request;
// d <= 0 means no budget.
func WithDBTime(ctx context.Context, d time.Duration) context.Context {
	return reader.WithDBTime(ctx, d)
}

// Class returns the quota class of a query: search or lookup.
func Class(q *views.Query) string { return reader.Class(q) }

// Connection returns the resolver of a view's root field for graphql-go's own execution: it
// returns the connection as Go maps, which graphql-go completes field by field.
func (r *Resolvers) Connection(v *views.View) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		pg, err := r.fetch(v, p, false)
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
		pg, err := r.fetch(v, p, true)
		if err != nil {
			return nil, err
		}
		// About 32 bytes a value: one allocation for most pages instead of a dozen regrowths.
		buf := make([]byte, 0, 256+pg.len()*(len(pg.rd.Show)+1)*32)
		return json.RawMessage(r.encode(buf, pg, p.Info)), nil
	}
}

// page is one fetched page of a connection, before it is shaped for GraphQL.
type page struct {
	rd      *reader.Read
	rows    [][]any
	hasNext bool
	total   int // -1 when totalCount is not selected
	sel     *selection
	// wired: the page was read with reader.PageRows into wire (rows is nil), and its start
	// and end cursors taken then, when pageInfo is selected.
	wired      bool
	wire       []reader.Row
	start, end any
}

// len returns how many rows the page has.
func (pg *page) len() int {
	if pg.wired {
		return len(pg.wire)
	}
	return len(pg.rows)
}

// fetch opens the read (roles, arguments, projection) and reads the page when nodes, edges or
// pageInfo are selected, and the count when totalCount is. The page is compiled in any case,
// so its arguments (first, after, orderBy) are checked the same whatever is selected. A page
// to be encoded (encode) without edges, whose cursors would decode every row, is read with
// reader.PageRows.
func (r *Resolvers) fetch(v *views.View, p graphql.ResolveParams, encode bool) (*page, error) {
	pg := &page{sel: selected(p.Info), total: -1}
	rd, err := r.rd.Open(p.Context, v, reader.Args(p.Args), pg.sel.fields)
	if err != nil {
		return nil, err
	}
	pg.rd = rd
	switch {
	case pg.sel.needsPage() && encode && !pg.sel.edges:
		wp, err := rd.PageRows(p.Context)
		if err != nil {
			return nil, err
		}
		pg.wired, pg.wire, pg.hasNext = true, wp.Rows, wp.HasNext
		if n := len(pg.wire); n > 0 && pg.sel.pageInfo {
			if pg.start, err = rd.RowCursor(&pg.wire[0]); err != nil {
				return nil, err
			}
			if pg.end, err = rd.RowCursor(&pg.wire[n-1]); err != nil {
				return nil, err
			}
		}
	case pg.sel.needsPage():
		if pg.rows, pg.hasNext, err = rd.Page(p.Context); err != nil {
			return nil, err
		}
	}
	if pg.sel.totalCount {
		if pg.total, err = rd.Count(p.Context); err != nil {
			return nil, err
		}
	}
	return pg, nil
}

// maps shapes a page as the Go maps graphql-go completes.
func (r *Resolvers) maps(pg *page) map[string]any {
	nodes := make([]any, len(pg.rows))
	edges := []any{}
	for i, row := range pg.rows {
		n := make(map[string]any, len(pg.rd.Show))
		for _, s := range pg.rd.Show {
			n[s.Col.Field] = pg.rd.Value(row, s)
		}
		nodes[i] = n
		if pg.sel.edges {
			edges = append(edges, map[string]any{"cursor": pg.rd.Stmt.Cursor(row), "node": n})
		}
	}
	info := map[string]any{"hasNextPage": pg.hasNext, "hasPreviousPage": pg.rd.Query.After != ""}
	info["startCursor"], info["endCursor"] = r.bounds(pg)
	conn := map[string]any{"nodes": nodes, "edges": edges, "pageInfo": info}
	if pg.total >= 0 {
		conn["totalCount"] = pg.total
	}
	return conn
}

// bounds returns the start and end cursors of a page, nil when it is empty.
func (r *Resolvers) bounds(pg *page) (start, end any) {
	if pg.wired {
		return pg.start, pg.end
	}
	if len(pg.rows) == 0 || !pg.sel.pageInfo {
		return nil, nil
	}
	return pg.rd.Stmt.Cursor(pg.rows[0]), pg.rd.Stmt.Cursor(pg.rows[len(pg.rows)-1])
}
