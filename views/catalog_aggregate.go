package views

import (
	"fmt"
	"slices"
	"strings"
)

// Agg is an aggregate function of a measure column.
type Agg string

// The aggregate functions. Count needs no column and is never listed in measure.
const (
	AggCount Agg = "count"
	AggSum   Agg = "sum"
	AggAvg   Agg = "avg"
	AggMin   Agg = "min"
	AggMax   Agg = "max"
)

// Aggs lists the aggregate functions a measure may offer, in the order the schema shows them.
var Aggs = []Agg{AggSum, AggAvg, AggMin, AggMax}

// aggsFor says which aggregates a column type can offer. Sums and averages are exact, so they
// are for integers and decimals only: a float sum depends on the order of addition, which no
// engine fixes. Min and max follow the order sorting uses (text by code point).
func aggsFor(t Type) []Agg {
	switch t {
	case Int, BigInt, Decimal:
		return Aggs
	case Text, Float, Date, Timestamp:
		return []Agg{AggMin, AggMax}
	}
	return nil
}

// Bucket is a calendar period that a date or timestamp dimension is grouped by, in UTC.
type Bucket string

// The time buckets; a group's key is the period's first instant (weeks are ISO weeks, which
// start on Monday).
const (
	Day     Bucket = "day"
	Week    Bucket = "week"
	Month   Bucket = "month"
	Quarter Bucket = "quarter"
	Year    Bucket = "year"
)

// Buckets lists every time bucket, shortest first.
var Buckets = []Bucket{Day, Week, Month, Quarter, Year}

// dimensionTypes are the column types an aggregate can group by: json cannot be compared, a
// float or a uuid makes about one group per row.
var dimensionTypes = []Type{Text, Int, BigInt, Decimal, Bool, Date, Timestamp}

// Aggregation opts a view into aggregates: a root field that counts, sums, averages and finds
// minimums and maximums over the filtered rows, overall and per group.
type Aggregation struct {
	Field     string `yaml:"field"`      // the root field; default the view's field + "Aggregate"
	MaxGroups int    `yaml:"max_groups"` // the largest first, 1..10000; default DefaultMaxGroups
	ScanCost  int    `yaml:"scan_cost"`  // the planned cost units of one aggregate field, 1..1000; default 1
}

// DefaultMaxGroups is the group page cap of an aggregation that sets none.
const DefaultMaxGroups = 100

// AggregateView returns the view whose aggregate root field is field, or nil.
func (c *Catalog) AggregateView(field string) *View {
	for _, v := range c.Views {
		if v.Aggregate != nil && v.Aggregate.Field == field {
			return v
		}
	}
	return nil
}

// Offers reports whether the column is a measure offering agg (never AggCount, which needs no column).
func (c *Column) Offers(agg Agg) bool { return slices.Contains(c.Measure, agg) }

// BucketsOffered returns the time buckets a dimension may be grouped by: none unless it is a
// date or timestamp dimension, and all of Buckets unless the catalog lists some.
func (c *Column) BucketsOffered() []Bucket {
	if !c.Dimension || (c.Type != Date && c.Type != Timestamp) {
		return nil
	}
	if len(c.Buckets) == 0 {
		return Buckets
	}
	return c.Buckets
}

// Measures returns the view's columns offering agg, in catalog order.
func (v *View) Measures(agg Agg) []*Column {
	var out []*Column
	for _, c := range v.Columns {
		if c.Offers(agg) {
			out = append(out, c)
		}
	}
	return out
}

// Dimensions returns the view's dimension columns, in catalog order.
func (v *View) Dimensions() []*Column {
	var out []*Column
	for _, c := range v.Columns {
		if c.Dimension {
			out = append(out, c)
		}
	}
	return out
}

// aggregateTypeSuffixes are the suffixes of the type names the schema generates for an
// aggregating view, after its name.
func (v *View) aggregateTypeSuffixes() []string {
	if v.Aggregate == nil {
		return nil
	}
	return []string{"Aggregate", "Totals", "Group", "GroupKey", "GroupBy", "GroupOrderBy", "GroupSortField", "Dimension", "Sum", "Avg", "Min", "Max"}
}

// validateAggregate checks the view's aggregation and its columns' measure, dimension and buckets.
func (v *View) validateAggregate(at string, p *problems) {
	a := v.Aggregate
	if a != nil {
		if a.Field == "" && v.Field != "" {
			a.Field = v.Field + "Aggregate"
		}
		if a.MaxGroups == 0 {
			a.MaxGroups = DefaultMaxGroups
		} else if a.MaxGroups < 1 || a.MaxGroups > 10000 {
			p.add(at+".aggregate.max_groups", "%d is out of range 1..10000", a.MaxGroups)
		}
		if a.ScanCost == 0 {
			a.ScanCost = 1
		} else if a.ScanCost < 1 || a.ScanCost > 1000 {
			p.add(at+".aggregate.scan_cost", "%d is out of range 1..1000", a.ScanCost)
		}
	}
	for j, c := range v.Columns {
		if c != nil && slices.Contains(Types, c.Type) {
			c.validateAggregate(fmt.Sprintf("%s.columns[%d]", at, j), a != nil, p)
		}
	}
	if a != nil {
		v.checkGroupSortValues(at, p)
	}
}

