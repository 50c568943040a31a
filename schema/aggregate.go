package schema

import (
	"fmt"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/views"
)

// AggregateResolver resolves the aggregate root fields of views that opt into aggregates; New
// and NewExec use it when their Resolvers implement it (else those fields resolve to nothing).
type AggregateResolver interface {
	// Aggregate returns Go maps keyed by the aggregate types' field names (AggTotals, …), for
	// graphql-go to complete (New's schema).
	Aggregate(v *views.View) graphql.FieldResolveFn
	// RawAggregate returns the answer already encoded as JSON (NewExec's schema).
	RawAggregate(v *views.View) graphql.FieldResolveFn
}

// The fields of a view's Aggregate, Totals and Group types, as the resolver's maps key them;
// sum, avg, min and max hold maps keyed by the measures' GraphQL field names.
const (
	AggTotals   = "totals"
	AggGroups   = "groups"
	AggPageInfo = "pageInfo"
	AggKey      = "key"
	AggCursor   = "cursor"
)

// aggregateResolver returns r's aggregate resolver for v, the raw one when raw is set, or nil
// when r resolves no aggregates.
func aggregateResolver(r Resolvers, v *views.View, raw bool) graphql.FieldResolveFn {
	a, ok := r.(AggregateResolver)
	switch {
	case !ok:
		return nil
	case raw:
		return a.RawAggregate(v)
	}
	return a.Aggregate(v)
}

// timeBucket returns the schema's TimeBucket enum, made at first use.
func (b *builder) timeBucket() *graphql.Enum {
	if b.bucket == nil {
		values := graphql.EnumValueConfigMap{}
		for _, bk := range views.Buckets {
			values[strings.ToUpper(string(bk))] = &graphql.EnumValueConfig{Value: string(bk), Description: bucketDescriptions[bk]}
		}
		b.bucket = graphql.NewEnum(graphql.EnumConfig{Name: "TimeBucket", Values: values,
			Description: "A calendar period in UTC; a group's key is the period's first instant."})
	}
	return b.bucket
}

var bucketDescriptions = map[views.Bucket]string{
	views.Day:     "The day, from 00:00 UTC.",
	views.Week:    "The ISO week, from Monday 00:00 UTC (the days around 1 January may belong to the other year's week).",
	views.Month:   "The calendar month.",
	views.Quarter: "The calendar quarter: January, April, July or October.",
	views.Year:    "The calendar year.",
}

// aggregate returns a view's aggregate root field.
func (b *builder) aggregate(v *views.View, resolve graphql.FieldResolveFn) *graphql.Field {
	args := graphql.FieldConfigArgument{}
	if w := b.where(v); w != nil {
		args["where"] = &graphql.ArgumentConfig{Type: w, Description: "Conditions that all hold: only these rows are aggregated."}
	}
	if len(v.Search) > 0 {
		args["search"] = &graphql.ArgumentConfig{Type: graphql.String,
			Description: "Case-insensitive text search in " + strings.Join(v.Search, ", ") + "."}
	}
	values := b.aggregateValues(v)
	fields := graphql.Fields{
		AggTotals: {Type: graphql.NewNonNull(b.totals(v, values)), Description: "The aggregates over every row that matches where and search."},
	}
	dims := v.Dimensions()
	if len(dims) > 0 {
		b.groupArgs(v, dims, args)
		fields[AggGroups] = &graphql.Field{Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(b.group(v, dims, values)))),
			Description: fmt.Sprintf("One page of the groups of groupBy (none without groupBy), in orderBy order; at most first, %d at most.", v.Aggregate.MaxGroups)}
		fields[AggPageInfo] = &graphql.Field{Type: graphql.NewNonNull(b.pageInfo), Description: "Paging of the groups: pass endCursor as after for the next page."}
	}
	typ := graphql.NewObject(graphql.ObjectConfig{Name: v.Name + "Aggregate", Fields: fields,
		Description: "Aggregates of " + v.Field + ": totals, and groups when groupBy is given. Only the aggregates you select are computed, in one statement."})
	return &graphql.Field{Type: graphql.NewNonNull(typ), Args: args, Resolve: resolve,
		Description: "Count, sum, average, minimum and maximum of " + v.Field + ", overall and by group (quota class report)."}
}

// aggregateValues returns the fields sum, avg, min and max, each an object of the measures
// that offer it, for the view's Totals and Group types.
func (b *builder) aggregateValues(v *views.View) graphql.Fields {
	out := graphql.Fields{
		string(views.AggCount): {Type: graphql.NewNonNull(graphql.Int), Description: "Rows."},
	}
	names := map[views.Agg]string{views.AggSum: "Sum", views.AggAvg: "Avg", views.AggMin: "Min", views.AggMax: "Max"}
	for _, agg := range views.Aggs {
		cols := v.Measures(agg)
		if len(cols) == 0 {
			continue
		}
		fields := graphql.Fields{}
		for _, c := range cols {
			fields[c.Field] = &graphql.Field{Type: b.aggOutput(agg, c), Description: strings.TrimSpace(c.Description)}
		}
		obj := graphql.NewObject(graphql.ObjectConfig{Name: v.Name + names[agg], Fields: fields, Description: aggDescriptions[agg]})
		out[string(agg)] = &graphql.Field{Type: graphql.NewNonNull(obj), Description: aggDescriptions[agg]}
	}
	return out
}

