package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// post sends a GraphQL request to base with key and returns the status, the Retry-After and the body.
func post(t *testing.T, base, key, query string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"graphql", strings.NewReader(`{"query":`+quote(query)+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Retry-After"), string(b)
}

// TestDemoQuotas: the demo runs with quotas small enough to see: 100 searches in a row from one
// key meet a 429, while 100 lookups from the same key all pass.
func TestDemoQuotas(t *testing.T) {
	base := startDemo(t)
	limited := 0
	for range 100 {
		code, _, body := post(t, base, demo.KeyAcme, `{ products(search: "a", first: 5) { nodes { id } } }`)
		switch code {
		case 200:
		case 429:
			limited++
		default:
			t.Fatalf("search: %d %s", code, body)
		}
	}
	if limited == 0 {
		t.Error("100 searches in a row met no 429")
	}
	for i := range 100 {
		if code, _, body := post(t, base, demo.KeyAcme, `{ invoices(first: 5) { nodes { id } } }`); code != 200 {
			t.Fatalf("lookup %d: %d %s", i+1, code, body)
		}
	}
}

// TestRetryAfterHonoured: a client that waits Retry-After after each 429, as the contract says,
// gets its next request through; searches cost 3 against a burst of 6 per second here.
func TestRetryAfterHonoured(t *testing.T) {
	dir := t.TempDir()
	if err := demo.CreateSQLite(context.Background(), filepath.Join(dir, "erp.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `catalog: catalog.yaml
cursor_secret: "` + strings.Repeat("s", 40) + `"
api_keys: [{id: app, tenant: acme, roles: [reporting], key: "app-key-0123456789abcdef"}]
quota:
  plans:
    standard:
      search: {tenant: {burst: 6/1s}, credential: {burst: 6/1s}}
environments:
  dev:
    sources: {demo: {driver: sqlite, dsn: erp.db}}
`
	if err := os.WriteFile(filepath.Join(dir, "viewgate.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-config", filepath.Join(dir, "viewgate.yaml"), "-listen", "127.0.0.1:0"}, func(string) string { return "" }, w, io.Discard)
		w.Close()
	}()
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	ok, waits, afterWait := 0, 0, 0
	waited := false
	for attempt := 0; ok < 6 && attempt < 30; attempt++ {
		code, retry, body := post(t, base, "app-key-0123456789abcdef", `{ products(search: "a", first: 5) { nodes { id } } }`)
		switch code {
		case 200:
			ok++
			if waited {
				afterWait++
			}
			waited = false
		case 429:
			if waited {
				t.Fatalf("429 right after waiting Retry-After: %s", body)
			}
			secs, err := strconv.Atoi(retry)
			if err != nil || secs < 1 || secs > 1 {
				t.Fatalf("Retry-After %q on a 1 s window", retry)
			}
			waits++
			waited = true
			time.Sleep(time.Duration(secs) * time.Second)
		default:
			t.Fatalf("%d %s", code, body)
		}
	}
	if ok < 6 || waits == 0 || afterWait == 0 {
		t.Fatalf("%d answers, %d waits, %d answered after a wait", ok, waits, afterWait)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
