package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/requestid"
)

// Authenticator turns a request's credentials into a principal.
type Authenticator interface {
	Authenticate(r *http.Request) (*auth.Principal, error)
}

// GraphQLOptions configures the GraphQL endpoint.
type GraphQLOptions struct {
	Schema       graphql.Schema  // validates documents and answers introspection
	Exec         *graphql.Schema // optional: runs documents that do not introspect (schema.NewExec)
	Auth         Authenticator
	Limits       Limits
	DocCacheSize int
	Timeout      time.Duration // per request, on top of the statement timeout
	Log          *slog.Logger
	Failures     *auth.FailureLog // authentication failures; nil: 10 lines at once per reason, then 1/s
}

type graphqlHandler struct {
	o     GraphQLOptions
	cache *docCache
}

// GraphQL returns the GraphQL-over-HTTP endpoint: POST with a JSON body, or GET for queries.
func GraphQL(o GraphQLOptions) http.Handler {
	if o.Failures == nil {
		o.Failures = defaultFailures(o.Log)
	}
	return &graphqlHandler{o: o, cache: newDocCache(o.DocCacheSize)}
}

// maxCachedQuery bounds the text of a cached document, so that the cache's memory stays
// near DocCacheSize × 16 KiB whatever the body limit.
const maxCachedQuery = 16 << 10

// params is a GraphQL-over-HTTP request.
type params struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

// response is the GraphQL response body.
type response struct {
	Errors []errorEntry    `json:"errors,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// encode writes the body with data as is: it is already valid JSON, and encoding/json would
// scan and copy all of it again.
func (b response) encode() ([]byte, error) {
	out := make([]byte, 0, len(b.Data)+64)
	out = append(out, '{')
	if len(b.Errors) > 0 {
		errs, err := json.Marshal(b.Errors)
		if err != nil {
			return nil, err
		}
		out = append(append(out, `"errors":`...), errs...)
	}
	if b.Data != nil {
		if len(b.Errors) > 0 {
			out = append(out, ',')
		}
		out = append(append(out, `"data":`...), b.Data...)
	}
	return append(out, '}'), nil
}

type errorEntry struct {
	Message    string         `json:"message"`
	Locations  []any          `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

func (h *graphqlHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	who, ok := h.admit(w, r, h.o.Auth, "")
	if !ok {
		return
	}
	ctx = auth.NewContext(ctx, who)
	p, err := readParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc := h.cache.get(p.Query)
	if doc == nil {
		doc = prepare(&h.o.Schema, p.Query, h.o.Limits)
		if len(p.Query) <= maxCachedQuery {
			h.cache.put(p.Query, doc)
		}
	}
	if doc.errs != nil {
		h.write(w, r, statusOf(r, doc.reason), response{Errors: h.entries(ctx, doc.errs, doc.reason)})
		return
	}
	op, err := operation(doc.ast, p.OperationName)
	if err == nil {
		err = checkVariables(&h.o.Schema, op, p.Variables)
	}
	if err != nil {
		if errors.Is(err, errWrite) && r.Method == http.MethodGet {
			w.Header().Set("Allow", "POST")
			h.write(w, r, http.StatusMethodNotAllowed, response{Errors: []errorEntry{h.entry(ctx, err, classify(err))}})
			return
		}
		h.fail(w, r, err)
		return
	}
	if h.o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.o.Timeout)
		defer cancel()
	}
	run := h.o.Schema
	if h.o.Exec != nil && !doc.introspects {
		run = *h.o.Exec
	}
	res := graphql.Execute(graphql.ExecuteParams{Schema: run, AST: doc.ast, OperationName: p.OperationName, Args: p.Variables, Context: ctx})
	status, out := http.StatusOK, response{}
	if res.Data != nil {
		data, err := orderedJSON(doc.ast, p.OperationName, res.Data)
		if err != nil {
			h.o.Log.ErrorContext(ctx, "encode data", "error", err.Error())
			h.fail(w, r, err)
			return
		}
		out.Data = data
	}
	for _, fe := range res.Errors {
		c, cause := cause(fe, res.Data == nil)
		switch c.code {
		case internal.code:
			h.o.Log.ErrorContext(ctx, "graphql execution failed", "error", cause.Error())
		case "CANCELLED":
			h.o.Log.InfoContext(ctx, "client went away", "error", cause.Error())
		}
		e := h.entry(ctx, cause, c)
		e.Locations, e.Path = locations(fe), fe.Path
		out.Errors = append(out.Errors, e)
		if st := statusOf(r, cause); rank(st) > rank(status) || status == http.StatusOK {
			status = st
		}
	}
	h.write(w, r, status, out)
}

