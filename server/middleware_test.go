package server_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/server"
)

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[a-z2-7]{26}$`)
	tests := []struct {
		name     string
		header   []string // X-Request-ID values sent
		wantEcho string   // "" means a generated id is expected
	}{
		{"valid echoed", []string{"abc-123.x_y:z"}, "abc-123.x_y:z"},
		{"uuid echoed", []string{"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"}, "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"},
		{"missing generated", nil, ""},
		{"empty replaced", []string{""}, ""},
		{"space replaced", []string{"abc def"}, ""},
		{"quote replaced", []string{`a"b`}, ""},
		{"unicode replaced", []string{"идентификатор"}, ""},
		{"too long replaced", []string{strings.Repeat("a", 129)}, ""},
		{"first of several", []string{"first", "second"}, "first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var inCtx string
			h := server.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = requestid.From(r.Context())
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tc.header {
				r.Header.Add("X-Request-ID", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			echo := w.Header().Get("X-Request-ID")
			if tc.wantEcho == "" {
				if !generated.MatchString(echo) {
					t.Errorf("echoed id = %q, want a generated one", echo)
				}
			} else if diff := cmp.Diff(tc.wantEcho, echo); diff != "" {
				t.Errorf("echoed id (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(echo, inCtx); diff != "" {
				t.Errorf("context id differs from echoed id (-echo +ctx):\n%s", diff)
			}
		})
	}
}

func TestChain(t *testing.T) {
	var order []string
	mark := func(name string) server.Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	tests := []struct {
		name string
		m    []server.Middleware
		want []string
	}{
		{"none", nil, []string{"handler"}},
		{"first is outermost", []server.Middleware{mark("a"), mark("b"), mark("c")}, []string{"a", "b", "c", "handler"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			order = nil
			h := server.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				order = append(order, "handler")
			}), tc.m...)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			if diff := cmp.Diff(tc.want, order); diff != "" {
				t.Errorf("call order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		max       int64
		wantRead  string
		wantLimit int64 // the Limit of the *http.MaxBytesError, 0 for none
	}{
		{"under", "hello", 10, "hello", 0},
		{"exactly", "hello", 5, "hello", 0},
		{"over", "hello world", 5, "hello", 5},
		{"empty", "", 5, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var read string
			var limit int64
			h := server.BodyLimit(tc.max)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				read = string(b)
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					limit = mbe.Limit
				} else if err != nil {
					t.Errorf("read body: %v", err)
				}
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tc.body)))
			if diff := cmp.Diff(tc.wantRead, read); diff != "" {
				t.Errorf("body read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLimit, limit); diff != "" {
				t.Errorf("MaxBytesError.Limit (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHeaderNamesCanonical checks that the header names the request path sets and reads are
// spelled as net/http canonicalizes them (which costs an allocation per use otherwise), and
// that each is the field its documentation names.
func TestHeaderNamesCanonical(t *testing.T) {
	tests := []struct{ got, field string }{
		{server.RequestIDHeader, "X-Request-ID"},
		{server.TraceparentHeader, "traceparent"},
		{auth.KeyHeader, "X-API-Key"},
		{quota.PolicyHeader, "RateLimit-Policy"},
		{quota.StateHeader, "RateLimit"},
	}
	for _, tt := range tests {
		if want := http.CanonicalHeaderKey(tt.field); tt.got != want {
			t.Errorf("header %s is spelled %q, want net/http's canonical %q", tt.field, tt.got, want)
		}
		if n := testing.AllocsPerRun(10, func() { _ = http.CanonicalHeaderKey(tt.got) }); n != 0 {
			t.Errorf("canonicalizing %q allocates %v times", tt.got, n)
		}
	}
}