func (c *Column) validateAggregate(at string, opted bool, p *problems) {
	if !opted && (len(c.Measure) > 0 || c.Dimension) {
		p.add(at, "column %q is a measure or dimension of a view without aggregate:; add aggregate: {} to the view to opt it in", c.Name)
		return
	}
	if c.PII != PIINone && (len(c.Measure) > 0 || c.Dimension) {
		p.add(at, "PII column %q cannot be a measure or a dimension (aggregates would reveal masked values; count still counts its rows)", c.Name)
		return
	}
	allowed := aggsFor(c.Type)
	if len(allowed) == 0 && len(c.Measure) > 0 {
		p.add(at+".measure", "%s columns offer no aggregates (count needs no measure)", c.Type)
	}
	for k, agg := range c.Measure {
		switch {
		case len(allowed) == 0:
		case !slices.Contains(Aggs, agg):
			p.add(fmt.Sprintf("%s.measure[%d]", at, k), "%q is not one of sum, avg, min, max (count needs no measure)", agg)
		case !slices.Contains(allowed, agg):
			p.add(fmt.Sprintf("%s.measure[%d]", at, k), "%s does not apply to %s; allowed: %s", agg, c.Type, joinAggs(allowed))
		case slices.Contains(c.Measure[:k], agg):
			p.add(fmt.Sprintf("%s.measure[%d]", at, k), "%s is named twice", agg)
		}
	}
	if c.Dimension && !slices.Contains(dimensionTypes, c.Type) {
		p.add(at+".dimension", "%s columns cannot be grouped by; dimensions are text, int, bigint, decimal, bool, date or timestamp", c.Type)
	}
	if len(c.Buckets) > 0 && (!c.Dimension || (c.Type != Date && c.Type != Timestamp)) {
		p.add(at+".buckets", "buckets apply to date and timestamp dimensions only")
		return
	}
	for k, b := range c.Buckets {
		switch {
		case !slices.Contains(Buckets, b):
			p.add(fmt.Sprintf("%s.buckets[%d]", at, k), "%q is not one of day, week, month, quarter, year", b)
		case slices.Contains(c.Buckets[:k], b):
			p.add(fmt.Sprintf("%s.buckets[%d]", at, k), "%s is named twice", b)
		}
	}
}

// checkGroupSortValues refuses columns whose generated group sort values collide (a dimension
// named count, or names that differ only in case).
func (v *View) checkGroupSortValues(at string, p *problems) {
	taken := map[string]bool{GroupSortValue(AggCount, nil): true}
	for j, c := range v.Columns {
		if c == nil {
			continue
		}
		var names []string
		if c.Dimension {
			names = append(names, GroupSortValue("", c))
		}
		for k, agg := range c.Measure {
			if slices.Contains(aggsFor(c.Type), agg) && !slices.Contains(c.Measure[:k], agg) {
				names = append(names, GroupSortValue(agg, c)) // the others are problems already
			}
		}
		for _, n := range names {
			if taken[n] {
				p.add(fmt.Sprintf("%s.columns[%d].name", at, j), "group sort value %s is taken by another column or by COUNT; rename the column", n)
			}
			taken[n] = true
		}
	}
}

// GroupSortValue is the name of a group ordering in the schema: the dimension's name in upper
// case for its key (agg ""), COUNT, or the aggregate and the column, like SUM_AMOUNT.
func GroupSortValue(agg Agg, c *Column) string {
	switch {
	case agg == AggCount:
		return "COUNT"
	case agg == "":
		return strings.ToUpper(c.Name)
	}
	return strings.ToUpper(string(agg) + "_" + c.Name)
}

// validateAggregateFields checks the aggregate root fields: camelCase, and unique among all root
// fields (fields holds the views' fields and the reserved ones).
func (c *Catalog) validateAggregateFields(p *problems, fields map[string]bool) {
	for i, v := range c.Views {
		if v == nil || v.Aggregate == nil {
			continue
		}
		at := fmt.Sprintf("views[%d].aggregate.field", i)
		switch f := v.Aggregate.Field; {
		case !fieldName.MatchString(f):
			p.add(at, "%q must be a camelCase GraphQL field name", f)
		case fields[f]:
			p.add(at, "duplicate or reserved root field %q", f)
		default:
			fields[f] = true
		}
	}
}

func joinAggs(aggs []Agg) string {
	s := make([]string, len(aggs))
	for i, a := range aggs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func joinBuckets(bs []Bucket) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// GroupSortKey is the internal form of a group ordering, what the schema's sort values stand
// for: "key.<column>" for a dimension's key (agg ""), "count", or "<agg>.<column>".
func GroupSortKey(agg Agg, c *Column) string {
	switch {
	case agg == AggCount:
		return string(AggCount)
	case agg == "":
		return "key." + c.Name
	}
	return string(agg) + "." + c.Name
}

// ParseGroupSort returns the ordering term of a GroupSortKey; it returns an error wrapping
// ErrBadOrder when s names no dimension or offered aggregate of v.
func ParseGroupSort(v *View, s string, desc bool) (GroupOrder, error) {
	if s == string(AggCount) {
		return GroupOrder{Agg: AggCount, Desc: desc}, nil
	}
	kind, col, _ := strings.Cut(s, ".")
	c := v.byName[col]
	switch {
	case c != nil && kind == "key" && c.Dimension:
		return GroupOrder{Column: c, Desc: desc}, nil
	case c != nil && c.Offers(Agg(kind)):
		return GroupOrder{Agg: Agg(kind), Column: c, Desc: desc}, nil
	}
	return GroupOrder{}, fmt.Errorf("%w: %s cannot order groups by %q", ErrBadOrder, v.Name, s)
}
