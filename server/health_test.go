package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/server"
)

// checker is a server.Checker that returns err.
type checker struct{ err error }

func (c checker) Ready(context.Context) error { return c.err }

var _ server.Checker = checker{}

func TestProbes(t *testing.T) {
	type result struct {
		Status      int
		Body        string
		ContentType string
		RetryAfter  string
	}
	tests := []struct {
		name    string
		handler http.Handler
		want    result
	}{
		{"health", server.Health(), result{200, `{"status":"ok"}` + "\n", "application/json; charset=utf-8", ""}},
		{"ready", server.Ready(checker{}), result{200, `{"status":"ready"}` + "\n", "application/json; charset=utf-8", ""}},
		{
			// The checker's error (which may quote a driver message naming users and hosts) is never shown.
			"not ready", server.Ready(checker{errors.New("no healthy replica for source erp: Access denied for user 'vg'@'10.0.0.7'")}),
			result{503, `{"reason":"` + server.NotReady + `","status":"unavailable"}` + "\n", "application/json; charset=utf-8", "5"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			got := result{w.Code, w.Body.String(), w.Header().Get("Content-Type"), w.Header().Get("Retry-After")}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// reporter is a server.Reporter with a fixed report.
type reporter struct {
	checker
	report any
}

func (r reporter) Report() any { return r.report }

var _ server.Reporter = reporter{}

func TestReadyReport(t *testing.T) {
	report := []map[string]any{{"source": "erp", "healthy": false, "replicas": []map[string]any{{"name": "r1", "healthy": false, "reason": "lag 9s over max_lag 5s"}}}}
	for _, tc := range []struct {
		name string
		err  error
		want string
		code int
	}{
		{"ready", nil, `{"sources":[{"healthy":false,"replicas":[{"healthy":false,"name":"r1","reason":"lag 9s over max_lag 5s"}],"source":"erp"}],"status":"ready"}` + "\n", 200},
		{"not ready", errors.New("source erp: no healthy replica"), `{"reason":"` + server.NotReady + `","sources":[{"healthy":false,"replicas":[{"healthy":false,"name":"r1","reason":"lag 9s over max_lag 5s"}],"source":"erp"}],"status":"unavailable"}` + "\n", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			server.Ready(reporter{checker{tc.err}, report}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != tc.code {
				t.Errorf("status %d, want %d", w.Code, tc.code)
			}
			if diff := cmp.Diff(tc.want, w.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}
