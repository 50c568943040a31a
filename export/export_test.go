package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/demo"
)

const allInvoiceFields = "id number customerId status amount currency issuedAt dueDate paidAt publicId metadata note customerName customerEmail lineCount"

// equalCases are exports that must equal the concatenated GraphQL pages of the same query.
var equalCases = []struct {
	name, field, args, sel string
	vars                   map[string]any
	key                    string
}{
	{name: "whole_invoices", field: "invoices", sel: allInvoiceFields},
	{name: "filter_order", field: "invoices", args: `where: {status: {in: ["paid", "issued"]}, amount: {gte: "100.00"}}, orderBy: [{field: AMOUNT, direction: DESC}]`, sel: "number amount status customerName"},
	{name: "search_non_ascii", field: "invoices", args: `search: "hÄmä"`, sel: "number customerName note"},
	{name: "nulls_desc", field: "invoices", args: `orderBy: [{field: PAID_AT, direction: DESC}, {field: DUE_DATE}]`, sel: "number paidAt dueDate note"},
	{name: "where_variable_alias", field: "invoices", args: `where: $w`, sel: "n: number customerName amount",
		vars: map[string]any{"w": map[string]any{"or": []any{map[string]any{"customerName": map[string]any{"startsWith": "h"}}, map[string]any{"note": map[string]any{"isNull": false}}}}}},
	{name: "products_floats_bools", field: "products", args: `orderBy: [{field: WEIGHT_KG}]`, sel: "sku name unitPrice weightKg active"},
	{name: "globex_masked", field: "invoices", sel: "number customerEmail customerName", key: demo.KeyGlobex},
}

// exportQuery is the export document of a case: the same connection and selection, no paging.
func exportQuery(field, args, sel string) string {
	if args != "" {
		args = "(" + args + ")"
	}
	if strings.Contains(args, "$w") {
		return "query($w: " + whereType(field) + ") { " + field + args + " { nodes { " + sel + " } } }"
	}
	return "{ " + field + args + " { nodes { " + sel + " } } }"
}

// TestExportEqualsPages: on every engine, the NDJSON export of a query is its GraphQL pages'
// nodes, line for line and byte for byte, and the CSV export parses back to the same values;
// both are byte-identical across engines.
func TestExportEqualsPages(t *testing.T) {
	bodies := map[string]map[string][]byte{}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s := newStack(t, engine, "", nil, nil)
			for _, tc := range equalCases {
				key := tc.key
				if key == "" {
					key = demo.KeyAcme
				}
				nodes := s.pages(t, key, tc.field, tc.args, tc.sel, tc.vars)
				if len(nodes) == 0 {
					t.Fatalf("%s: no rows; the case tests nothing", tc.name)
				}
				q := exportQuery(tc.field, tc.args, tc.sel)
				nd := s.export(t, key, q, tc.vars, "format=ndjson", nil)
				if nd.status != 200 || nd.trailer.Get("Viewgate-Status") != "complete" {
					t.Fatalf("%s ndjson: %d %s %v", tc.name, nd.status, nd.body, nd.trailer)
				}
				var want bytes.Buffer
				for _, n := range nodes {
					want.Write(n)
					want.WriteByte('\n')
				}
				if diff := cmp.Diff(want.String(), string(nd.body)); diff != "" {
					t.Errorf("%s: NDJSON export differs from the GraphQL pages (-want +got):\n%s", tc.name, diff)
				}
				c := s.export(t, key, q, tc.vars, "format=csv&escape_formulas=false", nil)
				if c.status != 200 {
					t.Fatalf("%s csv: %d %s", tc.name, c.status, c.body)
				}
				if diff := cmp.Diff(csvOf(t, tc.sel, nodes), parseCSV(t, c.body)); diff != "" {
					t.Errorf("%s: CSV export differs from the GraphQL pages (-want +got):\n%s", tc.name, diff)
				}
				if bodies[tc.name] == nil {
					bodies[tc.name] = map[string][]byte{}
				}
				bodies[tc.name]["ndjson/"+engine], bodies[tc.name]["csv/"+engine] = nd.body, c.body
			}
		})
	}
	for name, b := range bodies {
		for _, f := range []string{"ndjson", "csv"} {
			for _, engine := range engines[1:] {
				if got, ok := b[f+"/"+engine]; ok && !bytes.Equal(b[f+"/sqlite"], got) {
					t.Errorf("%s: %s export on %s differs from sqlite's", name, f, engine)
				}
			}
		}
	}
}

