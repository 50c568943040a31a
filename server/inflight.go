package server

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/viewgate/viewgate/fault"
)

// inFlight bounds the requests served at once, overall and per credential, so that many or
// slow clients cannot pile up handlers, connections and buffered answers without end.
type inFlight struct {
	all    chan struct{} // nil: no overall bound
	max    int           // per credential; 0: no bound
	mu     sync.Mutex
	counts map[string]int
}

func newInFlight(all, perPrincipal int) *inFlight {
	f := &inFlight{max: perPrincipal, counts: map[string]int{}}
	if all > 0 {
		f.all = make(chan struct{}, all)
	}
	return f
}

// enter takes an overall slot, or returns errBusy at once when none is free.
func (f *inFlight) enter() (done func(), err error) {
	if f.all == nil {
		return func() {}, nil
	}
	select {
	case f.all <- struct{}{}:
		return func() { <-f.all }, nil
	default:
		return nil, fmt.Errorf("%w (%d requests)", errBusy, cap(f.all))
	}
}

// enterAs takes one of credential's slots, or returns a RATE_LIMITED error at once.
func (f *inFlight) enterAs(credential string) (done func(), err error) {
	if f.max <= 0 {
		return func() {}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts[credential] >= f.max {
		return nil, &tooManyInFlight{max: f.max}
	}
	f.counts[credential]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.counts[credential]--; f.counts[credential] == 0 {
			delete(f.counts, credential)
		}
	}, nil
}

// tooManyInFlight is the 429 of a credential over its in-flight bound.
type tooManyInFlight struct{ max int }

func (e *tooManyInFlight) Error() string {
	return fmt.Sprintf("this credential already has %d requests in flight; wait for one to finish", e.max)
}
func (e *tooManyInFlight) Code() fault.Code         { return fault.RateLimited }
func (e *tooManyInFlight) PublicMessage() string    { return "" }
func (e *tooManyInFlight) SetHeaders(h http.Header) { h.Set("Retry-After", "1") }
func (e *tooManyInFlight) Extensions() map[string]any {
	return map[string]any{"limit": e.max, "window": "concurrency"}
}
