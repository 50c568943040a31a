package server

import (
	"container/list"
	"fmt"
	"sync"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
)

// document is a parsed and validated query, cached by its text.
type document struct {
	ast         *ast.Document
	introspects bool                       // selects __schema or __type, which only the full schema answers
	errs        []gqlerrors.FormattedError // parse or validation errors; the document must not run
	reason      error                      // errRequest or errTooComplex when errs is set
}

// docCache is a small LRU of documents: parsing and validating cost more than running most queries.
type docCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	doc *document
}

func newDocCache(max int) *docCache {
	return &docCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *docCache) get(key string) *document {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cacheEntry).doc
	}
	return nil
}

func (c *docCache) put(key string, d *document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max <= 0 {
		return
	}
	if _, ok := c.items[key]; ok {
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, doc: d})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// Limits bounds what a document may ask for before it is validated or run.
type Limits struct {
	MaxDepth  int // nesting of selection sets
	MaxFields int // fields, counting every expansion of every fragment
}

// prepare parses, checks limits and validates a query; it never runs it.
func prepare(schema *graphql.Schema, query string, lim Limits) *document {
	if err := checkNesting(query, 2*max(lim.MaxDepth, maxIntrospectionDepth)+8); err != nil {
		return reject(errTooComplex, err.Error())
	}
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})})
	if err != nil {
		return &document{errs: []gqlerrors.FormattedError{gqlerrors.FormatError(err)}, reason: errRequest}
	}
	if err := checkComplexity(doc, lim); err != nil {
		return reject(errTooComplex, err.Error())
	}
	// checkComplexity has rejected fragment cycles, which overflow graphql-go's validator (upstream #742).
	res := graphql.ValidateDocument(schema, doc, graphql.SpecifiedRules)
	if !res.IsValid {
		return &document{errs: res.Errors, reason: errRequest}
	}
	return &document{ast: doc, introspects: introspects(doc)}
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

// checkNesting bounds bracket nesting in the raw text, so that the recursive parser cannot be
// driven into a huge stack by a deeply nested document; strings and comments are skipped.
func checkNesting(q string, max int) error {
	depth := 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case '"':
			i = skipString(q, i)
		case '{', '[', '(':
			if depth++; depth > max {
				return fmt.Errorf("query is nested deeper than %d levels", max)
			}
		case '}', ']', ')':
			depth--
		}
	}
	return nil
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

// checkComplexity counts fields and depth of every operation with fragments expanded; it
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
			for _, v := range d.VariableDefinitions {
				if err := c.values(v.DefaultValue); err != nil {
					return err
				}
			}
			if err := c.walk(d.SelectionSet, 1); err != nil {
				return err
			}
		}
	}
	for _, def := range doc.Definitions {
		if d, ok := def.(*ast.FragmentDefinition); ok && !c.used[d.Name.Value] {
			if err := c.spread(d.Name.Value, 1); err != nil {
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
	maxValueNodes  = 5000 // literal values in arguments (list items and object fields count)
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

// values counts the literal value nodes of an argument.
func (c *counter) values(v ast.Value) error {
	if v == nil {
		return nil
	}
	if c.valueNodes++; c.valueNodes > maxValueNodes {
		return fmt.Errorf("query holds more than %d literal values; pass large inputs as variables", maxValueNodes)
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

type counter struct {
	frags      map[string]*ast.FragmentDefinition
	lim        Limits
	fields     int
	valueNodes int
	path       map[string]bool // fragments on the current path, to find cycles
	used       map[string]bool // fragments reached so far

	intro       bool // walking under __schema or __type
	introFields int
	introLists  int // introspectionLists on the current path under __schema or __type
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
	for _, sel := range set.Selections {
		var err error
		switch s := sel.(type) {
		case *ast.Field:
			if err := c.count(s, depth); err != nil {
				return err
			}
			for _, a := range s.Arguments {
				if err := c.values(a.Value); err != nil {
					return err
				}
			}
			err = c.field(s, depth)
		case *ast.InlineFragment:
			err = c.walk(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			err = c.spread(s.Name.Value, depth)
		}
		if err != nil {
			return err
		}
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

func (c *counter) spread(name string, depth int) error {
	if c.path[name] {
		return fmt.Errorf("fragment %q spreads itself (a fragment cycle)", name)
	}
	f := c.frags[name]
	if f == nil {
		return nil // validation reports unknown fragments
	}
	c.path[name], c.used[name] = true, true
	defer delete(c.path, name)
	return c.walk(f.SelectionSet, depth)
}
