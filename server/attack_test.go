package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type noResolvers struct{}

func (noResolvers) Connection(*views.View) graphql.FieldResolveFn    { return nil }
func (noResolvers) RawConnection(*views.View) graphql.FieldResolveFn { return nil }
func (noResolvers) RateLimit() graphql.FieldResolveFn                { return nil }

func demoSchema(t testing.TB) *graphql.Schema {
	t.Helper()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.New(cat, noResolvers{})
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

// repeat joins n items made by f with sep.
func repeat(n int, sep string, f func(i int) string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(f(i))
	}
	return b.String()
}

// TestDocumentAttacks sends the documents that made validation quadratic (thousands of unknown
// arguments, variable definitions, directives, conflicting aliases) and documents as big as the
// body limit: each is refused by a bound before graphql-go does much, with at most a few errors.
// The CPU bound is 20× the 50 ms target, so that a loaded machine or -race cannot fail it; the
// quadratic cases took 4 to 20 s.
func TestDocumentAttacks(t *testing.T) {
	sch := demoSchema(t)
	lim := Limits{MaxDepth: 12, MaxFields: 300}
	mib := 1 << 20
	cases := []struct {
		name, query, refusedBy string
	}{
		{"unknown arguments", "{ invoices(" + repeat(4999, ", ", func(i int) string { return fmt.Sprintf("a%d: 1", i) }) + ") { totalCount } }", "arguments, directives, variables"},
		{"unknown arguments under the node bound", "{ invoices(" + repeat(2400, ", ", func(i int) string { return fmt.Sprintf("a%d: 1", i) }) + ") { totalCount } }", "Unknown argument"},
		{"variable definitions", "query(" + repeat(4000, " ", func(i int) string { return fmt.Sprintf("$v%d: Int", i) }) + ") { __typename }", "more than 100 variables"},
		{"unused variables under the bound", "query(" + repeat(100, " ", func(i int) string { return fmt.Sprintf("$v%d: Int", i) }) + ") { __typename }", "is never used"},
		{"directives", "{ __typename " + repeat(2000, " ", func(int) string { return "@skip(if: false)" }) + " }", "arguments, directives, variables"},
		{"unknown directives", "{ __typename " + repeat(4000, " ", func(i int) string { return fmt.Sprintf("@d%d", i) }) + " }", "Unknown directive"},
		{"conflicting aliases", "{ " + repeat(150, " ", func(i int) string { return fmt.Sprintf("a: invoices(first: %d) { totalCount }", i) }) + " }", "conflict"},
		{"conflicts through fragments", "{ " + repeat(9, " ", func(i int) string { return fmt.Sprintf("...F%d", i) }) + " } " +
			repeat(9, " ", func(i int) string {
				return fmt.Sprintf("fragment F%d on Query { a: invoices(first: %d) { totalCount } }", i, i)
			}), "conflict"},
		{"one fragment spread many times", "{ " + repeat(300, " ", func(int) string { return "...F" }) + " } fragment F on Query { __typename }", "more than 100 times"},
		{"a megabyte of aliases", "{ " + repeat(mib/16, " ", func(i int) string { return fmt.Sprintf("a%d: __typename", i) }) + " }", "tokens"},
		{"a megabyte of list items", `{ invoices(where: {status: {in: [` + repeat(mib/4, ",", func(int) string { return `"x"` }) + "]}}) { totalCount } }", "tokens"},
		{"a megabyte of comment", "#" + strings.Repeat("x", mib) + "\n{ __typename " + repeat(299, " ", func(i int) string { return fmt.Sprintf("a%d: __typename", i) }) + " }", ""},
		{"a megabyte string", `{ invoices(search: "` + strings.Repeat("x", mib) + `") { totalCount } }`, ""},
		{"a megabyte of nesting", strings.Repeat("{", mib), "nested deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := cpuTime()
			d, err := prepare(context.Background(), sch, tc.query, lim)
			used := cpuTime() - start
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d KiB: %v of CPU", len(tc.query)>>10, used)
			if used > time.Second {
				t.Errorf("preparing took %v of CPU, over the 1 s bound", used)
			}
			if len(d.errs) > maxValidationErrors {
				t.Errorf("%d errors, want at most %d", len(d.errs), maxValidationErrors)
			}
			if tc.refusedBy == "" {
				if d.errs != nil {
					t.Errorf("refused: %s", d.errs[0].Message)
				}
				return
			}
			if d.errs == nil || !strings.Contains(d.errs[0].Message, tc.refusedBy) {
				t.Errorf("errors %v, want the first to say %q", d.errs, tc.refusedBy)
			}
		})
	}
}

// TestPrepareCancelled: preparation stops when the request's context ends, and says so.
func TestPrepareCancelled(t *testing.T) {
	sch := demoSchema(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := prepare(ctx, sch, "{ invoices { totalCount } }", Limits{MaxDepth: 12, MaxFields: 300})
	if !errors.Is(err, context.Canceled) || d != nil {
		t.Fatalf("prepare = %v, %v; want no document and context.Canceled", d, err)
	}
}

// TestDocumentWeight keeps bytesPerToken honest: the memory a cached document holds is within
// a factor of two of its estimate, for the shapes that hold the most per byte of text.
func TestDocumentWeight(t *testing.T) {
	sch := demoSchema(t)
	lim := Limits{MaxDepth: 12, MaxFields: 300}
	shapes := map[string]string{
		"list literals": `{ invoices(where: {status: {in: [` + repeat(4900, ",", func(int) string { return `"a"` }) + "]}}) { totalCount } }",
		"aliases":       "{ " + repeat(140, " ", func(i int) string { return fmt.Sprintf("a%d: invoices(first: 1) { totalCount }", i) }) + " }",
		"objects":       `{ invoices(where: {or: [` + repeat(240, ",", func(int) string { return `{status: {eq: "a"}}` }) + "]}) { totalCount } }",
	}
	for name, q := range shapes {
		t.Run(name, func(t *testing.T) {
			const n = 20
			docs := make([]*document, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range docs {
				d, err := prepare(context.Background(), sch, q, lim)
				if err != nil || d.errs != nil {
					t.Fatalf("prepare: %v %v", err, d.errs)
				}
				docs[i] = d
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := int(after.HeapAlloc-before.HeapAlloc) / n
			runtime.KeepAlive(docs)
			est := docs[0].weight
			t.Logf("%d bytes of text: holds %d bytes, estimated %d", len(q), held, est)
			if held > 2*est || est > 4*held {
				t.Errorf("holds %d bytes, estimated %d: adjust bytesPerToken", held, est)
			}
		})
	}
}
