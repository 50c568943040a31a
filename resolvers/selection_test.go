package resolvers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/viewgate/viewgate/views"
)

// info builds the ResolveInfo graphql-go would pass for the first root field of query.
func info(t *testing.T, query string, vars map[string]any) graphql.ResolveInfo {
	t.Helper()
	doc, err := parser.Parse(parser.ParseParams{Source: query})
	if err != nil {
		t.Fatal(err)
	}
	ri := graphql.ResolveInfo{Fragments: map[string]ast.Definition{}, VariableValues: vars}
	for _, def := range doc.Definitions {
		switch d := def.(type) {
		case *ast.FragmentDefinition:
			ri.Fragments[d.Name.Value] = d
		case *ast.OperationDefinition:
			ri.FieldASTs = []*ast.Field{d.SelectionSet.Selections[0].(*ast.Field)}
		}
	}
	return ri
}

func TestSelected(t *testing.T) {
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		want  selection
	}{
		{"nodes", `{ v { nodes { a b } } }`, nil, selection{fields: map[string]bool{"a": true, "b": true}, nodes: true}},
		{"totalCount alone", `{ v { totalCount __typename } }`, nil, selection{fields: map[string]bool{}, totalCount: true}},
		{"skipped nodes", `{ v { totalCount nodes @skip(if: true) { a } } }`, nil, selection{fields: map[string]bool{}, totalCount: true}},
		{"edges and aliases", `{ v { edges { cursor node { x: a } } pageInfo { endCursor } } }`, nil,
			selection{fields: map[string]bool{"a": true}, edges: true, pageInfo: true}},
		{"fragments", `{ v { ...C } } fragment C on VC { totalCount nodes { ...N ... on V { c } } } fragment N on V { a }`, nil,
			selection{fields: map[string]bool{"a": true, "c": true}, nodes: true, totalCount: true}},
		{"skip and include", `query($s: Boolean!) { v { nodes { a @skip(if: $s) b @include(if: $s) c @include(if: false) } totalCount @skip(if: true) } }`, map[string]any{"s": true},
			selection{fields: map[string]bool{"b": true}, nodes: true}},
		{"skipped fragment", `query($s: Boolean!) { v { nodes { ...N @skip(if: $s) d } } } fragment N on V { a }`, map[string]any{"s": true},
			selection{fields: map[string]bool{"d": true}, nodes: true}},
		{"fragment cycle is not followed forever", `{ v { nodes { ...A } } } fragment A on V { a ...B } fragment B on V { b ...A }`, nil,
			selection{fields: map[string]bool{"a": true, "b": true}, nodes: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := selected(info(t, tc.query, tc.vars))
			if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(selection{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestClass(t *testing.T) {
	col := &views.Column{Name: "n", Type: views.Text}
	cases := []struct {
		name string
		q    views.Query
		want string
	}{
		{"plain", views.Query{}, "lookup"},
		{"eq filter", views.Query{Where: &views.Filter{Conds: []views.Cond{{Column: col, Op: views.Eq}}}}, "lookup"},
		{"search", views.Query{Search: "x"}, "search"},
		{"nested contains", views.Query{Where: &views.Filter{Or: []*views.Filter{{Not: &views.Filter{Conds: []views.Cond{{Column: col, Op: views.Contains}}}}}}}, "search"},
		{"startsWithExact", views.Query{Where: &views.Filter{Conds: []views.Cond{{Column: col, Op: views.StartsWithExact}}}}, "search"},
		{"nested containsExact", views.Query{Where: &views.Filter{And: []*views.Filter{{Conds: []views.Cond{{Column: col, Op: views.ContainsExact}}}}}}, "search"},
	}
	for _, tc := range cases {
		if got := Class(&tc.q); got != tc.want {
			t.Errorf("%s: Class = %s, want %s", tc.name, got, tc.want)
		}
	}
}
