package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// noResolvers satisfies schema.Resolvers; the planner never runs a document.
type noResolvers struct{}

func (noResolvers) Connection(*views.View) graphql.FieldResolveFn    { return nil }
func (noResolvers) RawConnection(*views.View) graphql.FieldResolveFn { return nil }
func (noResolvers) RateLimit() graphql.FieldResolveFn                { return nil }

var _ schema.Resolvers = noResolvers{}

// fixture is the demo catalog and its schema (rateLimit included), with an aggregate root field
// so that documents using one validate.
type fixture struct {
	cat    *views.Catalog
	schema graphql.Schema
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := schema.New(cat, noResolvers{})
	if err != nil {
		tb.Fatal(err)
	}
	s.QueryType().AddFieldConfig("invoicesAggregate", &graphql.Field{Type: graphql.Int,
		Args: graphql.FieldConfigArgument{"first": {Type: graphql.Int}}})
	return &fixture{cat: cat, schema: s}
}

// parseOnly parses a document as the server does.
func (fx *fixture) parseOnly(query string) (*ast.Document, bool) {
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})})
	return doc, err == nil
}

// validate validates a document against the schema with graphql-go's rules, as the server does.
func (fx *fixture) validate(doc *ast.Document) bool {
	return graphql.ValidateDocument(&fx.schema, doc, graphql.SpecifiedRules).IsValid
}

func (fx *fixture) mustParse(tb testing.TB, query string) *ast.Document {
	tb.Helper()
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})})
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	if res := graphql.ValidateDocument(&fx.schema, doc, graphql.SpecifiedRules); !res.IsValid {
		tb.Fatalf("validate: %v", res.Errors)
	}
	return doc
}

func (fx *fixture) options() Options {
	return Options{Catalog: fx.cat, DefaultPageSize: 20, Weights: map[Class]int{Search: 3, Report: 5, Export: 10}}
}

// decode decodes variables as the server does: plain, or with UseNumber.
func decode(tb testing.TB, vars string, useNumber bool) map[string]any {
	tb.Helper()
	if vars == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(vars))
	if useNumber {
		dec.UseNumber()
	}
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("variables %s: %v", vars, err)
	}
	return m
}

// viewComparer compares views by identity: they come from the one catalog.
var viewComparer = cmp.Comparer(func(a, b *views.View) bool { return a == b })

type planCase struct {
	name    string
	query   string
	vars    string // JSON
	opName  string
	options func(*Options)
	want    []Field // the plan's Cost and Rows are checked as sums of these
}

