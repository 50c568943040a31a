// Package requestid carries a request's id through contexts and log lines.
package requestid

import (
	"context"
	"crypto/rand"
	"strings"
)

// MaxLen is the longest id Valid accepts from a caller.
const MaxLen = 128

type ctxKey struct{}

// New returns a fresh id: 128 random bits as 26 lowercase base32 characters.
func New() string {
	return strings.ToLower(rand.Text())
}

// Valid reports whether s may be used as a request id: 1 to MaxLen characters of [A-Za-z0-9._:-].
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowed(s[i]) {
			return false
		}
	}
	return true
}

// allowed is a byte test rather than a rune test: any byte of a multi-byte
// UTF-8 sequence is >= 0x80 and so is refused.
func allowed(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == ':', c == '-':
		return true
	}
	return false
}

// With returns a copy of ctx that carries id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id carried by ctx, or "" when there is none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

type traceKey struct{}

// WithTrace returns a copy of ctx that carries a W3C trace id (32 lower-case hex digits).
func WithTrace(ctx context.Context, traceID string) context.Context {
	return context.WithValue(ctx, traceKey{}, traceID)
}

// TraceFrom returns the trace id carried by ctx, or "" when there is none.
func TraceFrom(ctx context.Context) string {
	id, _ := ctx.Value(traceKey{}).(string)
	return id
}

// ParseTraceparent returns the trace id of a W3C traceparent header value
// ("00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"), or "" if it is not valid: a
// version other than 00 is read by the version 00 layout when it has at least its fields, as
// the specification asks, and all-zero ids or version ff are invalid.
func ParseTraceparent(v string) string {
	if len(v) < 55 || (len(v) > 55 && (v[:2] == "00" || v[55] != '-')) {
		return ""
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' || v[:2] == "ff" {
		return ""
	}
	version, trace, parent, flags := v[:2], v[3:35], v[36:52], v[53:55]
	if !lowerHex(version) || !lowerHex(trace) || !lowerHex(parent) || !lowerHex(flags) {
		return ""
	}
	if strings.Trim(trace, "0") == "" || strings.Trim(parent, "0") == "" {
		return ""
	}
	return trace
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
