package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/requestid"
)

// Authenticator turns a request's credentials into a principal.
type Authenticator interface {
	Authenticate(r *http.Request) (*auth.Principal, error)
}

// GraphQLOptions configures the GraphQL endpoint.
type GraphQLOptions struct {
	Schema graphql.Schema  // validates documents and answers introspection
	Exec   *graphql.Schema // optional: runs documents that do not introspect (schema.NewExec)
	// Interpreted runs every document on Exec through graphql-go's executor instead of
	// compiling those that can be (compiled.go); tests compare the two.
	Interpreted bool
	Auth        Authenticator
	Limits      Limits
	Timeout     time.Duration // per request, on top of the statement timeout
	Log         *slog.Logger
	Failures    *auth.FailureLog // authentication failures; nil: 10 lines at once per reason, then 1/s
	Now         func() time.Time

	Plan   plan.Options // how a document's cost is planned before it runs; a nil Catalog plans nothing
	Budget plan.Budget  // what one request may ask for, refused before any SQL runs
	Quota  Quota        // charges each request's plan; nil: no quotas
	// Observer counts document-cache lookups and authentication failures; nil: none.
	Observer Observer
	// Context, when set, decorates each request's context before the document runs (the
	// gateway adds the database-time budget of the resolvers).
	Context func(context.Context) context.Context
}

type graphqlHandler struct {
	o        GraphQLOptions
	cache    *docCache
	inFlight *inFlight
}

