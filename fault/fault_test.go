package fault

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	errBad    = New(BadUserInput, "bad filter")
	errHidden = Hidden(Timeout, "replica: statement timeout on db1 (SELECT secret)", "the query took too long")
)

type limited struct{ retry string }

func (l *limited) Error() string              { return "quota spent" }
func (l *limited) Code() Code                 { return RateLimited }
func (l *limited) PublicMessage() string      { return "" }
func (l *limited) SetHeaders(h http.Header)   { h.Set("Retry-After", l.retry) }
func (l *limited) Extensions() map[string]any { return map[string]any{"class": "search"} }

func TestCodeAndMessage(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code Code
		msg  string
	}{
		{"sentinel", errBad, BadUserInput, "bad filter"},
		{"wrapped sentinel shows its whole text", fmt.Errorf("where: %w: status", errBad), BadUserInput, "where: bad filter: status"},
		{"hidden shows its public sentence", fmt.Errorf("query x: %w: pq: boom", errHidden), Timeout, "the query took too long"},
		{"outermost code wins, hidden text stays hidden", fmt.Errorf("%w: %w", errBad, errHidden), BadUserInput, "the query took too long"},
		{"joined", errors.Join(errors.New("plain"), errHidden), Timeout, "the query took too long"},
		{"uncoded is internal", errors.New("pq: secret"), Internal, "fallback"},
		{"custom type", fmt.Errorf("charge: %w", &limited{"3"}), RateLimited, "charge: quota spent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf = %s, want %s", got, tc.code)
			}
			if got := Message(tc.err, "fallback"); got != tc.msg {
				t.Errorf("Message = %q, want %q", got, tc.msg)
			}
		})
	}
}

func TestHeadersAndExtensions(t *testing.T) {
	err := fmt.Errorf("outer: %w", errors.Join(&limited{"7"}, fmt.Errorf("inner: %w", &limited{"9"})))
	h := http.Header{}
	Headers(err, h)
	if got := h.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want the outermost error's 7", got)
	}
	if diff := cmp.Diff(map[string]any{"class": "search"}, Extensions(err)); diff != "" {
		t.Errorf("Extensions (-want +got):\n%s", diff)
	}
	if Extensions(errBad) != nil {
		t.Error("a plain sentinel has no extensions")
	}
	h = http.Header{}
	Headers(errBad, h)
	if len(h) != 0 {
		t.Errorf("a plain sentinel set headers: %v", h)
	}
}
