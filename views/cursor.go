package views

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"math"
)

// ErrBadCursor is wrapped by every error about an after argument.
var ErrBadCursor = fault.New(fault.BadUserInput, "bad cursor")

const (
	cursorVersion = 1
	macSize       = 16
	maxCursorLen  = 8192
)

// Cursors signs and checks the opaque pagination cursors.
//
// A cursor is base64url(version ‖ HMAC-SHA256(secret, payload)[:16] ‖ payload), where the payload
// is JSON naming the view, the ordering, a hash of the filter and tenant, and the key values of
// the last row. A cursor is only accepted for the query that issued it.
type Cursors struct{ secret []byte }

// NewCursors returns a signer; secret must hold at least 32 bytes.
func NewCursors(secret []byte) (*Cursors, error) {
	if len(secret) < 32 {
		return nil, errors.New("cursor secret: need at least 32 bytes")
	}
	return &Cursors{secret: bytes.Clone(secret)}, nil
}

type cursorPayload struct {
	View   string `json:"w"`
	Order  string `json:"o"`
	Scope  string `json:"s"`
	Values []any  `json:"k"`
}

func (c *Cursors) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte{cursorVersion})
	m.Write(payload)
	return m.Sum(nil)[:macSize]
}

// encode returns the cursor for the row values of a statement's ordering terms.
func (c *Cursors) encode(st *Statement, row []any) string {
	p := cursorPayload{View: st.view.Field, Order: st.orderSig, Scope: st.cursorScope(), Values: make([]any, len(st.Terms))}
	for i, t := range st.Terms {
		p.Values[i] = cursorValue(t.Column, row[st.termIndex[i]])
	}
	return c.seal(p)
}

// seal signs and encodes a payload whose values are already in their JSON forms.
func (c *Cursors) seal(p cursorPayload) string {
	payload, _ := json.Marshal(p) // values are strings, numbers, bools and nils
	buf := append([]byte{cursorVersion}, c.mac(payload)...)
	return base64.RawURLEncoding.EncodeToString(append(buf, payload...))
}

// decode checks a cursor against the query it is used with and returns the values of its
// ordering terms in normal form; every failure wraps ErrBadCursor.
func (c *Cursors) decode(s string, view *View, terms []OrderTerm, orderSig, scope string) ([]any, error) {
	cols := make([]*Column, len(terms))
	for i, t := range terms {
		cols[i] = view.byName[t.Column]
	}
	return c.open(s, view.Field, orderSig, scope, cols)
}

// open checks a cursor issued for the root field name, the ordering orderSig and the scope,
// and returns its values in the normal forms of cols; every failure wraps ErrBadCursor.
func (c *Cursors) open(s, name, orderSig, scope string, cols []*Column) ([]any, error) {
	if len(s) > maxCursorLen {
		return nil, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 1+macSize+2 {
		return nil, fmt.Errorf("%w: not a cursor issued by this server", ErrBadCursor)
	}
	if raw[0] != cursorVersion {
		return nil, fmt.Errorf("%w: unsupported cursor version %d", ErrBadCursor, raw[0])
	}
	payload := raw[1+macSize:]
	if !hmac.Equal(raw[1:1+macSize], c.mac(payload)) {
		return nil, fmt.Errorf("%w: signature does not match (tampered, or issued by another server)", ErrBadCursor)
	}
	var p cursorPayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: malformed payload", ErrBadCursor)
	}
	switch {
	case p.View != name:
		return nil, fmt.Errorf("%w: issued for %s, not %s", ErrBadCursor, p.View, name)
	case p.Order != orderSig:
		return nil, fmt.Errorf("%w: issued for another orderBy", ErrBadCursor)
	case p.Scope != scope:
		return nil, fmt.Errorf("%w: issued for another where, search or caller", ErrBadCursor)
	case len(p.Values) != len(cols):
		return nil, fmt.Errorf("%w: wrong number of values", ErrBadCursor)
	}
	out := make([]any, len(cols))
	for i, col := range cols {
		if p.Values[i] == nil {
			if !col.IsNullable() {
				return nil, fmt.Errorf("%w: NULL for %s, which the catalog declares NOT NULL", ErrBadCursor, col.Name)
			}
			continue
		}
		v := p.Values[i]
		if f, ok := nonFinite(col, v); ok {
			out[i] = f
			continue
		}
		if n, ok := v.(json.Number); ok {
			v = jsonNumber(col, n)
		}
		if out[i], err = parseValue(col, v); err != nil {
			return nil, fmt.Errorf("%w: value %d: %w", ErrBadCursor, i, err)
		}
	}
	return out, nil
}

// jsonNumber keeps integers exact when a cursor is decoded.
func jsonNumber(c *Column, n json.Number) any {
	if c.Type == Int {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	f, _ := n.Float64()
	return f
}

// nonFinite decodes the strings a cursor uses for float values JSON cannot hold.
func nonFinite(c *Column, v any) (float64, bool) {
	s, ok := v.(string)
	if !ok || c.Type != Float {
		return 0, false
	}
	switch s {
	case "NaN":
		return math.NaN(), true
	case "+Inf":
		return math.Inf(1), true
	case "-Inf":
		return math.Inf(-1), true
	}
	return 0, false
}
