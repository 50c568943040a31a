package server_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequestErrorStatus: a GraphQL request error (parse, validation, variable coercion) is 200
// under the legacy application/json and 4xx under application/graphql-response+json, as the
// GraphQL-over-HTTP spec asks; every other error has the same status on both media types.
func TestRequestErrorStatus(t *testing.T) {
	s := newStack(t, "sqlite")
	post := func(q string, vars map[string]any) string {
		b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		return string(b)
	}
	tests := []struct {
		name, method, key, body, target string
		wantJSON, wantGraphQL           int // status under application/json, application/graphql-response+json
		wantCode                        string
	}{
		{"parse", "POST", "acme", post(`{ invoices(first: ) { nodes { id } } }`, nil), "", 200, 400, "BAD_USER_INPUT"},
		{"parse over GET", "GET", "acme", "", "/graphql?query=" + url.QueryEscape("{"), 200, 400, "BAD_USER_INPUT"},
		{"validation", "POST", "acme", post(`{ invoices { nodes { nope } } }`, nil), "", 200, 400, "BAD_USER_INPUT"},
		{"variable of the wrong JSON type", "POST", "acme", post(`query($n: Int) { invoices(first: $n) { totalCount } }`, map[string]any{"n": "3"}), "", 200, 400, "BAD_USER_INPUT"},
		{"required variable missing", "POST", "acme", post(`query($n: Int!) { invoices(first: $n) { totalCount } }`, nil), "", 200, 400, "BAD_USER_INPUT"},
		{"bad argument value", "POST", "acme", post(`{ invoices(first: -1) { totalCount } }`, nil), "", 400, 400, "BAD_USER_INPUT"},
		{"malformed JSON body", "POST", "acme", `{"query": "{`, "", 400, 400, "BAD_USER_INPUT"},
		{"unknown operation", "POST", "acme", `{"query": "query A { invoices { totalCount } }", "operationName": "B"}`, "", 400, 400, "BAD_USER_INPUT"},
		{"too complex", "POST", "acme", post(`{ invoices { nodes { a { b { c { d { e { f { g { h { i { j { k { l } } } } } } } } } } } } } }`, nil), "", 400, 400, "QUERY_TOO_COMPLEX"},
		{"mutation", "POST", "acme", post(`mutation { invoices { totalCount } }`, nil), "", 400, 400, "WRITE_REFUSED"},
		{"mutation over GET", "GET", "acme", "", "/graphql?query=" + url.QueryEscape("mutation { x }"), 405, 405, "WRITE_REFUSED"},
		{"subscription", "POST", "acme", post(`subscription { invoices { totalCount } }`, nil), "", 400, 400, "BAD_USER_INPUT"},
		{"no credential", "POST", "none", post(`{ invoices { totalCount } }`, nil), "", 401, 401, "UNAUTHENTICATED"},
		{"view not granted", "POST", "public", post(`{ invoices { totalCount } }`, nil), "", 403, 403, "FORBIDDEN"},
		{"body over the limit", "POST", "acme", `{"query": "` + strings.Repeat("x", 2<<20) + `"}`, "", 413, 413, "BAD_USER_INPUT"},
	}
	for _, tc := range tests {
		for _, accept := range []string{"application/json", "application/graphql-response+json"} {
			t.Run(tc.name+"/"+accept, func(t *testing.T) {
				req := httptest.NewRequest(tc.method, "/graphql", strings.NewReader(tc.body))
				if tc.target != "" {
					req = httptest.NewRequest(tc.method, tc.target, nil)
				}
				if tc.method == "POST" {
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Accept", accept)
				if k, ok := testKeys[tc.key]; ok {
					req.Header.Set("X-API-Key", k)
				}
				rec := serve(s, req)
				var body struct {
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
					Data any `json:"data"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) == 0 {
					t.Fatalf("body %.300s: %v", rec.Body.String(), err)
				}
				want := tc.wantJSON
				if accept != "application/json" {
					want = tc.wantGraphQL
				}
				type result struct {
					Status      int
					Code        any
					ContentType string
				}
				got := result{rec.Code, body.Errors[0].Extensions["code"], strings.Split(rec.Header().Get("Content-Type"), ";")[0]}
				if diff := cmp.Diff(result{want, tc.wantCode, accept}, got); diff != "" {
					t.Errorf("(-want +got):\n%s\n%.300s", diff, rec.Body.String())
				}
				if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
				}
				if rec.Code == 200 && body.Data != nil {
					t.Errorf("a request error carries data: %s", rec.Body.String())
				}
			})
		}
	}
}
