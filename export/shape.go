package export

import (
	"fmt"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/views"
)

// ErrShape is wrapped by every error about what a document selects: an export selects exactly
// one root connection and only scalar fields under its nodes.
var ErrShape = fault.New(fault.BadUserInput,
	"an export selects exactly one root connection and only its nodes { … } fields, like { invoices(where: …) { nodes { number amount } } }")

// Column is one column of an export: its header (the response key) and its view field.
type Column struct {
	Name  string // alias or field name
	Field string // the view's node field
}

// shape is what an export document asks for.
type shape struct {
	view    *views.View
	field   *ast.Field // the root connection field (its arguments)
	columns []Column
}

// walker expands fragments and evaluates @skip/@include with the request's variables.
type walker struct {
	frags map[string]*ast.FragmentDefinition
	vars  map[string]any
	seen  map[string]bool
}

func newWalker(doc *ast.Document, vars map[string]any) *walker {
	w := &walker{frags: map[string]*ast.FragmentDefinition{}, vars: vars, seen: map[string]bool{}}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok {
			w.frags[f.Name.Value] = f
		}
	}
	return w
}

// fields returns the fields of set in order, fragments expanded, skipped ones left out.
func (w *walker) fields(set *ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	if set == nil {
		return nil
	}
	for _, sel := range set.Selections {
		switch x := sel.(type) {
		case *ast.Field:
			if w.included(x.Directives) {
				out = append(out, x)
			}
		case *ast.InlineFragment:
			if w.included(x.Directives) {
				out = append(out, w.fields(x.SelectionSet)...)
			}
		case *ast.FragmentSpread:
			name := x.Name.Value
			def := w.frags[name]
			if def == nil || w.seen[name] || !w.included(x.Directives) {
				continue
			}
			w.seen[name] = true
			out = append(out, w.fields(def.SelectionSet)...)
			delete(w.seen, name)
		}
	}
	return out
}

func (w *walker) included(dirs []*ast.Directive) bool {
	for _, d := range dirs {
		cond := false
		for _, a := range d.Arguments {
			if a.Name.Value != "if" {
				continue
			}
			switch v := a.Value.(type) {
			case *ast.BooleanValue:
				cond = v.Value
			case *ast.Variable:
				cond, _ = w.vars[v.Name.Value].(bool)
			}
		}
		if (d.Name.Value == "skip" && cond) || (d.Name.Value == "include" && !cond) {
			return false
		}
	}
	return true
}

func key(f *ast.Field) string {
	if f.Alias != nil {
		return f.Alias.Value
	}
	return f.Name.Value
}

// shapeOf checks that op selects one root connection of cat and only nodes fields under it,
// and returns the export's view, field and columns; errors wrap ErrShape and say what is wrong.
func shapeOf(cat *views.Catalog, doc *ast.Document, op *ast.OperationDefinition, vars map[string]any) (*shape, error) {
	w := newWalker(doc, vars)
	roots := w.fields(op.SelectionSet)
	if len(roots) != 1 {
		return nil, fmt.Errorf("%w; this one selects %d root fields", ErrShape, len(roots))
	}
	root := roots[0]
	var v *views.View
	for _, cv := range cat.Views {
		if cv.Field == root.Name.Value {
			v = cv
		}
	}
	if v == nil {
		return nil, fmt.Errorf("%w; %s is not a view's connection", ErrShape, root.Name.Value)
	}
	subs := w.fields(root.SelectionSet)
	var nodes []*ast.Field
	for _, f := range subs {
		if f.Name.Value != "nodes" {
			return nil, fmt.Errorf("%w; %s selects %s (totalCount, edges and pageInfo have no place in a file)", ErrShape, v.Field, f.Name.Value)
		}
		if len(nodes) > 0 && key(nodes[0]) != key(f) {
			return nil, fmt.Errorf("%w; nodes is selected twice under different names", ErrShape)
		}
		nodes = append(nodes, f)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w; %s selects no nodes", ErrShape, v.Field)
	}
	s := &shape{view: v, field: root}
	at := map[string]int{}
	for _, n := range nodes {
		for _, f := range w.fields(n.SelectionSet) {
			if f.Name.Value == "__typename" {
				return nil, fmt.Errorf("%w; __typename is not a column", ErrShape)
			}
			k := key(f)
			if i, dup := at[k]; dup {
				if s.columns[i].Field != f.Name.Value {
					return nil, fmt.Errorf("%w; column %s names two fields", ErrShape, k)
				}
				continue
			}
			at[k] = len(s.columns)
			s.columns = append(s.columns, Column{Name: k, Field: f.Name.Value})
		}
	}
	if len(s.columns) == 0 {
		return nil, fmt.Errorf("%w; nodes selects no field", ErrShape)
	}
	return s, nil
}
