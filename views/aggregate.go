package views

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	sq "github.com/Masterminds/squirrel"
	"github.com/viewgate/viewgate/fault"
)

// GroupTerm is one entry of groupBy: a dimension, by its value or by a time bucket.
type GroupTerm struct {
	Column *Column
	Bucket Bucket // "": the value itself
}

// Measure is one aggregate: AggCount (Column nil), or an aggregate a measure column offers.
type Measure struct {
	Agg    Agg
	Column *Column
}

// GroupOrder is one term of a group ordering: the key of a grouped dimension (Agg ""), or an
// aggregate of the group.
type GroupOrder struct {
	Agg    Agg     // "" for a key
	Column *Column // the dimension or the measure; nil for AggCount
	Desc   bool
}

// AggregateQuery is what a caller asks of a view's aggregate root field.
type AggregateQuery struct {
	View    *View
	Where   *Filter // nil for none
	Search  string  // "" for none
	Tenant  string  // the caller's tenant; required when the view has a tenant column
	GroupBy []GroupTerm
	OrderBy []GroupOrder // nil: by the keys, in groupBy order, ascending
	First   int          // groups per page, 0..the view's max_groups
	After   string       // a group cursor from a previous page, or ""
	Totals  []Measure    // the aggregates over every matching row; nil: totals are not read
	Groups  []Measure    // the aggregates of each group; nil: groups are not read
}

// ErrBadGroup is wrapped by every error about a groupBy or a requested aggregate.
var ErrBadGroup = fault.New(fault.BadUserInput, "bad groupBy")

// ReportClass is the quota class every aggregate statement is logged under.
const ReportClass = "report"

