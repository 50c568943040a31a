package server_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPBadInput: malformed requests get a clear 4xx with a GraphQL-shaped body, never a 500.
func TestHTTPBadInput(t *testing.T) {
	s := newStack(t, "sqlite")
	ok := `{"query":"{ invoices(first: 1) { nodes { id } } }"}`
	cases := []struct {
		name, method, ctype, key, body, url string
		status                              int
		code, msg                           string
	}{
		{"malformed json", "POST", "application/json", "acme", `{"query": "{ invoices {`, "", 400, "BAD_USER_INPUT", "invalid JSON"},
		{"json array", "POST", "application/json", "acme", `[1,2]`, "", 400, "BAD_USER_INPUT", "not a GraphQL JSON request"},
		{"two json values", "POST", "application/json", "acme", ok + ok, "", 400, "BAD_USER_INPUT", "more than one JSON value"},
		{"stray brace after the value", "POST", "application/json", "acme", ok + " }", "", 400, "BAD_USER_INPUT", "bytes after its JSON value"},
		{"query not a string", "POST", "application/json", "acme", `{"query": 42}`, "", 400, "BAD_USER_INPUT", "query must be string"},
		{"variables not an object", "POST", "application/json", "acme", `{"query": "{ invoices { nodes { id } } }", "variables": [1]}`, "", 400, "BAD_USER_INPUT", "variables"},
		{"wrong content type", "POST", "text/plain", "acme", ok, "", 400, "BAD_USER_INPUT", "Content-Type must be application/json"},
		{"no content type", "POST", "", "acme", ok, "", 400, "BAD_USER_INPUT", "Content-Type"},
		{"empty query", "POST", "application/json", "acme", `{"query": "  "}`, "", 400, "BAD_USER_INPUT", "query is required"},
		{"10 MB body", "POST", "application/json", "acme", `{"query": "` + strings.Repeat("x", 10<<20) + `"}`, "", 413, "BAD_USER_INPUT", "limit is 1048576 bytes"},
		{"put", "PUT", "application/json", "acme", ok, "", 405, "BAD_USER_INPUT", "use POST"},
		{"mutation over GET", "GET", "", "acme", "", "/graphql?query=" + url.QueryEscape("mutation { x }"), 405, "WRITE_REFUSED", "read-only"},
		{"GET bad variables", "GET", "", "acme", "", "/graphql?query=" + url.QueryEscape("{ invoices { nodes { id } } }") + "&variables=nope", 400, "BAD_USER_INPUT", "variables"},
		{"several operations without a name", "POST", "application/json", "acme", `{"query": "query A { invoices { nodes { id } } } query B { invoices { nodes { id } } }"}`, "", 400, "BAD_USER_INPUT", "operationName"},
		{"unknown operation name", "POST", "application/json", "acme", `{"query": "query A { invoices { nodes { id } } }", "operationName": "B"}`, "", 400, "BAD_USER_INPUT", "no operation named"},
		{"key in url is ignored", "GET", "", "none", "", "/graphql?api_key=" + testKeys["acme"] + "&query=" + url.QueryEscape("{ invoices { nodes { id } } }"), 401, "UNAUTHENTICATED", "no credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := s.do(t, tc.method, tc.ctype, tc.key, strings.NewReader(tc.body), tc.url)
			var body struct {
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %.200s", err, rec.Body.String())
			}
			if rec.Code != tc.status || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != tc.code || !strings.Contains(body.Errors[0].Message, tc.msg) {
				t.Fatalf("got %d %.300s; want %d %s containing %q", rec.Code, rec.Body.String(), tc.status, tc.code, tc.msg)
			}
		})
	}
}

