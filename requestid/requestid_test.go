package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/requestid"
)

func TestNew(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 100 {
		id := requestid.New()
		if !shape.MatchString(id) {
			t.Fatalf("New() = %q, want 26 lowercase base32 characters", id)
		}
		if !requestid.Valid(id) {
			t.Fatalf("Valid(New()) = false for %q", id)
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"generated", "k3j5h2m4n6p7q2r3s4t5u6v7w2", true},
		{"uuid", "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f", true},
		{"all punctuation", "a.b_c:d-e", true},
		{"one char", "x", true},
		{"max length", strings.Repeat("a", 128), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "abc def", false},
		{"tab", "abc\tdef", false},
		{"newline", "abc\ndef", false},
		{"nul", "abc\x00", false},
		{"double quote", `abc"def`, false},
		{"single quote", "abc'def", false},
		{"slash", "abc/def", false},
		{"equals", "a=b", false},
		{"unicode", "abcé", false},
		{"fullwidth digit", "１２３", false},
		{"invalid utf8", "ab\xff", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := requestid.Valid(tc.in); got != tc.want {
				t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestWithFrom(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"absent", context.Background(), ""},
		{"present", requestid.With(context.Background(), "abc"), "abc"},
		{"overridden", requestid.With(requestid.With(context.Background(), "a"), "b"), "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, requestid.From(tc.ctx)); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	withID := requestid.With(context.Background(), "req-1")
	tests := []struct {
		name string
		ctx  context.Context
		log  func(*slog.Logger, context.Context)
		want map[string]any
	}{
		{
			name: "no id",
			ctx:  context.Background(),
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "a", 1) },
			want: map[string]any{"msg": "m", "a": 1.0},
		},
		{
			name: "id added",
			ctx:  withID,
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "a", 1) },
			want: map[string]any{"msg": "m", "a": 1.0, "requestId": "req-1"},
		},
		{
			name: "with attrs",
			ctx:  withID,
			log:  func(l *slog.Logger, ctx context.Context) { l.With("svc", "x").InfoContext(ctx, "m") },
			want: map[string]any{"msg": "m", "svc": "x", "requestId": "req-1"},
		},
		{
			name: "group stays nested, id stays top level",
			ctx:  withID,
			log: func(l *slog.Logger, ctx context.Context) {
				l.With("svc", "x").WithGroup("g").With("in", "y").WithGroup("h").InfoContext(ctx, "m", "z", 2)
			},
			want: map[string]any{
				"msg": "m", "svc": "x", "requestId": "req-1",
				"g": map[string]any{"in": "y", "h": map[string]any{"z": 2.0}},
			},
		},
		{
			name: "empty group name is ignored",
			ctx:  withID,
			log:  func(l *slog.Logger, ctx context.Context) { l.WithGroup("").InfoContext(ctx, "m") },
			want: map[string]any{"msg": "m", "requestId": "req-1"},
		},
		{
			name: "explicit id is not duplicated",
			ctx:  withID,
			log:  func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "requestId", "own") },
			want: map[string]any{"msg": "m", "requestId": "own"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			inner := slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
						return slog.Attr{}
					}
					return a
				},
			})
			tc.log(slog.New(requestid.Handler{Handler: inner}), tc.ctx)
			if n := strings.Count(buf.String(), `"requestId"`); n > 1 {
				t.Errorf("requestId appears %d times in %s", n, buf.String())
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", buf.String(), err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerEnabled(t *testing.T) {
	inner := slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn})
	h := slog.Handler(requestid.Handler{Handler: inner}).WithGroup("g")
	got := []bool{h.Enabled(context.Background(), slog.LevelInfo), h.Enabled(context.Background(), slog.LevelError)}
	if diff := cmp.Diff([]bool{false, true}, got); diff != "" {
		t.Errorf("Enabled (-want +got):\n%s", diff)
	}
}
