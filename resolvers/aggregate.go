package resolvers

import (
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// Aggregate returns the resolver of a view's aggregate root field: it reads the aggregates the
// query selects, in one statement, and returns them as the Go maps graphql-go completes.
func (r *Resolvers) Aggregate(v *views.View) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		sel := aggregateSelection(v, p.Info)
		q, res, err := r.rd.Aggregate(p.Context, v, reader.Args(p.Args), sel.totals, sel.groups)
		if err != nil {
			return nil, err
		}
		return aggregateMaps(v, q, res), nil
	}
}

// aggSelection is what an aggregate field's sub-selection asks for.
type aggSelection struct {
	totals []views.Measure // nil: totals are not selected
	groups []views.Measure // nil: neither groups nor pageInfo are selected
}

// aggregateSelection walks the field's selection sets (fragments, @skip and @include
// honoured) for the aggregates selected under totals and under groups.
func aggregateSelection(v *views.View, info graphql.ResolveInfo) aggSelection {
	var s aggSelection
	w := walker{info: info, seen: map[string]bool{}}
	for _, f := range info.FieldASTs {
		w.each(f.SelectionSet, func(f *ast.Field) {
			switch f.Name.Value {
			case schema.AggTotals:
				s.totals = measures(v, w, f.SelectionSet, s.totals)
			case schema.AggGroups:
				s.groups = measures(v, w, f.SelectionSet, s.groups)
			case schema.AggPageInfo:
				if s.groups == nil {
					s.groups = []views.Measure{}
				}
			}
		})
	}
	return s
}

// measures appends the aggregates selected in set (count, sum { … }, avg { … }, …) to into,
// which is never nil afterwards.
func measures(v *views.View, w walker, set *ast.SelectionSet, into []views.Measure) []views.Measure {
	if into == nil {
		into = []views.Measure{}
	}
	w.each(set, func(f *ast.Field) {
		agg := views.Agg(f.Name.Value)
		switch agg {
		case views.AggCount:
			into = append(into, views.Measure{Agg: views.AggCount})
		case views.AggSum, views.AggAvg, views.AggMin, views.AggMax:
			w.each(f.SelectionSet, func(m *ast.Field) {
				if c := v.FieldColumn(m.Name.Value); c != nil && c.Offers(agg) {
					into = append(into, views.Measure{Agg: agg, Column: c})
				}
			})
		}
	})
	return into
}

// aggregateMaps shapes an aggregate answer as the maps graphql-go completes.
func aggregateMaps(v *views.View, q *views.AggregateQuery, res *views.AggregateResult) map[string]any {
	totals := res.Totals
	if totals == nil {
		totals = &views.Aggregates{}
	}
	groups := make([]any, len(res.Groups))
	for i := range res.Groups {
		g := &res.Groups[i]
		m := aggValues(v, &g.Aggregates)
		key := map[string]any{}
		for j, t := range q.GroupBy {
			key[t.Column.Field] = views.Output(t.Column, g.Key[j])
		}
		m[schema.AggKey], m[schema.AggCursor] = key, g.Cursor()
		groups[i] = m
	}
	info := map[string]any{"hasNextPage": res.HasNext, "hasPreviousPage": q.After != "", "startCursor": nil, "endCursor": nil}
	if n := len(res.Groups); n > 0 {
		info["startCursor"], info["endCursor"] = res.Groups[0].Cursor(), res.Groups[n-1].Cursor()
	}
	return map[string]any{schema.AggTotals: aggValues(v, totals), schema.AggGroups: groups, schema.AggPageInfo: info}
}

// aggValues returns count and the sum, avg, min and max objects of a's values.
func aggValues(v *views.View, a *views.Aggregates) map[string]any {
	out := map[string]any{string(views.AggCount): a.Value(views.Measure{Agg: views.AggCount})}
	for _, agg := range views.Aggs {
		obj := map[string]any{}
		for _, c := range v.Measures(agg) {
			m := views.Measure{Agg: agg, Column: c}
			obj[c.Field] = views.Output(c, a.Value(m)) // sums and averages are strings already
		}
		out[string(agg)] = obj
	}
	return out
}
