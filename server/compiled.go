package server

import (
	"context"
	"encoding/json"
	"math"
	"reflect"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
)

// A compiled operation runs a cached document's root fields without graphql-go's executor:
// an operation that declares no variables, whose root selections are plain fields (no
// fragment, directive or __typename) of the execution schema that each return an encoded
// connection or aggregate, has arguments that depend on the document alone. They are
// coerced once, when the document is prepared, exactly as graphql-go's getArgumentValues
// does (coerceLiteral), and each request calls the fields' resolvers in selection order and
// writes their JSON side by side. graphql-go would do the same work, plus a goroutine, an
// execution context, argument coercion and a map of the results per request. Any other
// operation runs through graphql.Execute; TestGolden runs every case compiled, through
// graphql.Execute on the execution schema and fully completed.
type compiled struct {
	fields []compiledField
	size   int // bytes of the keys and punctuation of the data object
}

type compiledField struct {
	key     string // the response key: the alias or the field name
	resolve graphql.FieldResolveFn
	params  graphql.ResolveParams // Context is set per request
	nodes   []ast.Node            // for errors' locations
}

// encodedConnection is the name of schema.NewExec's scalar for root fields that return JSON.
const encodedConnection = "EncodedConnection"

// compile returns the compiled form of every operation of doc that has one, by operation;
// nil when none has.
func compile(exec *graphql.Schema, doc *document) map[*ast.OperationDefinition]*compiled {
	if exec == nil || doc.errs != nil || doc.introspects {
		return nil
	}
	frags := map[string]ast.Definition{}
	for _, def := range doc.ast.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
			frags[f.Name.Value] = f
		}
	}
	var out map[*ast.OperationDefinition]*compiled
	for _, def := range doc.ast.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		if c := compileOperation(exec, op, frags); c != nil {
			if out == nil {
				out = map[*ast.OperationDefinition]*compiled{}
			}
			out[op] = c
		}
	}
	return out
}

func compileOperation(exec *graphql.Schema, op *ast.OperationDefinition, frags map[string]ast.Definition) *compiled {
	query := exec.QueryType()
	if op.Operation != ast.OperationTypeQuery || len(op.VariableDefinitions) > 0 || len(op.Directives) > 0 ||
		op.SelectionSet == nil || query == nil {
		return nil
	}
	c := &compiled{size: 2}
	seen := map[string]bool{}
	vars := map[string]any{} // graphql-go's variable values for an operation that declares none
	for _, sel := range op.SelectionSet.Selections {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name == nil || len(f.Directives) > 0 {
			return nil
		}
		key := f.Name.Value
		if f.Alias != nil {
			key = f.Alias.Value
		}
		if seen[key] {
			return nil // graphql-go merges fields of one key; leave that to it
		}
		seen[key] = true
		def := query.Fields()[f.Name.Value]
		if def == nil || def.Resolve == nil || !encodes(def.Type) {
			return nil
		}
		args, ok := argumentValues(def.Args, f.Arguments)
		if !ok {
			return nil
		}
		fieldASTs := []*ast.Field{f}
		c.fields = append(c.fields, compiledField{
			key:     key,
			resolve: def.Resolve,
			params: graphql.ResolveParams{
				Source: map[string]any{},
				Args:   args,
				Info: graphql.ResolveInfo{
					FieldName: f.Name.Value, FieldASTs: fieldASTs, Path: (*graphql.ResponsePath)(nil).WithKey(key),
					ReturnType: def.Type, ParentType: query, Schema: *exec, Fragments: frags,
					Operation: op, VariableValues: vars,
				},
			},
			nodes: graphql.FieldASTsToNodeASTs(fieldASTs),
		})
		c.size += len(key) + 4
	}
	if len(c.fields) == 0 {
		return nil
	}
	return c
}

// encodes reports whether a field of type t returns its JSON already encoded.
func encodes(t graphql.Output) bool {
	nn, ok := t.(*graphql.NonNull)
	if !ok {
		return false
	}
	s, ok := nn.OfType.(*graphql.Scalar)
	return ok && s.Name() == encodedConnection
}

