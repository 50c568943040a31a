package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/server"
)

// TestReadyzReportsReplicas wires a config source with a live replica and a dead one (a
// refused port) and reads /readyz as a probe would: healthy or unhealthy per replica and a
// fixed reason, while the reasons and counters are only in the details the admin route shows.
func TestReadyzReportsReplicas(t *testing.T) {
	dsn := dbtest.MariaDB(t)
	sc := config.Source{
		Name: "shop", Driver: "mysql", StatementTimeout: 5 * time.Second, MaxConns: 2,
		Replicas: []config.Replica{
			{Name: "live", DSN: dsn, Weight: 1, MaxConns: 2},
			{Name: "dead", DSN: "viewgate:s3cretpw@tcp(127.0.0.1:1)/shop", Weight: 1, MaxConns: 2},
		},
		HealthCheck: config.DefaultHealthCheck(),
	}
	var logs strings.Builder
	r, err := OpenSource(context.Background(), sc, NewLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ready := readiness{"shop": r}

	get := func() (int, map[string]any, string) {
		w := httptest.NewRecorder()
		server.Ready(ready).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("readyz body %q: %v", w.Body, err)
		}
		return w.Code, body, w.Body.String()
	}
	code, body, raw := get()
	if code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %s, want 200 ready (one replica is live)", code, raw)
	}
	if want := `"replicas":[{"name":"live","status":"healthy"},{"name":"dead","status":"unhealthy"}]`; !strings.Contains(raw, want) {
		t.Errorf("readyz lacks %s: %s", want, raw)
	}
	for _, hidden := range []string{"connection refused", "in_flight", "errors"} {
		if strings.Contains(raw, hidden) {
			t.Errorf("readyz shows %q, which belongs behind the admin role: %s", hidden, raw)
		}
	}
	details, _ := json.Marshal(ready.Details())
	for _, want := range []string{`"name":"live","healthy":true`, `"name":"dead","healthy":false,"reason":"connect: connection refused"`, `"in_flight":0`} {
		if !strings.Contains(string(details), want) {
			t.Errorf("details lack %s: %s", want, details)
		}
	}
	for _, secret := range []string{"s3cretpw", "127.0.0.1", "tcp("} {
		if strings.Contains(raw, secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("readyz or log shows %q:\n%s\n%s", secret, raw, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"msg":"replica out of rotation","source":"shop","replica":"dead"`) {
		t.Errorf("log lacks the dead replica's ejection:\n%s", logs.String())
	}

	// Without a replica in rotation, /readyz says why with names only.
	r.Close()
	sc.Replicas = sc.Replicas[1:2]
	sc.Fallback = &config.Replica{Name: "primary", DSN: dsn, Weight: 1, MaxConns: 1}
	r2, err := OpenSource(context.Background(), sc, NewLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	ready["shop"] = r2
	if code, _, raw := get(); code != 200 || !strings.Contains(raw, `"name":"primary","fallback":true,"status":"healthy"`) {
		t.Errorf("with a healthy fallback: %d %s", code, raw)
	}

	// require_replica refuses the writable test server: nothing is in rotation.
	sc.Replicas, sc.Fallback, sc.RequireReplica = []config.Replica{{Name: "live", DSN: dsn, Weight: 1, MaxConns: 1}}, nil, true
	r3, err := OpenSource(context.Background(), sc, NewLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	ready["shop"] = r3
	code, body, raw = get()
	reason, _ := body["reason"].(string)
	if code != 503 || body["status"] != "unavailable" || reason != server.NotReady || strings.Contains(raw, "writable") {
		t.Errorf("nothing in rotation: %d %s", code, raw)
	}
	if err := ready.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "live: writable") {
		t.Errorf("Ready = %v, want the reason for the log", err)
	}
}
