package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/fault"
)

// Front is what /graphql does before it runs a document, for other endpoints that take a
// GraphQL document (exports): authentication with the failure limit, the document bounds,
// cache and validation, the operation and variable checks, and the one error table.
type Front struct{ h *graphqlHandler }

// NewFront returns the front of an endpoint configured like /graphql (Schema, Auth, Limits,
// Log, Failures and Quota are used).
func NewFront(o GraphQLOptions) *Front {
	return &Front{h: GraphQL(o).(*graphqlHandler)}
}

// Request is a GraphQL-over-HTTP request whose document parsed and validated within the bounds
// of /graphql, with its operation chosen and its variables checked against their types.
type Request struct {
	Doc           *ast.Document
	Operation     *ast.OperationDefinition
	OperationName string
	Variables     map[string]any
	Query         string
}

// Admit authenticates r as /graphql does; it answers 401 (or 429 for a client over the
// authentication-failure limit) itself and reports false when it did.
func (f *Front) Admit(w http.ResponseWriter, r *http.Request) (*auth.Principal, bool) {
	return f.h.admit(w, r, f.h.o.Auth, "")
}

// Read reads r as /graphql does (POST JSON or GET query string) and prepares its document;
// errors are in the error vocabulary (bad requests, too complex, WRITE_REFUSED, body too large).
func (f *Front) Read(ctx context.Context, r *http.Request) (*Request, error) {
	p, err := readParams(r)
	if err != nil {
		return nil, err
	}
	doc := f.h.cache.get(p.Query)
	if doc == nil {
		if doc, err = prepare(ctx, &f.h.o.Schema, p.Query, f.h.o.Limits); err != nil {
			return nil, fmt.Errorf("prepare the document: %w", err)
		}
		f.h.cache.put(p.Query, doc)
	}
	if doc.errs != nil {
		msgs := make([]string, len(doc.errs))
		for i, e := range doc.errs {
			msgs[i] = e.Message
		}
		return nil, fmt.Errorf("%w: %s", doc.reason, strings.Join(msgs, "; "))
	}
	if doc.introspects {
		return nil, fmt.Errorf("%w: introspection is answered at /graphql", errBadRequest)
	}
	op, err := operation(doc.ast, p.OperationName)
	if err == nil {
		err = checkVariables(&f.h.o.Schema, op, p.Variables)
	}
	if err != nil {
		return nil, err
	}
	return &Request{Doc: doc.ast, Operation: op, OperationName: p.OperationName, Variables: p.Variables, Query: p.Query}, nil
}

// Fail answers err alone as application/json with the error table's status (a GraphQL request
// error is a 400 here: the endpoint is not GraphQL over HTTP) and err's headers.
func (f *Front) Fail(w http.ResponseWriter, r *http.Request, err error) {
	c := classify(err)
	c.headers(err, w.Header())
	switch c.code {
	case fault.Internal:
		f.h.o.Log.ErrorContext(r.Context(), "request failed", "error", err.Error())
	case fault.Cancelled:
		f.h.o.Log.InfoContext(r.Context(), "client went away", "error", err.Error())
	}
	b, _ := response{Errors: []errorEntry{f.h.entry(r.Context(), err, c)}}.encode()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(c.status)
	_, _ = w.Write(b)
}

// ErrorEntry returns what a client reads of err: its message and extensions (code included),
// for endpoints that report an error inside a body already under way.
func (f *Front) ErrorEntry(ctx context.Context, err error) (message string, extensions map[string]any) {
	e := f.h.entry(ctx, err, classify(err))
	return e.Message, e.Extensions
}

// Status returns the HTTP status of err in the error table.
func Status(err error) int { return classify(err).status }

// WithStatus returns err answered with status instead of its code's usual one (406, say).
func WithStatus(status int, err error) error { return withStatus(status, err) }

// IsClientGone reports whether err is the client going away (CANCELLED).
func IsClientGone(err error) bool {
	return classify(err).code == fault.Cancelled || errors.Is(err, context.Canceled)
}
