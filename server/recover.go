package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/viewgate/viewgate/requestid"
)

// internalBody is the GraphQL-shaped body of a 500; it names the request id, never the cause.
type internalBody struct {
	Errors []internalError `json:"errors"`
}

type internalError struct {
	Message    string             `json:"message"`
	Extensions internalExtensions `json:"extensions"`
}

type internalExtensions struct {
	Code      string `json:"code"`
	RequestID string `json:"requestId,omitempty"`
}

// Recover turns a panic into a 500 with a generic GraphQL error body (code INTERNAL and the
// request id) and logs the panic value and stack with the request id; http.ErrAbortHandler is
// re-panicked, and a panic after the status was sent becomes one, so net/http cuts the response.
func Recover(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				id := requestid.From(r.Context())
				log.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())),
					slog.String(requestid.Key, id),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
				)
				if sw.sent() {
					// A status already went out: abort the connection so the client
					// cannot mistake a truncated body for a complete one.
					panic(http.ErrAbortHandler)
				}
				writeInternal(w, id)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// writeInternal writes the 500 response, dropping headers that described the lost body.
func writeInternal(w http.ResponseWriter, id string) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Content-Disposition", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusInternalServerError)
	body := internalBody{Errors: []internalError{{
		Message:    "internal error",
		Extensions: internalExtensions{Code: "INTERNAL", RequestID: id},
	}}}
	_ = json.NewEncoder(w).Encode(body)
}
