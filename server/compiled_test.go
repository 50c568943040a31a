package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// argsRecorder resolves every root field by recording the arguments graphql-go (or a
// compiled operation) hands it, under the field's response key.
type argsRecorder struct {
	mu   sync.Mutex
	args map[string]map[string]any
	fail string // the field name whose resolver fails
}

func (a *argsRecorder) record(p graphql.ResolveParams) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := p.Info.FieldASTs[0].Name.Value
	if al := p.Info.FieldASTs[0].Alias; al != nil {
		key = al.Value
	}
	a.args[key] = p.Args
	if p.Info.FieldName == a.fail {
		return nil, errors.New("the view is not there")
	}
	return json.RawMessage(`{"key":"` + key + `"}`), nil
}

func (a *argsRecorder) Connection(*views.View) graphql.FieldResolveFn    { return a.record }
func (a *argsRecorder) RawConnection(*views.View) graphql.FieldResolveFn { return a.record }
func (a *argsRecorder) Aggregate(*views.View) graphql.FieldResolveFn     { return a.record }
func (a *argsRecorder) RawAggregate(*views.View) graphql.FieldResolveFn  { return a.record }
func (a *argsRecorder) RateLimit() graphql.FieldResolveFn                { return a.record }

func recorderSchemas(t *testing.T) (full, exec graphql.Schema, rec *argsRecorder) {
	t.Helper()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	rec = &argsRecorder{}
	if full, err = schema.New(cat, rec); err != nil {
		t.Fatal(err)
	}
	if exec, err = schema.NewExec(cat, rec); err != nil {
		t.Fatal(err)
	}
	return full, exec, rec
}

var compileLimits = Limits{MaxDepth: 20, MaxFields: 1000}

// TestCompiledArguments runs every golden document and a few more through graphql-go's
// executor and through its compiled form, when it has one, and requires the resolvers to
// get the same arguments (literals coerced, defaults filled, nulls left out) and the data
// the same bytes as orderedJSON writes.
func TestCompiledArguments(t *testing.T) {
	full, exec, rec := recorderSchemas(t)
	queries := map[string]string{
		"defaults":    `{ invoices { nodes { id } } }`,
		"aliases":     `{ a: invoices(first: 2) { nodes { id } } b: customers(first: 3, orderBy: [{field: NAME, direction: DESC}]) { totalCount } }`,
		"list single": `{ invoices(orderBy: {field: ISSUED_AT}) { nodes { id } } }`,
		"nulls":       `{ invoices(first: null, after: null, where: {status: null}) { nodes { id } } }`,
		"nested":      `{ invoices(where: {and: [{status: {in: [open, paid]}}, {or: [{total: {gt: "10.5"}}, {total: {lt: "1"}}]}]}) { nodes { id } } }`,
	}
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "vars.json")); err == nil {
			continue
		}
		q, err := os.ReadFile(filepath.Join(dir, "query.graphql"))
		if err != nil {
			t.Fatal(err)
		}
		queries[filepath.Base(dir)] = string(q)
	}
	ctx := context.Background()
	compiledOps := 0
	for name, q := range queries {
		doc, err := prepare(ctx, &full, q, compileLimits)
		if err != nil {
			t.Fatal(err)
		}
		for op, c := range compile(&exec, doc) {
			compiledOps++
			opName := ""
			if op.Name != nil {
				opName = op.Name.Value
			}
			rec.args = map[string]map[string]any{}
			res := graphql.Execute(graphql.ExecuteParams{Schema: exec, AST: doc.ast, OperationName: opName, Context: ctx})
			if len(res.Errors) > 0 {
				t.Fatalf("%s: %v", name, res.Errors)
			}
			want := rec.args
			wantData, err := orderedJSON(doc.ast, opName, res.Data)
			if err != nil {
				t.Fatal(err)
			}
			rec.args = map[string]map[string]any{}
			data, errs := c.run(ctx)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			if diff := cmp.Diff(want, rec.args); diff != "" {
				t.Errorf("%s: arguments (-graphql-go +compiled):\n%s", name, diff)
			}
			if string(data) != string(wantData) {
				t.Errorf("%s: data %s, graphql-go's %s", name, data, wantData)
			}
		}
	}
	if compiledOps < 40 {
		t.Errorf("only %d operations compiled: the test compares too little", compiledOps)
	}
}

