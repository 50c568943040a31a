package views

import (
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"slices"
	"sort"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Filter is a parsed where argument: its conditions, and, or and not all hold together.
type Filter struct {
	Conds []Cond
	And   []*Filter
	Or    []*Filter
	Not   *Filter
}

// Cond is one operator applied to one column.
type Cond struct {
	Column *Column
	Op     Op
	Value  any // normal form; []any for in and notIn; bool for isNull
}

// ErrBadFilter is wrapped by every error about a where argument.
var ErrBadFilter = fault.New(fault.BadUserInput, "bad filter")

// Filter size bounds, so that a where argument cannot grow without limit, and its bind
// parameters stay well under every engine's limit (SQLite: 32766) even where MySQL binds a
// text list twice.
const (
	maxFilterDepth = 8
	maxConds       = 100  // column conditions
	maxNodes       = 200  // where objects, combinators included
	maxInValues    = 500  // values in one in or notIn list
	maxValues      = 2000 // values in all in and notIn lists together
)

// size counts what a where argument holds as it is parsed.
type size struct{ conds, nodes, values int }

// ParseWhere converts a where argument (a GraphQL input object as a map) into a Filter; it
// returns an error wrapping ErrBadFilter that names the offending path.
func ParseWhere(v *View, in map[string]any) (*Filter, error) {
	return parseWhere(v, in, "where", 0, &size{})
}

func parseWhere(v *View, in map[string]any, path string, depth int, n *size) (*Filter, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("%w: %s: nested deeper than %d levels", ErrBadFilter, path, maxFilterDepth)
	}
	if n.nodes++; n.nodes > maxNodes {
		return nil, fmt.Errorf("%w: %s: more than %d where objects", ErrBadFilter, path, maxNodes)
	}
	f := &Filter{}
	for _, key := range sortedKeys(in) {
		at := path + "." + key
		var err error
		switch key {
		case "and", "or":
			var list []*Filter
			list, err = parseList(v, in[key], at, depth, n)
			if key == "and" {
				f.And = list
			} else {
				f.Or = list
			}
		case "not":
			m, ok := in[key].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s: want an object", ErrBadFilter, at)
			}
			f.Not, err = parseWhere(v, m, at, depth+1, n)
		default:
			err = f.parseColumn(v, key, in[key], at, n)
		}
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(f.Conds, func(i, j int) bool {
		a, b := f.Conds[i], f.Conds[j]
		if a.Column.index != b.Column.index {
			return a.Column.index < b.Column.index
		}
		return slices.Index(Ops, a.Op) < slices.Index(Ops, b.Op)
	})
	return f, nil
}

func parseList(v *View, raw any, at string, depth int, n *size) ([]*Filter, error) {
	items, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: want a list of objects", ErrBadFilter, at)
	}
	out := make([]*Filter, 0, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s[%d]: want an object", ErrBadFilter, at, i)
		}
		f, err := parseWhere(v, m, fmt.Sprintf("%s[%d]", at, i), depth+1, n)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (f *Filter) parseColumn(v *View, field string, raw any, at string, n *size) error {
	col := v.fieldColumn(field)
	if col == nil || len(col.Filter) == 0 {
		return fmt.Errorf("%w: %s: %s has no filterable field %q", ErrBadFilter, at, v.Name, field)
	}
	ops, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: %s: want an object of operators", ErrBadFilter, at)
	}
	for _, name := range sortedKeys(ops) {
		op := Op(name)
		if !col.CanFilter(op) {
			return fmt.Errorf("%w: %s.%s: operator not allowed on %s (allowed: %s)", ErrBadFilter, at, name, field, joinOps(col.Filter))
		}
		if n.conds++; n.conds > maxConds {
			return fmt.Errorf("%w: %s.%s: more than %d conditions", ErrBadFilter, at, name, maxConds)
		}
		val, err := parseOperand(col, op, ops[name])
		if err != nil {
			return fmt.Errorf("%w: %s.%s: %w", ErrBadFilter, at, name, err)
		}
		if list, ok := val.([]any); ok {
			if n.values += len(list); n.values > maxValues {
				return fmt.Errorf("%w: %s.%s: more than %d in/notIn values in all", ErrBadFilter, at, name, maxValues)
			}
		}
		f.Conds = append(f.Conds, Cond{Column: col, Op: op, Value: val})
	}
	return nil
}

func parseOperand(col *Column, op Op, raw any) (any, error) {
	switch op {
	case IsNull:
		b, ok := raw.(bool)
		if !ok {
			return nil, fmt.Errorf("%w: want true or false", ErrBadValue)
		}
		return b, nil
	case In, NotIn:
		items, ok := raw.([]any)
		if !ok || len(items) == 0 || len(items) > maxInValues {
			return nil, fmt.Errorf("%w: want a list of 1 to %d values", ErrBadValue, maxInValues)
		}
		out := make([]any, len(items))
		for i, item := range items {
			val, err := parseValue(col, item)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = val
		}
		return out, nil
	}
	if op.MatchesText() {
		s, ok := raw.(string)
		if !ok || s == "" || len(s) > maxTextValue {
			return nil, fmt.Errorf("%w: want a non-empty string of at most %d bytes", ErrBadValue, maxTextValue)
		}
		if err := checkText(s); err != nil {
			return nil, err
		}
		return s, nil
	}
	return parseValue(col, raw)
}

