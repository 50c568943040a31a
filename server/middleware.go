package server

import (
	"net/http"

	"github.com/viewgate/viewgate/requestid"
)

// RequestIDHeader is the header a caller may set, and the server echoes, to name a request:
// X-Request-ID, spelled as net/http canonicalizes it, so looking it up costs no allocation.
const RequestIDHeader = "X-Request-Id"

// Middleware wraps a handler with behaviour shared by every request.
type Middleware func(http.Handler) http.Handler

// Chain returns h wrapped by m, the first middleware outermost: Chain(h, a, b) is a(b(h)).
// A sound order is RequestID, AccessLog, Recover, BodyLimit, so the access log sees the 500
// that Recover writes and both carry the request id.
func Chain(h http.Handler, m ...Middleware) http.Handler {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// TraceparentHeader is the W3C Trace Context header (traceparent) whose trace id is logged
// beside the requestId, spelled canonically like RequestIDHeader.
const TraceparentHeader = "Traceparent"

// RequestID puts the caller's X-Request-ID in the request context if requestid.Valid accepts
// it, and a new id otherwise, and echoes the id in the response header. The trace id of a
// valid W3C traceparent goes into the context too (an invalid one is ignored, as the
// specification asks), so every log line of the request carries it.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !requestid.Valid(id) {
			id = requestid.New()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx := requestid.With(r.Context(), id)
		if tp := r.Header.Values(TraceparentHeader); len(tp) == 1 {
			if trace := requestid.ParseTraceparent(tp[0]); trace != "" {
				ctx = requestid.WithTrace(ctx, trace)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// BodyLimit caps each request body at max bytes with http.MaxBytesReader: a read past the cap
// fails with *http.MaxBytesError, which the GraphQL handler answers with 413.
func BodyLimit(max int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}
