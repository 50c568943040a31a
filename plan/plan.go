package plan

import (
	"fmt"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/views"
)

// Class is a quota class: what kind of load a root field puts on the database.
type Class string

// The classes, from the cheapest kind of load to the most expensive.
const (
	Lookup Class = "lookup" // a page of a view, filtered by equality or ranges
	Search Class = "search" // a search argument or a text-matching filter
	Report Class = "report" // aggregates
	Export Class = "export" // a whole connection streamed as a file
)

// Classes lists every class in a fixed order (lookup, search, report, export).
var Classes = []Class{Lookup, Search, Report, Export}

// rank orders classes by expense; "" (free) ranks below every class.
func (c Class) rank() int {
	switch c {
	case Lookup:
		return 1
	case Search:
		return 2
	case Report:
		return 3
	case Export:
		return 4
	}
	return 0
}

// Options says how to plan: the catalog, the default page size and the class weights.
type Options struct {
	Catalog         *views.Catalog // the views; root fields are views' Field names
	DefaultPageSize int            // first when none is given (then capped by the view's MaxPageSize)
	Weights         map[Class]int  // cost multiplier per class; missing or below 1 => 1

	// ClassOf, when set, is asked first for every root field that is not free: returning
	// (class, true) sets the field's class, so that aggregate root fields (report) and the
	// export endpoint (export, for every field) decide their class; false, or a class outside
	// Classes, leaves it to the planner. A root field that is neither free, nor a view, nor
	// classed by ClassOf (the schema grew a field the planner does not know) is planned as a
	// lookup, never as free.
	ClassOf func(rootField string) (Class, bool)

	// ScanUnits, when set, is asked for every root field that is not free: n > 0 makes the
	// field cost weight(class) × n whatever it selects, and gives it no requested rows. An
	// aggregate field sets it: it reads every matching row however few groups it returns,
	// and how many rows that is cannot be known before it runs.
	ScanUnits func(rootField string) int
}

// weight returns the cost multiplier of a class.
func (o *Options) weight(c Class) int {
	if w := o.Weights[c]; w > 1 {
		return w
	}
	return 1
}

// Field is the plan of one root field (all its selections under one response key, merged).
type Field struct {
	Key        string      // response key (alias or name)
	Name       string      // root field name
	View       *views.View // nil for free fields and for root fields outside the catalog
	Class      Class       // "" for free fields
	Rows       int         // requested rows: first as given, or the default capped by the view
	TotalCount bool        // totalCount selected (through aliases/fragments, honouring @skip/@include)
	Page       bool        // nodes, edges or pageInfo selected (else no page SELECT is needed)
	Cost       int         // FieldCost of the field (or weight × Scan); 0 for free fields
	Scan       int         // Options.ScanUnits of the field; 0: the cost follows the page formula
}

// Free reports whether the field costs nothing and has no class (rateLimit, introspection).
func (f *Field) Free() bool { return f.Class == "" }

// Plan is what a request will cost, per root field, in selection order.
type Plan struct {
	Fields []Field
	Cost   int // sum of field costs
	Rows   int // sum of requested rows over fields with Page (negative first counts as 0)
}

// CostByClass returns the cost per class, holding only classes with a cost above 0.
func (p *Plan) CostByClass() map[Class]int {
	out := map[Class]int{}
	for i := range p.Fields {
		if f := &p.Fields[i]; f.Cost > 0 && f.Class != "" {
			out[f.Class] = addSat(out[f.Class], f.Cost)
		}
	}
	return out
}

// Class returns the most expensive class present (export > report > search > lookup), or ""
// when every root field is free.
func (p *Plan) Class() Class {
	var c Class
	for i := range p.Fields {
		if f := p.Fields[i].Class; f.rank() > c.rank() {
			c = f
		}
	}
	return c
}

// RootFields returns the number of root fields that are not free.
func (p *Plan) RootFields() int {
	n := 0
	for i := range p.Fields {
		if !p.Fields[i].Free() {
			n++
		}
	}
	return n
}

// ErrBadRequest is wrapped by every error of New: an unknown operation, or a variable value the
// planner cannot use where a number, a boolean or a string is required.
var ErrBadRequest = fault.New(fault.BadUserInput, "bad request")

// New plans the operation named operationName ("" when the document holds one operation) of
// doc, which graphql-go has parsed and validated, with the JSON-decoded variables vars (numbers
// as float64 or json.Number). It returns an error wrapping ErrBadRequest when there is no such
// operation, the operation is not a query, or a variable holds an unusable value.
func New(o Options, doc *ast.Document, operationName string, vars map[string]any) (*Plan, error) {
	op, err := operation(doc, operationName)
	if err != nil {
		return nil, err
	}
	pl := planner{o: o, doc: doc, op: op, vars: vars}
	a := &planAlloc{}
	a.p.Fields = a.f[:0]
	pl.p = &a.p
	if err := pl.root(op.SelectionSet); err != nil {
		return nil, err
	}
	pl.total()
	return pl.p, nil
}

// planAlloc puts a plan and room for its first root fields in one allocation.
type planAlloc struct {
	p Plan
	f [4]Field
}

// operation returns the operation to plan, or an error wrapping ErrBadRequest.
func operation(doc *ast.Document, name string) (*ast.OperationDefinition, error) {
	if doc == nil {
		return nil, fmt.Errorf("%w: no document", ErrBadRequest)
	}
	var found *ast.OperationDefinition
	n := 0
	for _, def := range doc.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok || op == nil {
			continue
		}
		n++
		if name == "" || (op.Name != nil && op.Name.Value == name) {
			found = op
		}
	}
	switch {
	case name == "" && n > 1:
		return nil, fmt.Errorf("%w: the document has %d operations; name the one to run (operationName)", ErrBadRequest, n)
	case found == nil && name != "":
		return nil, fmt.Errorf("%w: the document has no operation named %q", ErrBadRequest, name)
	case found == nil:
		return nil, fmt.Errorf("%w: the document has no operation", ErrBadRequest)
	case found.Operation != "" && found.Operation != ast.OperationTypeQuery:
		return nil, fmt.Errorf("%w: only queries can be planned, not a %s", ErrBadRequest, found.Operation)
	}
	return found, nil
}

// total computes every field's cost and the plan's sums.
func (pl *planner) total() {
	p := pl.p
	for i := range p.Fields {
		f := &p.Fields[i]
		if f.Free() {
			continue
		}
		if f.Scan > 0 {
			f.Cost = mulSat(pl.o.weight(f.Class), f.Scan)
			p.Cost = addSat(p.Cost, f.Cost)
			continue
		}
		f.Cost = FieldCost(pl.o.weight(f.Class), f.Rows, f.Page, f.TotalCount)
		p.Cost = addSat(p.Cost, f.Cost)
		if f.Page && f.Rows > 0 {
			p.Rows = addSat(p.Rows, f.Rows)
		}
	}
}