// TestHTTPProtocol covers GraphQL-over-HTTP details: GET queries, media types, request ids.
func TestHTTPProtocol(t *testing.T) {
	s := newStack(t, "sqlite")
	q := url.QueryEscape(`{ invoices(first: 1) { nodes { id } } }`)
	rec := s.do(t, "GET", "", "acme", nil, "/graphql?query="+q)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || !strings.Contains(rec.Body.String(), `"id"`) {
		t.Fatalf("GET query: %d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	body := `{"query":"{ invoices(first: 1) { nodes { id } } }"}`
	req := newRequest("POST", "/graphql", body)
	req.Header.Set("Accept", "application/graphql-response+json, application/json;q=0.9")
	req.Header.Set("X-Request-ID", "client-chosen-id.42")
	rec = serve(s, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
		t.Errorf("Content-Type %q, want application/graphql-response+json", ct)
	}
	if got := rec.Header().Get("X-Request-ID"); got != "client-chosen-id.42" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	if !strings.Contains(s.qlog.String(), `"requestId":"client-chosen-id.42"`) {
		t.Errorf("query log lacks the request id:\n%s", s.qlog.String())
	}
	req = newRequest("POST", "/graphql", body)
	req.Header.Set("X-Request-ID", "bad id with spaces\n")
	rec = serve(s, req)
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \n") {
		t.Errorf("an invalid X-Request-ID was echoed or not replaced: %q", got)
	}
	// Every line the server logged for a request carries its id.
	for _, line := range strings.Split(strings.TrimSpace(s.log.String()), "\n") {
		if !strings.Contains(line, `"requestId":"`) {
			t.Errorf("log line without requestId: %s", line)
		}
	}
}

// TestQueryLogHasNoPII: values never reach the query log, PII or not; statements are placeholders only.
func TestQueryLogHasNoPII(t *testing.T) {
	s := newStack(t, "sqlite")
	const q = `{ customers(first: 50, where: {name: {eq: "Hämäläinen"}}) { nodes { id name email phone } } }`
	code, p := s.query(t, "acme", q, nil)
	if code != 200 || len(p.Data["customers"].Nodes) != 1 {
		t.Fatalf("%d %+v", code, p)
	}
	email, _ := p.Data["customers"].Nodes[0]["email"].(string)
	if email == "" {
		t.Fatal("the pii role should see the e-mail in clear")
	}
	logged := s.qlog.String() + s.log.String()
	for _, secret := range []string{email, "Hämäläinen", testKeys["acme"]} {
		if strings.Contains(logged, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logged)
		}
	}
	var entry map[string]any
	if err := json.Unmarshal(bytes.SplitN(s.qlog.Bytes(), []byte("\n"), 2)[0], &entry); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requestId", "tenant", "credential", "view", "replica", "queryId", "sql", "durationMs", "rows", "slow"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("query log entry lacks %q: %v", k, entry)
		}
	}
	if !regexp.MustCompile(`^SELECT .* LIMIT \?$`).MatchString(entry["sql"].(string)) {
		t.Errorf("logged SQL is not a placeholder SELECT: %v", entry["sql"])
	}
}

// TestDocumentBounds: documents built to make the parser or validator work hard are refused
// before either runs, with QUERY_TOO_COMPLEX.
func TestDocumentBounds(t *testing.T) {
	s := newStack(t, "sqlite")
	deep := strings.Repeat("{a", 100) + strings.Repeat("}", 100)
	var frags strings.Builder
	for i := 0; i < 60; i++ {
		frags.WriteString(" fragment F" + strconv.Itoa(i) + " on Product { sku }")
	}
	values := `""` + strings.Repeat(`,""`, 5100)
	cases := map[string]string{
		"block string hiding nesting": `{ products(first: 1, search: """\\""" """) ` + deep + ` }`,
		"many unused fragments":       `{ products(first: 1) { nodes { sku } } }` + frags.String(),
		"huge literal list":           `{ invoices(where: {status: {in: [` + values + `]}}) { nodes { id } } }`,
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			code, p := s.query(t, "acme", q, nil)
			if code != 400 || len(p.Errors) == 0 || p.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" {
				t.Fatalf("got %d %+v, want 400 QUERY_TOO_COMPLEX", code, p.Errors)
			}
			// The raw-text check, not the parser, must catch the nesting.
			if strings.HasPrefix(name, "block") && !strings.Contains(p.Errors[0].Message, "nested deeper than") {
				t.Errorf("caught after parsing: %s", p.Errors[0].Message)
			}
		})
	}
}

// TestVariableTypes: a variable of the wrong JSON type is a 400, not a silently different filter.
func TestVariableTypes(t *testing.T) {
	s := newStack(t, "sqlite")
	cases := []struct {
		query string
		vars  map[string]any
	}{
		{`query($w: InvoiceWhere) { invoices(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"status": map[string]any{"eq": []any{"paid"}}}}},
		{`query($s: String) { invoices(search: $s) { totalCount } }`, map[string]any{"s": []any{"GLX"}}},
		{`query($s: String) { invoices(search: $s) { totalCount } }`, map[string]any{"s": map[string]any{"x": 1}}},
		{`query($n: Int) { invoices(first: $n) { totalCount } }`, map[string]any{"n": "3"}},
		{`query($n: Int) { invoices(first: $n) { totalCount } }`, map[string]any{"n": 2.5}},
		{`query($o: [InvoiceOrderBy!]) { invoices(orderBy: $o) { totalCount } }`, map[string]any{"o": []any{map[string]any{"field": 1}}}},
	}
	for _, tc := range cases {
		code, p := s.query(t, "acme", tc.query, tc.vars)
		// A request error, so 200 under application/json (TestRequestErrorStatus).
		if code != 200 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(p.Errors[0].Message, "variable $") {
			t.Errorf("%s %v: got %d %+v, want 200 naming the variable", tc.query, tc.vars, code, p.Errors)
		}
	}
	// Well-typed variables still work, including a single value for a list.
	code, p := s.query(t, "acme", `query($w: InvoiceWhere, $n: Int) { invoices(where: $w, first: $n) { totalCount nodes { id } } }`,
		map[string]any{"n": 2, "w": map[string]any{"status": map[string]any{"in": "paid"}}})
	if code != 200 || len(p.Data["invoices"].Nodes) != 2 {
		t.Fatalf("well-typed variables: %d %+v", code, p.Errors)
	}
}
