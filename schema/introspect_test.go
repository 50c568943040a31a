package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

// TestIntrospectionDeterministic: every build of the same catalog, and every introspection of
// the same schema (through graphql.Execute, as the server runs it), answers the same bytes.
// graphql-go builds types, input fields, enum values and arguments from Go maps, whose order
// changes per iteration: twenty builds times two runs would all but never agree by chance.
func TestIntrospectionDeterministic(t *testing.T) {
	doc, err := parseQuery(IntrospectionQuery)
	if err != nil {
		t.Fatal(err)
	}
	var first, firstSDL string
	for build := range 20 {
		s := demoSchema(t)
		for run := range 2 {
			res := graphql.Execute(graphql.ExecuteParams{Schema: s, AST: doc, Context: context.Background()})
			if len(res.Errors) > 0 {
				t.Fatal(res.Errors)
			}
			b, err := json.Marshal(res.Data)
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = string(b)
			} else if string(b) != first {
				t.Fatalf("build %d, introspection %d differs from the first", build, run)
			}
		}
		sdl, err := SDL(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if firstSDL == "" {
			firstSDL = sdl
		} else if sdl != firstSDL {
			t.Fatalf("build %d: SDL differs from the first", build)
		}
	}
}

// TestIntrospectionOrder pins the order rule: every list sorted by name, directives in
// graphql-go's order.
func TestIntrospectionOrder(t *testing.T) {
	in := introspect(t, demoSchema(t))
	check := func(what string, names []string) {
		t.Helper()
		if !slices.IsSorted(names) {
			t.Errorf("%s not sorted: %v", what, names)
		}
	}
	var types []string
	for _, ty := range in.Types {
		types = append(types, ty.Name)
		check(ty.Name+" fields", names(ty.Fields, func(f field) string { return f.Name }))
		check(ty.Name+" input fields", names(ty.InputFields, func(f inputValue) string { return f.Name }))
		check(ty.Name+" enum values", names(ty.EnumValues, func(v enumValue) string { return v.Name }))
		for _, f := range ty.Fields {
			check(ty.Name+"."+f.Name+" arguments", names(f.Args, func(a inputValue) string { return a.Name }))
		}
	}
	check("types", types)
	if diff := cmp.Diff([]string{"include", "skip", "deprecated"}, names(in.Directives, func(d directive) string { return d.Name })); diff != "" {
		t.Errorf("directives (-want +got):\n%s", diff)
	}
}

// TestIntrospectionComplete: the standard query reaches what the old one left out: field
// arguments with their types and descriptions, directives with theirs, deep type references.
func TestIntrospectionComplete(t *testing.T) {
	in := introspect(t, demoSchema(t))
	byName := map[string]fullType{}
	for _, ty := range in.Types {
		byName[ty.Name] = ty
	}
	invoices := byName["Query"].Fields[slices.IndexFunc(byName["Query"].Fields, func(f field) bool { return f.Name == "invoices" })]
	got := map[string]string{}
	for _, a := range invoices.Args {
		got[a.Name] = a.Type.String()
		if a.Description == "" {
			t.Errorf("argument %s has no description", a.Name)
		}
	}
	want := map[string]string{"after": "String", "first": "Int", "orderBy": "[InvoiceOrderBy!]", "search": "String", "where": "InvoiceWhere"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invoices arguments (-want +got):\n%s", diff)
	}
	conn := byName["InvoiceConnection"]
	if got := conn.Fields[slices.IndexFunc(conn.Fields, func(f field) bool { return f.Name == "nodes" })].Type.String(); got != "[Invoice!]!" {
		t.Errorf("nodes: %s", got)
	}
	skip := in.Directives[slices.IndexFunc(in.Directives, func(d directive) bool { return d.Name == "skip" })]
	if len(skip.Args) != 1 || skip.Args[0].Type.String() != "Boolean!" || len(skip.Locations) == 0 {
		t.Errorf("@skip: %+v", skip)
	}
}

func introspect(t *testing.T, s graphql.Schema) *introspection {
	t.Helper()
	data, err := Introspect(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(data["__schema"])
	var in introspection
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	return &in
}

func names[T any](list []T, name func(T) string) []string {
	out := []string{}
	for _, x := range list {
		out = append(out, name(x))
	}
	return out
}

func catalogSchema(t *testing.T, yaml string) graphql.Schema {
	t.Helper()
	cat, err := views.ParseCatalog([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cat, noResolvers{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseQuery(q string) (*ast.Document, error) {
	return parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(q)})})
}

// TestIntrospectionConcurrent: introspections of one schema and new builds run side by side
// give the same answer, with -race watching the in-place sorting.
func TestIntrospectionConcurrent(t *testing.T) {
	s := demoSchema(t)
	want := introspectJSON(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := s
			if g%2 == 1 {
				cat, _ := views.ParseCatalog(demo.Catalog())
				var err error
				if target, err = New(cat, noResolvers{}); err != nil {
					errs <- err
					return
				}
			}
			for range 5 {
				data, err := Introspect(context.Background(), target)
				if err != nil {
					errs <- err
					return
				}
				if b, _ := json.Marshal(data); string(b) != want {
					errs <- fmt.Errorf("goroutine %d: another answer", g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func introspectJSON(t *testing.T, s graphql.Schema) string {
	t.Helper()
	data, err := Introspect(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(data)
	return string(b)
}