// csvOf is what the CSV of nodes must parse back to: a header of the response keys, then each
// node's values, text as is, null as empty, anything else as its JSON.
func csvOf(t *testing.T, sel string, nodes []json.RawMessage) [][]string {
	t.Helper()
	var keys []string // "n: number" selects key n
	fields := strings.Fields(sel)
	for i := 0; i < len(fields); i++ {
		if strings.HasSuffix(fields[i], ":") {
			keys = append(keys, strings.TrimSuffix(fields[i], ":"))
			i++
			continue
		}
		keys = append(keys, fields[i])
	}
	out := [][]string{keys}
	for _, n := range nodes {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(n, &m); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(keys))
		for i, k := range keys {
			raw := m[k]
			var s string
			switch {
			case string(raw) == "null":
			case json.Unmarshal(raw, &s) == nil:
				row[i] = s
			default:
				row[i] = string(raw)
			}
		}
		out = append(out, row)
	}
	return out
}

func parseCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export does not parse as CSV: %v", err)
	}
	return recs
}

// TestExportTenantAndPII: an export holds the caller's tenant's rows only, with PII masked
// exactly as in GraphQL (same reader).
func TestExportTenantAndPII(t *testing.T) {
	s := newStack(t, "sqlite", "", nil, nil)
	q := `{ invoices { nodes { number customerEmail } } }`
	for _, tc := range []struct {
		key, prefix string
		masked      bool
	}{{demo.KeyAcme, "ACM-", false}, {demo.KeyGlobex, "GLX-", true}} {
		a := s.export(t, tc.key, q, nil, "format=csv", nil)
		recs := parseCSV(t, a.body)
		if len(recs) < 2 {
			t.Fatalf("%s: %d records", tc.prefix, len(recs))
		}
		for _, r := range recs[1:] {
			if !strings.HasPrefix(r[0], tc.prefix) {
				t.Fatalf("the %s export holds invoice %s", tc.prefix, r[0])
			}
			if masked := r[1] == "****"; masked != tc.masked {
				t.Fatalf("%s: customerEmail %q, masked %v", tc.prefix, r[1], tc.masked)
			}
		}
	}
}

// TestExportRefusals: what an export refuses, and how.
func TestExportRefusals(t *testing.T) {
	s := newStack(t, "sqlite", "", nil, nil)
	nodes := `{ invoices { nodes { number } } }`
	cases := []struct {
		name, key, query, params string
		hdr                      map[string]string
		status                   int
		code, says               string
	}{
		{"not_exportable", demo.KeyAcme, `{ customers { nodes { name } } }`, "", nil, 403, "FORBIDDEN", "not marked export: true"},
		{"not_granted", keyPublic, nodes, "", nil, 403, "FORBIDDEN", "not granted"},
		{"unauthenticated", "", nodes, "", nil, 401, "UNAUTHENTICATED", ""},
		{"unknown_format", demo.KeyAcme, nodes, "format=xlsx", nil, 406, "BAD_USER_INPUT", "text/csv"},
		{"unknown_accept", demo.KeyAcme, nodes, "", map[string]string{"Accept": "application/pdf"}, 406, "BAD_USER_INPUT", "Accept"},
		{"two_roots", demo.KeyAcme, `{ invoices { nodes { number } } products { nodes { sku } } }`, "", nil, 400, "BAD_USER_INPUT", "exactly one root connection"},
		{"total_count", demo.KeyAcme, `{ invoices { totalCount nodes { number } } }`, "", nil, 400, "BAD_USER_INPUT", "selects totalCount"},
		{"edges", demo.KeyAcme, `{ invoices { edges { node { number } } } }`, "", nil, 400, "BAD_USER_INPUT", "selects edges"},
		{"typename", demo.KeyAcme, `{ invoices { nodes { __typename number } } }`, "", nil, 400, "BAD_USER_INPUT", "__typename"},
		{"rate_limit", demo.KeyAcme, `{ rateLimit { enabled } }`, "", nil, 400, "BAD_USER_INPUT", "not a view's connection"},
		{"syntax", demo.KeyAcme, `{ invoices { nodes { number } `, "", nil, 400, "BAD_USER_INPUT", "Syntax Error"},
		{"unknown_field", demo.KeyAcme, `{ invoices { nodes { nope } } }`, "", nil, 400, "BAD_USER_INPUT", "nope"},
		{"mutation", demo.KeyAcme, `mutation { x }`, "", nil, 400, "", ""},
		{"bad_filter", demo.KeyAcme, `{ invoices(where: {amount: {gt: "x"}}) { nodes { number } } }`, "", nil, 400, "BAD_USER_INPUT", "amount"},
		{"first_over_cap", demo.KeyAcme, `{ invoices(first: 2000000) { nodes { number } } }`, "", nil, 400, "BAD_USER_INPUT", "max_export_rows"},
		{"bad_resume", demo.KeyAcme, nodes, "resume=abc.def", nil, 400, "BAD_USER_INPUT", "checkpoint"},
		{"bad_param", demo.KeyAcme, nodes, "checkpoints=maybe", nil, 400, "BAD_USER_INPUT", "checkpoints"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := s.export(t, tc.key, tc.query, nil, tc.params, tc.hdr)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
			}
			var body struct {
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(a.body, &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s", a.body)
			}
			e := body.Errors[0]
			if tc.code != "" && e.Extensions["code"] != tc.code {
				t.Errorf("code %v, want %s", e.Extensions["code"], tc.code)
			}
			if !strings.Contains(e.Message, tc.says) {
				t.Errorf("message %q does not say %q", e.Message, tc.says)
			}
		})
	}
}

