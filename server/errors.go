package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/viewgate/viewgate/fault"
)

// Errors born in the HTTP layer.
var (
	errBadRequest   = fault.New(fault.BadUserInput, "bad request")
	errTooComplex   = fault.New(fault.QueryTooComplex, "query too complex")
	errWrite        = fault.New(fault.WriteRefused, "viewgate is read-only: mutations are refused")
	errBodyTooLarge = withStatus(http.StatusRequestEntityTooLarge, fault.New(fault.BadUserInput, "request body too large"))
	errMethod       = withStatus(http.StatusMethodNotAllowed, fault.New(fault.BadUserInput, "method not allowed"))
	errNotAdmin     = fault.New(fault.Forbidden, "forbidden: this route needs the admin role")
	errBusy         = fault.Hidden(fault.Unavailable, "server busy: too many requests in flight", "the server is busy; retry later")
)

// statusError is a sentinel whose HTTP status is not its code's usual one (413, 405).
type statusError struct {
	error
	status int
}

func withStatus(status int, err error) error { return &statusError{err, status} }
func (e *statusError) Unwrap() error         { return e.error }

// errRequest is a GraphQL request error: a document that does not parse or validate, or a
// variable that does not coerce. It is a bad request, with the status statusOf gives.
var errRequest = fmt.Errorf("%w", errBadRequest)

// statusClientClosed is the status logged when the client went away before the answer
// (nginx's 499); the client never sees it.
const statusClientClosed = 499

// class is how one error is shown to a client.
type class struct {
	status int
	code   fault.Code
	msg    string // shown when the error's own text is not public
}

// statuses is the one table mapping error codes to HTTP statuses, with the sentence a client
// reads when the error's own text is not for it. Codes are born with the errors (package fault).
var statuses = map[fault.Code]class{
	fault.Unauthenticated: {http.StatusUnauthorized, fault.Unauthenticated, "not authenticated"},
	fault.Forbidden:       {http.StatusForbidden, fault.Forbidden, "forbidden"},
	fault.BadUserInput:    {http.StatusBadRequest, fault.BadUserInput, "bad request"},
	fault.QueryTooComplex: {http.StatusBadRequest, fault.QueryTooComplex, "query too complex"},
	fault.WriteRefused:    {http.StatusBadRequest, fault.WriteRefused, "viewgate is read-only"},
	fault.RateLimited:     {http.StatusTooManyRequests, fault.RateLimited, "rate limited; retry after Retry-After"},
	fault.Timeout:         {http.StatusGatewayTimeout, fault.Timeout, "the query took longer than the statement timeout; narrow it with where or a smaller first"},
	fault.Unavailable:     {http.StatusServiceUnavailable, fault.Unavailable, "the database is unavailable; retry later"},
	fault.Cancelled:       {statusClientClosed, fault.Cancelled, "the request was cancelled"},
	fault.Internal:        {http.StatusInternalServerError, fault.Internal, "internal error; quote the requestId when reporting it"},
}

// classify returns how err is shown: its code's row, with the status an HTTP-layer error
// overrides. Context errors that no coded error wraps are CANCELLED and TIMEOUT.
func classify(err error) class {
	code := fault.CodeOf(err)
	if code == fault.Internal {
		switch {
		case errors.Is(err, context.Canceled):
			code = fault.Cancelled
		case errors.Is(err, context.DeadlineExceeded):
			code = fault.Timeout
		}
	}
	c := statuses[code]
	var se *statusError
	if errors.As(err, &se) {
		c.status = se.status
	}
	return c
}

// ErrorCode returns the GraphQL extensions.code of err, for the query log.
func ErrorCode(err error) string { return string(classify(err).code) }

// message returns what the client reads of err.
func (c class) message(err error) string {
	if c.code == fault.Internal {
		return c.msg
	}
	return fault.Message(err, c.msg)
}

// retryAfter is the Retry-After of a 503 whose error sets none.
const retryAfter = "5"

// headers sets the response headers an error carries, and Retry-After on a 503 or 429 whose
// error does not say.
func (c class) headers(err error, h http.Header) {
	fault.Headers(err, h)
	if (c.status == http.StatusServiceUnavailable || c.status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", retryAfter)
	}
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
