package quota

import (
	"errors"
	"fmt"
	"time"
)

// ErrCostOverLimit is wrapped by a *CostError: the request costs more than a window's whole limit.
var ErrCostOverLimit = errors.New("quota: request cost is over a window's whole limit")

// ErrUnavailable is wrapped by an *UnavailableError: the shared store (Redis) failed and
// on_redis_error is closed.
var ErrUnavailable = errors.New("quota: store unavailable")

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
	Window     string        // WindowBurst, WindowSustained, WindowConcurrency or WindowAuth
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
