package server

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
)

// A compiled operation runs a cached document's root fields without graphql-go's executor:
// an operation whose root selections are plain fields (no fragment, directive or
// __typename) of the execution schema that each return an encoded connection or aggregate.
// Arguments that hold no variable are coerced once, when the document is prepared, exactly
// as graphql-go's getArgumentValues does (coerceLiteral); a request's variables are coerced
// as graphql-go's getVariableValues does (coerceValue), and the arguments that hold them are
// then coerced per request. Variables that graphql-go would refuse make the request run
// through graphql.Execute instead, so its errors are graphql-go's own. Each request calls
// the fields' resolvers in selection order and writes their JSON side by side. graphql-go
// would do the same work, plus a goroutine, an execution context, argument coercion and a
// map of the results per request. Any other operation runs through graphql.Execute;
// TestGolden runs every case compiled, through graphql.Execute on the execution schema and
// fully completed.
type compiled struct {
	vars   []compiledVar // the operation's variables, as declared
	fields []compiledField
	end    []byte // the data object's closing brace
}

// compiledVar is a declared variable with its type in the execution schema.
type compiledVar struct {
	name string
	typ  graphql.Input
	def  ast.Value // the default literal; nil: none
}

type compiledField struct {
	prefix  []byte // what comes before the field's JSON in the data object: {"key": or ,"key":
	resolve graphql.FieldResolveFn
	params  graphql.ResolveParams // Context and VariableValues are set per request
	nodes   []ast.Node            // for errors' locations
	// argDefs and argLits are the field's arguments and their literals (by definition, nil
	// where absent) when one holds a variable, nil otherwise: params.Args is then coerced per
	// request.
	argDefs []*graphql.Argument
	argLits []ast.Value
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
	if op.Operation != ast.OperationTypeQuery || len(op.Directives) > 0 || op.SelectionSet == nil || query == nil {
		return nil
	}
	c := &compiled{end: []byte{'}'}}
	for _, def := range op.VariableDefinitions {
		if def == nil || def.Variable == nil || def.Variable.Name == nil {
			return nil
		}
		t, ok := typeOf(exec, def.Type).(graphql.Input)
		if !ok || t == nil || !graphql.IsInputType(t) {
			return nil // graphql-go reports it
		}
		c.vars = append(c.vars, compiledVar{name: def.Variable.Name.Value, typ: t, def: def.DefaultValue})
	}
	seen := map[string]bool{}
	noVars := map[string]any{} // graphql-go's variable values for an operation that declares none
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
		open := byte(',')
		if len(c.fields) == 0 {
			open = '{'
		}
		cf := compiledField{resolve: def.Resolve, prefix: append(reader.AppendJSONString([]byte{open}, key), ':')}
		lits := literals(def.Args, f.Arguments)
		var args map[string]any
		if slices.ContainsFunc(lits, holdsVariable) {
			cf.argDefs, cf.argLits = def.Args, lits
		} else {
			args = argumentValues(def.Args, lits, noVars)
		}
		fieldASTs := []*ast.Field{f}
		cf.params = graphql.ResolveParams{
			Source: map[string]any{},
			Args:   args,
			Info: graphql.ResolveInfo{
				FieldName: f.Name.Value, FieldASTs: fieldASTs, Path: (*graphql.ResponsePath)(nil).WithKey(key),
				ReturnType: def.Type, ParentType: query, Schema: *exec, Fragments: frags,
				Operation: op, VariableValues: noVars,
			},
		}
		cf.nodes = graphql.FieldASTsToNodeASTs(fieldASTs)
		c.fields = append(c.fields, cf)
	}
	if len(c.fields) == 0 {
		return nil
	}
	return c
}

// variables is graphql-go's getVariableValues for inputs that it accepts: each declared
// variable's input coerced by its type, or its default when the input is null or missing.
// It reports false when graphql-go would refuse an input; the request then runs through
// graphql.Execute, which says why.
func (c *compiled) variables(inputs map[string]any) (map[string]any, bool) {
	if len(c.vars) == 0 {
		return nil, true // the fields keep the empty map they were compiled with
	}
	out := make(map[string]any, len(c.vars))
	for _, v := range c.vars {
		in := inputs[v.name]
		if !validInput(in, v.typ) {
			return nil, false
		}
		if nullish(in) && v.def != nil {
			out[v.name] = coerceLiteral(v.def, v.typ, nil)
			continue
		}
		out[v.name] = coerceValue(v.typ, in)
	}
	return out, true
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

// run calls the resolvers in selection order and returns the data object in pieces (each
// field's prefix and JSON, then the closing brace), or the error that graphql-go would
// return alone: a non-null root field that fails takes the whole data with it, and so does
// the request's context ending. vars are the request's variables as variables returned them.
func (c *compiled) run(ctx context.Context, vars map[string]any) ([][]byte, []gqlerrors.FormattedError) {
	out := make([][]byte, 0, 2*len(c.fields)+1)
	for i := range c.fields {
		if err := ctx.Err(); err != nil { // no statement for a request that has ended
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(err)}
		}
		v, err := c.fields[i].call(ctx, vars)
		if ctx.Err() != nil {
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(ctx.Err())}
		}
		if err != nil {
			return nil, []gqlerrors.FormattedError{gqlerrors.FormatError(err)}
		}
		out = append(out, c.fields[i].prefix, v)
	}
	return append(out, c.end), nil
}