// cause digs the resolver's own error out of graphql-go's wrapping. An error with no path and
// no data is a request error (unknown operation, bad variables): graphql-go raises those before
// running anything.
func cause(fe gqlerrors.FormattedError, noData bool) (class, error) {
	err := fe.OriginalError()
	if ge, ok := err.(*gqlerrors.Error); ok && ge.OriginalError != nil {
		err = ge.OriginalError
	}
	if err == nil {
		err = errors.New(fe.Message)
	}
	c := classify(err)
	if c.code == internal.code && len(fe.Path) == 0 && noData {
		return classify(errRequest), fmt.Errorf("%w: %s", errRequest, fe.Message)
	}
	return c, err
}

func locations(fe gqlerrors.FormattedError) []any {
	out := make([]any, len(fe.Locations))
	for i, l := range fe.Locations {
		out[i] = map[string]int{"line": l.Line, "column": l.Column}
	}
	return out
}

// operation returns the operation a request runs, refusing mutations and subscriptions (the
// caller answers a mutation over GET with 405).
func operation(doc *ast.Document, name string) (*ast.OperationDefinition, error) {
	var ops []*ast.OperationDefinition
	for _, def := range doc.Definitions {
		if op, ok := def.(*ast.OperationDefinition); ok && (name == "" || (op.Name != nil && op.Name.Value == name)) {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: no operation named %q", errBadRequest, name)
	}
	if len(ops) > 1 {
		return nil, fmt.Errorf("%w: the document has several operations; send operationName", errBadRequest)
	}
	switch ops[0].Operation {
	case ast.OperationTypeMutation:
		return nil, errWrite
	case ast.OperationTypeSubscription:
		return nil, fmt.Errorf("%w: subscriptions are not supported", errBadRequest)
	}
	return ops[0], nil
}

// readParams reads a GET query string or a POST JSON body.
func readParams(r *http.Request) (*params, error) {
	var p params
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &p.Variables); err != nil {
				return nil, fmt.Errorf("%w: variables is not a JSON object", errBadRequest)
			}
		}
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && mt != "application/graphql-response+json") {
			return nil, fmt.Errorf("%w: Content-Type must be application/json", errBadRequest)
		}
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&p); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, tooBig.Limit)
			}
			return nil, fmt.Errorf("%w: body is not a GraphQL JSON request: %s", errBadRequest, jsonProblem(err))
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: body holds more than one JSON value", errBadRequest)
		}
	default:
		return nil, fmt.Errorf("%w: use POST, or GET for queries", errMethod)
	}
	if strings.TrimSpace(p.Query) == "" {
		return nil, fmt.Errorf("%w: query is required", errBadRequest)
	}
	return &p, nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s must be %s", typ.Field, typ.Type)
	}
	return "invalid JSON"
}

func (h *graphqlHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	c := classify(err)
	if c.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST")
	}
	h.write(w, r, statusOf(r, err), response{Errors: []errorEntry{h.entry(r.Context(), err, c)}})
}

func (h *graphqlHandler) entries(ctx context.Context, errs []gqlerrors.FormattedError, reason error) []errorEntry {
	c := classify(reason)
	out := make([]errorEntry, len(errs))
	for i, fe := range errs {
		out[i] = h.entry(ctx, errors.New(fe.Message), c)
		out[i].Locations = locations(fe)
	}
	return out
}

func (h *graphqlHandler) entry(ctx context.Context, err error, c class) errorEntry {
	ext := map[string]any{"code": c.code}
	if c.code == internal.code {
		ext["requestId"] = requestid.From(ctx)
	}
	return errorEntry{Message: c.message(err), Extensions: ext}
}

// write sends the response as application/graphql-response+json when the client accepts it.
func (h *graphqlHandler) write(w http.ResponseWriter, r *http.Request, status int, body response) {
	ct := "application/json; charset=utf-8"
	if acceptsGraphQLResponse(r) {
		ct = graphqlResponseType + "; charset=utf-8"
	}
	b, err := body.encode()
	if err != nil {
		h.o.Log.ErrorContext(r.Context(), "encode response", "error", err.Error())
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
