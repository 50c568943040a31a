package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/resolvers"
	"github.com/viewgate/viewgate/views"
)

// Errors born in the HTTP layer.
var (
	errBadRequest   = errors.New("bad request")
	errTooComplex   = errors.New("query too complex")
	errWrite        = errors.New("viewgate is read-only: mutations are refused")
	errBodyTooLarge = errors.New("request body too large")
	errMethod       = errors.New("method not allowed")
	errNotAdmin     = errors.New("forbidden: this route needs the admin role")
)

// errRequest is a GraphQL request error: a document that does not parse or validate, or a
// variable that does not coerce. It is a bad request, with the status statusOf gives.
var errRequest = fmt.Errorf("%w", errBadRequest)

// statusClientClosed is the status logged when the client went away before the answer
// (nginx's 499); the client never sees it.
const statusClientClosed = 499

// class is how one error is shown to a client.
type class struct {
	status int
	code   string
	public bool   // the error's own message is safe to show
	msg    string // the message shown when public is false
}

// classes is the one table mapping errors to HTTP status and GraphQL extensions.code;
// the first match wins, anything unmatched is INTERNAL.
var classes = []struct {
	is []error
	c  class
}{
	{append([]error{resolvers.ErrUnauthenticated}, auth.Unauthenticated...), class{http.StatusUnauthorized, "UNAUTHENTICATED", true, ""}},
	{[]error{resolvers.ErrForbidden, views.ErrNoTenant, errNotAdmin}, class{http.StatusForbidden, "FORBIDDEN", true, ""}},
	{[]error{errWrite}, class{http.StatusBadRequest, "WRITE_REFUSED", true, ""}},
	{[]error{replica.ErrWriteRefused}, class{http.StatusBadRequest, "WRITE_REFUSED", false, "the database refused a write: viewgate is read-only"}},
	{[]error{errTooComplex}, class{http.StatusBadRequest, "QUERY_TOO_COMPLEX", true, ""}},
	{[]error{errBodyTooLarge}, class{http.StatusRequestEntityTooLarge, "BAD_USER_INPUT", true, ""}},
	{[]error{errMethod}, class{http.StatusMethodNotAllowed, "BAD_USER_INPUT", true, ""}},
	{[]error{errBadRequest, views.ErrBadFilter, views.ErrBadCursor, views.ErrBadOrder, views.ErrBadPageSize, views.ErrBadValue}, class{http.StatusBadRequest, "BAD_USER_INPUT", true, ""}},
	{[]error{context.Canceled}, class{statusClientClosed, "CANCELLED", false, "the request was cancelled"}},
	{[]error{replica.ErrTimeout, context.DeadlineExceeded}, class{http.StatusGatewayTimeout, "TIMEOUT", false, "the query took longer than the statement timeout; narrow it with where or a smaller first"}},
	{[]error{replica.ErrUnavailable}, class{http.StatusServiceUnavailable, "UNAVAILABLE", false, "the database is unavailable; retry later"}},
}

var internal = class{http.StatusInternalServerError, "INTERNAL", false, "internal error; quote the requestId when reporting it"}

func classify(err error) class {
	for _, row := range classes {
		for _, target := range row.is {
			if errors.Is(err, target) {
				return row.c
			}
		}
	}
	return internal
}

// ErrorCode returns the GraphQL extensions.code of err, for the query log.
func ErrorCode(err error) string { return classify(err).code }

// message returns what the client sees of err.
func (c class) message(err error) string {
	if c.public {
		return err.Error()
	}
	return c.msg
}

// rank orders statuses when a response carries several errors: the one that tells the
// client most about what to do wins.
func rank(status int) int {
	switch status {
	case http.StatusUnauthorized:
		return 9
	case http.StatusForbidden:
		return 8
	case http.StatusTooManyRequests:
		return 7
	case http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return 6
	case http.StatusBadRequest:
		return 5
	case http.StatusGatewayTimeout:
		return 4
	case http.StatusServiceUnavailable:
		return 3
	}
	return 1
}
