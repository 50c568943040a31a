package server_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
)

const (
	searchQuery = `{"query":"{ products(search: \"a\", first: 5) { nodes { id } } }"}`
	lookupQuery = `{"query":"{ invoices(first: 5) { nodes { id } } }"}`
)

// quotaStack is a SQLite stack with the demo's quotas on a clock the test moves.
func quotaStack(t *testing.T) (*stack, func(time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStackConfig(t, openSource(t, "sqlite", "", 5*time.Second), demo.Catalog(), nil, func(o *gateway.Options) {
		o.Config.Quota = config.DemoQuota()
		o.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
	})
	return s, func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
}

// TestQuotaHTTP: every answer carries the RateLimit headers; searches past the burst get a 429
// with Retry-After and a GraphQL body naming what was exceeded; lookups of the same key still
// pass; the burst returns with the next window; a refused request burns nothing.
func TestQuotaHTTP(t *testing.T) {
	s, advance := quotaStack(t)
	post := func(body string) *httptest.ResponseRecorder {
		return s.do(t, "POST", "application/json", "acme", strings.NewReader(body), "")
	}
	rec := post(searchQuery)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("RateLimit-Policy"), `"search-tenant-burst";q=20;w=10`) ||
		!strings.Contains(rec.Header().Get("RateLimit"), `"search-tenant-burst";r=17;t=10`) {
		t.Fatalf("first search: %d, RateLimit-Policy %q, RateLimit %q", rec.Code, rec.Header().Get("RateLimit-Policy"), rec.Header().Get("RateLimit"))
	}
	var body struct {
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
		Extensions struct{ Cost map[string]any }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if c := body.Extensions.Cost; c["requested"] != 3.0 || c["class"] != "search" || c["remaining"] != 17.0 {
		t.Errorf("extensions.cost = %v, want requested 3, class search, remaining 17", c)
	}
	// 20 units per 10 s at 3 a search: five more pass, the seventh is refused.
	for i := 2; i <= 6; i++ {
		if rec := post(searchQuery); rec.Code != 200 {
			t.Fatalf("search %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	advance(3 * time.Second)
	for range 2 { // the second refusal proves the first burnt nothing: still 2 left
		rec = post(searchQuery)
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "7" || !strings.Contains(rec.Header().Get("RateLimit"), `"search-tenant-burst";r=2;t=7`) {
			t.Fatalf("seventh search: %d, Retry-After %q, RateLimit %q, want 429, 7, r=2", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("RateLimit"))
		}
	}
	body.Errors = nil
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("429 body %s: %v", rec.Body, err)
	}
	want := map[string]any{"code": "RATE_LIMITED", "class": "search", "scope": "tenant", "window": "burst", "limit": 20.0,
		"remaining": 2.0, "cost": 3.0, "resetAt": "2026-03-01T12:00:10Z", "retryAfterSeconds": 7.0}
	for k, v := range want {
		if body.Errors[0].Extensions[k] != v {
			t.Errorf("429 extensions.%s = %v, want %v", k, body.Errors[0].Extensions[k], v)
		}
	}
	for i := range 100 {
		if rec := post(lookupQuery); rec.Code != 200 {
			t.Fatalf("lookup %d after the search 429: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	advance(7 * time.Second)
	if rec := post(searchQuery); rec.Code != 200 {
		t.Errorf("search in the next window: %d %s", rec.Code, rec.Body)
	}
	// Even an answer refused before its charge says where the quota stands.
	rec = post(`{"query":"{ nosuchfield }"}`)
	if rec.Header().Get("RateLimit") == "" {
		t.Errorf("a validation error lacks the RateLimit header")
	}
	log := s.log.String()
	for _, want := range []string{`"quota":"RATE_LIMITED"`, `"quota":"allowed"`, `"quotaRemaining":`, `"class":"search"`, `"cost":3`} {
		if !strings.Contains(log, want) {
			t.Errorf("the access log lacks %s", want)
		}
	}
	if strings.Contains(log, testKeys["acme"]) {
		t.Error("the access log holds the API key")
	}
}

// TestQuotaTenants: two keys of one tenant share the tenant's quota; another tenant's stays whole.
func TestQuotaTenants(t *testing.T) {
	s, _ := quotaStack(t)
	// acme and public are both keys of tenant acme; globex is another tenant.
	for i := range 6 {
		key := []string{"acme", "public"}[i%2]
		if rec := s.do(t, "POST", "application/json", key, strings.NewReader(searchQuery), ""); rec.Code != 200 {
			t.Fatalf("search %d by %s: %d %s", i+1, key, rec.Code, rec.Body)
		}
	}
	if rec := s.do(t, "POST", "application/json", "public", strings.NewReader(searchQuery), ""); rec.Code != 429 || !strings.Contains(rec.Body.String(), `"scope":"tenant"`) {
		t.Fatalf("seventh search of tenant acme: %d %s, want 429 on the tenant scope", rec.Code, rec.Body)
	}
	if rec := s.do(t, "POST", "application/json", "globex", strings.NewReader(searchQuery), ""); rec.Code != 200 {
		t.Errorf("tenant globex pays for acme: %d %s", rec.Code, rec.Body)
	}
}

// TestRateLimitField: the free rateLimit field reports every class's windows and costs nothing.
func TestRateLimitField(t *testing.T) {
	s, _ := quotaStack(t)
	q := `{"query":"{ rateLimit { enabled classes { class concurrency windows { scope window limit remaining seconds resetAt } } } }"}`
	var got struct {
		Data struct {
			RateLimit struct {
				Enabled bool
				Classes []struct {
					Class       string
					Concurrency int
					Windows     []map[string]any
				}
			}
		}
		Extensions struct{ Cost map[string]any }
	}
	for range 3 {
		rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(q), "")
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	rl := got.Data.RateLimit
	if !rl.Enabled || len(rl.Classes) != 4 || rl.Classes[2].Class != "report" || rl.Classes[2].Concurrency != 2 {
		t.Fatalf("rateLimit = %+v", rl)
	}
	w := rl.Classes[0].Windows[0]
	if w["scope"] != "tenant" || w["window"] != "burst" || w["limit"] != 200.0 || w["remaining"] != 200.0 || w["seconds"] != 10.0 || w["resetAt"] != "2026-03-01T12:00:10Z" {
		t.Errorf("lookup's first window = %v: asking three times must cost nothing", w)
	}
	if got.Extensions.Cost["requested"] != 0.0 {
		t.Errorf("extensions.cost = %v, want requested 0", got.Extensions.Cost)
	}
}

// TestAuthFailureLimit: a client past the authentication-failure limit is refused with 429
// before its credential is even checked, a good key included, until the window ends.
func TestAuthFailureLimit(t *testing.T) {
	s, advance := quotaStack(t)
	for i := range 30 {
		if rec := s.do(t, "POST", "application/json", "bad", strings.NewReader(lookupQuery), ""); rec.Code != 401 {
			t.Fatalf("bad key %d: %d", i+1, rec.Code)
		}
	}
	for _, key := range []string{"bad", "acme"} {
		rec := s.do(t, "POST", "application/json", key, strings.NewReader(lookupQuery), "")
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "failed authentications") {
			t.Fatalf("%s after 30 failures: %d %s", key, rec.Code, rec.Body)
		}
	}
	advance(time.Minute)
	if rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(lookupQuery), ""); rec.Code != 200 {
		t.Errorf("a minute later: %d %s", rec.Code, rec.Body)
	}
}
