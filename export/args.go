package export

import (
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
)

// arguments coerces the root field's arguments as graphql-go's execution would hand them to a
// resolver: literals through the schema's scalars and enums (ParseLiteral), variables through
// ParseValue, defaults of absent variables from the operation, null input fields left out.
func arguments(s *graphql.Schema, op *ast.OperationDefinition, field *ast.Field, vars map[string]any) reader.Args {
	def := s.QueryType().Fields()[field.Name.Value]
	out := reader.Args{}
	if def == nil {
		return out
	}
	c := coercer{op: op, vars: vars}
	for _, a := range field.Arguments {
		for _, da := range def.Args {
			if da.Name() != a.Name.Value {
				continue
			}
			if v := c.literal(da.Type, a.Value); v != nil {
				out[da.Name()] = v
			}
		}
	}
	return out
}

type coercer struct {
	op   *ast.OperationDefinition
	vars map[string]any
}

func (c coercer) literal(t graphql.Input, v ast.Value) any {
	if v == nil {
		return nil
	}
	if x, ok := v.(*ast.Variable); ok {
		return c.variable(t, x.Name.Value)
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return c.literal(t.OfType, v)
	case *graphql.List:
		lv, ok := v.(*ast.ListValue)
		if !ok {
			return []any{c.literal(t.OfType, v)}
		}
		out := make([]any, 0, len(lv.Values))
		for _, item := range lv.Values {
			out = append(out, c.literal(t.OfType, item))
		}
		return out
	case *graphql.InputObject:
		ov, ok := v.(*ast.ObjectValue)
		if !ok {
			return nil
		}
		fields := t.Fields()
		out := map[string]any{}
		for _, f := range ov.Fields {
			if fd := fields[f.Name.Value]; fd != nil {
				if fv := c.literal(fd.Type, f.Value); fv != nil {
					out[f.Name.Value] = fv
				}
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

// variable returns a variable's coerced value, or its default when the request has none.
func (c coercer) variable(t graphql.Input, name string) any {
	if v, ok := c.vars[name]; ok && v != nil {
		return value(t, v)
	}
	for _, d := range c.op.VariableDefinitions {
		if d.Variable.Name.Value == name && d.DefaultValue != nil {
			return c.literal(t, d.DefaultValue)
		}
	}
	return nil
}

// value coerces a JSON variable value.
func value(t graphql.Input, v any) any {
	if v == nil {
		return nil
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return value(t.OfType, v)
	case *graphql.List:
		items, ok := v.([]any)
		if !ok {
			return []any{value(t.OfType, v)}
		}
		out := make([]any, 0, len(items))
		for _, item := range items {
			out = append(out, value(t.OfType, item))
		}
		return out
	case *graphql.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := t.Fields()
		out := map[string]any{}
		for k, fv := range m {
			if fd := fields[k]; fd != nil {
				if x := value(fd.Type, fv); x != nil {
					out[k] = x
				}
			}
		}
		return out
	case *graphql.Scalar:
		return t.ParseValue(v)
	case *graphql.Enum:
		return t.ParseValue(v)
	}
	return nil
}
