package export

import (
	"strconv"
	"time"

	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// Format is an export's file format.
type Format string

// The formats.
const (
	CSV    Format = "csv"    // RFC 4180, UTF-8, CRLF, a header row
	NDJSON Format = "ndjson" // one JSON object per line, keys in column order
)

// MediaType returns the format's Content-Type.
func (f Format) MediaType() string {
	if f == CSV {
		return "text/csv; charset=utf-8; header=present"
	}
	return "application/x-ndjson"
}

// encoder writes an export's rows in one format; it reuses its buffer between rows.
type encoder struct {
	format   Format
	cols     []Column
	vcols    []*views.Column // each column's catalog column
	keys     [][]byte        // NDJSON: each column's quoted key and colon
	formulas bool            // CSV: prefix text cells that a spreadsheet would take for a formula
}

func newEncoder(f Format, cols []Column, vcols []*views.Column, formulas bool) *encoder {
	e := &encoder{format: f, cols: cols, vcols: vcols, formulas: formulas}
	for i, c := range cols {
		k := []byte{}
		if i > 0 {
			k = append(k, ',')
		}
		k = reader.AppendJSONString(k, c.Name)
		e.keys = append(e.keys, append(k, ':'))
	}
	return e
}

// header appends the CSV header row (nothing for NDJSON).
func (e *encoder) header(buf []byte) []byte {
	if e.format != CSV {
		return buf
	}
	for i, c := range e.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCSVText(buf, c.Name, false)
	}
	return append(buf, '\r', '\n')
}

// row appends one record of presented values (reader.Read.Value), one per column.
func (e *encoder) row(buf []byte, vals []any) []byte {
	buf = e.begin(buf)
	for i, v := range vals {
		buf = e.value(e.key(buf, i), i, v)
	}
	return e.end(buf)
}

// begin appends what opens a record.
func (e *encoder) begin(buf []byte) []byte {
	if e.format == NDJSON {
		return append(buf, '{')
	}
	return buf
}

// key appends what comes before column i's value: its key, or the field separator.
func (e *encoder) key(buf []byte, i int) []byte {
	if e.format == NDJSON {
		return append(buf, e.keys[i]...)
	}
	if i > 0 {
		return append(buf, ',')
	}
	return buf
}

// end appends what closes a record.
func (e *encoder) end(buf []byte) []byte {
	if e.format == NDJSON {
		return append(buf, '}', '\n')
	}
	return append(buf, '\r', '\n')
}

// value appends column i's presented value (reader.Read.Raw).
func (e *encoder) value(buf []byte, i int, v any) []byte {
	if e.format == CSV {
		return e.cell(buf, e.vcols[i], v)
	}
	if t, ok := v.(time.Time); ok {
		return append(appendTime(append(buf, '"'), e.vcols[i], t), '"')
	}
	return reader.AppendJSON(buf, e.vcols[i], v)
}

// cell appends one CSV field: NULL is empty, text as is (quoted when needed; an empty string
// is ""), everything else in its GraphQL form: numbers and booleans as JSON writes them, JSON
// as its text.
func (e *encoder) cell(buf []byte, c *views.Column, v any) []byte {
	t := c.Type
	if t == views.JSON && v != nil {
		start := len(buf)
		buf = reader.AppendJSON(buf, c, v)
		text := string(buf[start:])
		return appendCSVText(buf[:start], text, e.formulas)
	}
	switch x := v.(type) {
	case nil:
		return buf
	case string:
		return appendCSVText(buf, x, e.formulas && t == views.Text)
	case int64:
		if t == views.Int && (x < -1<<31 || x > 1<<31-1) {
			return buf // as in GraphQL, where Int is 32-bit: null
		}
		return strconv.AppendInt(buf, x, 10)
	case bool:
		return strconv.AppendBool(buf, x)
	case time.Time:
		return appendTime(buf, c, x)
	}
	start := len(buf)
	buf = reader.AppendJSON(buf, c, v)
	if string(buf[start:]) == "null" {
		return buf[:start]
	}
	return buf
}

// formulaStart reports whether a spreadsheet would read a cell starting with b as a formula
// (OWASP "CSV injection").
func formulaStart(b byte) bool {
	return b == '=' || b == '+' || b == '-' || b == '@' || b == '\t' || b == '\r'
}

// appendCSVText appends s as an RFC 4180 field, quoted when it holds a quote, comma, CR or LF,
// is empty, or starts with '#' (so that no data line can pass for a checkpoint line), with a
// leading ' when formulas is set and s starts like a formula.
func appendCSVText(buf []byte, s string, formulas bool) []byte {
	prefix := formulas && s != "" && formulaStart(s[0])
	quote := s == "" || s[0] == '#'
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case '"', ',', '\r', '\n':
			quote = true
		}
	}
	if !quote {
		if prefix {
			buf = append(buf, '\'')
		}
		return append(buf, s...)
	}
	buf = append(buf, '"')
	if prefix {
		buf = append(buf, '\'')
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}

// appendTime formats a date or timestamp in its normal form as views.Output does: YYYY-MM-DD,
// or RFC 3339 in UTC with the fraction it has.
func appendTime(buf []byte, c *views.Column, t time.Time) []byte {
	if c.Type == views.Date {
		return t.AppendFormat(buf, "2006-01-02")
	}
	return t.AppendFormat(buf, time.RFC3339Nano)
}