// TestCompileWhich keeps to graphql-go's executor what a compiled operation would not run
// the same way.
func TestCompileWhich(t *testing.T) {
	full, exec, _ := recorderSchemas(t)
	cases := []struct {
		query string
		want  bool
	}{
		{`{ invoices { nodes { id } } }`, true},
		{`query Q { invoices(first: 1) { nodes { id } } invoicesAggregate { totals { count } } }`, true},
		{`query Q($n: Int) { invoices(first: $n) { nodes { id } } }`, false},                 // variables
		{`query Q($n: Int) { invoices { nodes { id } } }`, false},                            // declared, unused: graphql-go coerces it
		{`{ invoices @include(if: true) { nodes { id } } }`, false},                          // directive
		{`{ ...F } fragment F on Query { invoices { nodes { id } } }`, false},                // root fragment
		{`{ ... on Query { invoices { nodes { id } } } }`, false},                            // inline fragment
		{`{ __typename invoices { nodes { id } } }`, false},                                  // __typename
		{`{ rateLimit { lookup { remaining } } }`, false},                                    // not an encoded field
		{`{ invoices(first: 1) { nodes { id } } invoices(first: 1) { totalCount } }`, false}, // one key, two fields
		{`{ __schema { queryType { name } } }`, false},                                       // introspection
		{`{ nope { id } }`, false},                                                           // invalid
	}
	for _, tc := range cases {
		doc, err := prepare(context.Background(), &full, tc.query, compileLimits)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(compile(&exec, doc)) > 0; got != tc.want {
			t.Errorf("%s: compiled %v, want %v (errors %v)", tc.query, got, tc.want, doc.errs)
		}
	}
}

// TestCompiledErrors gives a failing root field the answer graphql-go gives: no data, one
// error located at the field with its path; and a context that ended, its error alone.
func TestCompiledErrors(t *testing.T) {
	full, exec, rec := recorderSchemas(t)
	const q = `{ a: invoices(first: 1) { nodes { id } }
  b: customers { nodes { id } } }`
	doc, err := prepare(context.Background(), &full, q, compileLimits)
	if err != nil {
		t.Fatal(err)
	}
	c := compile(&exec, doc)[doc.ast.Definitions[0].(*ast.OperationDefinition)]
	if c == nil {
		t.Fatal("not compiled")
	}
	rec.fail = "customers"
	rec.args = map[string]map[string]any{}
	res := graphql.Execute(graphql.ExecuteParams{Schema: exec, AST: doc.ast, Context: context.Background()})
	rec.args = map[string]map[string]any{}
	data, errs := c.run(context.Background())
	if data != nil || res.Data != nil {
		t.Errorf("data %s / graphql-go's %v, want none", data, res.Data)
	}
	if diff := cmp.Diff(errorsOf(res.Errors), errorsOf(errs)); diff != "" {
		t.Errorf("errors (-graphql-go +compiled):\n%s", diff)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "not there") {
		t.Errorf("errors %v", errs)
	}
	// An ended context: graphql-go answers its error alone when it sees the context end first
	// (a race with its resolver goroutine, so it is not run here); a compiled operation always
	// does, and calls no resolver.
	rec.args = map[string]map[string]any{}
	data, errs = c.run(cancelled())
	if data != nil || len(rec.args) != 0 {
		t.Errorf("data %s, resolvers called %v; want neither", data, rec.args)
	}
	want := []gqlerrors.FormattedError{gqlerrors.FormatError(context.Canceled)}
	if diff := cmp.Diff(errorsOf(want), errorsOf(errs)); diff != "" {
		t.Errorf("errors of an ended context (-want +got):\n%s", diff)
	}
}

// errorsOf shows errors as a response has them, with the cause the server classifies.
func errorsOf(errs []gqlerrors.FormattedError) []string {
	var out []string
	for _, e := range errs {
		b, _ := json.Marshal(e)
		cause := "<nil>"
		if err := e.OriginalError(); err != nil {
			cause = err.Error()
		}
		out = append(out, string(b)+" cause: "+cause)
	}
	return out
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
