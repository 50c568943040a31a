package views

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"slices"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Query is what a caller asks of one view.
type Query struct {
	View    *View
	Fields  []*Column   // the columns to return; order and key columns are added as needed
	Where   *Filter     // nil for none
	Search  string      // "" for none
	OrderBy []OrderTerm // nil for the view's default order
	After   string      // a cursor from a previous page, or ""
	First   int         // page size, 0..View.MaxPageSize
	Tenant  string      // the caller's tenant; required when the view has a tenant column
}

// Term is one column of a statement's complete ordering.
type Term struct {
	Column *Column
	Desc   bool
}

// Statement is a compiled SELECT with what is needed to read its rows.
type Statement struct {
	SQL     string
	Args    []any
	Columns []*Column // the selected columns, in catalog order
	Terms   []Term    // the ordering: requested terms, then the key

	// Class is the quota class the statement is logged under when the builder knows it
	// (aggregates: report); "" leaves it to the reader.
	Class string

	dialect   *Dialect
	cursors   *Cursors
	view      *View
	termIndex []int // position of each term's column in Columns
	orderSig  string
	query     *Query
	scope     string   // computed on first use: most pages issue no cursor and take none
	agg       *aggPlan // an aggregate statement's columns; nil for a page or count
}

// Builder compiles queries for one dialect.
type Builder struct {
	Dialect *Dialect
	Cursors *Cursors

	texts textCache // statement texts squirrel wrote, by their inputs (texts.go)
}

// Errors about a query as a whole.
var (
	ErrBadOrder    = fault.New(fault.BadUserInput, "bad orderBy")
	ErrBadPageSize = fault.New(fault.BadUserInput, "bad page size")
	ErrNoTenant    = fault.New(fault.Forbidden, "no tenant for a tenant-scoped view")
)

// maxSearch bounds the search argument.
const maxSearch = 256

// Select compiles the page query; errors wrap ErrBadFilter, ErrBadCursor, ErrBadOrder,
// ErrBadPageSize or ErrNoTenant.
func (b *Builder) Select(q *Query) (*Statement, error) {
	if q.First < 0 || q.First > q.View.MaxPageSize {
		return nil, fmt.Errorf("%w: first must be between 0 and %d for %s, got %d", ErrBadPageSize, q.View.MaxPageSize, q.View.Field, q.First)
	}
	return b.selectLimit(q, q.First+1)
}

// Export compiles the statement of an export: the page query's rows in the same order, read
// up to limit rows (at least 1) in one statement whatever the view's page size; q.First is
// not used. Errors are those of Select.
func (b *Builder) Export(q *Query, limit int) (*Statement, error) {
	return b.selectLimit(q, max(limit, 1))
}

func (b *Builder) selectLimit(q *Query, limit int) (*Statement, error) {
	st, pred, err := b.prepare(q)
	if err != nil {
		return nil, err
	}
	if q.After != "" {
		orderTerms := make([]OrderTerm, len(st.Terms))
		for i, t := range st.Terms {
			orderTerms[i] = OrderTerm{Column: t.Column.Name, Desc: t.Desc}
		}
		vals, err := b.Cursors.decode(q.After, q.View, orderTerms, st.orderSig, st.cursorScope())
		if err != nil {
			return nil, err
		}
		pred = append(pred, b.Dialect.keyset(st.Terms, vals))
	}
	k := textKey{view: q.View, kind: 's', cols: positions(st.Columns), terms: termPositions(st.Terms)}
	st.SQL, st.Args, err = b.cached(k, pred, []any{limit}, func() (string, []any, error) {
		cols := make([]string, len(st.Columns))
		for i, c := range st.Columns {
			cols[i] = b.Dialect.Quote(c.Name)
		}
		var order []string
		for _, t := range st.Terms {
			order = append(order, b.Dialect.orderBy(t.Column, t.Desc)...)
		}
		sel := sq.Select(cols...).From(b.Dialect.QuoteRelation(q.View.Relation)).OrderBy(order...).
			Suffix("LIMIT ?", limit).PlaceholderFormat(b.Dialect.format)
		if len(pred) > 0 {
			sel = sel.Where(pred)
		}
		return sel.ToSql()
	})
	if err != nil {
		return nil, fmt.Errorf("build select for %s: %w", q.View.Field, err)
	}
	return st, nil
}

