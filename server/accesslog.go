package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/viewgate/viewgate/requestid"
)

type logAttrsKey struct{}

// logAttrs collects attributes that handlers deeper in the chain add to the access log line.
type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// SetLogAttrs adds attrs (such as tenant and credential) to the request's access log line,
// replacing earlier attributes with the same key; it does nothing outside AccessLog.
func SetLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	la, _ := ctx.Value(logAttrsKey{}).(*logAttrs)
	if la == nil {
		return
	}
	la.mu.Lock()
	defer la.mu.Unlock()
	for _, a := range attrs {
		la.set(a)
	}
}

func (la *logAttrs) set(a slog.Attr) {
	for i := range la.attrs {
		if la.attrs[i].Key == a.Key {
			la.attrs[i] = a
			return
		}
	}
	la.attrs = append(la.attrs, a)
}

func (la *logAttrs) list() []slog.Attr {
	la.mu.Lock()
	defer la.mu.Unlock()
	return append([]slog.Attr(nil), la.attrs...)
}

// AccessLog logs one line per request with its method, path (never the query string, which may
// hold a query with values), status, bytes, durationMs, requestId, remote and whatever
// SetLogAttrs added; a request whose handler panics is logged with status 0 and "panic": true.
func AccessLog(log *slog.Logger, now func() time.Time) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			la := &logAttrs{}
			ctx := context.WithValue(r.Context(), logAttrsKey{}, la)
			sw := &statusWriter{ResponseWriter: w}
			panicked := true
			defer func() {
				status := sw.status
				if status == 0 && !panicked {
					status = http.StatusOK // net/http sends 200 for a handler that wrote nothing
				}
				attrs := []slog.Attr{
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Int64("bytes", sw.bytes),
					slog.Float64("durationMs", float64(now().Sub(start).Microseconds())/1000),
					slog.String(requestid.Key, requestid.From(ctx)),
					slog.String("remote", r.RemoteAddr),
				}
				if trace := requestid.TraceFrom(ctx); trace != "" {
					attrs = append(attrs, slog.String(requestid.TraceKey, trace))
				}
				if panicked {
					attrs = append(attrs, slog.Bool("panic", true))
				}
				// Straight to the handler, with no caller's PC: Logger.LogAttrs walks the stack
				// for one, which the line does not show.
				if h := log.Handler(); h.Enabled(ctx, slog.LevelInfo) {
					rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
					rec.AddAttrs(append(attrs, la.list()...)...)
					_ = h.Handle(ctx, rec)
				}
			}()
			next.ServeHTTP(sw, r.WithContext(ctx))
			panicked = false
		})
	}
}
