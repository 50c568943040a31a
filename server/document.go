package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/printer"
	"github.com/graphql-go/graphql/language/source"
	"github.com/graphql-go/graphql/language/visitor"
)

// document is a parsed and validated query, cached by its text.
type document struct {
	ast         *ast.Document
	introspects bool                                   // selects __schema or __type, which only the full schema answers
	errs        []gqlerrors.FormattedError             // parse or validation errors; the document must not run
	reason      error                                  // errRequest or errTooComplex when errs is set
	weight      int                                    // estimated bytes it holds in memory, for the cache
	compiled    map[*ast.OperationDefinition]*compiled // operations that run without graphql-go's executor
}

// Limits bounds what a request may ask for and hold.
type Limits struct {
	MaxDepth  int // nesting of selection sets
	MaxFields int // fields, counting every expansion of every fragment

	DocCacheSize  int   // documents kept parsed and validated (0: no cache)
	DocCacheBytes int64 // their estimated memory (0: no cache)

	MaxInFlight             int           // requests served at once (0: no bound); more answer 503
	MaxInFlightPerPrincipal int           // requests one credential has in flight (0: no bound); more answer 429
	MaxResponseBytes        int64         // bytes of data in one answer (0: no bound)
	WriteTimeout            time.Duration // to send one answer (0: none)
}

// prepare parses, checks limits and validates a query under ctx; it never runs it. It returns
// ctx's error, and no document, when ctx ends first (a cancelled preparation is not cached).
func prepare(ctx context.Context, schema *graphql.Schema, query string, lim Limits) (*document, error) {
	tokens, err := scan(query, 2*max(lim.MaxDepth, maxIntrospectionDepth)+8)
	if err != nil {
		return reject(errTooComplex, err.Error()), nil
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})})
	if err != nil {
		return &document{errs: []gqlerrors.FormattedError{gqlerrors.FormatError(err)}, reason: errRequest}, nil
	}
	if err := checkComplexity(doc, lim); err != nil {
		if errors.Is(err, errRequest) {
			return reject(errRequest, strings.TrimPrefix(err.Error(), errRequest.Error()+": ")), nil
		}
		return reject(errTooComplex, err.Error()), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// checkComplexity has rejected fragment cycles, which overflow graphql-go's validator (upstream #742).
	errs, err := validate(ctx, schema, doc)
	if err != nil {
		return nil, err
	}
	d := &document{ast: doc, errs: errs, weight: len(query) + tokens*bytesPerToken}
	if errs != nil {
		d.ast, d.reason = nil, errRequest
	} else {
		d.introspects = introspects(doc)
	}
	return d, nil
}

// bytesPerToken is the memory a parsed document holds per token of its text, measured on
// documents of names, arguments and list literals (server/document_test.go keeps it honest).
const bytesPerToken = 100

// maxValidationErrors is how many validation errors a document gets: graphql-go locates each
// error by rescanning the text, so thousands of errors cost seconds; a few say what is wrong.
const maxValidationErrors = 5

// validate runs graphql-go's specified rules, as graphql.ValidateDocument does, but stops at
// maxValidationErrors errors or when ctx ends (returning ctx's error).
func validate(ctx context.Context, schema *graphql.Schema, doc *ast.Document) ([]gqlerrors.FormattedError, error) {
	info := graphql.NewTypeInfo(&graphql.TypeInfoConfig{Schema: schema})
	vc := graphql.NewValidationContext(schema, doc, info)
	rules := make([]*visitor.VisitorOptions, len(graphql.SpecifiedRules))
	for i, rule := range graphql.SpecifiedRules {
		rules[i] = rule(vc).VisitorOpts
	}
	all := visitor.VisitInParallel(rules...)
	stop := func() bool { return len(vc.Errors()) >= maxValidationErrors || ctx.Err() != nil }
	guard := &visitor.VisitorOptions{
		Enter: func(p visitor.VisitFuncParams) (string, any) {
			if stop() {
				return visitor.ActionBreak, nil
			}
			return all.Enter(p)
		},
		Leave: func(p visitor.VisitFuncParams) (string, any) {
			if stop() {
				return visitor.ActionBreak, nil
			}
			return all.Leave(p)
		},
	}
	visitor.Visit(doc, visitor.VisitWithTypeInfo(info, guard), nil)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := vc.Errors()
	return errs[:min(len(errs), maxValidationErrors)], nil
}

