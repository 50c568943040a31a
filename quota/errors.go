package quota

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/viewgate/viewgate/fault"
)

// ErrCostOverLimit is wrapped by a *CostError: the request costs more than a window's whole limit.
var ErrCostOverLimit = fault.New(fault.QueryTooComplex, "quota: request cost is over a window's whole limit")

// ErrUnavailable is wrapped by an *UnavailableError: the shared store (Redis) failed and
// on_redis_error is closed.
var ErrUnavailable = fault.Hidden(fault.Unavailable, "quota: store unavailable", "the quota store is unavailable; retry later")

// WindowConcurrency is the Window of an ExceededError refused by a concurrency cap, and WindowAuth
// that of one refused by the authentication-failure limit (whose Scope is ScopeClient).
const (
	WindowConcurrency = "concurrency"
	WindowAuth        = "auth"
	ScopeClient       = "client"
)

// ExceededError is a request refused because a window has too little left (HTTP 429). Its message is
// safe to show the client: it names no tenant, credential or key.
type ExceededError struct {
	Class      Class         // "" for the authentication-failure limit
	Scope      string        // ScopeTenant, ScopeCredential or ScopeClient
	Window     string        // WindowBurst, WindowSustained, WindowConcurrency, WindowAuth or WindowRows
	Limit      int64         // the window's limit (cost units; requests for concurrency and auth)
	Remaining  int64         // what is left in the window
	Cost       int64         // what the request would have cost
	Period     time.Duration // the window's length (0 for concurrency)
	ResetAt    time.Time     // when the window ends
	RetryAfter time.Duration // whole seconds, at least 1s
}

// Error describes the refusal for the client.
func (e *ExceededError) Error() string {
	retry := int64(e.RetryAfter / time.Second)
	switch e.Window {
	case WindowConcurrency:
		return fmt.Sprintf("too many %s requests of this %s at once (at most %d); retry in %ds", e.Class, e.Scope, e.Limit, retry)
	case WindowRows:
		return fmt.Sprintf("the export rows budget is spent: this %s may export %d rows per UTC day; retry in %ds", e.Scope, e.Limit, retry)
	case WindowAuth:
		return fmt.Sprintf("too many failed authentications from this client (at most %d per %s); retry in %ds", e.Limit, formatPeriod(e.Period), retry)
	}
	return fmt.Sprintf("%s quota exceeded: this %s's %s window allows %d units per %s, %d left and this request costs %d; retry in %ds",
		e.Class, e.Scope, e.Window, e.Limit, formatPeriod(e.Period), e.Remaining, e.Cost, retry)
}

// CostError is a request whose cost is over a window's whole limit, so it can never pass however
// long the client waits (the HTTP layer maps it to 400 QUERY_TOO_COMPLEX). It wraps ErrCostOverLimit.
type CostError struct {
	Class  Class
	Scope  string
	Window string
	Cost   int64
	Limit  int64
	Period time.Duration
}

// Error describes the refusal for the client.
func (e *CostError) Error() string {
	return fmt.Sprintf("this %s request costs %d units, more than this %s's whole %s limit of %d per %s: ask for fewer rows or fewer fields per request",
		e.Class, e.Cost, e.Scope, e.Window, e.Limit, formatPeriod(e.Period))
}

// Unwrap returns ErrCostOverLimit.
func (e *CostError) Unwrap() error { return ErrCostOverLimit }

// UnavailableError is a request refused because the shared store failed under on_redis_error:
// closed (HTTP 503 with Retry-After). It wraps ErrUnavailable and the store's error, which may name
// the Redis address (never its password) and belongs in the log, not in the response.
type UnavailableError struct {
	RetryAfter time.Duration
	Err        error
}

// Error describes the failure for the log.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v: %v", ErrUnavailable, e.Err)
}

// Unwrap returns ErrUnavailable and the store's error.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Code, SetHeaders and Extensions put an ExceededError in the error vocabulary: 429
// RATE_LIMITED with Retry-After, and what was exceeded in the GraphQL error's extensions.
func (e *ExceededError) Code() fault.Code { return fault.RateLimited }

// PublicMessage is "": the message is written for the client.
func (e *ExceededError) PublicMessage() string { return "" }

// SetHeaders sets Retry-After in whole seconds.
func (e *ExceededError) SetHeaders(h http.Header) {
	h.Set("Retry-After", strconv.FormatInt(int64(max(e.RetryAfter, time.Second)/time.Second), 10))
}

// Extensions are the class, scope, window, limit, remaining, cost and resetAt of the refusal.
func (e *ExceededError) Extensions() map[string]any {
	ext := map[string]any{"scope": e.Scope, "window": e.Window, "limit": e.Limit, "remaining": e.Remaining,
		"resetAt": e.ResetAt.UTC().Format(time.RFC3339), "retryAfterSeconds": int64(max(e.RetryAfter, time.Second) / time.Second)}
	if e.Class != "" {
		ext["class"] = string(e.Class)
	}
	if e.Cost > 0 {
		ext["cost"] = e.Cost
	}
	return ext
}

// Extensions of a CostError say which window can never fit the request.
func (e *CostError) Extensions() map[string]any {
	return map[string]any{"class": string(e.Class), "scope": e.Scope, "window": e.Window, "limit": e.Limit, "cost": e.Cost}
}

// SetHeaders sets Retry-After in whole seconds.
func (e *UnavailableError) SetHeaders(h http.Header) {
	h.Set("Retry-After", strconv.FormatInt(int64(max(e.RetryAfter, time.Second)/time.Second), 10))
}

// formatPeriod writes a window length like 10s, 1m or 1h.
func formatPeriod(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
