package reader

import (
	"context"
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// A wire page is a list page read for an encoder that writes JSON: on Postgres, the columns
// with a wire form (see Wire) keep their bytes as sent and are formatted straight into the
// answer (AppendRowJSON), so they are never decoded into normal forms, which for a page of
// text, integers and timestamps were two allocations a value and most of a request's
// garbage. The other columns are decoded as Page decodes them. A row whose bytes a wire form
// cannot format (an odd length, a timestamp outside the years 1–9999) is decoded whole, so
// its errors are Page's. On other engines every row is decoded whole.

// WirePage is a page of PageRows.
type WirePage struct {
	Rows    []Row // Raw and its bytes stay valid; Raw is nil for a row decoded whole
	HasNext bool
}

// PageRows reads the page as Page does, keeping the bytes of the columns with a wire form.
func (rd *Read) PageRows(ctx context.Context) (*WirePage, error) {
	q := rd.Query
	limit := q.First + 1
	out := make([]Row, 0, min(limit, slabRows))
	err := rd.r.runWith(ctx, rd.src, rd.who, q, rd.Stmt, func(rows replica.Rows) (int, error) {
		if rd.src.Builder.Dialect != views.Postgres || !rows.Next() {
			return rd.wholeRows(rows, limit, &out)
		}
		pr := rawRows(rows)
		if pr == nil { // not pgx's rows after all
			return rd.wholeRows(&positioned{Rows: rows, on: true}, limit, &out)
		}
		d, err := newRawDecoder(rd.View.Field, rd.Stmt, pr)
		if err != nil {
			return 0, err
		}
		return rd.wireRows(rows, pr, d, limit, &out)
	})
	if err != nil {
		return nil, err
	}
	pg := &WirePage{Rows: out}
	if pg.HasNext = len(out) > q.First; pg.HasNext {
		pg.Rows = out[:q.First]
	}
	return pg, nil
}

// wholeRows reads up to limit rows decoded whole, as run does.
func (rd *Read) wholeRows(rows replica.Rows, limit int, out *[]Row) (int, error) {
	w := newWholeRows(rd.Stmt, rd.View.Field)
	for len(*out) < limit && rows.Next() {
		vals, err := w.decode(rows, limit-len(*out))
		if err != nil {
			return len(*out), err
		}
		*out = append(*out, Row{Values: vals})
	}
	return len(*out), rows.Err()
}

// wireRows reads up to limit Postgres rows, positioned on the first (pr is rows' pgx rows),
// copying the bytes of each row whose wire forms all fit and decoding the columns without
// one; another row is scanned and decoded whole as wholeRows does.
func (rd *Read) wireRows(rows replica.Rows, pr pgx.Rows, d *rawDecoder, limit int, out *[]Row) (int, error) {
	cols := len(d.wire)
	var data []byte // the rows' bytes, copied out of pgx's buffer, which the next row reuses
	var raws [][]byte
	var vals []any
	var whole *wholeRows // for the rows a wire form cannot format
	for {
		raw := pr.RawValues()
		row := Row{Wire: d.wire, d: d}
		if d.fits(raw) {
			if len(raws) < cols {
				n := min(limit-len(*out), slabRows)
				raws = make([][]byte, n*cols)
				if len(d.slow) > 0 { // only the columns without a wire form have a normal form
					vals = make([]any, n*cols)
				}
				if data == nil {
					size := 0
					for _, b := range raw {
						size += len(b)
					}
					data = make([]byte, 0, size*n+size/2)
				}
			}
			row.Raw, raws = raws[:cols:cols], raws[cols:]
			if vals != nil {
				row.Values, vals = vals[:cols:cols], vals[cols:]
			}
			for i, b := range raw {
				if b != nil {
					at := len(data)
					data = append(data, b...)
					row.Raw[i] = data[at:len(data):len(data)]
				}
			}
			if err := d.scan(raw, row.Values); err != nil {
				return len(*out), err
			}
		} else {
			if whole == nil {
				whole = newWholeRows(rd.Stmt, rd.View.Field)
			}
			v, err := whole.decode(rows, limit-len(*out))
			if err != nil {
				return len(*out), err
			}
			row.Values, row.Wire, row.d = v, nil, nil
		}
		*out = append(*out, row)
		if len(*out) >= limit || !pr.Next() {
			break
		}
	}
	return len(*out), pr.Err()
}

// fits reports whether every wire form of the row can format its bytes.
func (d *rawDecoder) fits(raw [][]byte) bool {
	for i, w := range d.wire {
		if b := raw[i]; b != nil && !wireFits(w, b) {
			return false
		}
	}
	return true
}

// The timestamps a wire form formats: years 1 to 9999, in microseconds from 2000-01-01, and
// the microseconds from the Unix epoch to 2000-01-01 UTC, Postgres's timestamp epoch; the
// dates, in days from 2000-01-01, and that epoch in days from the Unix epoch.
const (
	minWireTime   = -63_082_281_600 * 1_000_000 // 0001-01-01T00:00:00Z
	endWireTime   = 252_455_616_000 * 1_000_000 // 10000-01-01T00:00:00Z
	pgEpochMicros = 946_684_800 * 1_000_000
	minWireDate   = -730_119  // 0001-01-01
	endWireDate   = 2_921_940 // 10000-01-01
	pgEpochDays   = 10_957
)

// WireIntValue reads WireInt's bytes, a big-endian int2, int4 or int8; ok is false for
// another length.
func WireIntValue(b []byte) (v int64, ok bool) {
	switch len(b) {
	case 8:
		return int64(binary.BigEndian.Uint64(b)), true
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), true
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), true
	}
	return 0, false
}

