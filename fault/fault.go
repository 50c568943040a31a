// Package fault is viewgate's one error vocabulary: an error carries its code from where it is
// born, and the HTTP edge (package server) maps codes to status codes in one table.
package fault

import (
	"errors"
	"net/http"
)

// Code is what a client reads in a GraphQL error's extensions.code.
type Code string

// The codes. Every error a client can see has one of them; an error with none is Internal.
const (
	Unauthenticated Code = "UNAUTHENTICATED"   // no, bad or expired credential
	Forbidden       Code = "FORBIDDEN"         // authenticated, but not allowed
	BadUserInput    Code = "BAD_USER_INPUT"    // the request is wrong and retrying it unchanged fails again
	QueryTooComplex Code = "QUERY_TOO_COMPLEX" // over a document limit or the request budget
	WriteRefused    Code = "WRITE_REFUSED"     // a mutation, or the database refused a write
	RateLimited     Code = "RATE_LIMITED"      // a quota is spent; retry after Retry-After
	Timeout         Code = "TIMEOUT"           // a statement or the request ran out of time
	Unavailable     Code = "UNAVAILABLE"       // no database (or quota store) to answer; retry later
	Cancelled       Code = "CANCELLED"         // the client went away
	Internal        Code = "INTERNAL"          // anything else: a bug
)

// Coder is an error that knows its code.
type Coder interface {
	error
	Code() Code
}

// Publisher is an error that says what a client may read of it: PublicMessage returns the
// sentence to show, or "" when the error's own message is safe to show as is.
type Publisher interface {
	PublicMessage() string
}

// Headerer is an error that sets response headers of its own, such as Retry-After.
type Headerer interface {
	SetHeaders(h http.Header)
}

// Extender is an error that adds members to the GraphQL error's extensions, besides code.
type Extender interface {
	Extensions() map[string]any
}

// kind is a sentinel error with a code.
type kind struct {
	code   Code
	msg    string
	public string // what a client reads; "" = msg and whatever wraps it are safe to show
}

func (k *kind) Error() string         { return k.msg }
func (k *kind) Code() Code            { return k.code }
func (k *kind) PublicMessage() string { return k.public }

// New returns a sentinel error with code and message; errors.Is matches it through any wrapping,
// and its message, with what wraps it, is shown to clients.
func New(code Code, msg string) error { return &kind{code: code, msg: msg} }

// Hidden is New for errors whose text may hold details a client must not read (driver messages,
// source names): clients read public instead.
func Hidden(code Code, msg, public string) error { return &kind{code: code, msg: msg, public: public} }

// CodeOf returns the code of the outermost coded error in err's chain, or Internal.
func CodeOf(err error) Code {
	var c Coder
	if errors.As(err, &c) {
		return c.Code()
	}
	return Internal
}

// Message returns what a client may read of err: its whole text when a coded error is in its
// chain and no error there hides its text, else the public sentence of the first error that
// hides its text, else (no code at all) fallback.
func Message(err error, fallback string) string {
	coded := false
	for e := range chain(err) {
		if p, ok := e.(Publisher); ok {
			if m := p.PublicMessage(); m != "" {
				return m
			}
		}
		if _, ok := e.(Coder); ok {
			coded = true
		}
	}
	if coded {
		return err.Error()
	}
	return fallback
}

// Headers sets the headers that errors in err's chain carry (the outermost wins per header).
func Headers(err error, h http.Header) {
	var hs []Headerer
	for e := range chain(err) {
		if x, ok := e.(Headerer); ok {
			hs = append(hs, x)
		}
	}
	for i := len(hs) - 1; i >= 0; i-- {
		hs[i].SetHeaders(h)
	}
}

// Extensions returns the extensions the outermost Extender in err's chain adds, or nil.
func Extensions(err error) map[string]any {
	var x Extender
	if errors.As(err, &x) {
		return x.Extensions()
	}
	return nil
}

// chain yields err and every error it wraps, depth first, as errors.As walks them.
func chain(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			for e != nil {
				if !yield(e) {
					return false
				}
				switch u := e.(type) {
				case interface{ Unwrap() error }:
					e = u.Unwrap()
				case interface{ Unwrap() []error }:
					for _, inner := range u.Unwrap() {
						if !walk(inner) {
							return false
						}
					}
					return true
				default:
					return true
				}
			}
			return true
		}
		walk(err)
	}
}
