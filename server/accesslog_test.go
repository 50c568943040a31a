package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/server"
)

// steppingClock returns a clock that advances by step on every call.
func steppingClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		handler http.HandlerFunc
		want    map[string]any // the line without time, level, msg and remote
	}{
		{
			name:   "query string left out",
			target: "/graphql?query=%7Binvoices(where:%7Bnumber:%7Beq:%22INV-1%22%7D%7D)%7D&key=secret",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte("12345"))
			},
			want: map[string]any{"method": "GET", "path": "/graphql", "status": 201.0, "bytes": 5.0, "durationMs": 1.5, "requestId": "req-9"},
		},
		{
			name:    "nothing written is a 200",
			target:  "/healthz",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want:    map[string]any{"method": "GET", "path": "/healthz", "status": 200.0, "bytes": 0.0, "durationMs": 1.5, "requestId": "req-9"},
		},
		{
			name:   "attributes set by a later handler",
			target: "/graphql",
			handler: func(w http.ResponseWriter, r *http.Request) {
				server.SetLogAttrs(r.Context(), slog.String("tenant", "acme"), slog.String("credential", "k1"))
				server.SetLogAttrs(r.Context(), slog.String("credential", "k2"))
				http.Error(w, "no", http.StatusForbidden)
			},
			want: map[string]any{
				"method": "GET", "path": "/graphql", "status": 403.0, "bytes": 3.0, "durationMs": 1.5, "requestId": "req-9",
				"tenant": "acme", "credential": "k2",
			},
		},
		{
			name:   "flush through the wrapper",
			target: "/export/invoices",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("a,b\n"))
				w.(http.Flusher).Flush()
			},
			want: map[string]any{"method": "GET", "path": "/export/invoices", "status": 200.0, "bytes": 4.0, "durationMs": 1.5, "requestId": "req-9"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			h := server.AccessLog(log, steppingClock(1500*time.Microsecond))(tc.handler)
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r = r.WithContext(requestid.With(r.Context(), "req-9"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			lines := jsonLines(t, &logs)
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1: %s", len(lines), logs.String())
			}
			got := lines[0]
			if got["msg"] != "request" || got["remote"] != "192.0.2.1:1234" {
				t.Errorf("msg, remote = %v, %v; want request, 192.0.2.1:1234", got["msg"], got["remote"])
			}
			for _, k := range []string{"time", "level", "msg", "remote"} {
				delete(got, k)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
			if bytes.Contains(logs.Bytes(), []byte("secret")) || bytes.Contains(logs.Bytes(), []byte("INV-1")) {
				t.Errorf("log line leaks the query string: %s", logs.String())
			}
		})
	}
}

func TestAccessLogPanic(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := server.AccessLog(log, steppingClock(time.Millisecond))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	func() {
		defer func() { _ = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	}()
	lines := jsonLines(t, &logs)
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want 1", len(lines))
	}
	got := map[string]any{"status": lines[0]["status"], "panic": lines[0]["panic"]}
	if diff := cmp.Diff(map[string]any{"status": 0.0, "panic": true}, got); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
}

func TestSetLogAttrsOutsideAccessLog(t *testing.T) {
	// Must not panic or block when no AccessLog is in the chain.
	server.SetLogAttrs(httptest.NewRequest(http.MethodGet, "/", nil).Context(), slog.String("tenant", "x"))
}

func TestMiddlewareStack(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(requestid.Handler{Handler: slog.NewJSONHandler(&logs, nil)})
	h := server.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		server.RequestID, server.AccessLog(log, steppingClock(time.Millisecond)), server.Recover(log), server.BodyLimit(1<<20))
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("X-Request-ID", "stack-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)

	lines := jsonLines(t, &logs)
	var got []map[string]any
	for _, l := range lines {
		got = append(got, map[string]any{"msg": l["msg"], "requestId": l["requestId"], "status": l["status"]})
	}
	want := []map[string]any{
		{"msg": "panic", "requestId": "stack-1", "status": nil},
		{"msg": "request", "requestId": "stack-1", "status": 500.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("stack-1", w.Header().Get("X-Request-ID")); diff != "" {
		t.Errorf("echoed id (-want +got):\n%s", diff)
	}
}
