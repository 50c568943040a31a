package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// isoCaller is a caller of the property test: static keys, keys-file keys and bearer JWTs of both
// tenants, so every authentication path is covered.
type isoCaller struct {
	tenant  string
	headers map[string]string
}

// TestTenantIsolation is a property test on every engine: for random filters, orders, searches
// and page walks, a tenant never receives an invoice or customer of another tenant, totalCount
// never exceeds the tenant's own rows, and a cursor issued to one tenant is refused for the other.
func TestTenantIsolation(t *testing.T) {
	data := demo.Generate()
	owner := map[string]map[string]string{"invoices": {}, "customers": {}}
	rows := map[string]map[string]int{"invoices": {}, "customers": {}}
	for _, inv := range data.Invoices {
		owner["invoices"][fmt.Sprint(inv.ID)] = inv.TenantID
		rows["invoices"][inv.TenantID]++
	}
	for _, c := range data.Customers {
		owner["customers"][fmt.Sprint(c.ID)] = c.TenantID
		rows["customers"][c.TenantID]++
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			f := newAuthFixture(t)
			s := newStackAuth(t, openSource(t, engine, "", 10*time.Second), demo.Catalog(), f.chain)
			callers := []isoCaller{
				{demo.TenantAcme, apiKey(testKeys["acme"])},
				{demo.TenantGlobex, apiKey(f.keys["globex"])},
				{demo.TenantAcme, bearer(f.token(t, demo.TenantAcme, "reporting", "pii"))},
				{demo.TenantGlobex, bearer(f.token(t, demo.TenantGlobex, "analyst"))},
			}
			rng := rand.New(rand.NewPCG(uint64(len(engine)), 42)) // deterministic per engine
			seen, refused := 0, 0
			for i := range 30 {
				view := []string{"invoices", "customers"}[rng.IntN(2)]
				args := randomArgs(rng, view)
				a, b := callers[rng.IntN(len(callers))], callers[rng.IntN(len(callers))]
				t.Run(fmt.Sprintf("%d/%s%s", i, view, args), func(t *testing.T) {
					end, n := isoWalk(t, s, a, view, args, 1+rng.IntN(40), 1+rng.IntN(4), owner[view], rows[view][a.tenant])
					seen += n
					if end == "" || a.tenant == b.tenant {
						return
					}
					// The other tenant presents the cursor with the very same query: refused.
					code, p := isoPage(t, s, b, view, args, 5, end)
					if code != http.StatusBadRequest || len(p.Errors) == 0 || p.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
						t.Fatalf("cursor of %s accepted for %s: %d %+v", a.tenant, b.tenant, code, p.Errors)
					}
					refused++
				})
			}
			// The property is only worth something if the walks read rows and crossed cursors.
			if seen < 200 || refused < 3 {
				t.Errorf("weak run: %d rows checked, %d foreign cursors refused", seen, refused)
			}
		})
	}
}

// isoWalk reads up to pages pages and checks every row's tenant; it returns the last end cursor
// ("" when the walk reached the end) and the number of rows checked.
func isoWalk(t *testing.T, s *stack, c isoCaller, view, args string, size, pages int, owner map[string]string, own int) (string, int) {
	t.Helper()
	var after string
	seen := 0
	for range pages {
		code, p := isoPage(t, s, c, view, args, size, after)
		if code != 200 || len(p.Errors) > 0 {
			t.Fatalf("%d %+v", code, p.Errors)
		}
		conn := p.Data[view]
		if conn.TotalCount > own {
			t.Fatalf("totalCount %d exceeds the %d rows of %s", conn.TotalCount, own, c.tenant)
		}
		for _, n := range conn.Nodes {
			id := fmt.Sprint(n["id"])
			if owner[id] != c.tenant {
				t.Fatalf("%s received %s %s of tenant %q", c.tenant, view, id, owner[id])
			}
			seen++
		}
		if !conn.PageInfo.HasNextPage {
			return "", seen
		}
		after = *conn.PageInfo.EndCursor
	}
	return after, seen
}

func isoPage(t *testing.T, s *stack, c isoCaller, view, args string, size int, after string) (int, page) {
	t.Helper()
	q := fmt.Sprintf(`query($after: String) { %s(first: %d, after: $after%s) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`, view, size, args)
	var vars map[string]any
	if after != "" {
		vars = map[string]any{"after": after}
	}
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	out := serve(s, req)
	var p page
	if err := json.Unmarshal(out.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode %s: %v", out.Body, err)
	}
	return out.Code, p
}

// randomArgs returns a random where/orderBy/search for view, as GraphQL argument text.
func randomArgs(rng *rand.Rand, view string) string {
	var conds, orders []string
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	switch view {
	case "invoices":
		for range rng.IntN(3) {
			conds = append(conds, pick(
				`{status: {eq: "paid"}}`, `{status: {in: ["issued", "void"]}}`, `{status: {neq: "draft"}}`,
				`{amount: {gt: "100.00"}}`, `{amount: {lte: "2500.50"}}`, `{issuedAt: {gte: "2024-06-01T00:00:00Z"}}`,
				`{customerName: {startsWith: "a"}}`, `{number: {startsWithExact: "ACM-2024"}}`, `{number: {containsExact: "-00"}}`,
				`{note: {isNull: true}}`, `{dueDate: {isNull: false}}`,
				`{not: {currency: {eq: "EUR"}}}`, `{or: [{status: {eq: "void"}}, {amount: {lt: "50"}}]}`,
				`{id: {in: ["1", "2", "3", "700", "1500"]}}`, `{customerId: {eq: "1"}}`))
		}
		orders = randomOrder(rng, "ISSUED_AT", "AMOUNT", "DUE_DATE", "PAID_AT", "CUSTOMER_NAME", "LINE_COUNT")
	case "customers":
		for range rng.IntN(3) {
			conds = append(conds, pick(`{country: {eq: "DE"}}`, `{country: {isNull: true}}`, `{vip: {eq: true}}`,
				`{name: {contains: "an"}}`, `{name: {gte: "M"}}`, `{createdAt: {lt: "2023-01-01T00:00:00Z"}}`,
				`{id: {in: ["1", "2", "3", "400", "800"]}}`, `{or: [{vip: {eq: false}}, {country: {in: ["FI", "SE"]}}]}`))
		}
		orders = randomOrder(rng, "NAME", "COUNTRY", "CREATED_AT")
	}
	var b strings.Builder
	if len(conds) > 0 {
		fmt.Fprintf(&b, ", where: {and: [%s]}", strings.Join(conds, ", "))
	}
	if len(orders) > 0 {
		fmt.Fprintf(&b, ", orderBy: [%s]", strings.Join(orders, ", "))
	}
	if view == "invoices" && rng.IntN(4) == 0 {
		fmt.Fprintf(&b, `, search: %q`, pick("a", "ACM", "GLX", "0"))
	}
	return b.String()
}

// randomOrder returns up to two distinct sort terms of fields in random directions.
func randomOrder(rng *rand.Rand, fields ...string) []string {
	var out []string
	for _, i := range rng.Perm(len(fields))[:rng.IntN(3)] {
		out = append(out, fmt.Sprintf(`{field: %s, direction: %s}`, fields[i], []string{"ASC", "DESC"}[rng.IntN(2)]))
	}
	return out
}
