package server

import (
	"errors"
	"net/http"
	"strings"
)

// graphqlResponseType is the GraphQL-over-HTTP media type; application/json is the legacy one.
const graphqlResponseType = "application/graphql-response+json"

// acceptsGraphQLResponse reports whether the client accepts application/graphql-response+json,
// in which case the response is of that type; otherwise it is application/json.
func acceptsGraphQLResponse(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), graphqlResponseType)
}

// statusOf returns the HTTP status of err in the response to r. A GraphQL request error
// (errRequest: the document does not parse or validate, or a variable does not coerce) is 200
// in an application/json response, as the GraphQL-over-HTTP spec asks of the legacy media type,
// whose clients read errors from the body; application/graphql-response+json keeps the table's
// 4xx. Every other error keeps the table's status on both media types.
func statusOf(r *http.Request, err error) int {
	if errors.Is(err, errRequest) && !acceptsGraphQLResponse(r) {
		return http.StatusOK
	}
	return classify(err).status
}
