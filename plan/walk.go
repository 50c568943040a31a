package plan

import (
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/views"
)

// planner is the state of one New call.
type planner struct {
	o    Options
	doc  *ast.Document
	op   *ast.OperationDefinition
	vars map[string]any
	p    *Plan

	frags    map[string]*ast.FragmentDefinition // built at the first spread
	defaults map[string]ast.Value               // variable → default, once there are many variables
	rootDone map[string]bool                    // fragments expanded at the root (or being expanded)
	keys     map[string]int                     // response key → index in p.Fields, once there are many
	subs     map[string]uint8                   // connection-level fragment → the sub bits it selects
	left     int                                // where objects the current where walk may still visit
}

// keyIndexAfter is the number of root fields past which response keys are found through a map.
const keyIndexAfter = 16

// isFree reports whether a root field costs nothing and has no class.
func isFree(name string) bool {
	switch name {
	case "rateLimit", "__typename", "__schema", "__type":
		return true
	}
	return false
}

// root plans the selections of the operation's root selection set (or of a fragment in it).
// A fragment is expanded at most once at the root: a second expansion could only add the same
// fields to the same merged entries, and skipping it bounds the work by the document's size.
func (pl *planner) root(set *ast.SelectionSet) error {
	if set == nil {
		return nil
	}
	for _, sel := range set.Selections {
		switch s := sel.(type) {
		case *ast.Field:
			if s == nil || s.Name == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := pl.field(s); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if s == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := pl.root(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s == nil || s.Name == nil || pl.rootDone[s.Name.Value] {
				continue
			}
			def := pl.fragment(s.Name.Value)
			if def == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if pl.rootDone == nil {
				pl.rootDone = map[string]bool{}
			}
			pl.rootDone[s.Name.Value] = true
			if err := pl.root(def.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// field adds one root field selection to the plan, merging it into the entry of its response key.
func (pl *planner) field(s *ast.Field) error {
	key := s.Name.Value
	if s.Alias != nil && s.Alias.Value != "" {
		key = s.Alias.Value
	}
	i := pl.find(key)
	if i < 0 {
		f, err := pl.newField(key, s)
		if err != nil {
			return err
		}
		i = pl.add(f)
	}
	f := &pl.p.Fields[i]
	if f.Free() {
		return nil
	}
	bits, err := pl.sub(s.SelectionSet)
	if err != nil {
		return err
	}
	f.TotalCount = f.TotalCount || bits&subTotal != 0
	f.Page = f.Page || bits&subPage != 0
	return nil
}

// find returns the index of the entry of a response key, or -1.
func (pl *planner) find(key string) int {
	if pl.keys != nil {
		if i, ok := pl.keys[key]; ok {
			return i
		}
		return -1
	}
	for i := range pl.p.Fields {
		if pl.p.Fields[i].Key == key {
			return i
		}
	}
	return -1
}

// add appends an entry and returns its index.
func (pl *planner) add(f Field) int {
	p := pl.p
	p.Fields = append(p.Fields, f)
	i := len(p.Fields) - 1
	switch {
	case pl.keys != nil:
		pl.keys[f.Key] = i
	case len(p.Fields) > keyIndexAfter:
		pl.keys = make(map[string]int, 2*len(p.Fields))
		for j := range p.Fields {
			pl.keys[p.Fields[j].Key] = j
		}
	}
	return i
}

// newField plans a root field from its first included selection: validation guarantees that
// every selection of one response key has the same name and arguments.
func (pl *planner) newField(key string, s *ast.Field) (Field, error) {
	f := Field{Key: key, Name: s.Name.Value}
	if isFree(f.Name) {
		return f, nil
	}
	if pl.o.Catalog != nil {
		f.View = pl.o.Catalog.View(f.Name)
	}
	if pl.o.ClassOf != nil {
		if c, ok := pl.o.ClassOf(f.Name); ok && c.rank() > 0 {
			f.Class = c
		}
	}
	if pl.o.ScanUnits != nil {
		f.Scan = max(pl.o.ScanUnits(f.Name), 0)
	}
	var err error
	if f.Rows, err = pl.rows(f.View, s.Arguments); err != nil {
		return f, err
	}
	if f.Class == "" {
		f.Class = Lookup
		if f.View != nil {
			if f.Class, err = pl.class(s.Arguments); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// rows returns the requested rows: first as given, or the default capped by the view.
func (pl *planner) rows(v *views.View, args []*ast.Argument) (int, error) {
	if n, set, err := pl.intArg(argument(args, "first")); err != nil || set {
		return n, err
	}
	n := pl.o.DefaultPageSize
	if v != nil && v.MaxPageSize > 0 {
		n = min(n, v.MaxPageSize)
	}
	return n, nil
}

// class returns search when the arguments hold a non-empty search or a text-matching
// filter, else lookup.
func (pl *planner) class(args []*ast.Argument) (Class, error) {
	s, err := pl.stringArg(argument(args, "search"))
	if err != nil {
		return "", err
	}
	pl.left = maxWhereObjects
	if s != "" || pl.where(argument(args, "where"), 0) {
		return Search, nil
	}
	return Lookup, nil
}

// argument returns the value of the named argument, or nil.
func argument(args []*ast.Argument, name string) ast.Value {
	for _, a := range args {
		if a != nil && a.Name != nil && a.Name.Value == name {
			return a.Value
		}
	}
	return nil
}

// The sub bits: what a connection's sub-selection asks for.
const (
	subTotal uint8 = 1 << iota // totalCount
	subPage                    // nodes, edges or pageInfo: the page SELECT runs
	subBusy                    // in pl.subs: the fragment is being expanded
)

// sub returns the sub bits of a connection's selection set. Connection-level fragments are
// memoised by name (their bits depend only on the document and the variables), so the work
// stays linear in the document's size however often they are spread.
func (pl *planner) sub(set *ast.SelectionSet) (uint8, error) {
	if set == nil {
		return 0, nil
	}
	var bits uint8
	for _, sel := range set.Selections {
		switch s := sel.(type) {
		case *ast.Field:
			if s == nil || s.Name == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return 0, err
			}
			if !ok {
				continue
			}
			switch s.Name.Value {
			case "totalCount":
				bits |= subTotal
			case "nodes", "edges", "pageInfo":
				bits |= subPage
			}
		case *ast.InlineFragment:
			if s == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return 0, err
			}
			if !ok {
				continue
			}
			b, err := pl.sub(s.SelectionSet)
			if err != nil {
				return 0, err
			}
			bits |= b
		case *ast.FragmentSpread:
			if s == nil || s.Name == nil {
				continue
			}
			ok, err := pl.included(s.Directives)
			if err != nil {
				return 0, err
			}
			if !ok {
				continue
			}
			b, err := pl.subFragment(s.Name.Value)
			if err != nil {
				return 0, err
			}
			bits |= b
		}
	}
	return bits, nil
}

// subFragment returns the sub bits of a fragment spread in a connection's selection set; a
// fragment that spreads itself (validation rejects that) adds nothing the second time.
func (pl *planner) subFragment(name string) (uint8, error) {
	if b, ok := pl.subs[name]; ok {
		return b &^ subBusy, nil
	}
	def := pl.fragment(name)
	if def == nil {
		return 0, nil
	}
	if pl.subs == nil {
		pl.subs = map[string]uint8{}
	}
	pl.subs[name] = subBusy
	b, err := pl.sub(def.SelectionSet)
	if err != nil {
		return 0, err
	}
	pl.subs[name] = b
	return b, nil
}

// fragment returns the fragment definition of a name, or nil.
func (pl *planner) fragment(name string) *ast.FragmentDefinition {
	if pl.frags == nil {
		pl.frags = map[string]*ast.FragmentDefinition{}
		for _, def := range pl.doc.Definitions {
			if f, ok := def.(*ast.FragmentDefinition); ok && f != nil && f.Name != nil {
				if _, dup := pl.frags[f.Name.Value]; !dup {
					pl.frags[f.Name.Value] = f
				}
			}
		}
	}
	return pl.frags[name]
}

// included evaluates @skip(if:) and @include(if:) as graphql-go's executor does: a null
// condition has no effect, and skip is decided before include.
func (pl *planner) included(dirs []*ast.Directive) (bool, error) {
	for _, d := range dirs {
		if d == nil || d.Name == nil || (d.Name.Value != "skip" && d.Name.Value != "include") {
			continue
		}
		b, set, err := pl.boolArg(argument(d.Arguments, "if"))
		if err != nil {
			return false, err
		}
		if set && b == (d.Name.Value == "skip") {
			return false, nil
		}
	}
	return true, nil
}
