package views

import (
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AggregateResult is the answer of an aggregate statement.
type AggregateResult struct {
	Totals  *Aggregates // nil when totals were not asked for
	Groups  []Group     // the page of groups, in order
	HasNext bool        // more groups follow the last one
}

// Aggregates holds aggregate values in normal form: a count is an int64, a sum of integers a
// BigInt string, a sum of decimals a decimal string at the column's scale, an average a decimal
// string at the column's scale + 4, a min or max the column's normal form; nil is SQL NULL.
type Aggregates struct{ values map[Measure]any }

// Value returns the value of m, nil when it is NULL or was not computed.
func (a *Aggregates) Value(m Measure) any { return a.values[m] }

// Group is one group of a page.
type Group struct {
	Key []any // per groupBy term, its value or its bucket's start in normal form; nil for NULL
	Aggregates

	st  *Statement
	row []any
}

// Cursor returns the opaque cursor that resumes after the group (made when asked for: each is
// an HMAC).
func (g *Group) Cursor() string { return g.st.groupCursor(g.row) }

// Result reads an aggregate statement's decoded rows (the statement's Dests and Decode, at
// most first+1 of them); an empty result, when the statement is nil, has totals with count 0.
func (st *Statement) Result(rows [][]any) *AggregateResult {
	res := &AggregateResult{}
	if st == nil || st.agg == nil {
		return res
	}
	p := st.agg
	if p.totals != nil {
		var row []any
		if len(rows) > 0 {
			row = rows[0]
		}
		res.Totals = p.aggregates(p.totals, row)
	}
	if !p.grouped {
		return res
	}
	for _, row := range rows {
		if p.in >= 0 && row[p.in] != int64(1) {
			break // the flagged rows before the cursor sort last
		}
		if len(res.Groups) == p.first {
			res.HasNext = true
			break
		}
		g := Group{Key: make([]any, len(p.keys)), Aggregates: *p.aggregates(p.groups, row), st: st, row: row}
		for i, k := range p.keys {
			g.Key[i] = row[k]
		}
		res.Groups = append(res.Groups, g)
	}
	return res
}

// aggregates picks the values of slots out of row; with no row (no group at all) the count is
// 0 and everything else NULL.
func (p *aggPlan) aggregates(slots map[Measure]int, row []any) *Aggregates {
	a := &Aggregates{values: make(map[Measure]any, len(slots))}
	for m, i := range slots {
		switch {
		case row != nil:
			a.values[m] = row[i]
		case m.Agg == AggCount:
			a.values[m] = int64(0)
		}
	}
	return a
}

// groupCursor returns the opaque cursor that resumes after the group of row.
func (st *Statement) groupCursor(row []any) string {
	p := st.agg
	c := cursorPayload{View: p.field, Order: p.orderSig, Scope: p.scope, Values: make([]any, len(p.terms))}
	for i, t := range p.terms {
		c.Values[i] = cursorValue(p.slots[t.slot].norm, row[t.slot])
	}
	return st.cursors.seal(c)
}

func (p *aggPlan) dests(d *Dialect) []any {
	out := make([]any, len(p.slots))
	for i, s := range p.slots {
		switch s.kind {
		case asColumn:
			out[i] = d.dest(s.norm)
		case asFlag:
			out[i] = new(sql.NullInt64)
		default:
			out[i] = new(sql.NullString)
		}
	}
	return out
}

func (p *aggPlan) decode(d *Dialect, dests []any) ([]any, error) {
	row := make([]any, len(dests))
	if err := p.decodeInto(d, row, dests); err != nil {
		return nil, err
	}
	return row, nil
}

func (p *aggPlan) decodeInto(d *Dialect, row, dests []any) error {
	for i, s := range p.slots {
		var err error
		switch s.kind {
		case asColumn:
			row[i], err = d.decode(s.norm, dests[i])
		case asFlag:
			row[i] = dests[i].(*sql.NullInt64).Int64
		default:
			row[i], err = s.number(dests[i].(*sql.NullString))
		}
		if err != nil {
			return fmt.Errorf("decode aggregate %s: %w", s.alias, err)
		}
	}
	return nil
}

// exactNumber is how the engines print an exact number: SUM of a DECIMAL, a numeric, an integer.
var exactNumber = regexp.MustCompile(`^-?[0-9]{1,65}(\.[0-9]{1,30})?$`)

// number converts an exact number the statement returned to the slot's normal form.
func (s slot) number(v *sql.NullString) (any, error) {
	if !v.Valid {
		return nil, nil
	}
	if !exactNumber.MatchString(v.String) || (s.shift > 0 && strings.Contains(v.String, ".")) {
		return nil, fmt.Errorf("not an exact number (an integer overflow on SQLite?)")
	}
	text := v.String
	if s.shift > 0 {
		text = shift(text, s.shift)
	}
	switch s.norm.Type {
	case Int:
		return strconv.ParseInt(formatDecimal(text, 0), 10, 64)
	case BigInt:
		return formatDecimal(text, 0), nil
	}
	return formatDecimal(text, *s.norm.Scale), nil
}

// shift divides an integer's text by 10^n exactly: shift("-12345", 2) is "-123.45".
func shift(s string, n int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= n {
		s = strings.Repeat("0", n-len(s)+1) + s
	}
	s = s[:len(s)-n] + "." + s[len(s)-n:]
	if neg {
		s = "-" + s
	}
	return s
}

// unshift is the inverse of shift for a normal-form decimal: unshift("-123.45") is "-12345".
func unshift(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(strings.Replace(strings.TrimPrefix(s, "-"), ".", "", 1), "0")
	switch {
	case s == "":
		return "0"
	case neg:
		return "-" + s
	}
	return s
}