// Count compiles the totalCount query: the same rows as Select without cursor or limit.
func (b *Builder) Count(q *Query) (*Statement, error) {
	st, pred, err := b.prepare(q)
	if err != nil {
		return nil, err
	}
	st.SQL, st.Args, err = b.cached(textKey{view: q.View, kind: 'c'}, pred, nil, func() (string, []any, error) {
		sel := sq.Select("COUNT(*)").From(b.Dialect.QuoteRelation(q.View.Relation)).PlaceholderFormat(b.Dialect.format)
		if len(pred) > 0 {
			sel = sel.Where(pred)
		}
		return sel.ToSql()
	})
	if err != nil {
		return nil, fmt.Errorf("build count for %s: %w", q.View.Field, err)
	}
	st.Columns = []*Column{{Name: "count", Type: Int}}
	return st, nil
}

// prepare resolves the ordering, the selected columns and the predicates shared by Select and Count.
func (b *Builder) prepare(q *Query) (*Statement, sq.And, error) {
	v, d := q.View, b.Dialect
	terms, err := resolveOrder(v, q.OrderBy)
	if err != nil {
		return nil, nil, err
	}
	pred, err := b.rows(v, q.Tenant, q.Where, q.Search)
	if err != nil {
		return nil, nil, err
	}
	st := &Statement{Terms: terms, dialect: d, cursors: b.Cursors, view: v}
	st.Columns = selectColumns(v, q.Fields, terms)
	for _, t := range terms {
		st.termIndex = append(st.termIndex, slices.Index(st.Columns, t.Column))
	}
	st.orderSig = orderSignature(terms)
	st.query = q
	return st, pred, nil
}

// rows returns the predicates that pick a caller's rows of v: the tenant's, matching where and search.
func (b *Builder) rows(v *View, tenant string, where *Filter, search string) (sq.And, error) {
	d := b.Dialect
	var pred sq.And
	if v.TenantColumn != "" {
		if tenant == "" {
			return nil, fmt.Errorf("%w: %s", ErrNoTenant, v.Field)
		}
		pred = append(pred, d.equal(&Column{Name: v.TenantColumn, Type: Text}, tenant))
	}
	if f := d.compile(where); f != nil {
		pred = append(pred, f)
	}
	if search != "" {
		if len(v.Search) == 0 {
			return nil, fmt.Errorf("%w: %s has no searchable columns", ErrBadFilter, v.Field)
		}
		if len(search) > maxSearch {
			return nil, fmt.Errorf("%w: search is longer than %d bytes", ErrBadFilter, maxSearch)
		}
		if err := checkText(search); err != nil {
			return nil, fmt.Errorf("%w: search: %w", ErrBadFilter, err)
		}
		pred = append(pred, d.search(v, search))
	}
	return pred, nil
}

func resolveOrder(v *View, order []OrderTerm) ([]Term, error) {
	if order == nil {
		order = v.DefaultOrder
	}
	var terms []Term
	seen := map[string]bool{}
	for i, o := range order {
		col := v.byName[o.Column]
		if col == nil || !(col.Sort || slices.Contains(v.Key, o.Column)) {
			return nil, fmt.Errorf("%w: orderBy[%d]: %s cannot be sorted by %q", ErrBadOrder, i, v.Name, o.Column)
		}
		if seen[o.Column] {
			return nil, fmt.Errorf("%w: orderBy[%d]: %q appears twice", ErrBadOrder, i, o.Column)
		}
		seen[o.Column] = true
		terms = append(terms, Term{Column: col, Desc: o.Desc})
	}
	desc := len(terms) > 0 && terms[len(terms)-1].Desc
	for _, k := range v.Key {
		if !seen[k] {
			terms = append(terms, Term{Column: v.byName[k], Desc: desc})
		}
	}
	return terms, nil
}

func selectColumns(v *View, fields []*Column, terms []Term) []*Column {
	want := make([]bool, len(v.Columns))
	for _, c := range fields {
		want[c.index] = true
	}
	for _, t := range terms {
		want[t.Column.index] = true
	}
	var cols []*Column
	for i, c := range v.Columns {
		if want[i] {
			cols = append(cols, c)
		}
	}
	return cols
}

func orderSignature(terms []Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.Column.Name
		if t.Desc {
			parts[i] += " desc"
		}
	}
	return strings.Join(parts, ",")
}

// cursorScope returns the statement's cursor scope, hashing it on first use.
func (st *Statement) cursorScope() string {
	if st.scope == "" {
		st.scope = scope(st.query)
	}
	return st.scope
}

