package server

import (
	"net/http"
	"testing"
)

// TestInFlightPerCredential: a credential at its bound is refused with a 429 that says when to
// retry, while another credential is served; a finished request frees its slot.
func TestInFlightPerCredential(t *testing.T) {
	f := newInFlight(0, 2)
	var done []func()
	for range 2 {
		d, err := f.enterAs("a")
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, d)
	}
	_, err := f.enterAs("a")
	c := classify(err)
	h := http.Header{}
	c.headers(err, h)
	if c.status != http.StatusTooManyRequests || c.code != "RATE_LIMITED" || h.Get("Retry-After") != "1" {
		t.Fatalf("third request of a: %v → %d %s Retry-After %q, want 429 RATE_LIMITED Retry-After 1", err, c.status, c.code, h.Get("Retry-After"))
	}
	if d, err := f.enterAs("b"); err != nil {
		t.Errorf("another credential is refused: %v", err)
	} else {
		d()
	}
	done[0]()
	if d, err := f.enterAs("a"); err != nil {
		t.Errorf("a finished request did not free its slot: %v", err)
	} else {
		d()
	}
	done[1]()
	if len(f.counts) != 0 {
		t.Errorf("counts left behind: %v", f.counts)
	}
}