// WireTimeValue reads WireTime's bytes, in UTC; ok is false unless they are 8 bytes of a time
// in the years 1 to 9999 (infinity, and the years the generic path formats or refuses, are
// left to it).
func WireTimeValue(b []byte) (t time.Time, ok bool) {
	if len(b) != 8 {
		return time.Time{}, false
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us < minWireTime || us >= endWireTime {
		return time.Time{}, false
	}
	return time.Unix(pgEpochMicros/1_000_000+us/1_000_000, us%1_000_000*1_000).UTC(), true
}

// WireDateValue reads WireDate's bytes as the date's midnight in UTC; ok is false unless they
// are 4 bytes of a date in the years 1 to 9999 (infinity, and the years the generic path
// formats or refuses, are left to it).
func WireDateValue(b []byte) (t time.Time, ok bool) {
	if len(b) != 4 {
		return time.Time{}, false
	}
	days := int64(int32(binary.BigEndian.Uint32(b)))
	if days < minWireDate || days >= endWireDate {
		return time.Time{}, false
	}
	return time.Unix((pgEpochDays+days)*86_400, 0).UTC(), true
}

// WireDecimalText returns the normal form of WireDecimal's bytes: the decimal with scale
// digits after the point, rounded half away from zero, which is b itself (and valid only
// while b is) when b is already so; ok is false for NaN, the infinities and whatever else is
// not a plain decimal, which the generic path refuses.
func WireDecimalText(b []byte, scale int) (s string, ok bool) {
	return views.FormatDecimal(unsafe.String(unsafe.SliceData(b), len(b)), scale)
}

// AppendWireUUID appends WireUUID's bytes as the normal form's text, lower-case hex grouped
// 8-4-4-4-12; ok is false unless they are 16 bytes.
func AppendWireUUID(buf, b []byte) (_ []byte, ok bool) {
	if len(b) != 16 {
		return buf, false
	}
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return buf, true
}

func wireFits(w Wire, b []byte) bool {
	switch w {
	case WireInt:
		_, ok := WireIntValue(b)
		return ok
	case WireBool:
		return len(b) == 1
	case WireFloat:
		return len(b) == 8
	case WireTime:
		_, ok := WireTimeValue(b)
		return ok
	case WireDecimal:
		return views.IsDecimal(unsafe.String(unsafe.SliceData(b), len(b)))
	case WireUUID:
		return len(b) == 16
	case WireDate:
		_, ok := WireDateValue(b)
		return ok
	}
	return true
}

// AppendRowJSON appends the JSON of one shown column of a row of PageRows, as AppendJSON
// would for the row decoded whole.
func (rd *Read) AppendRowJSON(buf []byte, row *Row, s *Shown) []byte {
	if row.Raw != nil && s.At >= 0 && s.Mode == views.PIINone {
		if w := row.Wire[s.At]; w != WireNone {
			return appendWireJSON(buf, s.Col, w, row.Raw[s.At])
		}
	}
	return rd.AppendJSON(buf, row.Values, s)
}

// appendWireJSON formats bytes that wireFits accepted as AppendJSON formats their normal form.
func appendWireJSON(buf []byte, c *views.Column, w Wire, b []byte) []byte {
	if b == nil {
		return append(buf, "null"...)
	}
	switch w {
	case WireText:
		return AppendJSONString(buf, unsafe.String(unsafe.SliceData(b), len(b))) // read only while b is
	case WireInt:
		v, _ := WireIntValue(b)
		if c.Type == views.BigInt { // bigint's normal form is its decimal string
			return append(strconv.AppendInt(append(buf, '"'), v, 10), '"')
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return append(buf, "null"...) // graphql-go's Int is 32-bit and serializes overflow as null
		}
		return strconv.AppendInt(buf, v, 10)
	case WireBool:
		return strconv.AppendBool(buf, b[0] != 0)
	case WireFloat:
		return AppendJSONFloat(buf, math.Float64frombits(binary.BigEndian.Uint64(b)))
	case WireTime:
		t, _ := WireTimeValue(b)
		return append(t.AppendFormat(append(buf, '"'), time.RFC3339Nano), '"')
	case WireDecimal:
		s, _ := WireDecimalText(b, *c.Scale)
		return append(append(append(buf, '"'), s...), '"') // digits, '-' and '.': nothing to escape
	case WireUUID:
		buf, _ = AppendWireUUID(append(buf, '"'), b)
		return append(buf, '"')
	case WireDate:
		t, _ := WireDateValue(b)
		return append(t.AppendFormat(append(buf, '"'), "2006-01-02"), '"')
	}
	return append(buf, "null"...)
}

// RowCursor returns the cursor that resumes after a row of PageRows, from its order columns
// alone (see rawDecoder.cursorRow).
func (rd *Read) RowCursor(row *Row) (string, error) {
	if row.Raw == nil {
		return rd.Cursor(row.Values), nil
	}
	vals, err := row.d.cursorRow(row.Raw, row.Values)
	if err != nil {
		return "", err
	}
	return rd.Cursor(vals), nil
}
