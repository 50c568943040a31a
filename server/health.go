package server

import (
	"context"
	"encoding/json"
	"net/http"
)

// Checker reports whether the service can answer queries; Ready returns why it cannot.
type Checker interface {
	Ready(ctx context.Context) error
}

// Health answers liveness probes with 200 {"status":"ok"}.
func Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Ready answers readiness probes with 200 {"status":"ready"}, or 503 with Retry-After: 5 and
// {"status":"unavailable","reason":...} when c is not ready; the reason is shown to the caller,
// so c's errors must not carry secrets such as DSNs.
func Ready(c Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Ready(r.Context()); err != nil {
			w.Header().Set("Retry-After", "5")
			writeStatus(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
		writeStatus(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// writeStatus writes a small uncacheable JSON document.
func writeStatus(w http.ResponseWriter, code int, body map[string]string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
