package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
)

// aliases returns a query of n aliases of invoices(first: rows).
func aliases(n, rows int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: invoices(first: %d) { nodes { id } }", i, rows)
	}
	return b.String() + " }"
}

// TestRequestBudget: a request over the budget (100 aliases × 500 rows was 50,000 rows in one
// request) is refused with QUERY_TOO_COMPLEX before any statement runs; one inside it is
// answered and says what it cost.
func TestRequestBudget(t *testing.T) {
	s := newStack(t, "sqlite")
	cases := []struct {
		name, query, says string
	}{
		{"root fields", aliases(100, 5), "100 root fields, over the maximum of 20"},
		{"rows", aliases(20, 500), "10000 requested rows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.qlog.Reset()
			code, p := s.query(t, "acme", tc.query, nil)
			if code != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" || !strings.Contains(p.Errors[0].Message, tc.says) {
				t.Fatalf("got %d %+v, want 400 QUERY_TOO_COMPLEX saying %q", code, p.Errors, tc.says)
			}
			if s.qlog.Len() != 0 {
				t.Errorf("statements ran before the refusal:\n%s", s.qlog)
			}
		})
	}
	t.Run("inside the budget", func(t *testing.T) {
		rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(`{"query":"{ a: invoices(first: 150) { totalCount nodes { id } } b: products(search: \"a\") { nodes { id } } }"}`), "")
		var body struct {
			Extensions struct {
				Cost struct {
					Requested int
					Class     string
				}
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
		// invoices: 2 pages + totalCount = 3; products with search: 1 page = 1.
		if c := body.Extensions.Cost; c.Requested != 4 || c.Class != "search" {
			t.Errorf("extensions.cost = %+v, want requested 4, class search", c)
		}
	})
}

// TestDBTimeBudget: once a request's statements have used its database time, the root fields
// after them are not run at all (75 aliases of a slow view held a connection for 30 s before).
// The clock advances a second per reading, so every statement takes a second.
func TestDBTimeBudget(t *testing.T) {
	src := openSource(t, "sqlite", "", 5*time.Second)
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStackConfig(t, src, demo.Catalog(), nil, func(o *gateway.Options) {
		o.Config.Limits.RequestDBTime = 2500 * time.Millisecond
		o.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		}
	})
	code, p := s.query(t, "acme", aliases(6, 1), nil)
	if code != 504 || len(p.Errors) == 0 {
		t.Fatalf("got %d %+v, want 504", code, p.Errors)
	}
	for _, e := range p.Errors {
		if e.Extensions["code"] != "TIMEOUT" || !strings.Contains(e.Message, "database time is spent") {
			t.Errorf("error %+v, want TIMEOUT saying the database time is spent", e)
		}
	}
	if n := strings.Count(s.qlog.String(), "\n"); n != 3 {
		t.Errorf("%d statements ran, want 3 (2.5 s of a second each):\n%s", n, s.qlog)
	}
}

// TestNestedVariables: a variable nested 9,990 levels deep (it cost ~220 MB before the filter
// rule refused it) is refused before it is decoded, allocating well under 10 MB.
func TestNestedVariables(t *testing.T) {
	s := newStack(t, "sqlite")
	deep := strings.Repeat(`{"not":`, 9990) + `{"status":{"eq":"paid"}}` + strings.Repeat("}", 9990)
	body := `{"query":"query($w: InvoiceWhere) { invoices(where: $w) { nodes { id } } }","variables":{"w":` + deep + `}}`
	many := `{"query":"query($w: InvoiceWhere) { invoices(where: $w) { nodes { id } } }","variables":{"w":{"status":{"in":[` + strings.Repeat(`"x",`, 30000) + `"x"]}}}}`
	for name, b := range map[string]string{"deep": body, "many values": many} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(b), "")
			runtime.ReadMemStats(&after)
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), "QUERY_TOO_COMPLEX") {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 10<<20 {
				t.Errorf("the request allocated %d MB, over 10", alloc>>20)
			}
		})
	}
}

// TestResponseBytes: an answer over max_response_bytes is refused, not sent.
func TestResponseBytes(t *testing.T) {
	src := openSource(t, "sqlite", "", 5*time.Second)
	s := newStackConfig(t, src, demo.Catalog(), nil, func(o *gateway.Options) { o.Config.Limits.MaxResponseBytes = 64 << 10 })
	code, p := s.query(t, "acme", `{ invoices(first: 500) { nodes { id number status amount issuedAt dueDate customerName note } } }`, nil)
	if code != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" || !strings.Contains(p.Errors[0].Message, "over the limit of 65536") {
		t.Fatalf("got %d %+v", code, p.Errors)
	}
	if code, _ := s.query(t, "acme", `{ invoices(first: 5) { nodes { id } } }`, nil); code != 200 {
		t.Errorf("a small answer: %d", code)
	}
}

// gate is an authenticator that holds every request until released, so that a test can keep
// requests in flight.
type gate struct {
	keys    *auth.Keys
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) Authenticate(r *http.Request) (*auth.Principal, error) {
	g.arrived <- struct{}{}
	<-g.release
	return g.keys.Authenticate(r)
}

// TestInFlight: with max_in_flight requests held, the next is answered 503 at once with
// Retry-After; when they finish, requests are served again.
func TestInFlight(t *testing.T) {
	keys, err := auth.NewKeys([]auth.Key{{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting"}, Secret: testKeys["acme"]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{keys: keys, arrived: make(chan struct{}, 10), release: make(chan struct{})}
	src := openSource(t, "sqlite", "", 5*time.Second)
	s := newStackConfig(t, src, demo.Catalog(), g, func(o *gateway.Options) { o.Config.Limits.MaxInFlight = 2 })
	body := `{"query":"{ invoices(first: 1) { nodes { id } } }"}`
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			s.h.ServeHTTP(rec, newRequest("POST", "/graphql", body))
			codes <- rec.Code
		}()
	}
	<-g.arrived
	<-g.arrived
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, newRequest("POST", "/graphql", body))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) {
		t.Errorf("third request: %d %s (Retry-After %q), want 503 UNAVAILABLE", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	close(g.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("a held request got %d", c)
		}
	}
	rec = httptest.NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { <-g.arrived }()
	s.h.ServeHTTP(rec, newRequest("POST", "/graphql", body).WithContext(ctx))
	if rec.Code != 200 {
		t.Errorf("after the held requests: %d %s", rec.Code, rec.Body)
	}
}
