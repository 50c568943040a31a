package schema

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
)

// The order rule: introspection lists types, fields, arguments, input fields and enum values
// sorted by name (byte order); directives come in graphql-go's fixed order. graphql-go builds
// some of these lists from Go maps, so without this each build, and each introspection of the
// same schema, would list them in a new order.

// sortDefinitions sorts the lists graphql-go fixes when it builds the schema from our maps: the
// arguments of each field and the values of each enum. graphql-go's own introspection enums
// are shared by every schema in the process, so they are sorted once, before any schema of
// this package exists.
func sortDefinitions(s graphql.Schema) {
	sortLibraryEnums.Do(func() {
		sortEnumValues(graphql.TypeKindEnumType)
		sortEnumValues(graphql.DirectiveLocationEnumType)
	})
	for name, t := range s.TypeMap() {
		if strings.HasPrefix(name, "__") {
			continue // graphql-go's, shared: its fields take at most one argument
		}
		switch t := t.(type) {
		case *graphql.Object:
			for _, f := range t.Fields() {
				slices.SortFunc(f.Args, func(a, b *graphql.Argument) int { return cmp.Compare(a.Name(), b.Name()) })
			}
		case *graphql.Enum:
			sortEnumValues(t)
		}
	}
}

var sortLibraryEnums sync.Once

func sortEnumValues(e *graphql.Enum) {
	slices.SortFunc(e.Values(), func(a, b *graphql.EnumValueDefinition) int { return cmp.Compare(a.Name, b.Name) })
}

// sortedIntrospection is a graphql-go extension that orders the lists introspection builds
// from maps on every request: the schema's types and an input object's fields (an object's
// fields graphql-go already sorts). graphql-go hands the resolver's result to
// ResolveFieldFinishFunc before completing it, and these results are fresh slices, so sorting
// them in place orders the response.
type sortedIntrospection struct{}

func (sortedIntrospection) ResolveFieldDidStart(ctx context.Context, info *graphql.ResolveInfo) (context.Context, graphql.ResolveFieldFinishFunc) {
	switch {
	case info.ParentType == graphql.SchemaType && info.FieldName == "types",
		info.ParentType == graphql.TypeType && (info.FieldName == "inputFields" || info.FieldName == "fields"):
		return ctx, sortResult
	}
	return ctx, func(any, error) {}
}

// sortResult sorts only the slice types graphql-go allocates per call: the enum values,
// arguments, interfaces and directives it returns are the schema's own and shared.
func sortResult(v any, _ error) {
	switch list := v.(type) {
	case []graphql.Type:
		slices.SortFunc(list, func(a, b graphql.Type) int { return cmp.Compare(a.Name(), b.Name()) })
	case []*graphql.InputObjectField:
		slices.SortFunc(list, func(a, b *graphql.InputObjectField) int { return cmp.Compare(a.Name(), b.Name()) })
	case []*graphql.FieldDefinition:
		slices.SortFunc(list, func(a, b *graphql.FieldDefinition) int { return cmp.Compare(a.Name, b.Name) })
	}
}

func (sortedIntrospection) Init(ctx context.Context, _ *graphql.Params) context.Context { return ctx }
func (sortedIntrospection) Name() string                                                { return "viewgate.sortedIntrospection" }
func (sortedIntrospection) HasResult() bool                                             { return false }
func (sortedIntrospection) GetResult(context.Context) any                               { return nil }

func (sortedIntrospection) ParseDidStart(ctx context.Context) (context.Context, graphql.ParseFinishFunc) {
	return ctx, func(error) {}
}

func (sortedIntrospection) ValidationDidStart(ctx context.Context) (context.Context, graphql.ValidationFinishFunc) {
	return ctx, func([]gqlerrors.FormattedError) {}
}

func (sortedIntrospection) ExecutionDidStart(ctx context.Context) (context.Context, graphql.ExecutionFinishFunc) {
	return ctx, func(*graphql.Result) {}
}
