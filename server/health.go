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

// Reporter is a Checker that also describes its parts (replicas, their state and
// counters) for /readyz; Report's value is encoded as JSON and shown to the caller, so it
// must not carry secrets such as DSNs.
type Reporter interface {
	Checker
	Report() any
}

// Health answers liveness probes with 200 {"status":"ok"}.
func Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// NotReady is the fixed reason /readyz gives when it answers 503; the details (each replica's
// reason and counters) are on the admin route /admin/replicas and on /metrics, not here, since
// the probe needs no credential and driver messages can name users and hosts.
const NotReady = "a source has no replica in rotation"

// Ready answers readiness probes with 200 {"status":"ready"}, or 503 with Retry-After: 5 and
// {"status":"unavailable","reason":NotReady} when c is not ready; c's error is never shown.
// When c is a Reporter, its Report is added under "sources" either way.
func Ready(c Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{"status": "ready"}
		if rep, ok := c.(Reporter); ok {
			body["sources"] = rep.Report()
		}
		code := http.StatusOK
		if err := c.Ready(r.Context()); err != nil {
			w.Header().Set("Retry-After", "5")
			code, body["status"], body["reason"] = http.StatusServiceUnavailable, "unavailable", NotReady
		}
		writeStatus(w, code, body)
	})
}

// writeStatus writes a small uncacheable JSON document.
func writeStatus[V any](w http.ResponseWriter, code int, body map[string]V) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
