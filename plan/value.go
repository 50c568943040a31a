package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/views"
)

// textMatch reports whether a filter operator, by its GraphQL name, matches text: such an
// operator anywhere in where makes a root field class search. views has no predicate for it
// (resolvers.Class tests the same two operators); add case-sensitive or other matching
// operators here when views gains them.
func textMatch(op string) bool {
	return op == string(views.StartsWith) || op == string(views.Contains)
}

// maxWhereDepth and maxWhereObjects bound the walk of one where argument (objects and their
// fields both count). views refuses filters nested deeper than 8 levels or holding more than
// 200 objects or 100 conditions, so a where beyond either bound fails before any SQL runs; it
// is planned as search, so that size can never hide a text match, and a large variable used by
// many root fields costs little to plan.
const (
	maxWhereDepth   = 32
	maxWhereObjects = 1000
)

// spent counts one where object or field against maxWhereObjects and reports whether the
// walk has gone over it.
func (pl *planner) spent() bool {
	pl.left--
	return pl.left < 0
}

// variable returns a variable's JSON value, or, when it is absent or null, its default literal
// (nil when it has none). graphql-go applies the default to an explicit null too.
func (pl *planner) variable(v *ast.Variable) (raw any, lit ast.Value) {
	if v == nil || v.Name == nil {
		return nil, nil
	}
	name := v.Name.Value
	if raw = pl.vars[name]; raw != nil {
		return raw, nil
	}
	defs := pl.op.VariableDefinitions
	if len(defs) <= 16 {
		for _, def := range defs {
			if def != nil && def.Variable != nil && def.Variable.Name != nil && def.Variable.Name.Value == name {
				return nil, def.DefaultValue
			}
		}
		return nil, nil
	}
	if pl.defaults == nil {
		pl.defaults = make(map[string]ast.Value, len(defs))
		for _, def := range defs {
			if def != nil && def.Variable != nil && def.Variable.Name != nil {
				if _, dup := pl.defaults[def.Variable.Name.Value]; !dup {
					pl.defaults[def.Variable.Name.Value] = def.DefaultValue
				}
			}
		}
	}
	return nil, pl.defaults[name]
}

// intArg evaluates an Int argument; set is false when it is absent or null.
func (pl *planner) intArg(v ast.Value) (n int, set bool, err error) {
	switch x := v.(type) {
	case *ast.IntValue:
		n, err := strconv.Atoi(x.Value) // as graphql-go parses an Int literal
		if err != nil {
			return 0, false, fmt.Errorf("%w: %q is not an Int", ErrBadRequest, x.Value)
		}
		return n, true, nil
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw == nil {
			if _, isVar := lit.(*ast.Variable); isVar {
				return 0, false, nil // a default is constant; never follow a variable from one
			}
			return pl.intArg(lit)
		}
		n, err := jsonInt(raw)
		if err != nil {
			return 0, false, fmt.Errorf("%w: variable $%s %w", ErrBadRequest, x.Name.Value, err)
		}
		return n, true, nil
	}
	return 0, false, nil
}

// jsonInt converts a JSON-decoded number to an int, saturating beyond the int range.
func jsonInt(raw any) (int, error) {
	switch x := raw.(type) {
	case float64:
		return floatInt(x)
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		switch {
		case err == nil:
			return clampInt64(n), nil
		case isRange(err) && strings.HasPrefix(string(x), "-"):
			return math.MinInt, nil
		case isRange(err):
			return math.MaxInt, nil
		}
		f, err := strconv.ParseFloat(string(x), 64) // 1e2, 100.0; out of range is ±Inf
		if err != nil && !isRange(err) {
			return 0, errNotInt
		}
		return floatInt(f)
	case int:
		return x, nil
	case int64:
		return clampInt64(x), nil
	case int32:
		return int(x), nil
	}
	return 0, fmt.Errorf("must be an integer (Int), not %s", jsonKind(raw))
}

var errNotInt = errors.New("must be an integer (Int)")

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// floatInt converts an integral float to an int, saturating beyond the int range.
func floatInt(f float64) (int, error) {
	switch {
	case f != math.Trunc(f): // fractions, and NaN
		return 0, errNotInt
	case f >= math.MaxInt:
		return math.MaxInt, nil
	case f <= math.MinInt:
		return math.MinInt, nil
	}
	return int(f), nil
}

func clampInt64(n int64) int {
	switch {
	case n > math.MaxInt:
		return math.MaxInt
	case n < math.MinInt:
		return math.MinInt
	}
	return int(n)
}

