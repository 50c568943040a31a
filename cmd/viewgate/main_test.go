package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// TestServeDemo starts the real server the way a newcomer does (no config: the demo), on
// 127.0.0.1:0, and talks HTTP to it as a client would.
func TestServeDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, func(string) string { return "" }, w, io.Discard)
		w.Close()
	}()
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()

	query := func(key, q string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+"graphql", strings.NewReader(`{"query": `+quote(q)+`}`))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	code, body := query(demo.KeyAcme, `{ invoices(first: 3) { totalCount nodes { number } } }`)
	conn, _ := body["data"].(map[string]any)["invoices"].(map[string]any)
	if code != 200 || conn["totalCount"].(float64) < 1000 || len(conn["nodes"].([]any)) != 3 {
		t.Fatalf("acme query: %d %v", code, body)
	}
	if n := conn["nodes"].([]any)[0].(map[string]any)["number"].(string); !strings.HasPrefix(n, "ACM-") {
		t.Errorf("acme sees invoice %s", n)
	}
	code, body = query(demo.KeyGlobex, `{ customers(first: 1) { nodes { email } } }`)
	if code != 200 || !strings.Contains(toJSON(body), `"email":"****"`) {
		t.Errorf("globex (no pii role) should see masked e-mails: %d %v", code, body)
	}
	if code, _ = query("", `{ invoices { nodes { id } } }`); code != 401 {
		t.Errorf("no key: %d, want 401", code)
	}
	// The public key has no tenant and the public role: products only.
	if code, body = query(demo.KeyPublic, `{ products(first: 2) { nodes { sku } } }`); code != 200 || !strings.Contains(toJSON(body), `"sku":"`) {
		t.Errorf("public key on products: %d %v", code, body)
	}
	if code, body = query(demo.KeyPublic, `{ invoices(first: 1) { nodes { id } } }`); code != 403 {
		t.Errorf("public key on invoices: %d %v, want 403", code, body)
	}
	// Live introspection answers the same bytes every time, though graphql-go builds its lists
	// from maps (the query stays within the default max_depth).
	intro := `{"query": "{ __schema { types { name fields { name args { name } } inputFields { name } enumValues { name } } directives { name args { name } } } }"}`
	var first []byte
	for i := range 5 {
		req, _ := http.NewRequest("POST", base+"graphql", strings.NewReader(intro))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", demo.KeyAcme)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), `"name":"InvoiceWhere"`) {
			t.Fatalf("introspection: %d %.300s", res.StatusCode, b)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("introspection %d answered other bytes than the first", i)
		}
	}
	for path, want := range map[string]string{"": "GraphiQL", "healthz": "ok", "readyz": "ready"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET /%s: %d %.200s", path, res.StatusCode, b)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not shut down")
	}
}

func waitForURL(t *testing.T, r io.Reader) string {
	t.Helper()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/)`)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
				return
			}
		}
		close(lines)
	}()
	select {
	case u, ok := <-lines:
		if !ok {
			t.Fatal("server exited before listening")
		}
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	return ""
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestRunUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("got %v", err)
	}
}

func TestRunBadConfig(t *testing.T) {
	err := run(context.Background(), []string{"-config", "testdata/does-not-exist.yaml"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("got %v", err)
	}
}

// TestServeConfig runs from a config file: a SQLite source, the demo catalog, a static key, an
// environment chosen by VIEWGATE_ENV and a secret from the environment.
func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	if err := demo.CreateSQLite(context.Background(), filepath.Join(dir, "erp.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `catalog: catalog.yaml
cursor_secret: ${SECRET}
api_keys: [{id: ops, tenant: globex, roles: [reporting], key: "${OPS_KEY}"}]
query_log: {path: queries.log}
environments:
  staging:
    sources: {demo: {driver: sqlite, dsn: erp.db}}
  prod:
    sources: {demo: {driver: postgres, dsn: "${PROD_DSN}"}}
`
	if err := os.WriteFile(filepath.Join(dir, "viewgate.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIEWGATE_CONFIG": filepath.Join(dir, "viewgate.yaml"), "VIEWGATE_ENV": "staging",
		"SECRET": strings.Repeat("s", 40), "OPS_KEY": "ops-key-0123456789abcdef"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, w, io.Discard)
		w.Close()
	}()
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	req, _ := http.NewRequest("POST", base+"graphql", strings.NewReader(`{"query":"{ invoices(first: 1) { nodes { number } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer ops-key-0123456789abcdef")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"number":"GLX-`) {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logged, err := os.ReadFile(filepath.Join(dir, "queries.log"))
	if err != nil || !strings.Contains(string(logged), `"view":"invoices"`) || !strings.Contains(string(logged), `"tenant":"globex"`) {
		t.Fatalf("query log: %v %s", err, logged)
	}
}
