package resolvers

import (
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// selection is what a connection field's sub-selection asks for.
type selection struct {
	fields     map[string]bool // node fields, from nodes and edges.node
	nodes      bool
	totalCount bool
	edges      bool // cursors are needed
	pageInfo   bool
}

// needsPage reports whether the page's rows must be read: totalCount alone (or __typename)
// shows none of them.
func (s *selection) needsPage() bool { return s.nodes || s.edges || s.pageInfo }

// selected walks the connection field's selection sets, following fragments and honouring
// @skip and @include, so that only the requested columns are read.
func selected(info graphql.ResolveInfo) *selection {
	s := &selection{fields: map[string]bool{}}
	w := walker{info: info, seen: map[string]bool{}}
	for _, f := range info.FieldASTs {
		w.each(f.SelectionSet, func(f *ast.Field) {
			switch f.Name.Value {
			case "nodes":
				s.nodes = true
				w.each(f.SelectionSet, s.addField)
			case "edges":
				s.edges = true
				w.each(f.SelectionSet, func(e *ast.Field) {
					if e.Name.Value == "node" {
						w.each(e.SelectionSet, s.addField)
					}
				})
			case "totalCount":
				s.totalCount = true
			case "pageInfo":
				s.pageInfo = true
			}
		})
	}
	return s
}

func (s *selection) addField(f *ast.Field) { s.fields[f.Name.Value] = true }

type walker struct {
	info graphql.ResolveInfo
	seen map[string]bool // fragment names on the current path: validation rejects cycles, this is a second guard
}

// each calls fn for every field of set, expanding inline fragments and fragment spreads.
func (w walker) each(set *ast.SelectionSet, fn func(*ast.Field)) {
	if set == nil {
		return
	}
	for _, sel := range set.Selections {
		switch x := sel.(type) {
		case *ast.Field:
			if w.included(x.Directives) {
				fn(x)
			}
		case *ast.InlineFragment:
			if w.included(x.Directives) {
				w.each(x.SelectionSet, fn)
			}
		case *ast.FragmentSpread:
			name := x.Name.Value
			def, ok := w.info.Fragments[name].(*ast.FragmentDefinition)
			if !ok || w.seen[name] || !w.included(x.Directives) {
				continue
			}
			w.seen[name] = true
			w.each(def.SelectionSet, fn)
			delete(w.seen, name)
		}
	}
}

// included evaluates @skip(if:) and @include(if:).
func (w walker) included(dirs []*ast.Directive) bool {
	for _, d := range dirs {
		cond := w.condition(d)
		switch d.Name.Value {
		case "skip":
			if cond {
				return false
			}
		case "include":
			if !cond {
				return false
			}
		}
	}
	return true
}

func (w walker) condition(d *ast.Directive) bool {
	for _, a := range d.Arguments {
		if a.Name.Value != "if" {
			continue
		}
		switch v := a.Value.(type) {
		case *ast.BooleanValue:
			return v.Value
		case *ast.Variable:
			b, _ := w.info.VariableValues[v.Name.Value].(bool)
			return b
		}
	}
	return false
}
