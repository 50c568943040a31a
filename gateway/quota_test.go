package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

const (
	acmeKey     = "vgk_test_acme_0000000000000000000000000"
	searchQuery = `{"query":"{ products(search: \"a\", first: 5) { nodes { id } } }"}`
)

// instance is one gateway on the demo SQLite database with quotas q under key prefix.
func instance(t *testing.T, q config.Quota, prefix string) http.Handler {
	t.Helper()
	src, err := replica.Open(context.Background(), replica.Options{Name: demo.SourceName, Driver: "sqlite", DSN: dbtest.SQLite(t), MaxConns: 2, StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Env: "test", CursorSecret: strings.Repeat("s", 32), Limits: config.DefaultLimits(), Quota: q,
		APIKeys: []config.APIKey{{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting"}, Key: acmeKey}}}
	g, err := gateway.New(context.Background(), gateway.Options{Config: cfg, Catalog: cat, Stderr: io.Discard,
		Sources: map[string]gateway.Source{demo.SourceName: src}, QuotaKeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g.Handler()
}

func search(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/graphql", strings.NewReader(searchQuery))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", acmeKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// searchQuota allows 3 searches (cost 3 each) per burst window of an hour: no window ends
// during the test.
func searchQuota(redisURL, onError string) config.Quota {
	q := config.DemoQuota()
	q.RedisURL, q.OnRedisError = redisURL, onError
	p := q.Plans[config.StandardPlan]
	s := p["search"]
	s.Tenant.Burst = config.Rate{Limit: 9, Window: 10 * time.Minute}
	s.Credential.Burst = s.Tenant.Burst
	p["search"] = s
	return q
}

// TestSharedRedisQuota: two instances on one Redis enforce one quota between them.
func TestSharedRedisQuota(t *testing.T) {
	url, prefix := dbtest.Redis(t)
	a, b := instance(t, searchQuota(url, "closed"), prefix), instance(t, searchQuota(url, "closed"), prefix)
	for i, h := range []http.Handler{a, b, a} {
		if rec := search(h); rec.Code != 200 {
			t.Fatalf("search %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	for _, h := range []http.Handler{b, a} {
		if rec := search(h); rec.Code != 429 {
			t.Errorf("fourth search: %d %s, want 429 on both instances", rec.Code, rec.Body)
		}
	}
}

// TestRedisDown: with Redis stopped mid-test, fail-open keeps answering from this instance's
// memory and fail-closed answers 503 UNAVAILABLE with Retry-After; never a 500; when Redis
// returns, both use it again.
func TestRedisDown(t *testing.T) {
	srv := dbtest.StartRedis(t)
	open, closed := instance(t, searchQuota(srv.URL(), "open"), "vg:open"), instance(t, searchQuota(srv.URL(), "closed"), "vg:closed")
	for _, h := range []http.Handler{open, closed} {
		if rec := search(h); rec.Code != 200 {
			t.Fatalf("with Redis up: %d %s", rec.Code, rec.Body)
		}
	}
	srv.Stop()
	if rec := search(open); rec.Code != 200 {
		t.Errorf("fail-open with Redis down: %d %s", rec.Code, rec.Body)
	}
	rec := search(closed)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Errorf("fail-closed with Redis down: %d %s (Retry-After %q)", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	srv.Start()
	// The limiter retries Redis a second after a failure; poll, bounded.
	for i := 0; ; i++ {
		if rec := search(closed); rec.Code == 200 {
			break
		} else if rec.Code != 503 || i == 100 {
			t.Fatalf("after Redis returned: %d %s", rec.Code, rec.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	keys, err := srv.Client().Keys(context.Background(), "vg:closed:*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("fail-closed does not write to Redis again: %v %v", keys, err)
	}
}
