package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// startDemo runs the demo server on 127.0.0.1:0 until the test ends and returns its base URL.
func startDemo(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, func(string) string { return "" }, w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("demo server did not shut down")
		}
	})
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return base
}

// TestServeDemoHeaders: every route tells browsers not to sniff content types.
func TestServeDemoHeaders(t *testing.T) {
	base := startDemo(t)
	tests := []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"graphql", "POST", "graphql", demo.KeyAcme, `{"query": "{ invoices(first: 1) { totalCount } }"}`, 200},
		{"graphql error", "POST", "graphql", demo.KeyAcme, `{"query": "{ nope }"}`, 200},
		{"graphql 401", "POST", "graphql", "", `{"query": "{ invoices { totalCount } }"}`, 401},
		{"graphql GET", "GET", "graphql?query=%7B__typename%7D", demo.KeyAcme, "", 200},
		{"admin 401", "POST", "admin/keys/reload", "", "", 401},
		{"healthz", "GET", "healthz", "", "", 200},
		{"readyz", "GET", "readyz", "", "", 200},
		{"graphiql", "GET", "", "", "", 200},
		{"graphiql asset", "GET", "graphiql/init.js", "", "", 200},
		{"not found", "GET", "nope", "", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.key != "" {
				req.Header.Set("X-API-Key", tc.key)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s /%s: %d, X-Content-Type-Options %q; want %d and nosniff", tc.method, tc.path, res.StatusCode, res.Header.Get("X-Content-Type-Options"), tc.status)
			}
		})
	}
}