// introspects reports whether any operation selects __schema or __type at its root, directly
// or through fragments.
func introspects(doc *ast.Document) bool {
	frags := map[string]*ast.FragmentDefinition{}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok {
			frags[f.Name.Value] = f
		}
	}
	seen := map[string]bool{}
	var walk func(set *ast.SelectionSet) bool
	walk = func(set *ast.SelectionSet) bool {
		if set == nil {
			return false
		}
		for _, sel := range set.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name.Value == "__schema" || s.Name.Value == "__type" {
					return true
				}
			case *ast.InlineFragment:
				if walk(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if f := frags[s.Name.Value]; f != nil && !seen[s.Name.Value] {
					seen[s.Name.Value] = true
					if walk(f.SelectionSet) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, def := range doc.Definitions {
		if op, ok := def.(*ast.OperationDefinition); ok && walk(op.SelectionSet) {
			return true
		}
	}
	return false
}

func reject(reason error, msg string) *document {
	return &document{errs: []gqlerrors.FormattedError{gqlerrors.NewFormattedError(msg)}, reason: reason}
}

// maxTokens bounds the tokens of a document before it is parsed: the parser allocates per
// token, so a body of a megabyte of names would cost more to parse than any query needs.
const maxTokens = 20000

// scan bounds bracket nesting and the number of tokens in the raw text, so that the recursive
// parser can neither be driven into a huge stack nor made to build a huge tree; strings and
// comments are skipped (a string is one token). It returns the number of tokens.
func scan(q string, maxDepth int) (tokens int, err error) {
	depth := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			continue
		case c == '"':
			i = skipString(q, i)
		case c == '{' || c == '[' || c == '(':
			if depth++; depth > maxDepth {
				return tokens, fmt.Errorf("query is nested deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']' || c == ')':
			depth--
		case isNameByte(c):
			for i+1 < len(q) && isNameByte(q[i+1]) {
				i++
			}
		}
		if tokens++; tokens > maxTokens {
			return tokens, fmt.Errorf("query has more than %d tokens", maxTokens)
		}
	}
	return tokens, nil
}

// isNameByte reports whether c continues a name or a number (a few number bytes like '.' and
// '+' split a number in two here; that only overcounts).
func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipString returns the index of the closing quote of the string starting at i.
func skipString(q string, i int) int {
	if len(q) >= i+3 && q[i:i+3] == `"""` {
		// In a block string only \""" is an escape, as in graphql-go's lexer.
		for j := i + 3; j+2 < len(q); j++ {
			if q[j] == '\\' && j+3 < len(q) && q[j+1:j+4] == `"""` {
				j += 3
				continue
			}
			if q[j:j+3] == `"""` {
				return j + 2
			}
		}
		return len(q)
	}
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case '"', '\n':
			return j
		}
	}
	return len(q)
}

