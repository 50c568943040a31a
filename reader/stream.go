package reader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/views"
)

// Streamer is a Runner that runs one long statement in a consistent snapshot under a timeout
// of its own (*replica.Router, *replica.Source).
type Streamer interface {
	Stream(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(replica.Rows) error) error
}

// DefaultStreamTimeout is the timeout of a streamed statement whose options set none.
const DefaultStreamTimeout = 10 * time.Minute

// ErrNoStream reports a source that cannot stream (a Runner that is no Streamer).
var ErrNoStream = errors.New("the source cannot stream a statement")

// StreamOptions says how to run a streamed statement and what to log of it.
type StreamOptions struct {
	Timeout time.Duration // the statement's timeout (the export's, not the GraphQL one); 0: DefaultStreamTimeout
	Class   string        // the query log's class
	Bytes   func() int64  // what the caller has written of the rows when the statement ends; nil: 0
}

// Stream runs the read's statement in one snapshot and calls fn with each decoded row, in
// order, holding one row at a time (row is reused: fn copies what it keeps); it stops at fn's
// first error and returns it wrapped. It
// returns the rows handed to fn, and writes one query-log entry with rows, bytes, duration,
// class and the replica that ran it. The request's database-time budget does not apply.
func (rd *Read) Stream(ctx context.Context, o StreamOptions, fn func(row []any) error) (int64, error) {
	return rd.stream(ctx, o, func(rows replica.Rows, n *int64) error { return rd.decoded(rows, n, fn) })
}

// StreamRows is Stream for encoders that format Postgres's bytes themselves: on Postgres fn
// gets each row's bytes as sent and the normal forms of only the columns without a wire form
// (see Row); on other engines every column's normal form. Row and its slices are reused.
func (rd *Read) StreamRows(ctx context.Context, o StreamOptions, fn func(row *Row) error) (int64, error) {
	return rd.stream(ctx, o, func(rows replica.Rows, n *int64) error {
		if rd.src.Builder.Dialect != views.Postgres {
			return rd.decoded(rows, n, values(fn))
		}
		return rd.raw(rows, n, fn)
	})
}

// decoded reads rows through the generic path: scan destinations, then normal forms.
func (rd *Read) decoded(rows replica.Rows, n *int64, fn func(row []any) error) error {
	st := rd.Stmt
	dests := st.Dests()
	row := make([]any, len(dests))
	for rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return fmt.Errorf("scan %s: %w", rd.View.Field, err)
		}
		if err := st.DecodeInto(row, dests); err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
		*n++
	}
	return rows.Err()
}

// raw reads Postgres rows as their bytes, decoding only the columns without a wire form; a
// row whose bytes a wire form cannot format is scanned and decoded whole, as PageRows does,
// so its errors are the generic path's, in every column read, shown or not.
func (rd *Read) raw(rows replica.Rows, n *int64, fn func(row *Row) error) error {
	var d *rawDecoder
	var pr pgx.Rows
	var whole *wholeRows
	row := &Row{Values: make([]any, len(rd.Stmt.Columns))}
	for rows.Next() {
		if d == nil {
			if pr = rawRows(rows); pr == nil { // not pgx's rows after all
				return rd.decoded(&positioned{Rows: rows, on: true}, n, values(fn))
			}
			var err error
			if d, err = newRawDecoder(rd.View.Field, rd.Stmt, pr); err != nil {
				return err
			}
			row.d, row.Wire = d, d.wire
		}
		row.Raw = pr.RawValues()
		next := row
		if d.fits(row.Raw) {
			if err := d.scan(row.Raw, row.Values); err != nil {
				return err
			}
		} else {
			if whole == nil {
				whole = newWholeRows(rd.Stmt, rd.View.Field)
			}
			v, err := whole.decode(rows, 1)
			if err != nil {
				return err
			}
			next = &Row{Values: v}
		}
		if err := fn(next); err != nil {
			return err
		}
		*n++
	}
	return rows.Err()
}

// positioned is rows already on their first row, for a loop that calls Next first.
type positioned struct {
	replica.Rows
	on bool
}

func (p *positioned) Next() bool {
	if p.on {
		p.on = false
		return true
	}
	return p.Rows.Next()
}

// values hands each row of Values alone to fn, in one reused Row.
func values(fn func(row *Row) error) func(vals []any) error {
	row := &Row{}
	return func(vals []any) error {
		row.Values = vals
		return fn(row)
	}
}

// stream runs the read's statement in one snapshot, hands its rows to each, and logs it.
func (rd *Read) stream(ctx context.Context, o StreamOptions, each func(rows replica.Rows, n *int64) error) (int64, error) {
	st, q := rd.Stmt, rd.Query
	s, ok := rd.src.Runner.(Streamer)
	if !ok {
		return 0, fmt.Errorf("query %s: %w", q.View.Field, ErrNoStream)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultStreamTimeout
	}
	start := rd.r.o.Now()
	var n int64
	// fn's error cancels the statement: drivers drain unread rows on close, and an export
	// stopped early may have millions left.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sctx, trace := rd.r.traced(sctx, rd.src, q.View.Field)
	err := s.Stream(sctx, st.SQL, st.Args, o.Timeout, func(rows replica.Rows) error {
		err := each(rows, &n)
		if err != nil {
			cancel()
		}
		return err
	})
	e := querylog.Entry{
		Time: start, RequestID: requestid.From(ctx), Tenant: rd.who.Tenant, Credential: rd.who.CredentialID,
		View: q.View.Field, Class: o.Class, Source: rd.src.Runner.Name(), SQL: st.SQL,
		Duration: rd.r.o.Now().Sub(start), Rows: int(n), TraceID: requestid.TraceFrom(ctx),
		Replica: trace.Replica, Explain: explainer(rd.src, trace.Replica, st),
	}
	if o.Bytes != nil {
		e.Bytes = o.Bytes()
	}
	return n, rd.r.logged(e, q, err)
}

// Cursor returns the signed cursor that resumes the read after row.
func (rd *Read) Cursor(row []any) string { return rd.Stmt.Cursor(row) }

// Raw returns one shown column of a row like Value, but a column shown as is in its normal
// form (time.Time for dates and timestamps, as decoded) except JSON, which is as Value gives
// it: encoders that format normal forms themselves skip a conversion per value.
func (rd *Read) Raw(row []any, s Shown) any {
	if s.Mode == views.PIINone && s.Col.Type != views.JSON {
		return row[s.At]
	}
	return rd.Value(row, s)
}
