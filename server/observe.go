package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Observer receives what the server measures, for metrics (package metrics implements it).
// Its labels are bounded: routes are a fixed set, classes the planner's, reasons auth's.
type Observer interface {
	Request(route, class, tenant string, status int, d time.Duration)
	DocCache(hit bool)
	AuthFailure(reason string)
}

// Measure reports every request's route, class, tenant, status and duration to o; it must sit
// inside AccessLog, whose attributes (class, tenant) it reads. A nil o measures nothing.
func Measure(o Observer, now func() time.Time) Middleware {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			sw := &statusWriter{ResponseWriter: w}
			status := 0
			defer func() {
				if status = sw.status; status == 0 {
					status = http.StatusOK
				}
				class, tenant := logAttr(r.Context(), "class"), logAttr(r.Context(), "tenant")
				o.Request(Route(r.URL.Path), class, tenant, status, now().Sub(start))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// logAttr returns the string value of a SetLogAttrs attribute, or "".
func logAttr(ctx context.Context, key string) string {
	la, _ := ctx.Value(logAttrsKey{}).(*logAttrs)
	if la == nil {
		return ""
	}
	for _, a := range la.list() {
		if a.Key == key && a.Value.Kind() == slog.KindString {
			return a.Value.String()
		}
	}
	return ""
}

// Route maps a path to the bounded route label of metrics: /graphql, /export, /readyz, /healthz,
// /admin (every admin route), / (GraphiQL and its assets) or other.
func Route(path string) string {
	switch {
	case path == "/graphql", path == "/export", path == "/readyz", path == "/healthz":
		return path
	case strings.HasPrefix(path, "/export/"):
		return "/export"
	case strings.HasPrefix(path, "/admin/"):
		return "/admin"
	case path == "/", strings.HasPrefix(path, "/graphiql/"):
		return "/"
	}
	return "other"
}