// checkComplexity counts the fields and depth of every operation, and every node around them
// (arguments, directives, variable definitions, literal values), with fragments expanded; it
// rejects fragment cycles and stops counting as soon as a limit is passed.
func checkComplexity(doc *ast.Document, lim Limits) error {
	frags := map[string]*ast.FragmentDefinition{}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok {
			frags[f.Name.Value] = f
		}
	}
	if len(doc.Definitions) > maxDefinitions {
		return fmt.Errorf("the document has more than %d operations and fragments", maxDefinitions)
	}
	// One count for the whole document: operations with their fragments expanded, then the
	// fragments no operation uses, whose fields cost validation time too.
	c := counter{frags: frags, lim: lim, path: map[string]bool{}, used: map[string]bool{}}
	for _, def := range doc.Definitions {
		if d, ok := def.(*ast.OperationDefinition); ok {
			if err := c.operation(d); err != nil {
				return err
			}
		}
	}
	for _, def := range doc.Definitions {
		if d, ok := def.(*ast.FragmentDefinition); ok && !c.used[d.Name.Value] {
			if err := c.directives(d.Directives); err != nil {
				return err
			}
			if err := c.spread(d.Name.Value, 1, map[string]*sameKey{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Document bounds beyond the configurable limits: they keep validation time and the memory of a
// cached document small whatever the body size.
const (
	maxDefinitions = 50   // operations and fragments
	maxNodes       = 5000 // arguments, directives, variable definitions and literal values (list items and object fields count)
	maxVariables   = 100  // variable definitions of one operation: graphql-go's unused-variable rule is quadratic in them
	maxSameKey     = 100  // fields under one response key in one selection set: graphql-go compares them pairwise
)

// Introspection (__schema or __type at the root) is held to these fixed bounds instead of
// max_depth and max_fields, so that the standard introspection query (graphql-js
// getIntrospectionQuery: depth 15, 220 fields) works whatever the limits. What makes an
// introspection answer big is lists that lead to more types nested in one another (types {
// fields { type { fields … ): like graphql-js's MaxIntrospectionDepthRule, which counts all of
// them but types, at most two may nest, so the answer stays within a few times the size of the
// standard one. ofType chains do not fan out; the depth bound caps them.
const (
	maxIntrospectionDepth  = 20  // selection depth from the operation's root
	maxIntrospectionFields = 600 // fields under __schema and __type, fragments expanded
	maxIntrospectionLists  = 2   // types, fields, inputFields, interfaces, possibleTypes nested
)

// introspectionLists are the introspection fields whose items are or lead to more types.
var introspectionLists = map[string]bool{"types": true, "fields": true, "inputFields": true, "interfaces": true, "possibleTypes": true}

type counter struct {
	frags  map[string]*ast.FragmentDefinition
	lim    Limits
	fields int
	nodes  int
	path   map[string]bool // fragments on the current path, to find cycles
	used   map[string]bool // fragments reached so far

	intro       bool // walking under __schema or __type
	introFields int
	introLists  int // introspectionLists on the current path under __schema or __type
}

// node counts one node besides fields.
func (c *counter) node() error {
	if c.nodes++; c.nodes > maxNodes {
		return fmt.Errorf("query holds more than %d arguments, directives, variables and literal values; pass large inputs as variables", maxNodes)
	}
	return nil
}

func (c *counter) operation(d *ast.OperationDefinition) error {
	if len(d.VariableDefinitions) > maxVariables {
		return fmt.Errorf("an operation declares more than %d variables", maxVariables)
	}
	for _, v := range d.VariableDefinitions {
		if err := c.node(); err != nil {
			return err
		}
		if err := c.values(v.DefaultValue); err != nil {
			return err
		}
	}
	if err := c.directives(d.Directives); err != nil {
		return err
	}
	return c.walk(d.SelectionSet, 1)
}

func (c *counter) arguments(args []*ast.Argument) error {
	for _, a := range args {
		if err := c.node(); err != nil {
			return err
		}
		if err := c.values(a.Value); err != nil {
			return err
		}
	}
	return nil
}

func (c *counter) directives(ds []*ast.Directive) error {
	for _, d := range ds {
		if err := c.node(); err != nil {
			return err
		}
		if err := c.arguments(d.Arguments); err != nil {
			return err
		}
	}
	return nil
}

// values counts the literal value nodes of an argument.
func (c *counter) values(v ast.Value) error {
	if v == nil {
		return nil
	}
	if err := c.node(); err != nil {
		return err
	}
	switch x := v.(type) {
	case *ast.ListValue:
		for _, item := range x.Values {
			if err := c.values(item); err != nil {
				return err
			}
		}
	case *ast.ObjectValue:
		for _, f := range x.Fields {
			if err := c.values(f.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *counter) walk(set *ast.SelectionSet, depth int) error {
	if set == nil {
		return nil
	}
	if c.intro && depth > maxIntrospectionDepth {
		return fmt.Errorf("introspection is deeper than the limit of %d", maxIntrospectionDepth)
	}
	if !c.intro && depth > c.lim.MaxDepth {
		return fmt.Errorf("query is deeper than the limit of %d", c.lim.MaxDepth)
	}
	return c.selections(set, depth, map[string]*sameKey{})
}

// sameKey is what fields sharing a response key in one selection set have seen so far.
type sameKey struct {
	n     int
	first *ast.Field
}

// selections counts one selection set; keys counts its response keys, fragments' included.
func (c *counter) selections(set *ast.SelectionSet, depth int, keys map[string]*sameKey) error {
	if set == nil {
		return nil
	}
	for _, sel := range set.Selections {
		if err := c.selection(sel, depth, keys); err != nil {
			return err
		}
	}
	return nil
}

func (c *counter) selection(sel ast.Selection, depth int, keys map[string]*sameKey) error {
	switch s := sel.(type) {
	case *ast.Field:
		if err := c.count(s, depth); err != nil {
			return err
		}
		key := s.Name.Value
		if s.Alias != nil {
			key = s.Alias.Value
		}
		if err := sameKeyCheck(keys, key, s); err != nil {
			return err
		}
		if err := c.arguments(s.Arguments); err != nil {
			return err
		}
		if err := c.directives(s.Directives); err != nil {
			return err
		}
		return c.field(s, depth)
	case *ast.InlineFragment:
		if err := c.directives(s.Directives); err != nil {
			return err
		}
		return c.selections(s.SelectionSet, depth, keys)
	case *ast.FragmentSpread:
		if err := c.directives(s.Directives); err != nil {
			return err
		}
		return c.spread(s.Name.Value, depth, keys)
	}
	return nil
}

// count counts a field against max_fields, or against the introspection bound under __schema
// and __type.
func (c *counter) count(f *ast.Field, depth int) error {
	if c.intro || isIntrospectionRoot(f, depth) {
		if c.introFields++; c.introFields > maxIntrospectionFields {
			return fmt.Errorf("introspection selects more than the limit of %d fields", maxIntrospectionFields)
		}
		return nil
	}
	if c.fields++; c.fields > c.lim.MaxFields {
		return fmt.Errorf("query selects more than the limit of %d fields", c.lim.MaxFields)
	}
	return nil
}

// field walks a field's selections, switching to the introspection bounds under __schema and
// __type.
func (c *counter) field(f *ast.Field, depth int) error {
	if isIntrospectionRoot(f, depth) {
		c.intro = true
		defer func() { c.intro = false }()
	}
	if c.intro && introspectionLists[f.Name.Value] {
		if c.introLists++; c.introLists > maxIntrospectionLists {
			return fmt.Errorf("introspection nests more than %d of types, fields, inputFields, interfaces and possibleTypes", maxIntrospectionLists)
		}
		defer func() { c.introLists-- }()
	}
	return c.walk(f.SelectionSet, depth+1)
}

// isIntrospectionRoot reports whether f is __schema or __type at an operation's root, the only
// place they exist (validation refuses them elsewhere).
func isIntrospectionRoot(f *ast.Field, depth int) bool {
	return depth == 1 && (f.Name.Value == "__schema" || f.Name.Value == "__type")
}

// sameKeyCheck refuses, with one error, a response key that names two different fields or one
// field with different arguments: graphql-go would report every conflicting pair, each error
// located by rescanning the text, and a document can hold thousands of pairs.
func sameKeyCheck(keys map[string]*sameKey, key string, f *ast.Field) error {
	k := keys[key]
	if k == nil {
		keys[key] = &sameKey{n: 1, first: f}
		return nil
	}
	if k.n++; k.n > maxSameKey {
		return fmt.Errorf("query selects %q more than %d times in one selection set", key, maxSameKey)
	}
	if f.Name.Value != k.first.Name.Value || !sameArguments(f.Arguments, k.first.Arguments) {
		return fmt.Errorf("%w: fields %q conflict because they are different fields or have differing arguments; use different aliases", errRequest, key)
	}
	return nil
}

// sameArguments reports whether two argument lists are the same, in any order, as printed.
func sameArguments(a, b []*ast.Argument) bool {
	if len(a) != len(b) {
		return false
	}
	printed := make(map[string]string, len(a))
	for _, x := range a {
		printed[x.Name.Value] = fmt.Sprint(printer.Print(x.Value))
	}
	for _, y := range b {
		p, ok := printed[y.Name.Value]
		if !ok || p != fmt.Sprint(printer.Print(y.Value)) {
			return false
		}
	}
	return true
}

func (c *counter) spread(name string, depth int, keys map[string]*sameKey) error {
	if c.path[name] {
		return fmt.Errorf("fragment %q spreads itself (a fragment cycle)", name)
	}
	f := c.frags[name]
	if f == nil {
		return nil // validation reports unknown fragments
	}
	c.path[name], c.used[name] = true, true
	defer delete(c.path, name)
	return c.selections(f.SelectionSet, depth, keys)
}
