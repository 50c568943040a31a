package reader

import (
	"context"
	"fmt"

	"github.com/viewgate/viewgate/views"
)

// Aggregate checks that the caller in ctx may read v, compiles args and the aggregates asked
// for into v's one aggregate statement, runs it and returns the query and its answer. args
// are where and search as Open takes them, groupBy ([]any of maps with field, a dimension's
// column name, and bucket, "" or a views.Bucket), orderBy ([]any of maps with field, a
// views.GroupSortKey, and direction), first (default: the reader's default page size capped by
// max_groups) and after. totals and groups are the aggregates the caller selected overall and
// per group; nil reads none (nil groups reads no groups). Errors are Open's, and the views
// package's for a bad groupBy, orderBy, first or after.
func (r *Reader) Aggregate(ctx context.Context, v *views.View, args Args, totals, groups []views.Measure) (*views.AggregateQuery, *views.AggregateResult, error) {
	who, src, err := r.admit(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	if v.Aggregate == nil {
		return nil, nil, fmt.Errorf("%w: %s has no aggregates", views.ErrBadGroup, v.Field)
	}
	q, err := aggregateQuery(v, args, min(r.o.DefaultPageSize, v.Aggregate.MaxGroups))
	if err != nil {
		return nil, nil, err
	}
	q.Tenant, q.Totals, q.Groups = who.Tenant, totals, groups
	st, err := src.Builder.Aggregate(q)
	if err != nil {
		return nil, nil, err
	}
	if st == nil {
		return q, st.Result(nil), nil // nothing asked for needs the database
	}
	rows, err := r.run(ctx, src, who, &views.Query{View: v, Tenant: q.Tenant, Where: q.Where, Search: q.Search}, st, q.First+1)
	if err != nil {
		return nil, nil, err
	}
	return q, st.Result(rows), nil
}

// aggregateQuery turns the arguments into a views.AggregateQuery without the caller's parts.
func aggregateQuery(v *views.View, args Args, first int) (*views.AggregateQuery, error) {
	q := &views.AggregateQuery{View: v, First: first}
	if n, ok := args["first"].(int); ok {
		q.First = n
	}
	q.After, _ = args["after"].(string)
	q.Search, _ = args["search"].(string)
	if w, ok := args["where"].(map[string]any); ok {
		f, err := views.ParseWhere(v, w)
		if err != nil {
			return nil, err
		}
		q.Where = f
	}
	list, _ := args["groupBy"].([]any)
	for i, item := range list {
		m, _ := item.(map[string]any)
		name, _ := m["field"].(string)
		bucket, _ := m["bucket"].(string)
		c := v.Column(name)
		if c == nil || !c.Dimension {
			return nil, fmt.Errorf("%w: groupBy[%d]: %s has no dimension %q", views.ErrBadGroup, i, v.Name, name)
		}
		q.GroupBy = append(q.GroupBy, views.GroupTerm{Column: c, Bucket: views.Bucket(bucket)})
	}
	if order, ok := args["orderBy"].([]any); ok {
		q.OrderBy = []views.GroupOrder{}
		for _, item := range order {
			m, _ := item.(map[string]any)
			key, _ := m["field"].(string)
			dir, _ := m["direction"].(string)
			o, err := views.ParseGroupSort(v, key, dir == "DESC")
			if err != nil {
				return nil, err
			}
			q.OrderBy = append(q.OrderBy, o)
		}
	}
	return q, nil
}
