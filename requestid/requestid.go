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
