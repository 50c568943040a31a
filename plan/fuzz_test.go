package plan

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/graphql-go/graphql/language/ast"
)

// FuzzPlan: whatever the document and the variables, once the document parses and validates,
// New returns a plan or an error wrapping ErrBadRequest, never panics; costs are >= 0, free
// fields cost nothing, and Cost, Rows and CostByClass are the sums of the fields.
//
//	go test ./plan -run '^$' -fuzz FuzzPlan -fuzztime 60s
func FuzzPlan(f *testing.F) {
	fx := newFixture(f)
	for _, tc := range planCases(fx) {
		f.Add(tc.query, tc.vars, tc.opName, false)
		f.Add(tc.query, tc.vars, tc.opName, true)
	}
	f.Add(`query($n: Int, $s: Boolean!, $w: InvoiceWhere) { a: invoices(first: $n, where: $w) @skip(if: $s) { totalCount } }`,
		`{"n": 1e300, "s": false, "w": {"not": {"not": {"number": {"contains": "x"}}}}}`, "", true)
	f.Add(`query($n: Int) { invoices(first: $n) { nodes { id } } }`, `{"n": "12"}`, "", false)
	o := fx.options()
	o.ClassOf = func(name string) (Class, bool) { return Report, name == "invoicesAggregate" }
	f.Fuzz(func(t *testing.T, query, vars, opName string, useNumber bool) {
		doc := fx.fuzzDocument(query)
		if doc == nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(vars))
		if useNumber {
			dec.UseNumber()
		}
		var m map[string]any
		if dec.Decode(&m) != nil {
			m = nil
		}
		p, err := New(o, doc, opName, m)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		checkSums(t, p)
	})
}

// fuzzDocument parses and validates query, or returns nil. It leaves out what the server
// refuses before validation and what graphql-go cannot validate safely: long or deeply nested
// documents and fragment cycles (they overflow graphql-go's validator, upstream #742).
func (fx *fixture) fuzzDocument(query string) (doc *ast.Document) {
	if len(query) > 4096 || nesting(query) > 40 {
		return nil
	}
	defer func() {
		if recover() != nil { // graphql-go's parser or validator, not the planner
			doc = nil
		}
	}()
	doc, ok := fx.parseNoCycles(query)
	if !ok {
		return nil
	}
	return doc
}

func (fx *fixture) parseNoCycles(query string) (*ast.Document, bool) {
	doc, ok := fx.parseOnly(query)
	if !ok || hasFragmentCycle(doc) {
		return nil, false
	}
	return doc, fx.validate(doc)
}

// nesting returns the deepest bracket nesting of query, strings included (an overestimate).
func nesting(query string) int {
	depth, deepest := 0, 0
	for _, c := range query {
		switch c {
		case '{', '[', '(':
			depth++
			deepest = max(deepest, depth)
		case '}', ']', ')':
			depth--
		}
	}
	return deepest
}

// hasFragmentCycle reports whether a fragment spreads itself, directly or not.
func hasFragmentCycle(doc *ast.Document) bool {
	spreads := map[string][]string{}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
			spreads[f.Name.Value] = append(spreads[f.Name.Value], spreadsIn(f.SelectionSet, nil)...)
		}
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var cyclic func(string) bool
	cyclic = func(name string) bool {
		switch state[name] {
		case visiting:
			return true
		case done:
			return false
		}
		state[name] = visiting
		for _, next := range spreads[name] {
			if cyclic(next) {
				return true
			}
		}
		state[name] = done
		return false
	}
	for name := range spreads {
		if cyclic(name) {
			return true
		}
	}
	return false
}

func spreadsIn(set *ast.SelectionSet, out []string) []string {
	if set == nil {
		return out
	}
	for _, sel := range set.Selections {
		switch s := sel.(type) {
		case *ast.Field:
			out = spreadsIn(s.SelectionSet, out)
		case *ast.InlineFragment:
			out = spreadsIn(s.SelectionSet, out)
		case *ast.FragmentSpread:
			if s.Name != nil {
				out = append(out, s.Name.Value)
			}
		}
	}
	return out
}

// checkSums checks a plan's invariants.
func checkSums(t *testing.T, p *Plan) {
	t.Helper()
	cost, rows, n := 0, 0, 0
	byClass := map[Class]int{}
	var class Class
	for _, f := range p.Fields {
		switch {
		case f.Free() && f.Cost != 0:
			t.Fatalf("free field %s costs %d", f.Key, f.Cost)
		case !f.Free() && f.Cost < 1:
			t.Fatalf("field %s (%s) costs %d", f.Key, f.Class, f.Cost)
		case !f.Free() && f.Class.rank() == 0:
			t.Fatalf("field %s has class %q", f.Key, f.Class)
		case f.Free() && !isFree(f.Name):
			t.Fatalf("field %s (%s) has no class", f.Key, f.Name)
		}
		cost = addSat(cost, f.Cost)
		if f.Page && f.Rows > 0 {
			rows = addSat(rows, f.Rows)
		}
		if !f.Free() {
			n++
			byClass[f.Class] = addSat(byClass[f.Class], f.Cost)
			if f.Class.rank() > class.rank() {
				class = f.Class
			}
		}
	}
	if p.Cost != cost || p.Rows != rows || p.Cost < 0 || p.Rows < 0 {
		t.Fatalf("plan cost %d rows %d, fields sum to %d and %d", p.Cost, p.Rows, cost, rows)
	}
	if p.RootFields() != n || p.Class() != class {
		t.Fatalf("root fields %d class %q, want %d %q", p.RootFields(), p.Class(), n, class)
	}
	got := p.CostByClass()
	if len(got) != len(byClass) {
		t.Fatalf("CostByClass %v, want %v", got, byClass)
	}
	for c, v := range byClass {
		if got[c] != v {
			t.Fatalf("CostByClass %v, want %v", got, byClass)
		}
	}
	if cost < math.MaxInt {
		sum := 0
		for _, v := range got {
			sum += v
		}
		if sum != cost {
			t.Fatalf("CostByClass sums to %d, cost is %d", sum, cost)
		}
	}
}