// GraphQL returns the GraphQL-over-HTTP endpoint: POST with a JSON body, or GET for queries.
func GraphQL(o GraphQLOptions) http.Handler {
	if o.Failures == nil {
		o.Failures = defaultFailures(o.Log)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &graphqlHandler{o: o, cache: newDocCache(o.Limits.DocCacheBytes, o.Limits.DocCacheSize),
		inFlight: newInFlight(o.Limits.MaxInFlight, o.Limits.MaxInFlightPerPrincipal)}
}

// params is a GraphQL-over-HTTP request.
type params struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

// response is the GraphQL response body.
type response struct {
	Errors []errorEntry
	// Data is the data object in pieces to be sent one after the other (a compiled
	// operation's keys and its fields' JSON), so it is never copied whole; nil: no data.
	Data       [][]byte
	Extensions json.RawMessage // a JSON object, or nil
}

// encode returns the body with data as is: it is already valid JSON, and encoding/json would
// scan and copy all of it again.
func (b response) encode() ([]byte, error) {
	parts, err := b.parts()
	if err != nil {
		return nil, err
	}
	return bytes.Join(parts, nil), nil
}

// parts returns the body in pieces: what comes before data, data's pieces and what follows
// it, so that write can send a page without copying it into one more buffer.
func (b response) parts() ([][]byte, error) {
	head := append(make([]byte, 0, 64), '{')
	if len(b.Errors) > 0 {
		errs, err := json.Marshal(b.Errors)
		if err != nil {
			return nil, err
		}
		head = append(append(head, `"errors":`...), errs...)
	}
	data := b.Data
	if data != nil {
		if len(b.Errors) > 0 {
			head = append(head, ',')
		}
		head = append(head, `"data":`...)
	}
	var tail []byte
	if len(b.Extensions) > 0 {
		if len(head) > 1 { // errors or data come before
			tail = append(tail, ',')
		}
		tail = append(append(tail, `"extensions":`...), b.Extensions...)
	}
	out := make([][]byte, 0, len(data)+2)
	out = append(append(append(out, head), data...), append(tail, '}'))
	return out, nil
}

type errorEntry struct {
	Message    string         `json:"message"`
	Locations  []any          `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

func (h *graphqlHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	done, err := h.inFlight.enter()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer done()
	who, ok := h.admit(w, r, h.o.Auth, "")
	if !ok {
		return
	}
	leave, err := h.inFlight.enterAs(who.CredentialID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer leave()
	ctx := auth.NewContext(r.Context(), who)
	// The request's time runs from here: preparing a document is work the timeout bounds too.
	if h.o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.o.Timeout)
		defer cancel()
	}
	status, out := h.answer(ctx, w, r)
	h.rateHeaders(ctx, w)
	h.write(w, r, status, out)
}

// answer runs the request and returns the status and body to send; errors are in the body.
func (h *graphqlHandler) answer(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, response) {
	p, err := readParams(r)
	if err != nil {
		return h.refuse(ctx, w, r, err)
	}
	doc := h.cache.get(p.Query)
	if h.o.Observer != nil && h.cache.on() {
		h.o.Observer.DocCache(doc != nil)
	}
	if doc == nil {
		if doc, err = prepare(ctx, &h.o.Schema, p.Query, h.o.Limits); err != nil {
			return h.refuse(ctx, w, r, fmt.Errorf("prepare the document: %w", err))
		}
		if !h.o.Interpreted {
			doc.compiled = compile(h.o.Exec, doc)
		}
		h.cache.put(p.Query, doc)
	}
	if doc.errs != nil {
		return statusOf(r, doc.reason), response{Errors: h.entries(ctx, doc.errs, doc.reason)}
	}
	op, err := operation(doc.ast, p.OperationName)
	if err == nil {
		err = checkVariables(&h.o.Schema, op, p.Variables)
	}
	if err != nil {
		if errors.Is(err, errWrite) && r.Method == http.MethodGet {
			return h.refuse(ctx, w, r, withStatus(http.StatusMethodNotAllowed, err))
		}
		return h.refuse(ctx, w, r, err)
	}
	pl, err := h.plan(doc, p)
	if err != nil {
		return h.refuse(ctx, w, r, err)
	}
	SetLogAttrs(ctx, slog.String("class", string(pl.Class())), slog.Int("cost", pl.Cost))
	release, decision, err := h.charge(ctx, w, pl)
	defer release()
	if err != nil {
		return h.refuse(ctx, w, r, err)
	}
	if h.o.Context != nil {
		ctx = h.o.Context(ctx)
	}
	var data [][]byte // nil: no data
	var errs []gqlerrors.FormattedError
	c := doc.compiled[op]
	var vars map[string]any
	if c != nil {
		var ok bool
		if vars, ok = c.variables(p.Variables); !ok {
			c = nil // graphql.Execute says what is wrong with them
		}
	}
	if c != nil {
		data, errs = c.run(ctx, vars)
	} else {
		run := h.o.Schema
		if h.o.Exec != nil && !doc.introspects {
			run = *h.o.Exec
		}
		res := graphql.Execute(graphql.ExecuteParams{Schema: run, AST: doc.ast, OperationName: p.OperationName, Args: p.Variables, Context: ctx})
		errs = res.Errors
		if res.Data != nil {
			d, err := orderedJSON(doc.ast, p.OperationName, res.Data)
			if err != nil {
				h.o.Log.ErrorContext(ctx, "encode data", "error", err.Error())
				return h.refuse(ctx, w, r, err)
			}
			data = [][]byte{d}
		}
	}
	status, out := http.StatusOK, response{Extensions: costExtension(pl, decision)}
	if data != nil {
		n := 0
		for _, d := range data {
			n += len(d)
		}
		if max := h.o.Limits.MaxResponseBytes; max > 0 && int64(n) > max {
			return h.refuse(ctx, w, r, fmt.Errorf("%w: the answer is %d bytes, over the limit of %d; ask for fewer rows or columns", errTooComplex, n, max))
		}
		out.Data = data
	}
	for _, fe := range errs {
		c, cause := cause(fe, data == nil)
		switch c.code {
		case fault.Internal:
			h.o.Log.ErrorContext(ctx, "graphql execution failed", "error", cause.Error())
		case fault.Cancelled:
			h.o.Log.InfoContext(ctx, "client went away", "error", cause.Error())
		}
		e := h.entry(ctx, cause, c)
		e.Locations, e.Path = locations(fe), fe.Path
		out.Errors = append(out.Errors, e)
		c.headers(cause, w.Header())
		if st := statusOf(r, cause); rank(st) > rank(status) || status == http.StatusOK {
			status = st
		}
	}
	return status, out
}

// plan computes what the document will cost and holds it to the budget; without a catalog it
// plans nothing and returns an empty plan.
func (h *graphqlHandler) plan(doc *document, p *params) (*plan.Plan, error) {
	if h.o.Plan.Catalog == nil {
		return &plan.Plan{}, nil
	}
	pl, err := plan.New(h.o.Plan, doc.ast, p.OperationName, p.Variables)
	if err != nil {
		return nil, fmt.Errorf("plan the request: %w", err)
	}
	if err := pl.Check(h.o.Budget); err != nil {
		return nil, err
	}
	return pl, nil
}

// costExtension is the extensions.cost member of a response: what the request cost, its class,
// and what is left of that class's quota (the least of its windows) when quotas are on.
// It is written by hand, keys sorted as encoding/json sorts a map's: every answer carries it.
func costExtension(pl *plan.Plan, d *quota.Decision) json.RawMessage {
	b := append(make([]byte, 0, 96), `{"cost":{"class":`...)
	b = reader.AppendJSONString(b, string(pl.Class()))
	if d != nil {
		if left := d.Remaining(quota.Class(pl.Class())); left >= 0 {
			b = strconv.AppendInt(append(b, `,"remaining":`...), left, 10)
		}
	}
	b = strconv.AppendInt(append(b, `,"requested":`...), int64(pl.Cost), 10)
	return append(b, '}', '}')
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
	if c.code == fault.Internal && len(fe.Path) == 0 && noData {
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
			if err := checkJSON([]byte(v), maxVariableDepth); err != nil {
				return nil, err
			}
			if err := json.Unmarshal([]byte(v), &p.Variables); err != nil {
				return nil, fmt.Errorf("%w: variables is not a JSON object", errBadRequest)
			}
		}
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && mt != "application/graphql-response+json") {
			return nil, fmt.Errorf("%w: Content-Type must be application/json", errBadRequest)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, tooBig.Limit)
			}
			return nil, fmt.Errorf("read the body: %w", err)
		}
		// Bound nesting and size before decoding: a deep or huge variables value costs memory
		// in decoding and again in graphql-go's coercion.
		if err := checkJSON(body, maxVariableDepth+1); err != nil {
			return nil, err
		}
		// One JSON value is decoded in place; anything else is read again by a Decoder, for
		// errors that say what is wrong.
		if json.Unmarshal(body, &p) != nil {
			var discard params
			dec := json.NewDecoder(bytes.NewReader(body))
			if err := dec.Decode(&discard); err != nil {
				return nil, fmt.Errorf("%w: body is not a GraphQL JSON request: %s", errBadRequest, jsonProblem(err))
			}
			if dec.More() {
				return nil, fmt.Errorf("%w: body holds more than one JSON value", errBadRequest)
			}
			// What the Decoder takes and Unmarshal refused: bytes after the value that do not
			// start another one (a stray closing brace, say).
			return nil, fmt.Errorf("%w: body has bytes after its JSON value", errBadRequest)
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

// fail answers err alone, as its class says.
func (h *graphqlHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, out := h.refuse(r.Context(), w, r, err)
	h.write(w, r, status, out)
}

// refuse returns the answer to a request that fails as a whole with err, and sets err's headers.
func (h *graphqlHandler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) (int, response) {
	c := classify(err)
	hdr := w.Header()
	c.headers(err, hdr)
	switch c.status {
	case http.StatusMethodNotAllowed:
		if hdr.Get("Allow") == "" {
			allow := "GET, POST"
			if errors.Is(err, errWrite) {
				allow = "POST"
			}
			hdr.Set("Allow", allow)
		}
	case statusClientClosed:
		h.o.Log.InfoContext(ctx, "client went away", "error", err.Error())
	}
	return statusOf(r, err), response{Errors: []errorEntry{h.entry(ctx, err, c)}}
}

func (h *graphqlHandler) entries(ctx context.Context, errs []gqlerrors.FormattedError, reason error) []errorEntry {
	c := classify(reason)
	out := make([]errorEntry, len(errs))
	for i, fe := range errs {
		// Parse and validation messages, and the limits' own, are about the document: public.
		out[i] = errorEntry{Message: fe.Message, Locations: locations(fe), Extensions: map[string]any{"code": c.code}}
	}
	return out
}

func (h *graphqlHandler) entry(ctx context.Context, err error, c class) errorEntry {
	ext := map[string]any{}
	for k, v := range fault.Extensions(err) {
		ext[k] = v
	}
	ext["code"] = c.code
	if c.code == fault.Internal {
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
	parts, err := body.parts()
	if err != nil {
		h.o.Log.ErrorContext(r.Context(), "encode response", "error", err.Error())
		status, parts = http.StatusInternalServerError, [][]byte{[]byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)}
	}
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	// A client that does not read cannot hold the answer, and the handler, for longer than
	// WriteTimeout. Writers without deadlines (tests' recorders) just ignore it.
	if d := h.o.Limits.WriteTimeout; d > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	}
	w.WriteHeader(status)
	for _, b := range parts {
		if len(b) == 0 {
			continue
		}
		if _, err := w.Write(b); err != nil {
			h.o.Log.InfoContext(r.Context(), "response not delivered", "error", err.Error(), "bytes", n)
			return
		}
	}
}
