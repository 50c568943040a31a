package reader

import (
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// Wire says how a column's bytes, as Postgres sent them, may be formatted without decoding
// them into a normal form first (an export's fast path; see Row).
type Wire uint8

// The wire forms. Each is given only to a column without PII whose catalog type and
// Postgres type agree, so formatting its bytes gives what its normal form would give.
const (
	WireNone    Wire = iota // no wire form: read Row.Values
	WireText                // catalog text: the UTF-8 text as is
	WireInt                 // catalog int or bigint: a big-endian int2, int4 or int8
	WireBool                // catalog bool: one byte, 0 or 1
	WireFloat               // catalog float: a big-endian IEEE 754 float8
	WireTime                // catalog timestamp: a big-endian int64 of microseconds since 2000-01-01 UTC
	WireDecimal             // catalog decimal: numeric in text format, the decimal's text
	WireUUID                // catalog uuid: the UUID's 16 bytes
	WireDate                // catalog date: a big-endian int32 of days since 2000-01-01
)

// Postgres type OIDs with a wire form.
const (
	oidBool        = 16
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidDate        = 1082
	oidNumeric     = 1700
	oidUUID        = 2950
)

// wireOf returns the wire form of column c sent as oid in format, or WireNone. The scan plans
// of these types and formats (which decode a cursor's order columns, see cursorRow) never
// consult the connection's type map.
func wireOf(c *views.Column, oid uint32, format int16) Wire {
	if c.PII != views.PIINone {
		return WireNone
	}
	switch c.Type {
	case views.Text:
		if oid == oidText || oid == oidVarchar || oid == oidBPChar || oid == oidName {
			return WireText // the same bytes in text and binary format
		}
	case views.Int, views.BigInt:
		if format == pgtype.BinaryFormatCode && (oid == oidInt2 || oid == oidInt4 || oid == oidInt8) {
			return WireInt
		}
	case views.Bool:
		if format == pgtype.BinaryFormatCode && oid == oidBool {
			return WireBool
		}
	case views.Float:
		if format == pgtype.BinaryFormatCode && oid == oidFloat8 {
			return WireFloat
		}
	case views.Timestamp:
		if format == pgtype.BinaryFormatCode && (oid == oidTimestamp || oid == oidTimestamptz) {
			return WireTime
		}
	case views.Decimal:
		// Text is how the replica package asks for numeric (its exact decimal text).
		if format == pgtype.TextFormatCode && oid == oidNumeric {
			return WireDecimal
		}
	case views.UUID:
		if format == pgtype.BinaryFormatCode && oid == oidUUID {
			return WireUUID
		}
	case views.Date:
		if format == pgtype.BinaryFormatCode && oid == oidDate {
			return WireDate
		}
	}
	return WireNone
}

// Row is one row of StreamRows, valid only during the callback. On Postgres, Raw holds each
// column's bytes as sent (nil for NULL) and Wire each column's wire form, each of which can
// format its bytes; Values holds the normal forms of the columns whose form is WireNone (the
// others are nil there). On other engines, and for a Postgres row with a value no wire form
// takes (an infinite timestamp), Raw and Wire are nil and Values holds every column, as
// Stream's rows do.
type Row struct {
	Values []any
	Raw    [][]byte
	Wire   []Wire

	d *rawDecoder
}

// Kept is a copy of what the cursor after a Row needs (on Postgres the bytes of its order
// columns only), outliving the callback; the zero Kept holds no row.
type Kept struct {
	vals []any
	raw  [][]byte
	buf  []byte
	d    *rawDecoder
	set  bool
}

// Keep copies r into k, reusing k's memory: on Postgres the bytes of the order columns with
// a wire form and the normal forms of the others (see rawDecoder.cursorRow).
func (r *Row) Keep(k *Kept) {
	k.set, k.d = true, r.d
	k.vals = append(k.vals[:0], r.Values...)
	if r.d == nil {
		return
	}
	k.buf = k.buf[:0]
	if len(k.raw) != len(r.Raw) {
		k.raw = make([][]byte, len(r.Raw))
	}
	for _, i := range r.d.terms {
		k.raw[i] = nil
		if b := r.Raw[i]; b != nil && r.d.wire[i] != WireNone {
			at := len(k.buf)
			k.buf = append(k.buf, b...)
			k.raw[i] = k.buf[at:len(k.buf):len(k.buf)]
		}
	}
}

// Empty reports whether k holds no row.
func (k *Kept) Empty() bool { return !k.set }

// CursorOf returns the signed cursor that resumes the read after the kept row (whose bytes
// are those of its order columns alone); it fails only when a kept column cannot be decoded.
func (rd *Read) CursorOf(k *Kept) (string, error) {
	if k.d == nil {
		return rd.Cursor(k.vals), nil
	}
	row, err := k.d.cursorRow(k.raw, k.vals)
	if err != nil {
		return "", err
	}
	return rd.Cursor(row), nil
}

// cursorRow returns a row that holds the normal forms of the order columns, which a cursor
// reads, once the rows may be closed: those with a wire form are decoded from raw, by plans
// (planned in newRawDecoder) that never consult the connection's type map; the others are
// taken from vals, decoded while the rows were read, since some of their plans do (a
// binary numeric into database/sql's NullString encodes through the map), and the map is
// not safe to use once the connection may serve another statement.
func (d *rawDecoder) cursorRow(raw [][]byte, vals []any) ([]any, error) {
	wired := make([][]byte, len(raw))
	for _, i := range d.terms {
		if d.wire[i] != WireNone {
			wired[i] = raw[i]
		}
	}
	row, err := d.decodeAll(wired)
	if err != nil {
		return nil, err
	}
	for _, i := range d.terms {
		if d.wire[i] == WireNone {
			row[i] = vals[i]
		}
	}
	return row, nil
}

// rawDecoder decodes a Postgres row's bytes into normal forms with the generic path's scan
// destinations and pgx's scan plans for them, so both paths agree value for value.
type rawDecoder struct {
	view  string
	st    *views.Statement
	names []string
	fds   []pgconn.FieldDescription
	types *pgtype.Map
	plans []pgtype.ScanPlan // by column, planned when first needed (plan)
	dests []any             // the scan destinations of the WireNone columns (the others stay unset)
	slow  []int             // the WireNone columns
	terms []int             // the order columns, which the cursor reads
	wire  []Wire
}

func newRawDecoder(view string, st *views.Statement, rows pgx.Rows) (*rawDecoder, error) {
	fds := rows.FieldDescriptions()
	if len(fds) != len(st.Columns) {
		return nil, fmt.Errorf("scan %s: %d columns for %d", view, len(fds), len(st.Columns))
	}
	d := &rawDecoder{view: view, st: st, dests: st.Dests(), fds: fds, types: rows.Conn().TypeMap(),
		plans: make([]pgtype.ScanPlan, len(fds))}
	for _, t := range st.Terms {
		d.terms = append(d.terms, slices.Index(st.Columns, t.Column))
	}
	for i, c := range st.Columns {
		fd := fds[i]
		d.names = append(d.names, fd.Name)
		w := wireOf(c, fd.DataTypeOID, fd.Format)
		d.wire = append(d.wire, w)
		if w == WireNone {
			d.slow = append(d.slow, i)
			d.plan(i)
		}
	}
	// The order columns are planned now too: a cursor is decoded from those with a wire form
	// after the rows (cursorRow), when the connection, whose type map plans, may serve
	// another statement.
	for _, i := range d.terms {
		d.plan(i)
	}
	return d, nil
}

// plan returns the scan plan of column i: planning every column of every statement was a
// fiftieth of a list request's CPU, and a page formatted from its bytes needs few of them.
// Only while the rows are read may it plan a column first: the connection's type map is
// not safe for concurrent use.
func (d *rawDecoder) plan(i int) pgtype.ScanPlan {
	if d.plans[i] == nil {
		fd := d.fds[i]
		d.plans[i] = d.types.PlanScan(fd.DataTypeOID, fd.Format, d.dests[i])
	}
	return d.plans[i]
}

// scan decodes the WireNone columns of raw into vals.
func (d *rawDecoder) scan(raw [][]byte, vals []any) error {
	if len(d.slow) == 0 {
		return nil
	}
	for _, i := range d.slow {
		if err := d.plan(i).Scan(raw[i], d.dests[i]); err != nil {
			return fmt.Errorf("scan %s: %w", d.view, pgx.ScanArgError{ColumnIndex: i, FieldName: d.names[i], Err: err})
		}
	}
	return d.st.DecodeInto(vals, d.dests)
}

// decodeAll decodes every column of raw into fresh destinations; a NULL (nil) is left as its
// destination's zero value, which is what scanning it gives.
func (d *rawDecoder) decodeAll(raw [][]byte) ([]any, error) {
	dests := d.st.Dests()
	for i := range dests {
		if raw[i] == nil {
			continue
		}
		if err := d.plan(i).Scan(raw[i], dests[i]); err != nil {
			return nil, fmt.Errorf("scan %s: %w", d.view, pgx.ScanArgError{ColumnIndex: i, FieldName: d.names[i], Err: err})
		}
	}
	row := make([]any, len(dests))
	if err := d.st.DecodeInto(row, dests); err != nil {
		return nil, err
	}
	return row, nil
}

// pgxRows takes the pgx rows under a replica.Rows (which may wrap them) through pgx's
// RowScanner hook, without a change to the rows' interface.
type pgxRows struct{ rows pgx.Rows }

func (p *pgxRows) ScanRow(rows pgx.Rows) error {
	p.rows = rows
	return nil
}

// rawRows returns the pgx rows of rows, positioned on a row, or nil when they are not pgx's.
func rawRows(rows replica.Rows) pgx.Rows {
	if r, ok := rows.(pgx.Rows); ok {
		return r
	}
	var p pgxRows
	if err := rows.Scan(&p); err != nil {
		return nil
	}
	return p.rows
}
