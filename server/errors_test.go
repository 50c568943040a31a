package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/resolvers"
	"github.com/viewgate/viewgate/views"
)

// TestClassify pins the error table: status, code, and whether the error's own text may reach
// the client. Wrapped errors classify like their sentinel.
func TestClassify(t *testing.T) {
	secret := "postgres://viewgate:hunter2@db/erp SELECT secret_column"
	cases := []struct {
		err    error
		status int
		code   string
		shown  bool
	}{
		{auth.ErrNoCredentials, 401, "UNAUTHENTICATED", true},
		{fmt.Errorf("x: %w", auth.ErrUnknownKey), 401, "UNAUTHENTICATED", true},
		{fmt.Errorf("%w: invoices", resolvers.ErrForbidden), 403, "FORBIDDEN", true},
		{fmt.Errorf("%w: x", views.ErrBadFilter), 400, "BAD_USER_INPUT", true},
		{fmt.Errorf("%w: x", views.ErrBadCursor), 400, "BAD_USER_INPUT", true},
		{fmt.Errorf("%w: x", views.ErrBadPageSize), 400, "BAD_USER_INPUT", true},
		{errTooComplex, 400, "QUERY_TOO_COMPLEX", true},
		{errWrite, 400, "WRITE_REFUSED", true},
		{fmt.Errorf("%s: %w", secret, replica.ErrWriteRefused), 400, "WRITE_REFUSED", false},
		{fmt.Errorf("%s: %w", secret, replica.ErrTimeout), 504, "TIMEOUT", false},
		{fmt.Errorf("%s: %w", secret, replica.ErrUnavailable), 503, "UNAVAILABLE", false},
		{errBodyTooLarge, 413, "BAD_USER_INPUT", true},
		{fmt.Errorf("query x: %w", context.Canceled), 499, "CANCELLED", false},
		{fmt.Errorf("source s: %w: tenant t (%v)", replica.ErrTenantBusy, context.DeadlineExceeded), 503, "UNAVAILABLE", false},
		{errors.New(secret), 500, "INTERNAL", false},
	}
	for _, tc := range cases {
		t.Run(tc.code+"/"+tc.err.Error(), func(t *testing.T) {
			c := classify(tc.err)
			if c.status != tc.status || string(c.code) != tc.code {
				t.Fatalf("classify = %d %s, want %d %s", c.status, c.code, tc.status, tc.code)
			}
			msg := c.message(tc.err)
			if shown := msg == tc.err.Error(); shown != tc.shown {
				t.Errorf("message %q: shown=%v, want %v", msg, shown, tc.shown)
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "SELECT") {
				t.Errorf("message leaks internals: %q", msg)
			}
			if ErrorCode(tc.err) != tc.code {
				t.Errorf("ErrorCode = %s", ErrorCode(tc.err))
			}
		})
	}
	if rank(http.StatusUnauthorized) <= rank(http.StatusBadRequest) || rank(http.StatusBadRequest) <= rank(http.StatusInternalServerError) {
		t.Error("rank: 401 must outrank 400, and 400 must outrank 500")
	}
}
