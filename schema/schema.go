package schema

import (
	"fmt"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/views"
)

// Resolvers provides the resolve functions of each view's root field.
type Resolvers interface {
	Connection(v *views.View) graphql.FieldResolveFn    // returns Go maps for graphql-go to complete
	RawConnection(v *views.View) graphql.FieldResolveFn // returns the connection as encoded JSON
	RateLimit() graphql.FieldResolveFn                  // returns the caller's quota state (RateLimitFields)
}

// New builds the schema for the catalog: the one clients see, validate against and introspect.
// It fails only if graphql-go rejects the generated types.
// Its introspection is deterministic: see the order rule in order.go.
func New(cat *views.Catalog, r Resolvers) (graphql.Schema, error) {
	return build(cat, r.Connection, aggregates(r, false), r.RateLimit(), nil, sortedIntrospection{})
}

// NewExec builds the execution schema: the same root fields and arguments, but each returns a
// scalar holding the connection already encoded, so graphql-go coerces arguments and calls the
// resolver without completing every row field by field. Documents are validated against New's
// schema; NewExec's may run any document that does not introspect.
func NewExec(cat *views.Catalog, r Resolvers) (graphql.Schema, error) {
	raw := graphql.NewScalar(graphql.ScalarConfig{
		Name:         "EncodedConnection",
		Serialize:    func(v any) any { return v },
		ParseValue:   func(any) any { return nil },
		ParseLiteral: func(ast.Value) any { return nil },
	})
	return build(cat, r.RawConnection, aggregates(r, true), r.RateLimit(), raw)
}

// aggregates returns the resolver of each view's aggregate field, the raw ones for NewExec.
func aggregates(r Resolvers, raw bool) func(*views.View) graphql.FieldResolveFn {
	if _, ok := r.(AggregateResolver); !ok {
		return nil
	}
	return func(v *views.View) graphql.FieldResolveFn { return aggregateResolver(r, v, raw) }
}

func build(cat *views.Catalog, resolve, aggregate func(*views.View) graphql.FieldResolveFn, rateLimit graphql.FieldResolveFn, raw *graphql.Scalar, exts ...graphql.Extension) (graphql.Schema, error) {
	b := &builder{s: newScalars(), wheres: map[*views.View]*graphql.InputObject{}}
	b.direction = graphql.NewEnum(graphql.EnumConfig{
		Name: "OrderDirection",
		Values: graphql.EnumValueConfigMap{
			"ASC":  {Value: "ASC", Description: "Ascending; NULLs last."},
			"DESC": {Value: "DESC", Description: "Descending; NULLs first."},
		},
	})
	b.pageInfo = graphql.NewObject(graphql.ObjectConfig{
		Name: "PageInfo",
		Fields: graphql.Fields{
			"hasNextPage":     {Type: graphql.NewNonNull(graphql.Boolean), Description: "Whether more rows follow endCursor."},
			"hasPreviousPage": {Type: graphql.NewNonNull(graphql.Boolean), Description: "True when the page was requested with after (paging is forward only)."},
			"startCursor":     {Type: graphql.String, Description: "The cursor of the first row of the page."},
			"endCursor":       {Type: graphql.String, Description: "Pass as after to get the next page."},
		},
	})
	fields := graphql.Fields{}
	for _, v := range cat.Views {
		fields[v.Field] = b.root(v, resolve(v))
		if raw != nil {
			fields[v.Field].Type = graphql.NewNonNull(raw)
		}
		if v.Aggregate != nil {
			var resolve graphql.FieldResolveFn
			if aggregate != nil {
				resolve = aggregate(v)
			}
			fields[v.Aggregate.Field] = b.aggregate(v, resolve)
			if raw != nil && aggregate != nil {
				fields[v.Aggregate.Field].Type = graphql.NewNonNull(raw)
			}
		}
	}
	fields[RateLimitField] = b.rateLimit(rateLimit)
	query := graphql.NewObject(graphql.ObjectConfig{Name: "Query", Fields: fields,
		Description: "Read-only access to the views of the catalog. There are no mutations."})
	s, err := graphql.NewSchema(graphql.SchemaConfig{Query: query, Extensions: exts})
	if err != nil {
		return s, fmt.Errorf("build graphql schema: %w", err)
	}
	sortDefinitions(s)
	return s, nil
}

