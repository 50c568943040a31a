package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type page struct {
	Data map[string]struct {
		Nodes    []map[string]any `json:"nodes"`
		PageInfo struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		TotalCount int `json:"totalCount"`
	} `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (s *stack) query(t *testing.T, key, query string, vars map[string]any) (int, page) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	rec := s.do(t, "POST", "application/json", key, bytes.NewReader(body), "")
	var p page
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
	return rec.Code, p
}

// walk pages through a whole view and returns the ids in the order served.
func (s *stack) walk(t *testing.T, key, field, args string, size int) ([]string, int) {
	t.Helper()
	q := fmt.Sprintf(`query($after: String) { %s(first: %d, after: $after%s) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`, field, size, args)
	var ids []string
	var after any
	total := -1
	for i := 0; i < 10000; i++ {
		code, p := s.query(t, key, q, map[string]any{"after": after})
		if code != 200 || len(p.Errors) > 0 {
			t.Fatalf("page %d: %d %+v", i, code, p.Errors)
		}
		conn := p.Data[field]
		total = conn.TotalCount
		for _, n := range conn.Nodes {
			ids = append(ids, fmt.Sprint(n["id"]))
		}
		if !conn.PageInfo.HasNextPage {
			return ids, total
		}
		after = *conn.PageInfo.EndCursor
	}
	t.Fatal("pagination does not end")
	return nil, 0
}

// TestPagingWholeView walks every view under several orderings (with NULLs, ties, text in
// code-point order, mixed directions) in small pages: no row is lost or repeated, and every
// engine serves the same sequence.
func TestPagingWholeView(t *testing.T) {
	walks := []struct{ key, field, args string }{
		{"acme", "invoices", ""},
		{"acme", "invoices", `, orderBy: [{field: DUE_DATE}, {field: AMOUNT, direction: DESC}]`},
		{"acme", "invoices", `, orderBy: [{field: PAID_AT, direction: DESC}]`},
		{"globex", "invoices", `, orderBy: [{field: CUSTOMER_NAME}], where: {status: {neq: "void"}}`},
		{"acme", "customers", `, orderBy: [{field: COUNTRY}, {field: NAME, direction: DESC}]`},
		{"acme", "customers", `, orderBy: [{field: NAME}]`},
		{"public", "products", `, orderBy: [{field: WEIGHT_KG, direction: DESC}]`},
	}
	seqs := map[string][]string{}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s := newStack(t, engine)
			for _, w := range walks {
				name := w.key + " " + w.field + w.args
				ids, total := s.walk(t, w.key, w.field, w.args, 97)
				seen := map[string]bool{}
				for _, id := range ids {
					if seen[id] {
						t.Errorf("%s: id %s served twice", name, id)
					}
					seen[id] = true
				}
				if len(ids) != total || total == 0 {
					t.Errorf("%s: walked %d rows, totalCount %d", name, len(ids), total)
				}
				if prev, ok := seqs[name]; ok {
					if diff := cmp.Diff(prev, ids); diff != "" {
						t.Errorf("%s: %s serves another order than the first engine (-first +%s):\n%s", name, engine, engine, diff)
					}
				} else {
					seqs[name] = ids
				}
			}
		})
	}
}

// TestCursorMisuse: a cursor is refused, with a clear 400, for another view, tenant, order or filter.
func TestCursorMisuse(t *testing.T) {
	s := newStack(t, "sqlite")
	_, p := s.query(t, "acme", `{ invoices(first: 2) { pageInfo { endCursor } } }`, nil)
	cur := *p.Data["invoices"].PageInfo.EndCursor
	cases := []struct{ name, key, query string }{
		{"other view", "acme", `query($c: String) { customers(after: $c) { nodes { id } } }`},
		{"other tenant", "globex", `query($c: String) { invoices(after: $c) { nodes { id } } }`},
		{"other order", "acme", `query($c: String) { invoices(after: $c, orderBy: [{field: AMOUNT}]) { nodes { id } } }`},
		{"other filter", "acme", `query($c: String) { invoices(after: $c, where: {status: {eq: "paid"}}) { nodes { id } } }`},
		{"tampered", "acme", `query($c: String) { invoices(after: $c) { nodes { id } } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cur
			if tc.name == "tampered" {
				c = strings.Replace(c, c[10:11], map[bool]string{true: "B", false: "A"}[c[10:11] == "A"], 1)
			}
			code, p := s.query(t, tc.key, tc.query, map[string]any{"c": c})
			if code != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(p.Errors[0].Message, "cursor") {
				t.Fatalf("got %d %+v, want 400 BAD_USER_INPUT about the cursor", code, p.Errors)
			}
		})
	}
	// The same cursor still works where it belongs.
	if code, p := s.query(t, "acme", `query($c: String) { invoices(after: $c) { nodes { id } } }`, map[string]any{"c": cur}); code != 200 || len(p.Errors) > 0 {
		t.Fatalf("the cursor is refused where it was issued: %d %+v", code, p.Errors)
	}
}

// TestTotalCountAloneRunsOnlyTheCount: a connection that selects totalCount but no nodes,
// edges or pageInfo runs one statement, the COUNT, read from the query log; its arguments are
// still checked as if the page were read.
func TestTotalCountAloneRunsOnlyTheCount(t *testing.T) {
	s := newStack(t, "sqlite")
	cases := []struct {
		name, query string
		want        []string // each statement's start, in order
	}{
		{"totalCount", `{ invoices(where: {status: {eq: "paid"}}) { totalCount } }`, []string{"SELECT COUNT(*) "}},
		{"totalCount and __typename", `{ invoices { __typename totalCount } }`, []string{"SELECT COUNT(*) "}},
		{"nodes skipped", `{ invoices { totalCount nodes @skip(if: true) { id } } }`, []string{"SELECT COUNT(*) "}},
		{"__typename alone", `{ invoices { __typename } }`, nil},
		{"with nodes", `{ invoices { totalCount nodes { id } } }`, []string{`SELECT "id", `, "SELECT COUNT(*) "}},
		{"with pageInfo", `{ invoices { totalCount pageInfo { hasNextPage } } }`, []string{`SELECT "id", `, "SELECT COUNT(*) "}},
		{"with edges", `{ invoices { edges { cursor } totalCount } }`, []string{`SELECT "id", `, "SELECT COUNT(*) "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.qlog.Len()
			if code, p := s.query(t, "acme", tc.query, nil); code != 200 || len(p.Errors) > 0 {
				t.Fatalf("%d %+v", code, p.Errors)
			}
			var got []string
			for _, sql := range loggedSQL(t, s.qlog.Bytes()[before:]) {
				for _, w := range tc.want {
					if strings.HasPrefix(sql, w) {
						sql = w
					}
				}
				got = append(got, sql)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statements (-want +got):\n%s", diff)
			}
		})
	}
	for _, q := range []string{
		`{ invoices(first: -1) { totalCount } }`,
		`{ invoices(after: "garbage") { totalCount } }`,
		`{ invoices(orderBy: [{field: AMOUNT}, {field: AMOUNT}]) { totalCount } }`,
	} {
		before := s.qlog.Len()
		if code, p := s.query(t, "acme", q, nil); code != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%s: %d %+v, want 400 BAD_USER_INPUT", q, code, p.Errors)
		}
		if n := len(loggedSQL(t, s.qlog.Bytes()[before:])); n != 0 {
			t.Errorf("%s: %d statements ran for a refused query", q, n)
		}
	}
}
