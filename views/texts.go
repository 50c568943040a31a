package views

import (
	"sync"

	sq "github.com/Masterminds/squirrel"
)

// The statement text cache. squirrel's SelectBuilder (an immutable map per call) was a tenth of
// a list request's CPU, yet for one view, projection, ordering and predicate text it always
// writes the same SQL, and its arguments are the predicate's followed by the LIMIT. So a builder
// remembers the text squirrel wrote, keyed by exactly those inputs, and a request whose
// predicates render to a text seen before only renders its predicates (sq.And.ToSql) and binds
// its own arguments. The key holds no value: values are always placeholders, so one tenant's
// text serves another's with that tenant's own arguments.

// maxTexts bounds the texts a builder remembers; when full it starts over.
const maxTexts = 4096

// textKey is everything a cached statement's text depends on besides the dialect (one per
// builder): the view, which statement, the selected columns and ordering terms (as catalog
// positions, with the direction), and the predicates' text with '?' placeholders.
type textKey struct {
	view  *View
	kind  byte   // 's' page, 'c' count
	cols  string // 2 bytes per column: its position in the view
	terms string // 3 bytes per term: position and direction
	pred  string
}

type textCache struct {
	mu sync.Mutex
	m  map[textKey]string
}

func (c *textCache) get(k textKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

func (c *textCache) put(k textKey, sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxTexts {
		c.m = make(map[textKey]string)
	}
	c.m[k] = sql
}

// positions encodes columns by their position in their view.
func positions(cols []*Column) string {
	b := make([]byte, 0, 2*len(cols))
	for _, c := range cols {
		b = append(b, byte(c.index>>8), byte(c.index))
	}
	return string(b)
}

func termPositions(terms []Term) string {
	b := make([]byte, 0, 3*len(terms))
	for _, t := range terms {
		dir := byte(0)
		if t.Desc {
			dir = 1
		}
		b = append(b, byte(t.Column.index>>8), byte(t.Column.index), dir)
	}
	return string(b)
}

// cached returns the SQL and arguments of a statement whose predicates are pred and whose
// remaining arguments are tail: from the cache when k (with pred's text) was built before,
// else from build, whose text is remembered when its arguments are pred's followed by tail.
func (b *Builder) cached(k textKey, pred sq.And, tail []any, build func() (string, []any, error)) (string, []any, error) {
	var args []any
	if len(pred) > 0 {
		text, pargs, err := pred.ToSql()
		if err != nil {
			return "", nil, err
		}
		k.pred, args = text, pargs
	}
	args = append(args, tail...)
	if sql, ok := b.texts.get(k); ok {
		return sql, args, nil
	}
	sql, built, err := build()
	if err != nil {
		return "", nil, err
	}
	if sameArgs(built, args) {
		b.texts.put(k, sql)
	}
	return sql, built, nil
}

// sameArgs reports whether a and b hold the same arguments, comparing only what == can
// compare (lists are checked for length): a guard that the text's arguments are the ones
// the cache binds, not a proof.
func sameArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case string, int, int64, float64, bool, nil:
			if x != b[i] {
				return false
			}
		}
	}
	return true
}
