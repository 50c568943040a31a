package schema

import (
	"strconv"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// stringScalar is a scalar that travels as a string; parsing only checks the literal's kind,
// the views package checks the content and says what is wrong.
func stringScalar(name, desc string, intLiterals bool) *graphql.Scalar {
	return graphql.NewScalar(graphql.ScalarConfig{
		Name:        name,
		Description: desc,
		Serialize:   func(v any) any { return v },
		ParseValue: func(v any) any {
			switch x := v.(type) {
			case string:
				return x
			case float64:
				if intLiterals {
					return strconv.FormatFloat(x, 'f', -1, 64)
				}
			}
			return nil
		},
		ParseLiteral: func(v ast.Value) any {
			switch x := v.(type) {
			case *ast.StringValue:
				return x.Value
			case *ast.IntValue:
				if intLiterals {
					return x.Value
				}
			case *ast.FloatValue:
				if intLiterals && name == "Decimal" {
					return x.Value
				}
			}
			return nil
		},
	})
}

// scalars holds the custom scalars of one schema (graphql-go types cannot be shared between schemas safely).
type scalars struct {
	bigInt, decimal, dateTime, date, uuid, json *graphql.Scalar
}

func newScalars() *scalars {
	return &scalars{
		bigInt:   stringScalar("BigInt", "A 64-bit integer, as a string so that no client rounds it.", true),
		decimal:  stringScalar("Decimal", "An exact decimal number, as a string with the column's fixed number of decimal places (\"12.50\").", true),
		dateTime: stringScalar("DateTime", "An instant in RFC 3339 form, always UTC (\"2024-05-01T12:00:00Z\").", false),
		date:     stringScalar("Date", "A calendar date, YYYY-MM-DD.", false),
		uuid:     stringScalar("UUID", "A UUID in lower-case canonical form.", false),
		json: graphql.NewScalar(graphql.ScalarConfig{
			Name:         "JSON",
			Description:  "A JSON value, returned as is. It cannot be filtered on.",
			Serialize:    func(v any) any { return v },
			ParseValue:   func(any) any { return nil },
			ParseLiteral: func(ast.Value) any { return nil },
		}),
	}
}
