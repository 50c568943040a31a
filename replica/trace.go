package replica

import (
	"context"
	"strings"
)

// Trace names a statement to the database and learns where it ran, in the manner of
// net/http/httptrace: the caller puts one on the context it passes to Query and reads it when
// Query returns. The router writes it from the goroutine that called Query.
type Trace struct {
	// Label identifies the statement to a DBA while it runs: Postgres's application_name, set
	// for the transaction in the same round trip as the statement, and a leading comment on
	// MySQL/MariaDB (SHOW PROCESSLIST). Bytes outside [A-Za-z0-9 ._:=/-] become '_', and it is
	// cut to MaxLabel bytes. "" sends nothing.
	Label string
	// Replica is set by Router.Query to the name of the replica (or fallback) that ran the
	// statement, the second one when it was retried; Source.Query sets its source name.
	Replica string
}

// MaxLabel is the longest label sent: Postgres keeps 63 bytes of application_name.
const MaxLabel = 63

type traceKey struct{}

// WithTrace returns ctx carrying t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func traceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// labelOf returns the cleaned label of ctx's trace, or "".
func labelOf(ctx context.Context) string {
	t := traceFrom(ctx)
	if t == nil || t.Label == "" {
		return ""
	}
	return cleanLabel(t.Label)
}

// cleanLabel keeps a label harmless in a comment and in application_name: no "*/", no quote,
// no newline, only printable ASCII.
func cleanLabel(s string) string {
	if len(s) > MaxLabel {
		s = s[:MaxLabel]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case strings.ContainsRune(" ._:=/-", r):
			return r
		}
		return '_'
	}, s)
}

// ran records on ctx's trace that the statement ran on name.
func ran(ctx context.Context, name string) {
	if t := traceFrom(ctx); t != nil {
		t.Replica = name
	}
}