// Aggregate compiles an aggregate query into one statement: a single aggregate SELECT over the
// caller's matching rows for the totals, or, when groups are read, a GROUP BY whose groups are
// ordered, keyset-paged and limited in SQL, with the totals over all groups computed by window
// functions in the same statement. It returns nil and no error when nothing asked for needs the
// database (groups without groupBy, totals without aggregates). Errors wrap ErrBadGroup,
// ErrBadOrder, ErrBadPageSize, ErrBadCursor, ErrBadFilter or ErrNoTenant.
func (b *Builder) Aggregate(q *AggregateQuery) (*Statement, error) {
	v := q.View
	if v.Aggregate == nil {
		return nil, fmt.Errorf("%w: %s has no aggregates", ErrBadGroup, v.Field)
	}
	if q.First < 0 || q.First > v.Aggregate.MaxGroups {
		return nil, fmt.Errorf("%w: too many groups: first must be between 0 and %d (max_groups) for %s, got %d",
			ErrBadPageSize, v.Aggregate.MaxGroups, v.Aggregate.Field, q.First)
	}
	if err := checkGroupBy(v, q.GroupBy); err != nil {
		return nil, err
	}
	for _, m := range append(slices.Clip(q.Totals), q.Groups...) {
		if err := checkMeasure(v, m); err != nil {
			return nil, err
		}
	}
	order, err := groupOrder(v, q)
	if err != nil {
		return nil, err
	}
	pred, err := b.rows(v, q.Tenant, q.Where, q.Search)
	if err != nil {
		return nil, err
	}
	grouped := q.Groups != nil && len(q.GroupBy) > 0
	if !grouped && len(q.Totals) == 0 {
		return nil, nil
	}
	p := &aggPlan{field: v.Aggregate.Field, first: q.First, in: -1, grouped: grouped}
	st := &Statement{Class: ReportClass, dialect: b.Dialect, cursors: b.Cursors, view: v, agg: p}
	if !grouped {
		err = b.totalsOnly(st, q, pred)
	} else {
		err = b.grouped(st, q, order, pred)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

func checkGroupBy(v *View, terms []GroupTerm) error {
	for i, t := range terms {
		c := t.Column
		switch {
		case c == nil || v.byName[c.Name] != c || !c.Dimension:
			return fmt.Errorf("%w: groupBy[%d]: %s is not a dimension of %s", ErrBadGroup, i, name(c), v.Name)
		case t.Bucket != "" && len(c.BucketsOffered()) == 0:
			return fmt.Errorf("%w: groupBy[%d]: %s is %s; only date and timestamp dimensions have buckets", ErrBadGroup, i, c.Field, c.Type)
		case t.Bucket != "" && !slices.Contains(c.BucketsOffered(), t.Bucket):
			return fmt.Errorf("%w: groupBy[%d]: %s cannot be bucketed by %q (offered: %s)", ErrBadGroup, i, c.Field, t.Bucket, joinBuckets(c.BucketsOffered()))
		case slices.ContainsFunc(terms[:i], func(o GroupTerm) bool { return o.Column == c }):
			return fmt.Errorf("%w: groupBy[%d]: %s appears twice", ErrBadGroup, i, c.Field)
		}
	}
	return nil
}

func checkMeasure(v *View, m Measure) error {
	if m.Agg == AggCount && m.Column == nil {
		return nil
	}
	if m.Column == nil || v.byName[m.Column.Name] != m.Column || !m.Column.Offers(m.Agg) {
		return fmt.Errorf("%w: %s does not offer %s of %s", ErrBadGroup, v.Name, m.Agg, name(m.Column))
	}
	return nil
}

func name(c *Column) string {
	if c == nil {
		return "no column"
	}
	return c.Field
}

// groupOrder returns the complete ordering of the groups: the requested terms, then every key
// not among them, ascending, in groupBy order, so that the order is total.
func groupOrder(v *View, q *AggregateQuery) ([]GroupOrder, error) {
	var out []GroupOrder
	for i, o := range q.OrderBy {
		if o.Agg == "" {
			if !slices.ContainsFunc(q.GroupBy, func(t GroupTerm) bool { return t.Column == o.Column }) {
				return nil, fmt.Errorf("%w: orderBy[%d]: the groups are not grouped by %s", ErrBadOrder, i, name(o.Column))
			}
		} else if err := checkMeasure(v, Measure{o.Agg, o.Column}); err != nil {
			return nil, fmt.Errorf("%w: orderBy[%d]: %w", ErrBadOrder, i, err)
		}
		if slices.ContainsFunc(out, func(p GroupOrder) bool { return p.Agg == o.Agg && p.Column == o.Column }) {
			return nil, fmt.Errorf("%w: orderBy[%d]: %s appears twice", ErrBadOrder, i, GroupSortValue(o.Agg, o.Column))
		}
		out = append(out, o)
	}
	for _, t := range q.GroupBy {
		if !slices.ContainsFunc(out, func(o GroupOrder) bool { return o.Agg == "" && o.Column == t.Column }) {
			out = append(out, GroupOrder{Column: t.Column})
		}
	}
	return out, nil
}

// totalsOnly builds the one-row aggregate of every matching row.
func (b *Builder) totalsOnly(st *Statement, q *AggregateQuery, pred sq.And) error {
	p := st.agg
	p.totals = map[Measure]int{}
	var cols []string
	for _, m := range q.Totals {
		if _, dup := p.totals[m]; dup {
			continue
		}
		p.totals[m] = p.add(b.measureSlot(m, "t", false))
		cols = append(cols, p.slots[p.totals[m]].selectExpr(b.Dialect))
	}
	sel := sq.Select(cols...).From(b.Dialect.QuoteRelation(q.View.Relation)).Suffix("LIMIT ?", 1).PlaceholderFormat(b.Dialect.format)
	if len(pred) > 0 {
		sel = sel.Where(pred)
	}
	var err error
	if st.SQL, st.Args, err = sel.ToSql(); err != nil {
		return fmt.Errorf("build aggregate for %s: %w", q.View.Field, err)
	}
	return nil
}

// grouped builds SELECT … FROM (SELECT keys, aggregates[, totals] FROM view WHERE … GROUP BY
// keys) AS g [WHERE after the cursor] ORDER BY … LIMIT first+1. With totals, the rows before
// the cursor are not filtered out but flagged and sorted last, so that the totals are read
// even from a page past the last group.
func (b *Builder) grouped(st *Statement, q *AggregateQuery, order []GroupOrder, pred sq.And) error {
	d, p := b.Dialect, st.agg
	for _, t := range q.GroupBy {
		p.keys = append(p.keys, p.add(keySlot(d, t)))
	}
	p.groups = map[Measure]int{}
	wanted := slices.Clone(q.Groups)
	for _, o := range order {
		if o.Agg != "" {
			wanted = append(wanted, Measure{o.Agg, o.Column})
		}
	}
	for _, m := range wanted {
		if _, dup := p.groups[m]; !dup {
			p.groups[m] = p.add(b.measureSlot(m, "a", false))
		}
	}
	if q.Totals != nil {
		p.totals = map[Measure]int{}
		for _, m := range q.Totals {
			if _, dup := p.totals[m]; !dup {
				p.totals[m] = p.add(b.measureSlot(m, "t", true))
			}
		}
	}
	inner, outer := make([]string, len(p.slots)), make([]string, len(p.slots))
	var groupBy []string
	for i, s := range p.slots {
		inner[i], outer[i] = s.selectExpr(d), d.Quote(s.alias)
		if slices.Contains(p.keys, i) {
			groupBy = append(groupBy, s.expr)
		}
	}
	sub := sq.Select(inner...).From(d.QuoteRelation(q.View.Relation)).GroupBy(groupBy...)
	if len(pred) > 0 {
		sub = sub.Where(pred)
	}
	p.order(q, order)
	sel := sq.Select(outer...).FromSelect(sub, d.Quote("g"))
	var orderBy []string
	if q.After != "" {
		after, err := p.keyset(d, st.cursors, q)
		if err != nil {
			return err
		}
		if p.totals != nil {
			k, args, err := after.ToSql()
			if err != nil {
				return fmt.Errorf("build aggregate for %s: %w", q.View.Field, err)
			}
			p.in = p.add(slot{alias: "vg_in", kind: asFlag})
			sel = sel.Column(sq.Alias(sq.Expr("CASE WHEN "+k+" THEN 1 ELSE 0 END", args...), d.Quote("vg_in")))
			orderBy = append(orderBy, d.Quote("vg_in")+" DESC")
		} else {
			sel = sel.Where(after)
		}
	}
	for _, t := range p.terms {
		orderBy = append(orderBy, d.orderBy(p.slots[t.slot].db, t.desc)...)
	}
	var err error
	st.SQL, st.Args, err = sel.OrderBy(orderBy...).Suffix("LIMIT ?", q.First+1).PlaceholderFormat(d.format).ToSql()
	if err != nil {
		return fmt.Errorf("build aggregate for %s: %w", q.View.Field, err)
	}
	return nil
}

// keySlot is the slot of a groupBy term: the value in code-point order for text (grouping by
// it makes groups of exactly equal text), or the bucket's start.
func keySlot(d *Dialect, t GroupTerm) slot {
	c := t.Column
	norm := &Column{Name: c.Name, Type: c.Type, Scale: c.Scale, Nullable: c.Nullable}
	expr := d.ordered(c)
	if t.Bucket != "" {
		expr = d.bucket(c, t.Bucket)
		norm.Scale = nil
	}
	return slot{prefix: "k", expr: expr, kind: asColumn, norm: norm}
}

// measureSlot is the slot of one aggregate; total makes it the aggregate over every group of a
// grouped statement (a window over the groups' aggregates).
func (b *Builder) measureSlot(m Measure, prefix string, total bool) slot {
	d := b.Dialect
	over := func(fn, e string) string {
		if !total {
			return e
		}
		return fn + "(" + e + ") OVER ()"
	}
	notNull := false
	s := slot{prefix: prefix, kind: asNumber}
	c := m.Column
	switch m.Agg {
	case AggCount:
		s.expr = over("SUM", "COUNT(*)")
		s.norm = &Column{Name: "count", Type: Int, Nullable: &notNull}
	case AggSum:
		e, shift := d.sum(c)
		s.expr, s.shift = over("SUM", e), shift
		s.norm = &Column{Name: c.Name, Type: BigInt}
		if c.Type == Decimal {
			s.norm = &Column{Name: c.Name, Type: Decimal, Scale: c.Scale}
		}
	case AggAvg:
		scale := 4
		if c.Scale != nil {
			scale += *c.Scale
		}
		// The exact sum times 10^(scale+4) over the count, rounded half away from zero:
		// trunc((2·a + sign(a)·n) / (2·n)), in integer arithmetic.
		a := "(" + over("SUM", d.scaledSum(c)) + ") * 10000"
		n := "(" + over("SUM", "COUNT("+d.Quote(c.Name)+")") + ")"
		s.expr = d.quotient("2 * "+a+" + SIGN("+a+") * "+n, "2 * "+n)
		s.shift = scale
		s.norm = &Column{Name: c.Name, Type: Decimal, Scale: &scale}
	default: // AggMin, AggMax
		fn := strings.ToUpper(string(m.Agg))
		s.expr = over(fn, fn+"("+d.ordered(c)+")")
		s.kind = asColumn
		s.norm = &Column{Name: c.Name, Type: c.Type, Scale: c.Scale}
	}
	return s
}

// aggPlan is how an aggregate statement's columns are read, ordered and resumed.
type aggPlan struct {
	slots   []slot
	keys    []int           // the slot of each groupBy term
	groups  map[Measure]int // the slot of each aggregate of the groups
	totals  map[Measure]int // the slot of each total; nil when totals are not read
	in      int             // the slot of the on-page flag; -1 without
	terms   []aggTerm       // the complete group ordering
	grouped bool
	first   int

	field, orderSig, scope string // what a group cursor is bound to
}

type aggTerm struct {
	slot int
	desc bool
}

// slotKind says how a slot's value is read.
type slotKind uint8

const (
	asColumn slotKind = iota // in the norm column's type: keys, min, max
	asNumber                 // as exact text: counts, sums, averages
	asFlag                   // the on-page flag, 1 or 0
)

// slot is one column of an aggregate statement.
type slot struct {
	prefix string // of the alias: k (keys), a (group aggregates), t (totals)
	alias  string
	expr   string   // the expression in the SELECT that computes it
	kind   slotKind // how it is read
	norm   *Column  // the value's normal form: type, scale and nullability
	db     *Column  // the value as the statement holds it, under its alias: ordering and keyset
	shift  int      // asNumber: the statement's integer is the value × 10^shift
}

// add appends s, naming it and its database column, and returns its index.
func (p *aggPlan) add(s slot) int {
	if s.alias == "" {
		n := 0
		for _, o := range p.slots {
			if o.prefix == s.prefix {
				n++
			}
		}
		s.alias = s.prefix + strconv.Itoa(n)
	}
	if s.norm != nil {
		s.db = &Column{Name: s.alias, Type: s.norm.Type, Scale: s.norm.Scale, Nullable: s.norm.Nullable}
		if s.kind == asNumber && (s.shift > 0 || s.norm.Type == BigInt) {
			s.db.Type, s.db.Scale = BigInt, nil // an integer however the value is shown
		}
	}
	p.slots = append(p.slots, s)
	return len(p.slots) - 1
}

func (s slot) selectExpr(d *Dialect) string { return s.expr + " AS " + d.Quote(s.alias) }

// order resolves the complete ordering to slots and derives the cursor's binding: the
// ordering (every key with its bucket) and the scope (tenant, where, search).
func (p *aggPlan) order(q *AggregateQuery, order []GroupOrder) {
	sig := make([]string, len(order))
	for i, o := range order {
		t := aggTerm{desc: o.Desc}
		if o.Agg == "" {
			k := slices.IndexFunc(q.GroupBy, func(g GroupTerm) bool { return g.Column == o.Column })
			t.slot = p.keys[k]
			sig[i] = "key." + o.Column.Name
			if b := q.GroupBy[k].Bucket; b != "" {
				sig[i] += "/" + string(b)
			}
		} else {
			m := Measure{o.Agg, o.Column}
			t.slot = p.groups[m]
			sig[i] = string(o.Agg)
			if o.Column != nil {
				sig[i] += "." + o.Column.Name
			}
		}
		if o.Desc {
			sig[i] += " desc"
		}
		p.terms = append(p.terms, t)
	}
	p.orderSig = strings.Join(sig, ",")
	p.scope = scope(&Query{Tenant: q.Tenant, Where: q.Where, Search: q.Search})
}

// keyset decodes the after cursor and renders "the group sorts after the cursor's group".
func (p *aggPlan) keyset(d *Dialect, c *Cursors, q *AggregateQuery) (sq.Sqlizer, error) {
	cols := make([]*Column, len(p.terms))
	for i, t := range p.terms {
		cols[i] = p.slots[t.slot].norm
	}
	vals, err := c.open(q.After, p.field, p.orderSig, p.scope, cols)
	if err != nil {
		return nil, err
	}
	terms := make([]Term, len(p.terms))
	for i, t := range p.terms {
		s := p.slots[t.slot]
		terms[i] = Term{Column: s.db, Desc: t.desc}
		if s.shift > 0 && vals[i] != nil {
			vals[i] = unshift(vals[i].(string))
		}
	}
	return d.keyset(terms, vals), nil
}
