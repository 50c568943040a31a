package server

import (
	"fmt"
	"math"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// checkVariables holds variables to their declared JSON types. graphql-go's String accepts any
// value (it formats ["paid"] as "[paid]") and its Int accepts numeric strings, so a wrongly
// typed variable would silently change a filter instead of failing; here it is a 400.
func checkVariables(s *graphql.Schema, op *ast.OperationDefinition, vars map[string]any) error {
	for _, def := range op.VariableDefinitions {
		name := def.Variable.Name.Value
		v, ok := vars[name]
		if !ok {
			continue // graphql-go reports missing required variables and applies defaults
		}
		if t := typeOf(s, def.Type); t != nil {
			if err := checkValue(t, v, "$"+name); err != nil {
				return err
			}
		}
	}
	return nil
}

func typeOf(s *graphql.Schema, t ast.Type) graphql.Type {
	switch x := t.(type) {
	case *ast.NonNull:
		if inner := typeOf(s, x.Type); inner != nil {
			return graphql.NewNonNull(inner)
		}
	case *ast.List:
		if inner := typeOf(s, x.Type); inner != nil {
			return graphql.NewList(inner)
		}
	case *ast.Named:
		return s.Type(x.Name.Value)
	}
	return nil
}

func checkValue(t graphql.Type, v any, path string) error {
	if v == nil {
		return nil // nullability is graphql-go's to check
	}
	switch x := t.(type) {
	case *graphql.NonNull:
		return checkValue(x.OfType, v, path)
	case *graphql.List:
		items, ok := v.([]any)
		if !ok {
			return checkValue(x.OfType, v, path) // a single value stands for a one-item list
		}
		for i, item := range items {
			if err := checkValue(x.OfType, item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case *graphql.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, "an object")
		}
		fields := x.Fields()
		for k, fv := range m {
			if f := fields[k]; f != nil {
				if err := checkValue(f.Type, fv, path+"."+k); err != nil {
					return err
				}
			}
		}
	case *graphql.Enum:
		if _, ok := v.(string); !ok {
			return wrongType(path, "an enum value (a string)")
		}
	case *graphql.Scalar:
		return checkScalar(x.Name(), v, path)
	}
	return nil
}

// checkScalar checks the built-in scalars; viewgate's own scalars check their input in ParseValue.
func checkScalar(name string, v any, path string) error {
	ok := true
	switch name {
	case "String":
		_, ok = v.(string)
	case "Boolean":
		_, ok = v.(bool)
	case "Float":
		_, ok = v.(float64)
	case "Int":
		f, isNum := v.(float64)
		ok = isNum && f == math.Trunc(f)
	case "ID":
		switch v.(type) {
		case string, float64:
		default:
			ok = false
		}
	}
	if !ok {
		return wrongType(path, "of type "+name)
	}
	return nil
}

func wrongType(path, want string) error {
	return fmt.Errorf("%w: variable %s must be %s", errRequest, path, want)
}
