package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/server"
)

// jsonLines decodes every JSON log line in buf.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("decode log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRecover(t *testing.T) {
	internal := `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL","requestId":"req-7"}}]}` + "\n"
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantPanic  any    // what reaches net/http, nil for none
		wantLogged string // the logged panic value, "" for no log line
	}{
		{
			name:       "no panic",
			handler:    func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("fine")) },
			wantStatus: http.StatusOK,
			wantBody:   "fine",
		},
		{
			name:       "string panic",
			handler:    func(w http.ResponseWriter, r *http.Request) { panic("boom") },
			wantStatus: http.StatusInternalServerError,
			wantBody:   internal,
			wantLogged: "boom",
		},
		{
			name: "error panic drops half-built headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				w.Header().Set("Content-Disposition", "attachment")
				panic(errors.New("secret dsn postgres://u:p@h/db"))
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   internal,
			wantLogged: "secret dsn postgres://u:p@h/db",
		},
		{
			name:      "abort handler passes through",
			handler:   func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) },
			wantPanic: http.ErrAbortHandler,
		},
		{
			name: "panic after the status was sent aborts",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("partial"))
				panic("late")
			},
			wantStatus: http.StatusOK,
			wantBody:   "partial",
			wantPanic:  http.ErrAbortHandler,
			wantLogged: "late",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(requestid.Handler{Handler: slog.NewJSONHandler(&logs, nil)})
			h := server.Recover(log)(tc.handler)
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			r = r.WithContext(requestid.With(r.Context(), "req-7"))

			var got any
			func() {
				defer func() { got = recover() }()
				h.ServeHTTP(w, r)
			}()

			if got != tc.wantPanic {
				t.Errorf("panic reaching net/http = %v, want %v", got, tc.wantPanic)
			}
			if tc.wantPanic == http.ErrAbortHandler && tc.wantBody == "" {
				return
			}
			if diff := cmp.Diff(tc.wantStatus, w.Code); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBody, w.Body.String()); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if tc.wantStatus == http.StatusInternalServerError {
				want := map[string]string{"Content-Type": "application/json; charset=utf-8", "Content-Disposition": ""}
				got := map[string]string{"Content-Type": w.Header().Get("Content-Type"), "Content-Disposition": w.Header().Get("Content-Disposition")}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("headers (-want +got):\n%s", diff)
				}
			}
			lines := jsonLines(t, &logs)
			if tc.wantLogged == "" {
				if len(lines) != 0 {
					t.Errorf("logged %v, want nothing", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1: %v", len(lines), lines)
			}
			l := lines[0]
			gotLog := map[string]any{"level": l["level"], "panic": l["panic"], "requestId": l["requestId"], "path": l["path"]}
			wantLog := map[string]any{"level": "ERROR", "panic": tc.wantLogged, "requestId": "req-7", "path": "/graphql"}
			if diff := cmp.Diff(wantLog, gotLog); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
			if stack, _ := l["stack"].(string); !strings.Contains(stack, "goroutine") || !strings.Contains(stack, "recover_test.go") {
				t.Errorf("stack does not show the panicking handler:\n%s", stack)
			}
			if strings.Count(logs.String(), `"requestId"`) != 1 {
				t.Errorf("requestId not logged exactly once: %s", logs.String())
			}
		})
	}
}