// boolArg evaluates a Boolean argument; set is false when it is absent or null.
func (pl *planner) boolArg(v ast.Value) (b, set bool, err error) {
	switch x := v.(type) {
	case *ast.BooleanValue:
		return x.Value, true, nil
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw == nil {
			if _, isVar := lit.(*ast.Variable); isVar {
				return false, false, nil
			}
			return pl.boolArg(lit)
		}
		b, ok := raw.(bool)
		if !ok {
			return false, false, fmt.Errorf("%w: variable $%s must be a Boolean, not %s", ErrBadRequest, x.Name.Value, jsonKind(raw))
		}
		return b, true, nil
	}
	return false, false, nil
}

// stringArg evaluates a String argument; "" when it is absent or null.
func (pl *planner) stringArg(v ast.Value) (string, error) {
	switch x := v.(type) {
	case *ast.StringValue:
		return x.Value, nil
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw == nil {
			if _, isVar := lit.(*ast.Variable); isVar {
				return "", nil
			}
			return pl.stringArg(lit)
		}
		s, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("%w: variable $%s must be a String, not %s", ErrBadRequest, x.Name.Value, jsonKind(raw))
		}
		return s, nil
	}
	return "", nil
}

// jsonKind names the JSON type of a decoded value, for error messages (never the value).
func jsonKind(raw any) string {
	switch raw.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64, int32:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", raw)
}

// where reports whether a where value uses a text-matching operator with a non-null operand,
// at any depth of and, or and not, in literals and in variables. Other mistakes in it are
// views' to report.
func (pl *planner) where(v ast.Value, depth int) bool {
	if depth > maxWhereDepth || pl.spent() {
		return true
	}
	switch x := v.(type) {
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw != nil {
			return pl.whereJSON(raw, depth)
		}
		if _, isVar := lit.(*ast.Variable); !isVar {
			return pl.where(lit, depth)
		}
	case *ast.ObjectValue:
		for _, f := range x.Fields {
			if f == nil || f.Name == nil {
				continue
			}
			if pl.spent() || pl.whereField(f.Name.Value, f.Value, depth) {
				return true
			}
		}
	}
	return false
}

func (pl *planner) whereField(name string, v ast.Value, depth int) bool {
	switch name {
	case "and", "or":
		return pl.whereList(v, depth+1)
	case "not":
		return pl.where(v, depth+1)
	}
	return pl.operators(v)
}

// whereList walks a list of where values; a single value stands for a one-item list.
func (pl *planner) whereList(v ast.Value, depth int) bool {
	switch x := v.(type) {
	case *ast.ListValue:
		for _, item := range x.Values {
			if pl.where(item, depth) {
				return true
			}
		}
		return false
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw != nil {
			return pl.whereListJSON(raw, depth)
		}
		if _, isVar := lit.(*ast.Variable); !isVar {
			return pl.whereList(lit, depth)
		}
		return false
	}
	return pl.where(v, depth)
}

// operators reports whether a column's filter object holds a non-null text-matching operator.
func (pl *planner) operators(v ast.Value) bool {
	switch x := v.(type) {
	case *ast.Variable:
		raw, lit := pl.variable(x)
		if raw != nil {
			return pl.operatorsJSON(raw)
		}
		if _, isVar := lit.(*ast.Variable); !isVar {
			return pl.operators(lit)
		}
	case *ast.ObjectValue:
		for _, f := range x.Fields {
			if pl.spent() || (f != nil && f.Name != nil && textMatch(f.Name.Value) && pl.nonNull(f.Value)) {
				return true
			}
		}
	}
	return false
}

// nonNull reports whether a value is not null once its variables are resolved.
func (pl *planner) nonNull(v ast.Value) bool {
	x, ok := v.(*ast.Variable)
	if !ok {
		return v != nil
	}
	raw, lit := pl.variable(x)
	if _, isVar := lit.(*ast.Variable); isVar {
		return false
	}
	return raw != nil || lit != nil
}

func (pl *planner) whereJSON(raw any, depth int) bool {
	if depth > maxWhereDepth || pl.spent() {
		return true
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		if pl.spent() || pl.whereFieldJSON(k, v, depth) {
			return true
		}
	}
	return false
}

func (pl *planner) whereFieldJSON(name string, v any, depth int) bool {
	switch name {
	case "and", "or":
		return pl.whereListJSON(v, depth+1)
	case "not":
		return pl.whereJSON(v, depth+1)
	}
	return pl.operatorsJSON(v)
}

func (pl *planner) whereListJSON(raw any, depth int) bool {
	list, ok := raw.([]any)
	if !ok {
		return pl.whereJSON(raw, depth)
	}
	for _, item := range list {
		if pl.whereJSON(item, depth) {
			return true
		}
	}
	return false
}

func (pl *planner) operatorsJSON(raw any) bool {
	m, ok := raw.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		if pl.spent() || (v != nil && textMatch(k)) {
			return true
		}
	}
	return false
}
