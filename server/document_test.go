package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/resolvers"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// TestIntrospectionBounds: introspection answers to fixed bounds of its own, not to max_depth
// and max_fields, so the standard introspection query passes under any limits, while nesting
// lists of types, or depth, past those bounds is refused.
func TestIntrospectionBounds(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schema.New(cat, resolvers.New(resolvers.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	standard, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	ofTypes := func(n int) string {
		return strings.Repeat("ofType { ", n) + "name" + strings.Repeat(" }", n)
	}
	const fullType = ` fragment T on __Type { kind name fields { name type { name } } inputFields { name } interfaces { name } enumValues { name } possibleTypes { name } }`
	copies := func(n int) string {
		var b strings.Builder
		b.WriteString("{ __schema {")
		for i := range n {
			b.WriteString(" t" + strings.Repeat("x", i) + ": types { ...T }")
		}
		return b.String() + " } }" + fullType
	}
	defaults, tight := Limits{MaxDepth: 12, MaxFields: 300}, Limits{MaxDepth: 3, MaxFields: 20}
	tests := []struct {
		name    string
		query   string
		lim     Limits
		wantErr string // "" when the document must pass
	}{
		{"standard query, default limits", string(standard), defaults, ""},
		{"standard query, tight limits", string(standard), tight, ""},
		{"two nested lists under __type", `{ __type(name: "Invoice") { fields { type { fields { name } } } } }`, tight, ""},
		{"ofType chain at the bound", `{ __type(name: "Invoice") { ` + ofTypes(18) + ` } }`, tight, ""},
		{"three nested lists", `{ __schema { types { fields { type { fields { name } } } } } }`, defaults, "introspection nests more than 2"},
		{"three nested lists through fragments", `{ ...Q } fragment Q on Query { __schema { types { ...F } } } fragment F on __Type { possibleTypes { interfaces { name } } }`, defaults, "introspection nests more than 2"},
		{"ofType chain past the bound", `{ __type(name: "Invoice") { ` + ofTypes(19) + ` } }`, defaults, "introspection is deeper than the limit of 20"},
		{"many copies of the types", copies(60), defaults, "introspection selects more than the limit of 600 fields"},
		{"data fields keep max_depth", `{ __schema { types { name } } invoices { nodes { id } } }`, Limits{MaxDepth: 2, MaxFields: 300}, "query is deeper than the limit of 2"},
		{"data fields keep max_fields", `{ __schema { types { name } } invoices { totalCount } }`, Limits{MaxDepth: 12, MaxFields: 1}, "query selects more than the limit of 1 fields"},
		{"__schema below the root is not introspection", `{ invoices { nodes { __schema { types { name } } } } }`, tight, "query is deeper than the limit of 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := prepare(context.Background(), &sch, tc.query, tc.lim)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if d.errs != nil {
				got = d.errs[0].Message
			}
			switch {
			case tc.wantErr == "" && d.errs != nil:
				t.Fatalf("refused: %v", d.errs)
			case tc.wantErr != "" && !strings.Contains(got, tc.wantErr):
				t.Fatalf("got %q, want an error containing %q", got, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(d.reason, errTooComplex):
				t.Fatalf("reason %v, want errTooComplex", d.reason)
			}
		})
	}
}