type builder struct {
	s         *scalars
	direction *graphql.Enum
	pageInfo  *graphql.Object
	bucket    *graphql.Enum                        // TimeBucket, made at first use
	wheres    map[*views.View]*graphql.InputObject // each view's where input, shared by its root fields
}

func (b *builder) root(v *views.View, resolve graphql.FieldResolveFn) *graphql.Field {
	node := b.object(v)
	args := graphql.FieldConfigArgument{
		"first": {Type: graphql.Int, Description: fmt.Sprintf("Page size, 0 to %d.", v.MaxPageSize)},
		"after": {Type: graphql.String, Description: "The endCursor of the previous page. A cursor only works with the where, orderBy and search it was issued for."},
		"orderBy": {Type: graphql.NewList(graphql.NewNonNull(b.orderBy(v))),
			Description: "Sort order; the key is always added last so that paging is stable. Text sorts by Unicode code point."},
	}
	if w := b.where(v); w != nil {
		args["where"] = &graphql.ArgumentConfig{Type: w, Description: "Conditions that all hold."}
	}
	if len(v.Search) > 0 {
		args["search"] = &graphql.ArgumentConfig{Type: graphql.String,
			Description: "Case-insensitive text search in " + strings.Join(v.Search, ", ") + "."}
	}
	return &graphql.Field{Type: graphql.NewNonNull(b.connection(v, node)), Args: args, Resolve: resolve, Description: strings.TrimSpace(v.Description)}
}

func (b *builder) object(v *views.View) *graphql.Object {
	fields := graphql.Fields{}
	for _, c := range v.Columns {
		t := b.output(c)
		if !c.IsNullable() && c.PII == views.PIINone {
			t = graphql.NewNonNull(t)
		}
		desc := strings.TrimSpace(c.Description) // a YAML block scalar ends with a newline
		if c.PII != views.PIINone {
			desc = strings.TrimSpace(desc + " Personal data: " + piiNote(c.PII))
		}
		fields[c.Field] = &graphql.Field{Type: t, Description: desc}
	}
	return graphql.NewObject(graphql.ObjectConfig{Name: v.Name, Fields: fields, Description: strings.TrimSpace(v.Description)})
}

func piiNote(p views.PII) string {
	switch p {
	case views.PIIHash:
		return "shown as a keyed hash unless you hold the pii role."
	case views.PIINull:
		return "null unless you hold the pii role."
	}
	return "masked unless you hold the pii role."
}

func (b *builder) output(c *views.Column) graphql.Output {
	switch c.Type {
	case views.Int:
		return graphql.Int
	case views.BigInt:
		return b.s.bigInt
	case views.Decimal:
		return b.s.decimal
	case views.Float:
		return graphql.Float
	case views.Bool:
		return graphql.Boolean
	case views.Date:
		return b.s.date
	case views.Timestamp:
		return b.s.dateTime
	case views.UUID:
		return b.s.uuid
	case views.JSON:
		return b.s.json
	}
	return graphql.String
}

func (b *builder) connection(v *views.View, node *graphql.Object) *graphql.Object {
	edge := graphql.NewObject(graphql.ObjectConfig{
		Name: v.Name + "Edge",
		Fields: graphql.Fields{
			"cursor": {Type: graphql.NewNonNull(graphql.String)},
			"node":   {Type: graphql.NewNonNull(node)},
		},
	})
	return graphql.NewObject(graphql.ObjectConfig{
		Name: v.Name + "Connection",
		Fields: graphql.Fields{
			"nodes":      {Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(node)))},
			"edges":      {Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(edge)))},
			"pageInfo":   {Type: graphql.NewNonNull(b.pageInfo)},
			"totalCount": {Type: graphql.NewNonNull(graphql.Int), Description: "Rows matching where and search (computed only when asked for)."},
		},
	})
}