// TestExportHTTP: GET links, Accept negotiation, gzip, Content-Disposition, checkpoints and
// the access and query log lines.
func TestExportHTTP(t *testing.T) {
	s := newStack(t, "sqlite", "", nil, nil)
	q := `{ products(orderBy: [{field: SKU}]) { nodes { sku name } } }`
	g := s.get(t, demo.KeyAcme, q, "format=ndjson")
	if g.status != 200 || g.header.Get("Content-Type") != "application/x-ndjson" || !bytes.HasPrefix(g.body, []byte(`{"sku":`)) {
		t.Fatalf("GET: %d %v %.80s", g.status, g.header, g.body)
	}
	if cd := g.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="products-`) || !strings.HasSuffix(cd, `.ndjson"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	acc := s.export(t, demo.KeyAcme, q, nil, "", map[string]string{"Accept": "text/html, application/x-ndjson;q=0.9, text/csv;q=0.5"})
	if acc.header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("Accept picked %s", acc.header.Get("Content-Type"))
	}
	gz := s.export(t, demo.KeyAcme, q, nil, "format=ndjson", map[string]string{"Accept-Encoding": "gzip"})
	if gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", gz.header)
	}
	if plain := gunzip(t, gz.body); !bytes.Equal(plain, g.body) {
		t.Errorf("gzipped export differs from the plain one")
	}
	cp := s.export(t, demo.KeyAcme, `{ invoices { nodes { number } } }`, nil, "format=csv&checkpoints=true", nil)
	lines := strings.Split(strings.TrimSuffix(string(cp.body), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "#viewgate end ") {
		t.Errorf("last line %q", last)
	}
	rows := strings.Count(string(cp.body), "\r\n") - 1
	if n := strings.Count(string(cp.body), "\n#viewgate checkpoint "); rows < 1000 || n != rows/1000 {
		t.Errorf("%d checkpoints in an export of %d rows, want one per 1000 rows", n, rows)
	}
	if !strings.Contains(s.qlog.String(), `"class":"export"`) || !strings.Contains(s.qlog.String(), `"bytes":`) {
		t.Errorf("no export entry with bytes in the query log:\n%s", s.qlog)
	}
	if !strings.Contains(s.log.String(), `"path":"/export"`) || !strings.Contains(s.log.String(), `"exportStatus":"complete"`) {
		t.Errorf("no access log summary:\n%s", s.log)
	}
	if strings.Contains(s.log.String(), "ACM-") || strings.Contains(s.qlog.String(), "ACM-") {
		t.Errorf("row data in the logs")
	}
}