var aggDescriptions = map[views.Agg]string{
	views.AggSum: "Exact sums of the non-null values (decimals at the column's scale, integers as BigInt); null when there are none.",
	views.AggAvg: "Averages: the exact sum of the non-null values divided by their count, rounded half away from zero to the column's scale + 4 decimal places; null when there are none.",
	views.AggMin: "Least non-null values, in the order sorting uses (text by Unicode code point).",
	views.AggMax: "Greatest non-null values, in the order sorting uses (text by Unicode code point).",
}

// aggOutput is the type of one aggregate of a column: sums of integers are BigInt, averages
// Decimal, min and max the column's own type.
func (b *builder) aggOutput(agg views.Agg, c *views.Column) graphql.Output {
	switch {
	case agg == views.AggAvg || (agg == views.AggSum && c.Type == views.Decimal):
		return b.s.decimal
	case agg == views.AggSum:
		return b.s.bigInt
	}
	return b.output(c)
}

func (b *builder) totals(v *views.View, values graphql.Fields) *graphql.Object {
	return graphql.NewObject(graphql.ObjectConfig{Name: v.Name + "Totals", Fields: copyFields(values),
		Description: "Aggregates over a set of rows; an empty set has count 0 and null elsewhere."})
}

func (b *builder) group(v *views.View, dims []*views.Column, values graphql.Fields) *graphql.Object {
	keys := graphql.Fields{}
	for _, c := range dims {
		desc := strings.TrimSpace(c.Description)
		if c.Type == views.Date || c.Type == views.Timestamp {
			desc = strings.TrimSpace(desc + " With a bucket, the bucket's first instant.")
		}
		keys[c.Field] = &graphql.Field{Type: b.output(c), Description: desc}
	}
	key := graphql.NewObject(graphql.ObjectConfig{Name: v.Name + "GroupKey", Fields: keys,
		Description: "The group's values of the groupBy dimensions; null is the group of NULLs, and a dimension not in groupBy is null."})
	fields := copyFields(values)
	fields[AggKey] = &graphql.Field{Type: graphql.NewNonNull(key)}
	fields[AggCursor] = &graphql.Field{Type: graphql.NewNonNull(graphql.String), Description: "Pass as after to resume after this group."}
	return graphql.NewObject(graphql.ObjectConfig{Name: v.Name + "Group", Fields: fields, Description: "One group and its aggregates."})
}

// groupArgs adds groupBy, orderBy, first and after.
func (b *builder) groupArgs(v *views.View, dims []*views.Column, args graphql.FieldConfigArgument) {
	dimValues, sortValues := graphql.EnumValueConfigMap{}, graphql.EnumValueConfigMap{
		views.GroupSortValue(views.AggCount, nil): {Value: views.GroupSortKey(views.AggCount, nil), Description: "The group's row count."},
	}
	for _, c := range dims {
		dimValues[strings.ToUpper(c.Name)] = &graphql.EnumValueConfig{Value: c.Name, Description: strings.TrimSpace(c.Description)}
		sortValues[views.GroupSortValue("", c)] = &graphql.EnumValueConfig{Value: views.GroupSortKey("", c), Description: "The group's key " + c.Field + "."}
	}
	for _, c := range v.Columns {
		for _, agg := range c.Measure {
			sortValues[views.GroupSortValue(agg, c)] = &graphql.EnumValueConfig{Value: views.GroupSortKey(agg, c), Description: "The group's " + string(agg) + " of " + c.Field + "."}
		}
	}
	dim := graphql.NewEnum(graphql.EnumConfig{Name: v.Name + "Dimension", Values: dimValues})
	groupBy := graphql.NewInputObject(graphql.InputObjectConfig{
		Name: v.Name + "GroupBy",
		Fields: graphql.InputObjectConfigFieldMap{
			"field":  {Type: graphql.NewNonNull(dim)},
			"bucket": {Type: b.timeBucket(), Description: "For a date or timestamp dimension: group by this calendar period (UTC) instead of by value."},
		},
	})
	sort := graphql.NewEnum(graphql.EnumConfig{Name: v.Name + "GroupSortField", Values: sortValues})
	orderBy := graphql.NewInputObject(graphql.InputObjectConfig{
		Name: v.Name + "GroupOrderBy",
		Fields: graphql.InputObjectConfigFieldMap{
			"field":     {Type: graphql.NewNonNull(sort)},
			"direction": {Type: b.direction, Description: "ASC (the default) or DESC."},
		},
	})
	args["groupBy"] = &graphql.ArgumentConfig{Type: graphql.NewList(graphql.NewNonNull(groupBy)), Description: "The dimensions to group by, each at most once."}
	args["orderBy"] = &graphql.ArgumentConfig{Type: graphql.NewList(graphql.NewNonNull(orderBy)),
		Description: "Group order, by keys or aggregates; the keys not named follow, ascending, so that paging is stable. NULLs sort last ascending, first descending."}
	args["first"] = &graphql.ArgumentConfig{Type: graphql.Int, Description: fmt.Sprintf("Groups per page, 0 to %d.", v.Aggregate.MaxGroups)}
	args["after"] = &graphql.ArgumentConfig{Type: graphql.String, Description: "The endCursor (or a group's cursor) of the previous page; it only works with the where, search, groupBy and orderBy it was issued for."}
}

// copyFields copies a field map, so that two object types do not share graphql.Field values.
func copyFields(in graphql.Fields) graphql.Fields {
	out := make(graphql.Fields, len(in))
	for k, f := range in {
		c := *f
		out[k] = &c
	}
	return out
}