// run calls the resolvers in selection order and returns the data object, or the error that
// graphql-go would return alone: a non-null root field that fails takes the whole data with
// it, and so does the request's context ending.
func (c *compiled) run(ctx context.Context) (json.RawMessage, []gqlerrors.FormattedError) {
	values := make([]json.RawMessage, len(c.fields))
	size := c.size
	for i := range c.fields {
		if err := ctx.Err(); err != nil { // no statement for a request that has ended
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(err)}
		}
		v, err := c.fields[i].call(ctx)
		if ctx.Err() != nil {
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(ctx.Err())}
		}
		if err != nil {
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(err)}
		}
		values[i] = v
		size += len(v)
	}
	out := append(make([]byte, 0, size), '{')
	for i := range c.fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(reader.AppendJSONString(out, c.fields[i].key), ':')
		out = append(out, values[i]...)
	}
	return append(out, '}'), nil
}

// call runs one field's resolver as graphql-go's resolveField and completeValue would,
// panics included, and returns its JSON or the located error.
func (f *compiledField) call(ctx context.Context) (v json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, graphql.NewLocatedErrorWithPath(r, f.nodes, f.params.Info.Path.AsArray())
		}
	}()
	p := f.params
	p.Context = ctx
	res, rerr := f.resolve(p)
	if rerr != nil {
		return nil, graphql.NewLocatedErrorWithPath(rerr, f.nodes, f.params.Info.Path.AsArray())
	}
	switch x := res.(type) {
	case json.RawMessage:
		if x != nil {
			return x, nil
		}
	case nil:
	default:
		b, merr := json.Marshal(x) // EncodedConnection serializes any value as is
		if merr != nil {
			return nil, graphql.NewLocatedErrorWithPath(merr, f.nodes, f.params.Info.Path.AsArray())
		}
		return b, nil
	}
	return nil, graphql.NewLocatedErrorWithPath("Cannot return null for non-nullable field "+
		f.params.Info.ParentType.Name()+"."+f.params.Info.FieldName+".", f.nodes, f.params.Info.Path.AsArray())
}

// argumentValues is graphql-go's getArgumentValues for arguments that hold no variable: the
// literal of each argument coerced by its type, else the argument's default, leaving out
// what is null. It reports false when an argument holds a variable.
func argumentValues(defs []*graphql.Argument, asts []*ast.Argument) (map[string]any, bool) {
	byName := map[string]*ast.Argument{}
	for _, a := range asts {
		if a.Name != nil {
			byName[a.Name.Value] = a
		}
	}
	out := map[string]any{}
	for _, def := range defs {
		var lit ast.Value
		if a, ok := byName[def.PrivateName]; ok {
			lit = a.Value
		}
		if holdsVariable(lit) {
			return nil, false
		}
		v := coerceLiteral(lit, def.Type)
		if nullish(v) {
			v = def.DefaultValue
		}
		if !nullish(v) {
			out[def.PrivateName] = v
		}
	}
	return out, true
}

// coerceLiteral is graphql-go's valueFromAST for a value without variables.
func coerceLiteral(v ast.Value, t graphql.Input) any {
	if v == nil {
		return nil
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return coerceLiteral(v, t.OfType)
	case *graphql.List:
		values := []any{}
		if list, ok := v.(*ast.ListValue); ok {
			for _, item := range list.Values {
				values = append(values, coerceLiteral(item, t.OfType))
			}
			return values
		}
		return append(values, coerceLiteral(v, t.OfType))
	case *graphql.InputObject:
		obj, ok := v.(*ast.ObjectValue)
		if !ok {
			return nil
		}
		given := map[string]*ast.ObjectField{}
		for _, f := range obj.Fields {
			if f != nil && f.Name != nil {
				given[f.Name.Value] = f
			}
		}
		out := map[string]any{}
		for name, field := range t.Fields() {
			var value any
			if f, ok := given[name]; ok {
				value = coerceLiteral(f.Value, field.Type)
			} else {
				value = field.DefaultValue
			}
			if !nullish(value) {
				out[name] = value
			}
		}
		return out
	case *graphql.Scalar:
		return t.ParseLiteral(v)
	case *graphql.Enum:
		return t.ParseLiteral(v)
	}
	return nil
}

// holdsVariable reports whether a value literal refers to a variable anywhere.
func holdsVariable(v ast.Value) bool {
	switch v := v.(type) {
	case *ast.Variable:
		return true
	case *ast.ListValue:
		for _, item := range v.Values {
			if holdsVariable(item) {
				return true
			}
		}
	case *ast.ObjectValue:
		for _, f := range v.Fields {
			if f != nil && holdsVariable(f.Value) {
				return true
			}
		}
	}
	return false
}

// nullish is graphql-go's isNullish: nil, a nil pointer, or NaN.
func nullish(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	if r.Kind() == reflect.Ptr {
		if r.IsNil() {
			return true
		}
		r = r.Elem()
	}
	switch r.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(r.Float())
	}
	return false
}
