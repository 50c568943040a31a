package export

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// The fast path of a Postgres export formats a column's bytes as sent (reader.Wire) straight
// into the record, skipping the normal form and its allocations. Each case writes what value
// writes for the normal form the generic path decodes from the same bytes; export's tests
// pin the two equal. A row with a value a case does not take (an odd length, a timestamp
// outside the years 1–9999) comes decoded whole from reader.StreamRows, without wire forms.

// wire appends column i's value from b in wire form w; ok is false for bytes the form does
// not take, which StreamRows never hands over.
func (e *encoder) wire(buf []byte, i int, w reader.Wire, b []byte) (_ []byte, ok bool) {
	if b == nil {
		return e.null(buf), true
	}
	c := e.vcols[i]
	switch w {
	case reader.WireText:
		s := unsafe.String(unsafe.SliceData(b), len(b)) // read only while b is
		if e.format == NDJSON {
			return reader.AppendJSONString(buf, s), true
		}
		return appendCSVText(buf, s, e.formulas && c.Type == views.Text), true
	case reader.WireInt:
		v, ok := reader.WireIntValue(b)
		if !ok {
			return buf, false
		}
		return e.int(buf, c, v), true
	case reader.WireBool:
		if len(b) != 1 {
			return buf, false
		}
		return strconv.AppendBool(buf, b[0] != 0), true
	case reader.WireFloat:
		if len(b) != 8 {
			return buf, false
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(b))
		if e.format == CSV && (math.IsInf(f, 0) || math.IsNaN(f)) {
			return buf, true // JSON's null is CSV's empty field
		}
		return reader.AppendJSONFloat(buf, f), true
	case reader.WireTime, reader.WireDate:
		read := reader.WireTimeValue
		if w == reader.WireDate {
			read = reader.WireDateValue
		}
		t, ok := read(b)
		if !ok {
			return buf, false // infinity, or a year the generic path formats or refuses
		}
		if e.format == NDJSON {
			return append(appendTime(append(buf, '"'), c, t), '"'), true
		}
		return appendTime(buf, c, t), true
	case reader.WireDecimal:
		s, ok := reader.WireDecimalText(b, *c.Scale)
		if !ok {
			return buf, false // NaN or an infinity, which the generic path refuses
		}
		if e.format == NDJSON {
			return append(append(append(buf, '"'), s...), '"'), true // digits, '-', '.': no escapes
		}
		return append(buf, s...), true // nothing a CSV field quotes
	case reader.WireUUID:
		if e.format == NDJSON {
			out, ok := reader.AppendWireUUID(append(buf, '"'), b)
			if !ok {
				return buf, false
			}
			return append(out, '"'), true
		}
		return reader.AppendWireUUID(buf, b)
	}
	return buf, false
}

// null appends a NULL.
func (e *encoder) null(buf []byte) []byte {
	if e.format == NDJSON {
		return append(buf, "null"...)
	}
	return buf
}

// int appends an integer of an int or bigint column: bigint travels as a string in JSON, and
// an int outside 32 bits is null, as in GraphQL.
func (e *encoder) int(buf []byte, c *views.Column, v int64) []byte {
	if c.Type == views.Int && (v < math.MinInt32 || v > math.MaxInt32) {
		return e.null(buf)
	}
	if c.Type == views.BigInt && e.format == NDJSON {
		return append(strconv.AppendInt(append(buf, '"'), v, 10), '"')
	}
	return strconv.AppendInt(buf, v, 10)
}

// record appends one streamed row: wire forms from their bytes, the other columns from their
// presented values.
func (e *encoder) record(buf []byte, rd *reader.Read, show []reader.Shown, row *reader.Row) ([]byte, error) {
	buf = e.begin(buf)
	for i, sh := range show {
		buf = e.key(buf, i)
		if row.Wire != nil && sh.At >= 0 && sh.Mode == views.PIINone {
			if w := row.Wire[sh.At]; w != reader.WireNone {
				var ok bool
				if buf, ok = e.wire(buf, i, w, row.Raw[sh.At]); !ok {
					return buf, fmt.Errorf("export %s: column %s: bytes its wire form does not take", rd.View.Field, sh.Col.Name)
				}
				continue
			}
		}
		buf = e.value(buf, i, rd.Raw(row.Values, sh))
	}
	return e.end(buf), nil
}
