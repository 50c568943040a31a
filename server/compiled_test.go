package server

import (
	"bytes"
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
	vars map[string]any // the variable values the last resolver saw
	fail string         // the field name whose resolver fails
}

func (a *argsRecorder) record(p graphql.ResolveParams) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := p.Info.FieldASTs[0].Name.Value
	if al := p.Info.FieldASTs[0].Alias; al != nil {
		key = al.Value
	}
	a.args[key] = p.Args
	a.vars = p.Info.VariableValues
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

func recorderSchemas(t testing.TB) (full, exec graphql.Schema, rec *argsRecorder) {
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
// get the same arguments (literals and variables coerced, defaults filled, nulls left out)
// and variable values, and the data the same bytes as orderedJSON writes.
func TestCompiledArguments(t *testing.T) {
	full, exec, rec := recorderSchemas(t)
	type request struct {
		query string
		vars  string // JSON; "" is none
	}
	requests := map[string]request{
		"defaults":              {query: `{ invoices { nodes { id } } }`},
		"aliases":               {query: `{ a: invoices(first: 2) { nodes { id } } b: customers(first: 3, orderBy: [{field: NAME, direction: DESC}]) { totalCount } }`},
		"list single":           {query: `{ invoices(orderBy: {field: ISSUED_AT}) { nodes { id } } }`},
		"nulls":                 {query: `{ invoices(first: null, after: null, where: {status: null}) { nodes { id } } }`},
		"nested":                {query: `{ invoices(where: {and: [{status: {in: [open, paid]}}, {or: [{total: {gt: "10.5"}}, {total: {lt: "1"}}]}]}) { nodes { id } } }`},
		"var first":             {query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": 3}`},
		"var missing":           {query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`},
		"var null":              {query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": null}`},
		"var default":           {query: `query($n: Int = 7) { invoices(first: $n) { nodes { id } } }`},
		"var null over default": {query: `query($n: Int = 7) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": null}`},
		"var unset default":     {query: `query($n: Int, $s: String = "x") { invoices(first: $n, after: $s) { nodes { id } } }`, vars: `{"n": 2}`},
		"var in list":           {query: `query($s: String) { invoices(where: {status: {in: [$s, paid]}}) { nodes { id } } }`, vars: `{"s": "open"}`},
		"var list single":       {query: `query($o: [InvoiceOrderBy!]) { invoices(orderBy: $o) { nodes { id } } }`, vars: `{"o": {"field": "ID", "direction": "DESC"}}`},
		"var object": {query: `query($w: InvoiceWhere, $n: Int!) { a: invoices(where: $w, first: $n) { nodes { id } } b: invoices(first: 1) { totalCount } }`,
			vars: `{"w": {"or": [{"status": {"eq": "open"}}, {"total": {"gte": "10"}}], "number": {"startsWith": "INV"}}, "n": 4}`},
		"var aggregate": {query: `query($g: [InvoiceGroupBy!]!, $a: String) { invoicesAggregate(groupBy: $g, after: $a) { groups { count } } }`,
			vars: `{"g": [{"field": "STATUS"}]}`},
	}
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		q, err := os.ReadFile(filepath.Join(dir, "query.graphql"))
		if err != nil {
			t.Fatal(err)
		}
		vars, err := os.ReadFile(filepath.Join(dir, "vars.json"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		requests[filepath.Base(dir)] = request{query: string(q), vars: string(vars)}
	}
	ctx := context.Background()
	compiledOps, withVars := 0, 0
	for name, r := range requests {
		doc, err := prepare(ctx, &full, r.query, compileLimits)
		if err != nil {
			t.Fatal(err)
		}
		var inputs map[string]any
		if r.vars != "" {
			if err := json.Unmarshal([]byte(r.vars), &inputs); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for op, c := range compile(&exec, doc) {
			opName := ""
			if op.Name != nil {
				opName = op.Name.Value
			}
			rec.args, rec.vars = map[string]map[string]any{}, nil
			res := graphql.Execute(graphql.ExecuteParams{Schema: exec, AST: doc.ast, OperationName: opName, Args: inputs, Context: ctx})
			want, wantVars := rec.args, rec.vars
			vars, ok := c.variables(inputs)
			if len(want) == 0 { // graphql-go refused the variables
				if ok {
					t.Errorf("%s: variables %s accepted; graphql-go says %v", name, r.vars, res.Errors)
				}
				continue
			}
			if len(res.Errors) > 0 {
				t.Fatalf("%s: %v", name, res.Errors)
			}
			if !ok {
				t.Errorf("%s: variables %s refused; graphql-go takes them", name, r.vars)
				continue
			}
			compiledOps++
			if len(op.VariableDefinitions) > 0 {
				withVars++
			}
			wantData, err := orderedJSON(doc.ast, opName, res.Data)
			if err != nil {
				t.Fatal(err)
			}
			rec.args, rec.vars = map[string]map[string]any{}, nil
			data, errs := c.run(ctx, vars)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			if diff := cmp.Diff(want, rec.args); diff != "" {
				t.Errorf("%s: arguments (-graphql-go +compiled):\n%s", name, diff)
			}
			if diff := cmp.Diff(wantVars, rec.vars); diff != "" {
				t.Errorf("%s: variable values (-graphql-go +compiled):\n%s", name, diff)
			}
			if string(bytes.Join(data, nil)) != string(wantData) {
				t.Errorf("%s: data %s, graphql-go's %s", name, bytes.Join(data, nil), wantData)
			}
		}
	}
	if compiledOps < 50 || withVars < 15 {
		t.Errorf("only %d operations compiled, %d with variables: the test compares too little", compiledOps, withVars)
	}
}

// FuzzCompiledVariables holds a compiled operation's variables to graphql-go's: the inputs
// graphql-go refuses are refused (and the request goes to graphql-go for its errors), and
// the ones it takes reach the resolvers as the same arguments and variable values.
func FuzzCompiledVariables(f *testing.F) {
	const q = `query($n: Int, $s: [String!], $w: InvoiceWhere!, $o: [InvoiceOrderBy!] = [{field: ID}], $a: String!, $d: Decimal) {
  a: invoices(first: $n, after: $a, orderBy: $o, where: {and: [{status: {in: $s}}, $w, {amount: {gt: $d}}]}) { nodes { id } }
  b: invoicesAggregate(groupBy: [{field: STATUS}], first: $n) { groups { count } } }`
	for _, seed := range []string{
		`{"a": "", "w": {}}`, `{}`, `{"a": null}`, `{"a": 1, "w": {}}`, `{"a": "x", "w": {}, "n": 2.5}`, `{"a": "x", "w": {}, "n": "2"}`,
		`{"a": "x", "w": {}, "n": 3, "s": "open"}`, `{"a": "x", "w": {}, "s": ["open", "nope"]}`, `{"a": "x", "w": {}, "s": [null]}`,
		`{"a": "x", "w": {}, "w": {"status": {"eq": "paid"}}, "o": {"field": "NUMBER", "direction": "DESC"}}`,
		`{"a": "x", "w": {}, "w": {"bogus": 1}}`, `{"a": "x", "w": {}, "w": []}`, `{"a": "x", "w": {}, "o": null, "d": "1.5"}`,
		`{"a": "x", "w": {}, "o": [{"direction": "DESC"}]}`, `{"a": "x", "w": {}, "d": 12}`, `{"a": "x", "w": {}, "n": 1e300}`,
	} {
		f.Add(seed)
	}
	full, exec, rec := recorderSchemas(f)
	ctx := context.Background()
	doc, err := prepare(ctx, &full, q, compileLimits)
	if err != nil || doc.errs != nil {
		f.Fatal(err, doc.errs)
	}
	var c *compiled
	for _, oc := range compile(&exec, doc) {
		c = oc
	}
	if c == nil {
		f.Fatal("not compiled")
	}
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, vars string) {
		var inputs map[string]any
		if json.Unmarshal([]byte(vars), &inputs) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		rec.args, rec.vars = map[string]map[string]any{}, nil
		res := graphql.Execute(graphql.ExecuteParams{Schema: exec, AST: doc.ast, Args: inputs, Context: ctx})
		want, wantVars := rec.args, rec.vars
		got, ok := c.variables(inputs)
		if ok != (len(want) > 0) {
			t.Fatalf("variables %s: compiled takes them %v; graphql-go's errors %v", vars, ok, res.Errors)
		}
		if !ok {
			return
		}
		rec.args, rec.vars = map[string]map[string]any{}, nil
		if _, errs := c.run(ctx, got); len(errs) > 0 {
			t.Fatalf("variables %s: %v", vars, errs)
		}
		if diff := cmp.Diff(want, rec.args); diff != "" {
			t.Errorf("variables %s: arguments (-graphql-go +compiled):\n%s", vars, diff)
		}
		if diff := cmp.Diff(wantVars, rec.vars); diff != "" {
			t.Errorf("variables %s: variable values (-graphql-go +compiled):\n%s", vars, diff)
		}
	})
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
		{`query Q($n: Int) { invoices(first: $n) { nodes { id } } }`, true}, // variables
		{`query Q($n: Int = 2, $w: InvoiceWhere) { invoices(first: $n, where: $w) { nodes { id } } }`, true},
		{`query Q($n: Nope) { invoices(first: $n) { nodes { id } } }`, false},                // invalid: no such type
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
	data, errs := c.run(context.Background(), map[string]any{})
	if data != nil || res.Data != nil {
		t.Errorf("data %q / graphql-go's %v, want none", data, res.Data)
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
	data, errs = c.run(cancelled(), map[string]any{})
	if data != nil || len(rec.args) != 0 {
		t.Errorf("data %q, resolvers called %v; want neither", data, rec.args)
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