func (v *View) fieldColumn(field string) *Column {
	for _, c := range v.Columns {
		if c.Field == field {
			return c
		}
	}
	return nil
}

// FieldColumn returns the column exposed as the GraphQL field, or nil.
func (v *View) FieldColumn(field string) *Column { return v.fieldColumn(field) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compile renders the filter as a squirrel predicate, or nil when it is empty.
func (d *Dialect) compile(f *Filter) sq.Sqlizer {
	if f == nil {
		return nil
	}
	var all sq.And
	for _, c := range f.Conds {
		all = append(all, d.cond(c))
	}
	for _, sub := range f.And {
		if s := d.compile(sub); s != nil {
			all = append(all, s)
		}
	}
	if len(f.Or) > 0 {
		var alts sq.Or
		for _, sub := range f.Or {
			s := d.compile(sub)
			if s == nil {
				s = sq.Expr("1=1") // an empty alternative matches everything
			}
			alts = append(alts, s)
		}
		all = append(all, alts)
	}
	if f.Not != nil {
		s := d.compile(f.Not)
		if s == nil {
			s = sq.Expr("1=1") // an empty filter matches everything, so its negation nothing
		}
		all = append(all, not{s})
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return all
}

type not struct{ s sq.Sqlizer }

func (n not) ToSql() (string, []any, error) {
	s, args, err := n.s.ToSql()
	return "NOT (" + s + ")", args, err
}

var comparison = map[Op]string{Lt: "<", Lte: "<=", Gt: ">", Gte: ">=", Neq: "<>"}

// cond renders one condition; values are always placeholders.
func (d *Dialect) cond(c Cond) sq.Sqlizer {
	col, q := c.Column, d.Quote(c.Column.Name)
	switch c.Op {
	case IsNull:
		if c.Value.(bool) {
			return sq.Expr(q + " IS NULL")
		}
		return sq.Expr(q + " IS NOT NULL")
	case Eq:
		return d.equal(col, c.Value)
	case Neq, Lt, Lte, Gt, Gte:
		return sq.Expr(d.ordered(col)+" "+comparison[c.Op]+" "+d.placeholder(col), d.arg(col, c.Value))
	case In:
		return d.in(col, c.Value.([]any))
	case NotIn:
		return not{d.in(col, c.Value.([]any))}
	case StartsWith:
		return d.like(col, escapeLike(c.Value.(string))+"%")
	case Contains:
		return d.like(col, "%"+escapeLike(c.Value.(string))+"%")
	case StartsWithExact:
		return d.matchExact(col, c.Value.(string), true)
	case ContainsExact:
		return d.matchExact(col, c.Value.(string), false)
	}
	return sq.Expr("1=0") // unreachable: parseColumn only admits the operators above
}

// equal is exact equality; on MySQL the plain comparison narrows through an index and the
// binary one rejects what the _ci collation would wrongly match (case, accents, trailing
// spaces). The narrowing half binds a value a utf8mb3 column can take (see narrowText).
func (d *Dialect) equal(col *Column, v any) sq.Sqlizer {
	q, a := d.Quote(col.Name), d.arg(col, v)
	if d == MySQL && col.Type == Text {
		narrow, wide := narrowText(a.(string))
		return sq.Expr("(("+q+" = ? OR ?) AND "+d.ordered(col)+" = ?)", narrow, wide, a)
	}
	return sq.Expr(q+" = "+d.placeholder(col), a)
}

func (d *Dialect) in(col *Column, vals []any) sq.Sqlizer {
	q := d.Quote(col.Name)
	if d == Postgres {
		return sq.Expr(q+" = ANY(?)", d.arrayArg(col, vals))
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = d.arg(col, v)
	}
	list := "(" + strings.Repeat(d.placeholder(col)+", ", len(vals)-1) + d.placeholder(col) + ")"
	if d == MySQL && col.Type == Text {
		narrow, anyWide := make([]any, len(vals)), false
		for i, a := range args {
			var wide bool
			narrow[i], wide = narrowText(a.(string))
			anyWide = anyWide || wide
		}
		all := append(append(narrow, anyWide), args...)
		return sq.Expr("(("+q+" IN "+list+" OR ?) AND "+d.ordered(col)+" IN "+list+")", all...)
	}
	return sq.Expr(q+" IN "+list, args...)
}

// likeEscape is the LIKE escape character: not a backslash, whose meaning in string literals
// differs between engines and SQL modes.
const likeEscape = "!"

func escapeLike(s string) string {
	r := strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")
	return r.Replace(s)
}

func (d *Dialect) like(col *Column, pattern string) sq.Sqlizer {
	return sq.Expr(d.lower(d.Quote(col.Name))+" LIKE "+d.lower("?")+" ESCAPE '"+likeEscape+"'", pattern)
}

// search matches term case-insensitively anywhere in any of the view's search columns.
func (d *Dialect) search(v *View, term string) sq.Sqlizer {
	var alts sq.Or
	for _, name := range v.Search {
		alts = append(alts, d.like(v.byName[name], "%"+escapeLike(term)+"%"))
	}
	return alts
}