func planCases(fx *fixture) []planCase {
	inv, cus, prod := fx.cat.View("invoices"), fx.cat.View("customers"), fx.cat.View("products")
	lookup := func(key string, v *views.View, rows int, total, page bool, cost int) Field {
		return Field{Key: key, Name: v.Field, View: v, Class: Lookup, Rows: rows, TotalCount: total, Page: page, Cost: cost}
	}
	search := func(key string, v *views.View, rows int, total, page bool, cost int) Field {
		f := lookup(key, v, rows, total, page, cost)
		f.Class = Search
		return f
	}
	free := func(name string) Field { return Field{Key: name, Name: name} }
	return []planCase{
		{name: "one connection", query: `{ invoices(first: 50) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 50, false, true, 1)}},
		{name: "alias", query: `{ inv: invoices(first: 250) { nodes { id } } }`,
			want: []Field{lookup("inv", inv, 250, false, true, 3)}},
		{name: "two aliases of one view", query: `{ a: invoices(first: 100) { nodes { id } } b: invoices(first: 101) { totalCount edges { cursor } } }`,
			want: []Field{lookup("a", inv, 100, false, true, 1), lookup("b", inv, 101, true, true, 3)}},
		{name: "one response key merges", query: `{ invoices(first: 10) { nodes { id } } products { pageInfo { hasNextPage } } invoices(first: 10) { totalCount } }`,
			want: []Field{lookup("invoices", inv, 10, true, true, 2), lookup("products", prod, 20, false, true, 1)}},
		{name: "named fragments", query: `query { ...Q } fragment Q on Query { invoices(first: 5) { ...C } } fragment C on InvoiceConnection { totalCount }`,
			want: []Field{lookup("invoices", inv, 5, true, false, 1)}},
		{name: "inline fragments", query: `{ ... on Query { customers { ... on CustomerConnection { edges { cursor } } } } ... { products { __typename } } }`,
			want: []Field{lookup("customers", cus, 20, false, true, 1), lookup("products", prod, 20, false, false, 1)}},
		{name: "nested fragments",
			query: `{ ...A } fragment A on Query { ...B x: products { ...P } } fragment B on Query { invoices(first: 300) { ...I } }
				fragment I on InvoiceConnection { ... on InvoiceConnection { ...J } } fragment J on InvoiceConnection { totalCount pageInfo { endCursor } }
				fragment P on ProductConnection { ...J2 } fragment J2 on ProductConnection { nodes { sku } }`,
			want: []Field{lookup("invoices", inv, 300, true, true, 4), lookup("x", prod, 20, false, true, 1)}},
		{name: "a fragment spread twice", query: `{ ...Q ...Q invoices { ...C ...C } } fragment Q on Query { products { ...D } } fragment C on InvoiceConnection { totalCount } fragment D on ProductConnection { nodes { id } ...D2 } fragment D2 on ProductConnection { totalCount }`,
			want: []Field{lookup("products", prod, 20, true, true, 2), lookup("invoices", inv, 20, true, false, 1)}},
		{name: "skip and include literals", query: `{ invoices { totalCount @include(if: false) nodes { id } } c: customers @skip(if: true) { nodes { id } } products @include(if: true) { totalCount @skip(if: false) } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1), lookup("products", prod, 20, true, false, 1)}},
		{name: "skip wins over include", query: `{ invoices @skip(if: true) @include(if: true) { nodes { id } } products @skip(if: false) @include(if: false) { nodes { id } } customers { totalCount } }`,
			want: []Field{lookup("customers", cus, 20, true, false, 1)}},
		{name: "skip from a variable", query: `query($s: Boolean!) { invoices @skip(if: $s) { nodes { id } } products { nodes { id } } }`, vars: `{"s": true}`,
			want: []Field{lookup("products", prod, 20, false, true, 1)}},
		{name: "include from a variable's default", query: `query($i: Boolean = false) { invoices { totalCount @include(if: $i) nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "include from a variable over its default", query: `query($i: Boolean = false) { invoices { totalCount @include(if: $i) nodes { id } } }`, vars: `{"i": true}`,
			want: []Field{lookup("invoices", inv, 20, true, true, 2)}},
		{name: "null variable takes the default", query: `query($i: Boolean = false) { invoices { totalCount @include(if: $i) nodes { id } } }`, vars: `{"i": null}`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "directives on spreads and inline fragments", query: `query($on: Boolean!, $off: Boolean!) { ...Q @include(if: $off) ... @include(if: $on) { products { ...P @skip(if: $off) } } }
				fragment Q on Query { invoices { nodes { id } } } fragment P on ProductConnection { totalCount }`, vars: `{"on": true, "off": false}`,
			want: []Field{lookup("products", prod, 20, true, false, 1)}},
		{name: "a skipped selection does not merge", query: `{ invoices @skip(if: true) { totalCount } invoices { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "first from a variable", query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": 250}`,
			want: []Field{lookup("invoices", inv, 250, false, true, 3)}},
		{name: "first variable absent", query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "first variable default", query: `query($n: Int = 120) { invoices(first: $n) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 120, false, true, 2)}},
		{name: "first variable null", query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": null}`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "first variable 1e2", query: `query($n: Int) { invoices(first: $n) { nodes { id } } }`, vars: `{"n": 1e2}`,
			want: []Field{lookup("invoices", inv, 100, false, true, 1)}},
		{name: "default capped by max_page_size", query: `{ customers { nodes { id } } invoices { nodes { id } } }`,
			options: func(o *Options) { o.DefaultPageSize = 300 },
			want:    []Field{lookup("customers", cus, 200, false, true, 2), lookup("invoices", inv, 300, false, true, 3)}},
		{name: "explicit first is not clamped", query: `{ customers(first: 1000) { nodes { id } } }`,
			want: []Field{lookup("customers", cus, 1000, false, true, 10)}},
		{name: "negative first", query: `{ invoices(first: -5) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, -5, false, true, 1)}},
		{name: "first zero", query: `{ invoices(first: 0) { nodes { id } totalCount } }`,
			want: []Field{lookup("invoices", inv, 0, true, true, 2)}},
		{name: "totalCount only", query: `{ invoices(first: 500) { totalCount } }`,
			want: []Field{lookup("invoices", inv, 500, true, false, 1)}},
		{name: "typename only", query: `{ invoices { __typename } }`,
			want: []Field{lookup("invoices", inv, 20, false, false, 1)}},
		{name: "search argument", query: `{ invoices(search: "acme") { nodes { id } } }`,
			want: []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "empty search argument", query: `{ invoices(search: "") { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "search from a variable", query: `query($q: String) { customers(search: $q, first: 150) { nodes { id } totalCount } }`, vars: `{"q": "ann"}`,
			want: []Field{search("customers", cus, 150, true, true, 9)}},
		{name: "search variable null", query: `query($q: String) { customers(search: $q) { nodes { id } } }`, vars: `{"q": null}`,
			want: []Field{lookup("customers", cus, 20, false, true, 1)}},
		{name: "startsWith deep in a literal where",
			query: `{ invoices(where: {and: [{status: {eq: "paid"}}, {or: [{amount: {gt: "1"}}, {not: {number: {startsWith: "ACM"}}}]}]}) { nodes { id } } }`,
			want:  []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "contains in a single-item and", query: `{ products(where: {and: {name: {contains: "bolt"}}}) { nodes { id } } }`,
			want: []Field{search("products", prod, 20, false, true, 3)}},
		{name: "where without text matching", query: `{ invoices(where: {status: {in: ["paid"]}, and: [{amount: {gt: "10"}}], not: {number: {eq: "x"}}}) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "contains deep in a where variable", query: `query($w: InvoiceWhere) { invoices(where: $w) { nodes { id } } }`,
			vars: `{"w": {"or": [{"status": {"eq": "paid"}}, {"not": {"and": [{"customerName": {"contains": "x"}}]}}]}}`,
			want: []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "where variable without text matching", query: `query($w: InvoiceWhere) { invoices(where: $w) { nodes { id } } }`,
			vars: `{"w": {"or": [{"status": {"eq": "paid"}}, {"not": {"number": {"in": ["a"]}}}]}}`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "operator from a variable", query: `query($t: String) { invoices(where: {or: [{note: {contains: $t}}]}) { nodes { id } } }`, vars: `{"t": "late"}`,
			want: []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "operator variable absent", query: `query($t: String) { invoices(where: {or: [{note: {contains: $t}}]}) { nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 20, false, true, 1)}},
		{name: "column filter from a variable", query: `query($f: CustomerNameFilter) { customers(where: {not: {name: $f}}) { nodes { id } } }`, vars: `{"f": {"startsWith": "A"}}`,
			want: []Field{search("customers", cus, 20, false, true, 3)}},
		{name: "list item from a variable", query: `query($w: InvoiceWhere!) { invoices(where: {and: [{status: {eq: "paid"}}, $w]}) { nodes { id } } }`, vars: `{"w": {"number": {"startsWith": "G"}}}`,
			want: []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "free root fields", query: `{ __typename rateLimit { enabled } __schema { queryType { name } } __type(name: "Invoice") { name } }`,
			want: []Field{free("__typename"), free("rateLimit"), free("__schema"), free("__type")}},
		{name: "free fields beside a search", query: `{ rateLimit { enabled } r: rateLimit { enabled } products(search: "x", first: 500) { totalCount nodes { id } } }`,
			want: []Field{free("rateLimit"), {Key: "r", Name: "rateLimit"}, search("products", prod, 500, true, true, 18)}},
		{name: "class weights", query: `{ invoices(search: "a") { nodes { id } } }`,
			options: func(o *Options) { o.Weights = map[Class]int{Search: 0, Lookup: -3} },
			want:    []Field{search("invoices", inv, 20, false, true, 1)}},
		{name: "ClassOf sets report and export",
			query: `{ invoicesAggregate products(search: "x") { nodes { id } } customers { totalCount } }`,
			options: func(o *Options) {
				o.ClassOf = func(name string) (Class, bool) {
					switch name {
					case "invoicesAggregate":
						return Report, true
					case "products":
						return Export, true
					}
					return "", false
				}
			},
			want: []Field{{Key: "invoicesAggregate", Name: "invoicesAggregate", Class: Report, Rows: 20, Cost: 5},
				{Key: "products", Name: "products", View: prod, Class: Export, Rows: 20, Page: true, Cost: 10},
				lookup("customers", cus, 20, true, false, 1)}},
		{name: "a root field outside the catalog is a lookup", query: `{ invoicesAggregate(first: 300) }`,
			want: []Field{{Key: "invoicesAggregate", Name: "invoicesAggregate", Class: Lookup, Rows: 300, Cost: 1}}},
		{name: "a class outside Classes is ignored", query: `{ invoices(search: "x") { nodes { id } } customers { totalCount } }`,
			options: func(o *Options) { o.ClassOf = func(string) (Class, bool) { return "bogus", true } },
			want:    []Field{search("invoices", inv, 20, false, true, 3), lookup("customers", cus, 20, true, false, 1)}},
		manyAliases(inv),
		// The examples of the package doc (weights {search: 3}) and of the README.
		{name: "doc example 1", query: `{ invoices(first: 250) { totalCount nodes { id } } }`,
			want: []Field{lookup("invoices", inv, 250, true, true, 4)}},
		{name: "doc example 2", query: `{ invoices(search: "acme") { nodes { id } } }`,
			want: []Field{search("invoices", inv, 20, false, true, 3)}},
		{name: "doc example 3", query: `{ a: invoices(first: 500) { nodes { id } } b: invoices { totalCount } }`,
			want: []Field{lookup("a", inv, 500, false, true, 5), lookup("b", inv, 20, true, false, 1)}},
		{name: "README example", query: `{ a: invoices(first: 250) { totalCount nodes { id } } b: customers { totalCount } }`,
			want: []Field{lookup("a", inv, 250, true, true, 4), lookup("b", cus, 20, true, false, 1)}},
		{name: "operation by name", query: `query A { invoices { nodes { id } } } query B { products { totalCount } }`, opName: "B",
			want: []Field{lookup("products", prod, 20, true, false, 1)}},
		{name: "empty plan", query: `query A { __typename }`, opName: "A",
			want: []Field{free("__typename")}},
	}
}

// manyAliases has more root fields than keyIndexAfter, and merges one key at the end.
func manyAliases(inv *views.View) planCase {
	c := planCase{name: "many aliases merge"}
	var q strings.Builder
	q.WriteString("{")
	for i := range 2 * keyIndexAfter {
		key := fmt.Sprintf("a%02d", i)
		fmt.Fprintf(&q, " %s: invoices(first: %d) { nodes { id } }", key, i+1)
		c.want = append(c.want, Field{Key: key, Name: "invoices", View: inv, Class: Lookup, Rows: i + 1, Page: true, Cost: 1})
	}
	q.WriteString(" a00: invoices(first: 1) { totalCount } a31: invoices(first: 32) { totalCount } }")
	c.want[0].TotalCount, c.want[0].Cost = true, 2
	c.want[31].TotalCount, c.want[31].Cost = true, 2
	c.query = q.String()
	return c
}

func TestNew(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range planCases(fx) {
		for _, useNumber := range []bool{false, true} {
			name := tc.name
			if useNumber {
				name += "/UseNumber"
			}
			t.Run(name, func(t *testing.T) {
				doc := fx.mustParse(t, tc.query)
				o := fx.options()
				if tc.options != nil {
					tc.options(&o)
				}
				got, err := New(o, doc, tc.opName, decode(t, tc.vars, useNumber))
				if err != nil {
					t.Fatal(err)
				}
				want := &Plan{Fields: tc.want}
				for _, f := range tc.want {
					want.Cost += f.Cost
					if f.Page && f.Rows > 0 {
						want.Rows += f.Rows
					}
				}
				if diff := cmp.Diff(want, got, viewComparer); diff != "" {
					t.Errorf("plan (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestNewErrors(t *testing.T) {
	fx := newFixture(t)
	cases := []struct {
		name   string
		query  string
		vars   string
		opName string
		want   string
	}{
		{"unknown operation", `query A { __typename }`, "", "B", `no operation named "B"`},
		{"operation not named", `query A { __typename } query B { __typename }`, "", "", "has 2 operations"},
		{"first a string", `query($n: Int) { invoices(first: $n) { nodes { id } } }`, `{"n": "50"}`, "", "variable $n must be an integer (Int), not a string"},
		{"first a fraction", `query($n: Int) { invoices(first: $n) { nodes { id } } }`, `{"n": 2.5}`, "", "variable $n must be an integer (Int)"},
		{"first a bool", `query($n: Int) { invoices(first: $n) { nodes { id } } }`, `{"n": true}`, "", "not a boolean"},
		{"first a list", `query($n: Int) { invoices(first: $n) { nodes { id } } }`, `{"n": [1]}`, "", "not a list"},
		{"skip a string", `query($s: Boolean!) { invoices @skip(if: $s) { nodes { id } } }`, `{"s": "true"}`, "", "variable $s must be a Boolean, not a string"},
		{"include a number in a fragment", `query($s: Boolean!) { invoices { ...C } } fragment C on InvoiceConnection { totalCount @include(if: $s) }`, `{"s": 1}`, "", "variable $s must be a Boolean, not a number"},
		{"search a number", `query($q: String) { invoices(search: $q) { nodes { id } } }`, `{"q": 5}`, "", "variable $q must be a String, not a number"},
	}
	for _, tc := range cases {
		for _, useNumber := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				doc := fx.mustParse(t, tc.query)
				p, err := New(fx.options(), doc, tc.opName, decode(t, tc.vars, useNumber))
				if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("New = %v, %v; want an error wrapping ErrBadRequest with %q", p, err, tc.want)
				}
			})
		}
	}
}

func TestNewNotQuery(t *testing.T) {
	doc, err := parser.Parse(parser.ParseParams{Source: `mutation { invoices { totalCount } }`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(newFixture(t).options(), doc, "", nil); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("New(mutation) = %v, want ErrBadRequest", err)
	}
	if _, err := New(Options{}, nil, "", nil); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("New(nil) = %v, want ErrBadRequest", err)
	}
}

// TestSaturation: huge page sizes and weights saturate instead of wrapping around.
func TestSaturation(t *testing.T) {
	fx := newFixture(t)
	var q bytes.Buffer
	q.WriteString("query($n: Int) {")
	for i := range 100 {
		q.WriteString(" a" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ": invoices(first: $n) { totalCount nodes { id } }")
	}
	q.WriteString(" }")
	doc := fx.mustParse(t, q.String())
	cases := []struct {
		name             string
		vars             string
		weight           int
		cost, rows, each int
	}{
		{"int32 max", `{"n": 2147483647}`, 1, 100 * 21474838, 100 * 2147483647, 21474838},
		{"int32 max, huge weight", `{"n": 2147483647}`, math.MaxInt / 1000, math.MaxInt, 100 * 2147483647, math.MaxInt},
		{"1e30", `{"n": 1e30}`, 1, math.MaxInt, math.MaxInt, math.MaxInt/100 + 2},
		{"-1e30", `{"n": -1e30}`, 1, 100 * 2, 0, 2},
		{"huge integer literal", `{"n": 123456789012345678901234567890}`, 1, math.MaxInt, math.MaxInt, math.MaxInt/100 + 2},
	}
	for _, tc := range cases {
		for _, useNumber := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				o := fx.options()
				o.Weights = map[Class]int{Lookup: tc.weight}
				p, err := New(o, doc, "", decode(t, tc.vars, useNumber))
				if err != nil {
					t.Fatal(err)
				}
				if p.Cost != tc.cost || p.Rows != tc.rows || p.Fields[0].Cost != tc.each {
					t.Errorf("cost %d rows %d field cost %d, want %d %d %d", p.Cost, p.Rows, p.Fields[0].Cost, tc.cost, tc.rows, tc.each)
				}
			})
		}
	}
	lit := fx.mustParse(t, `{ a: invoices(first: 9223372036854775807) { nodes { id } } b: invoices(first: 9223372036854775807) { nodes { id } } }`)
	p, err := New(fx.options(), lit, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != math.MaxInt || p.Fields[0].Rows != math.MaxInt || p.Cost != 2*(math.MaxInt/100+1) {
		t.Errorf("literal: rows %d, cost %d", p.Rows, p.Cost)
	}
}

func TestFieldCost(t *testing.T) {
	cases := []struct {
		weight, rows int
		page, total  bool
		want         int
	}{
		{1, 50, true, false, 1},
		{1, 100, true, false, 1},
		{1, 101, true, false, 2},
		{1, 500, true, true, 6},
		{3, 500, true, true, 18},
		{1, 500, false, true, 1},
		{7, 500, false, false, 7},
		{1, 0, true, false, 1},
		{1, -100, true, true, 2},
		{0, 250, true, false, 3},
		{-5, 250, true, false, 3},
		{1, math.MaxInt, true, true, math.MaxInt/100 + 2},
		{math.MaxInt, 101, true, false, math.MaxInt},
	}
	for _, tc := range cases {
		if got := FieldCost(tc.weight, tc.rows, tc.page, tc.total); got != tc.want {
			t.Errorf("FieldCost(%d, %d, %v, %v) = %d, want %d", tc.weight, tc.rows, tc.page, tc.total, got, tc.want)
		}
	}
}

func TestCostByClassAndClass(t *testing.T) {
	fx := newFixture(t)
	cases := []struct {
		name    string
		query   string
		classOf func(string) (Class, bool)
		byClass map[Class]int
		class   Class
	}{
		{"free only", `{ rateLimit { enabled } __typename }`, nil, map[Class]int{}, ""},
		{"lookup", `{ invoices(first: 200) { nodes { id } } customers { totalCount } }`, nil, map[Class]int{Lookup: 3}, Lookup},
		{"search beats lookup", `{ invoices { nodes { id } } products(search: "x") { totalCount } rateLimit { enabled } }`, nil,
			map[Class]int{Lookup: 1, Search: 3}, Search},
		{"report beats search", `{ invoicesAggregate products(search: "x") { totalCount } }`,
			func(n string) (Class, bool) { return Report, n == "invoicesAggregate" }, map[Class]int{Report: 5, Search: 3}, Report},
		{"export beats report", `{ invoicesAggregate products { nodes { id } } }`,
			func(n string) (Class, bool) {
				if n == "products" {
					return Export, true
				}
				return Report, true
			}, map[Class]int{Report: 5, Export: 10}, Export},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := fx.options()
			o.ClassOf = tc.classOf
			p, err := New(o, fx.mustParse(t, tc.query), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.byClass, p.CostByClass()); diff != "" {
				t.Errorf("CostByClass (-want +got):\n%s", diff)
			}
			if got := p.Class(); got != tc.class {
				t.Errorf("Class() = %q, want %q", got, tc.class)
			}
		})
	}
	if diff := cmp.Diff([]Class{Lookup, Search, Report, Export}, Classes); diff != "" {
		t.Errorf("Classes (-want +got):\n%s", diff)
	}
}

func TestCheck(t *testing.T) {
	fx := newFixture(t)
	// 4 view fields (the free ones do not count), 1100 rows with a page, cost 6 + 1 + 1 + 5 = 13.
	p, err := New(fx.options(), fx.mustParse(t, `{ rateLimit { enabled } __typename
		a: invoices(first: 500) { totalCount nodes { id } } b: customers(first: 100) { nodes { id } } c: products(first: 500) { totalCount } d: products(first: 500) { edges { cursor } } }`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost != 13 || p.Rows != 1100 || p.RootFields() != 4 {
		t.Fatalf("cost %d rows %d root fields %d", p.Cost, p.Rows, p.RootFields())
	}
	cases := []struct {
		name   string
		budget Budget
		want   *BudgetError
		msg    string
	}{
		{"no limits", Budget{}, nil, ""},
		{"all at the limit", Budget{MaxCost: 13, MaxRootFields: 4, MaxRows: 1100}, nil, ""},
		{"cost", Budget{MaxCost: 12, MaxRootFields: 4, MaxRows: 1100}, &BudgetError{Limit: "cost", Value: 13, Max: 12},
			"request over budget: cost 13, over the maximum of 12 per request; lower first"},
		{"root fields", Budget{MaxCost: 1, MaxRootFields: 3}, &BudgetError{Limit: "root fields", Value: 4, Max: 3},
			"request over budget: 4 root fields, over the maximum of 3 per request; split the request"},
		{"rows", Budget{MaxCost: 1, MaxRows: 1099}, &BudgetError{Limit: "rows", Value: 1100, Max: 1099},
			"request over budget: 1100 requested rows (first, summed over the connections), over the maximum of 1099 per request; lower first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.budget)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var be *BudgetError
			if !errors.As(err, &be) || !errors.Is(err, ErrOverBudget) {
				t.Fatalf("Check = %v, want a *BudgetError wrapping ErrOverBudget", err)
			}
			if diff := cmp.Diff(tc.want, be); diff != "" {
				t.Errorf("BudgetError (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(err.Error(), tc.msg) {
				t.Errorf("message %q, want it to start with %q", err, tc.msg)
			}
		})
	}
}

// BenchQuery is the benchmarks' list query (bench.Query).
const benchQuery = `{ invoices(first: 50) { nodes { id number status amount issuedAt customerName } } }`

// BenchmarkPlan plans the list query: the planner runs on every request.
//
//	go test ./plan -run '^$' -bench Plan -benchmem
func BenchmarkPlan(b *testing.B) {
	fx := newFixture(b)
	doc := fx.mustParse(b, benchQuery)
	o := fx.options()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(o, doc, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanAllocs bounds the allocations of planning the list query (structural, not timed).
func TestPlanAllocs(t *testing.T) {
	fx := newFixture(t)
	doc := fx.mustParse(t, benchQuery)
	o := fx.options()
	if n := testing.AllocsPerRun(100, func() { _, _ = New(o, doc, "", nil) }); n > 2 {
		t.Errorf("New allocates %v times for the list query, want at most 2", n)
	}
}

// TestWhereBounds: a where variable deeper or larger than views accepts is planned as search,
// one within views' bounds is planned by its operators.
func TestWhereBounds(t *testing.T) {
	fx := newFixture(t)
	doc := fx.mustParse(t, `query($w: InvoiceWhere) { invoices(where: $w) { nodes { id } } }`)
	eq := map[string]any{"status": map[string]any{"eq": "paid"}}
	nested := func(n int) any {
		var w any = eq
		for range n {
			w = map[string]any{"not": w}
		}
		return w
	}
	wide := func(n int) any {
		list := make([]any, n)
		for i := range list {
			list[i] = eq
		}
		return map[string]any{"and": list}
	}
	cases := []struct {
		name  string
		where any
		want  Class
	}{
		{"views' depth", nested(8), Lookup},
		{"deeper than maxWhereDepth", nested(maxWhereDepth + 1), Search},
		{"views' size", wide(200), Lookup},
		{"larger than maxWhereObjects", wide(maxWhereObjects), Search},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(fx.options(), doc, "", map[string]any{"w": tc.where})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Fields[0].Class; got != tc.want {
				t.Errorf("class %q, want %q", got, tc.want)
			}
		})
	}
}

// TestManyVariables: defaults are found past the linear-search threshold.
func TestManyVariables(t *testing.T) {
	fx := newFixture(t)
	var defs, fields strings.Builder
	for i := range 40 {
		fmt.Fprintf(&defs, " $v%d: Int = %d", i, i+1)
		fmt.Fprintf(&fields, " a%d: invoices(first: $v%d) { nodes { id } }", i, i)
	}
	doc := fx.mustParse(t, "query("+defs.String()+") {"+fields.String()+" }")
	p, err := New(fx.options(), doc, "", map[string]any{"v3": 500.0})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fields[0].Rows != 1 || p.Fields[3].Rows != 500 || p.Fields[39].Rows != 40 {
		t.Errorf("rows %d %d %d, want 1 500 40", p.Fields[0].Rows, p.Fields[3].Rows, p.Fields[39].Rows)
	}
}

// TestFragmentShapes: a fragment cycle (which validation would reject) ends, and fragments
// that spread the next one twice, 2^40 expansions if expanded naively, are planned once each.
func TestFragmentShapes(t *testing.T) {
	fx := newFixture(t)
	cycle, ok := fx.parseOnly(`{ ...A invoices { ...C } } fragment A on Query { ...B } fragment B on Query { ...A products { totalCount } }
		fragment C on InvoiceConnection { ...D } fragment D on InvoiceConnection { ...C nodes { id } }`)
	if !ok {
		t.Fatal("parse")
	}
	p, err := New(fx.options(), cycle, "", nil)
	if err != nil || len(p.Fields) != 2 || !p.Fields[0].TotalCount || !p.Fields[1].Page {
		t.Fatalf("cycle: %+v, %v", p, err)
	}
	var q strings.Builder
	q.WriteString("{ ...R0 invoices { ...C0 } }")
	const n = 40
	for i := range n {
		fmt.Fprintf(&q, " fragment R%d on Query { ...R%d ...R%d }", i, i+1, i+1)
		fmt.Fprintf(&q, " fragment C%d on InvoiceConnection { ...C%d ...C%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&q, " fragment R%d on Query { products { totalCount } }", n)
	fmt.Fprintf(&q, " fragment C%d on InvoiceConnection { nodes { id } }", n)
	doc, ok := fx.parseOnly(q.String()) // graphql-go's validator is exponential here
	if !ok {
		t.Fatal("parse")
	}
	p, err = New(fx.options(), doc, "", nil)
	if err != nil || len(p.Fields) != 2 || !p.Fields[0].TotalCount || !p.Fields[1].Page {
		t.Fatalf("doubling: %+v, %v", p, err)
	}
}
