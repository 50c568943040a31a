package resolvers

import (
	"encoding/json"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// RawAggregate returns the resolver of a view's aggregate root field for the execution schema:
// the answer already encoded as JSON in selection order, byte for byte what graphql-go's
// completion of Aggregate's maps gives (the golden tests compare the two), without completing
// every field of every group, and with a cursor made only where one is selected.
func (r *Resolvers) RawAggregate(v *views.View) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		sel := aggregateSelection(v, p.Info)
		q, res, err := r.rd.Aggregate(p.Context, v, reader.Args(p.Args), sel.totals, sel.groups)
		if err != nil {
			return nil, err
		}
		e := aggEncoder{w: walker{info: p.Info, seen: map[string]bool{}}, v: v, q: q, res: res}
		var sets []*ast.SelectionSet
		for _, f := range p.Info.FieldASTs {
			sets = append(sets, f.SelectionSet)
		}
		return json.RawMessage(e.root(nil, e.w.plan(sets))), nil
	}
}

type aggEncoder struct {
	w   walker
	v   *views.View
	q   *views.AggregateQuery
	res *views.AggregateResult
}

// countColumn serializes a count as graphql-go's 32-bit Int does.
var countColumn = &views.Column{Type: views.Int}

func (e aggEncoder) root(buf []byte, plan []planField) []byte {
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		switch f.name {
		case schema.AggTotals:
			totals := e.res.Totals
			if totals == nil {
				totals = &views.Aggregates{}
			}
			buf = e.aggregates(buf, totals, e.w.plan(f.sub), e.v.Name+"Totals", nil)
		case schema.AggGroups:
			buf = e.groups(buf, e.w.plan(f.sub))
		case schema.AggPageInfo:
			buf = e.pageInfo(buf, e.w.plan(f.sub))
		case "__typename":
			buf = appendString(buf, e.v.Name+"Aggregate")
		default:
			buf = append(buf, "null"...)
		}
	}
	return append(buf, '}')
}

func (e aggEncoder) groups(buf []byte, plan []planField) []byte {
	buf = append(buf, '[')
	for i := range e.res.Groups {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = e.aggregates(buf, &e.res.Groups[i].Aggregates, plan, e.v.Name+"Group", &e.res.Groups[i])
	}
	return append(buf, ']')
}

// aggregates encodes a Totals or a Group object; g is the group, nil for totals.
func (e aggEncoder) aggregates(buf []byte, a *views.Aggregates, plan []planField, typename string, g *views.Group) []byte {
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		switch agg := views.Agg(f.name); {
		case agg == views.AggCount:
			buf = appendValue(buf, countColumn, a.Value(views.Measure{Agg: views.AggCount}))
		case agg == views.AggSum || agg == views.AggAvg || agg == views.AggMin || agg == views.AggMax:
			buf = e.measures(buf, a, agg, e.w.plan(f.sub))
		case f.name == schema.AggKey && g != nil:
			buf = e.key(buf, g, e.w.plan(f.sub))
		case f.name == schema.AggCursor && g != nil:
			buf = appendString(buf, g.Cursor())
		case f.name == "__typename":
			buf = appendString(buf, typename)
		default:
			buf = append(buf, "null"...)
		}
	}
	return append(buf, '}')
}

var aggTypeNames = map[views.Agg]string{views.AggSum: "Sum", views.AggAvg: "Avg", views.AggMin: "Min", views.AggMax: "Max"}

func (e aggEncoder) measures(buf []byte, a *views.Aggregates, agg views.Agg, plan []planField) []byte {
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		c := e.v.FieldColumn(f.name)
		switch {
		case f.name == "__typename":
			buf = appendString(buf, e.v.Name+aggTypeNames[agg])
		case c == nil:
			buf = append(buf, "null"...)
		case agg == views.AggMin || agg == views.AggMax:
			buf = appendValue(buf, c, views.Output(c, a.Value(views.Measure{Agg: agg, Column: c})))
		default: // sums and averages are strings
			buf = appendValue(buf, nil, a.Value(views.Measure{Agg: agg, Column: c}))
		}
	}
	return append(buf, '}')
}

func (e aggEncoder) key(buf []byte, g *views.Group, plan []planField) []byte {
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		if f.name == "__typename" {
			buf = appendString(buf, e.v.Name+"GroupKey")
			continue
		}
		var v any
		for j, t := range e.q.GroupBy {
			if t.Column.Field == f.name {
				v = views.Output(t.Column, g.Key[j])
			}
		}
		c := e.v.FieldColumn(f.name)
		buf = appendValue(buf, c, v)
	}
	return append(buf, '}')
}

func (e aggEncoder) pageInfo(buf []byte, plan []planField) []byte {
	n := len(e.res.Groups)
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		switch f.name {
		case "hasNextPage":
			buf = appendValue(buf, nil, e.res.HasNext)
		case "hasPreviousPage":
			buf = appendValue(buf, nil, e.q.After != "")
		case "startCursor", "endCursor":
			if n == 0 {
				buf = append(buf, "null"...)
				break
			}
			g := &e.res.Groups[0]
			if f.name == "endCursor" {
				g = &e.res.Groups[n-1]
			}
			buf = appendString(buf, g.Cursor())
		case "__typename":
			buf = appendString(buf, "PageInfo")
		default:
			buf = append(buf, "null"...)
		}
	}
	return append(buf, '}')
}