// scope hashes what a cursor is bound to besides view and order: tenant, filter and search.
// It is built from normal-form values, not SQL, so the same query gets the same cursor on every engine.
func scope(q *Query) string {
	h := sha256.New()
	canon, _ := json.Marshal([]any{q.Tenant, canonical(q.Where), q.Search})
	h.Write(canon)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func canonical(f *Filter) any {
	if f == nil {
		return nil
	}
	var conds []any
	for _, c := range f.Conds {
		val := c.Value
		if list, ok := val.([]any); ok {
			out := make([]any, len(list))
			for i, x := range list {
				out[i] = cursorValue(c.Column, x)
			}
			val = out
		} else {
			val = cursorValue(c.Column, val)
		}
		conds = append(conds, []any{c.Column.Name, c.Op, val})
	}
	var and, or []any
	for _, s := range f.And {
		and = append(and, canonical(s))
	}
	for _, s := range f.Or {
		or = append(or, canonical(s))
	}
	return []any{conds, and, or, canonical(f.Not)}
}

// keyset renders "the row comes after the cursor row" for the complete ordering.
func (d *Dialect) keyset(terms []Term, vals []any) sq.Sqlizer {
	if d == Postgres && rowComparable(terms) {
		exprs, ph, args := make([]string, len(terms)), make([]string, len(terms)), make([]any, len(terms))
		for i, t := range terms {
			exprs[i], ph[i], args[i] = d.ordered(t.Column), d.placeholder(t.Column), d.arg(t.Column, vals[i])
		}
		op := ">"
		if terms[0].Desc {
			op = "<"
		}
		return sq.Expr("("+strings.Join(exprs, ", ")+") "+op+" ("+strings.Join(ph, ", ")+")", args...)
	}
	var alts sq.Or
	for i := range terms {
		var conj sq.And
		for j := 0; j < i; j++ {
			conj = append(conj, d.same(terms[j].Column, vals[j]))
		}
		after := d.after(terms[i], vals[i])
		if after == nil {
			continue // nothing sorts after NULL in this direction
		}
		alts = append(alts, append(conj, after))
	}
	if len(alts) == 0 {
		return sq.Expr("1=0")
	}
	return alts
}

// rowComparable reports whether a row-value comparison expresses the ordering exactly.
func rowComparable(terms []Term) bool {
	for _, t := range terms {
		if t.Column.IsNullable() || t.Desc != terms[0].Desc {
			return false
		}
	}
	return true
}

// same is NULL-safe equality in the ordering's sense.
func (d *Dialect) same(c *Column, v any) sq.Sqlizer {
	if v == nil {
		return sq.Expr(d.Quote(c.Name) + " IS NULL")
	}
	return sq.Expr(d.ordered(c)+" = "+d.placeholder(c), d.arg(c, v))
}

// after is "sorts strictly after v" with NULLs last ascending and first descending; nil means never.
func (d *Dialect) after(t Term, v any) sq.Sqlizer {
	q := d.Quote(t.Column.Name)
	switch {
	case v == nil && t.Desc:
		return sq.Expr(q + " IS NOT NULL")
	case v == nil:
		return nil
	case t.Desc:
		return sq.Expr(d.ordered(t.Column)+" < "+d.placeholder(t.Column), d.arg(t.Column, v))
	case t.Column.IsNullable():
		return sq.Or{sq.Expr(d.ordered(t.Column)+" > "+d.placeholder(t.Column), d.arg(t.Column, v)), sq.Expr(q + " IS NULL")}
	}
	return sq.Expr(d.ordered(t.Column)+" > "+d.placeholder(t.Column), d.arg(t.Column, v))
}

// Dests returns fresh scan destinations for one row of the statement.
func (st *Statement) Dests() []any {
	if st.agg != nil {
		return st.agg.dests(st.dialect)
	}
	dests := make([]any, len(st.Columns))
	for i, c := range st.Columns {
		dests[i] = st.dialect.dest(c)
	}
	return dests
}

// Decode converts scanned destinations into normal-form values aligned with Columns.
func (st *Statement) Decode(dests []any) ([]any, error) {
	if st.agg != nil {
		return st.agg.decode(st.dialect, dests)
	}
	row := make([]any, len(dests))
	if err := st.DecodeInto(row, dests); err != nil {
		return nil, err
	}
	return row, nil
}

// DecodeInto is Decode into row, which has a place per column, for readers that reuse it.
func (st *Statement) DecodeInto(row, dests []any) error {
	if st.agg != nil {
		return st.agg.decodeInto(st.dialect, row, dests)
	}
	for i, c := range st.Columns {
		v, err := st.dialect.decode(c, dests[i])
		if err != nil {
			return err
		}
		row[i] = v
	}
	return nil
}

// Cursor returns the opaque cursor that resumes after row.
func (st *Statement) Cursor(row []any) string { return st.cursors.encode(st, row) }

// Count returns the value of a decoded COUNT(*) row.
func Count(row []any) int {
	n, _ := row[0].(int64)
	return int(n)
}
