package schema

import (
	"context"
	"errors"
	"fmt"

	"github.com/graphql-go/graphql"
)

// IntrospectionQuery is the standard introspection query: graphql-js's getIntrospectionQuery()
// with its default options (descriptions, field arguments, default values, deprecation,
// directives; ofType nine levels deep). graphql-go has no specifiedByURL, isRepeatable or
// schema description to ask for.
const IntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives {
      name
      description
      locations
      args { ...InputValue }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType {
    kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// Introspect runs IntrospectionQuery on s and returns its data ({"__schema": …}), the input of
// graphql-js's buildClientSchema; it fails only if graphql-go reports an error.
func Introspect(ctx context.Context, s graphql.Schema) (map[string]any, error) {
	res := graphql.Do(graphql.Params{Schema: s, RequestString: IntrospectionQuery, Context: ctx})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("introspect: %w", errors.New(res.Errors[0].Message))
	}
	data, ok := res.Data.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("introspect: no data")
	}
	return data, nil
}