func (b *builder) orderBy(v *views.View) *graphql.InputObject {
	values := graphql.EnumValueConfigMap{}
	for _, c := range v.Columns {
		if c.Sort || contains(v.Key, c.Name) {
			values[strings.ToUpper(c.Name)] = &graphql.EnumValueConfig{Value: c.Name, Description: strings.TrimSpace(c.Description)}
		}
	}
	field := graphql.NewEnum(graphql.EnumConfig{Name: v.Name + "SortField", Values: values})
	return graphql.NewInputObject(graphql.InputObjectConfig{
		Name: v.Name + "OrderBy",
		Fields: graphql.InputObjectConfigFieldMap{
			"field": {Type: graphql.NewNonNull(field)},
			// No DefaultValue: graphql-go would introspect it as the string "ASC", which no
			// client reads as the enum value ASC. An absent direction sorts ascending.
			"direction": {Type: b.direction, Description: "ASC (the default) or DESC."},
		},
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// where returns the filter input of a view, or nil when no column can be filtered; a view's
// root fields share one.
func (b *builder) where(v *views.View) *graphql.InputObject {
	if w, ok := b.wheres[v]; ok {
		return w
	}
	w := b.newWhere(v)
	b.wheres[v] = w
	return w
}

func (b *builder) newWhere(v *views.View) *graphql.InputObject {
	cols := map[string]*graphql.InputObject{}
	for _, c := range v.Columns {
		if len(c.Filter) > 0 {
			cols[c.Field] = b.columnFilter(v, c)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	var w *graphql.InputObject
	w = graphql.NewInputObject(graphql.InputObjectConfig{
		Name:        v.Name + "Where",
		Description: "Column conditions, all of which must hold, combined with and, or and not.",
		Fields: graphql.InputObjectConfigFieldMapThunk(func() graphql.InputObjectConfigFieldMap {
			m := graphql.InputObjectConfigFieldMap{
				"and": {Type: graphql.NewList(graphql.NewNonNull(w)), Description: "All of these hold."},
				"or":  {Type: graphql.NewList(graphql.NewNonNull(w)), Description: "At least one of these holds."},
				"not": {Type: w, Description: "This does not hold."},
			}
			for name, in := range cols {
				m[name] = &graphql.InputObjectFieldConfig{Type: in}
			}
			return m
		}),
	})
	return w
}

var opDescriptions = map[views.Op]string{
	views.Eq:              "Equal. Text compares exactly: case, accents and trailing spaces count.",
	views.Neq:             "Not equal (rows where the column is NULL do not match).",
	views.In:              "Equal to one of these.",
	views.NotIn:           "Equal to none of these (rows where the column is NULL do not match).",
	views.Lt:              "Less than (text: by Unicode code point).",
	views.Lte:             "Less than or equal.",
	views.Gt:              "Greater than.",
	views.Gte:             "Greater than or equal.",
	views.IsNull:          "true: the column is NULL; false: it is not.",
	views.StartsWith:      "Starts with this text, case-insensitively. % and _ are plain characters.",
	views.Contains:        "Contains this text, case-insensitively. % and _ are plain characters.",
	views.StartsWithExact: "Starts with exactly this text: case and accents count, as in eq. % and _ are plain characters.",
	views.ContainsExact:   "Contains exactly this text: case and accents count, as in eq. % and _ are plain characters.",
}

func (b *builder) columnFilter(v *views.View, c *views.Column) *graphql.InputObject {
	scalar := b.output(c).(graphql.Input)
	fields := graphql.InputObjectConfigFieldMap{}
	for _, op := range c.Filter {
		var t graphql.Input = scalar
		switch op {
		case views.In, views.NotIn:
			t = graphql.NewList(graphql.NewNonNull(scalar))
		case views.IsNull:
			t = graphql.Boolean
		}
		if op.MatchesText() {
			t = graphql.String
		}
		fields[string(op)] = &graphql.InputObjectFieldConfig{Type: t, Description: opDescriptions[op]}
	}
	return graphql.NewInputObject(graphql.InputObjectConfig{
		Name:   v.Name + strings.ToUpper(c.Field[:1]) + c.Field[1:] + "Filter",
		Fields: fields,
	})
}