// call runs one field's resolver as graphql-go's resolveField and completeValue would,
// panics included, and returns its JSON or the located error.
func (f *compiledField) call(ctx context.Context, vars map[string]any) (v json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, graphql.NewLocatedErrorWithPath(r, f.nodes, f.params.Info.Path.AsArray())
		}
	}()
	p := f.params
	p.Context = ctx
	if len(vars) > 0 {
		p.Info.VariableValues = vars
	}
	if f.argLits != nil {
		p.Args = argumentValues(f.argDefs, f.argLits, vars)
	}
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

// literals returns the literal given for each argument definition, nil where none is (the
// last one given, as graphql-go's getArgumentValues takes).
func literals(defs []*graphql.Argument, asts []*ast.Argument) []ast.Value {
	byName := map[string]*ast.Argument{}
	for _, a := range asts {
		if a.Name != nil {
			byName[a.Name.Value] = a
		}
	}
	lits := make([]ast.Value, len(defs))
	for i, def := range defs {
		if a, ok := byName[def.PrivateName]; ok {
			lits[i] = a.Value
		}
	}
	return lits
}

// argumentValues is graphql-go's getArgumentValues over literals' result: the value of each
// argument coerced by its type, else the argument's default, leaving out what is null.
func argumentValues(defs []*graphql.Argument, lits []ast.Value, vars map[string]any) map[string]any {
	out := map[string]any{}
	for i, def := range defs {
		v := coerceLiteral(lits[i], def.Type, vars)
		if nullish(v) {
			v = def.DefaultValue
		}
		if !nullish(v) {
			out[def.PrivateName] = v
		}
	}
	return out
}

// coerceLiteral is graphql-go's valueFromAST: a variable stands for its value in vars, taken
// as coerced already.
func coerceLiteral(v ast.Value, t graphql.Input, vars map[string]any) any {
	if v == nil {
		return nil
	}
	if x, ok := v.(*ast.Variable); ok {
		if x.Name == nil || vars == nil {
			return nil
		}
		return vars[x.Name.Value]
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return coerceLiteral(v, t.OfType, vars)
	case *graphql.List:
		values := []any{}
		if list, ok := v.(*ast.ListValue); ok {
			for _, item := range list.Values {
				values = append(values, coerceLiteral(item, t.OfType, vars))
			}
			return values
		}
		return append(values, coerceLiteral(v, t.OfType, vars))
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
				value = coerceLiteral(f.Value, field.Type, vars)
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

// coerceValue is graphql-go's coerceValue: a variable's input, which validInput accepted,
// coerced by its type.
func coerceValue(t graphql.Input, v any) any {
	if nullish(v) {
		return nil
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return coerceValue(t.OfType, v)
	case *graphql.List:
		values := []any{}
		if r := reflect.ValueOf(v); r.Kind() == reflect.Slice {
			for i := range r.Len() {
				values = append(values, coerceValue(t.OfType, r.Index(i).Interface()))
			}
			return values
		}
		return append(values, coerceValue(t.OfType, v))
	case *graphql.InputObject:
		given, _ := v.(map[string]any)
		out := map[string]any{}
		for name, field := range t.Fields() {
			value := coerceValue(field.Type, given[name])
			if nullish(value) {
				value = field.DefaultValue
			}
			if !nullish(value) {
				out[name] = value
			}
		}
		return out
	case *graphql.Scalar:
		if parsed := t.ParseValue(v); !nullish(parsed) {
			return parsed
		}
	case *graphql.Enum:
		if parsed := t.ParseValue(v); !nullish(parsed) {
			return parsed
		}
	}
	return nil
}

// validInput is graphql-go's isValidInputValue without its messages: whether a variable's
// input is accepted for its type.
func validInput(v any, t graphql.Input) bool {
	if nullish(v) {
		_, required := t.(*graphql.NonNull)
		return !required
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return validInput(v, t.OfType)
	case *graphql.List:
		r := reflect.ValueOf(v)
		if r.Kind() == reflect.Ptr {
			r = r.Elem()
		}
		if r.Kind() == reflect.Slice {
			for i := range r.Len() {
				if !validInput(r.Index(i).Interface(), t.OfType) {
					return false
				}
			}
			return true
		}
		return validInput(v, t.OfType)
	case *graphql.InputObject:
		given, ok := v.(map[string]any)
		if !ok {
			return false
		}
		fields := t.Fields()
		for name := range given {
			if fields[name] == nil {
				return false
			}
		}
		for name, field := range fields {
			if !validInput(given[name], field.Type) {
				return false
			}
		}
	case *graphql.Scalar:
		return !nullish(t.ParseValue(v))
	case *graphql.Enum:
		return !nullish(t.ParseValue(v))
	}
	return true
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
