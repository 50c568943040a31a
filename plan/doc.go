// Package plan computes what a validated GraphQL document will cost, per root field, before it runs.
//
// New walks the chosen operation's root selection set (inline fragments and fragment spreads
// expanded, @skip and @include honoured, fields with one response key merged) and gives every
// root field its view, class, requested rows and whether totalCount and a page are selected.
//
// # Classes
//
// A root field of a view is in class search when it has a non-empty search argument or its
// where argument, at any depth of and, or and not, literal or from variables, uses a
// text-matching operator (startsWith, contains); otherwise it is lookup. Report (aggregates)
// and export are set through Options.ClassOf. The free root fields rateLimit, __typename,
// __schema and __type have no class and cost nothing.
//
// # Cost
//
// A root field's cost is, in the manner of GitHub's GraphQL API:
//
//	weight(class) × (pages + (1 if totalCount is selected)), at least weight(class) × 1
//	pages = max(1, ceil(rows / 100)) when nodes, edges or pageInfo are selected, else 0
//
// where rows is first, or min(DefaultPageSize, the view's max_page_size) when first is absent or
// null, and weight(class) is Options.Weights[class], 1 when missing or below 1. FieldCost is that
// formula. For example, with the weights {search: 3}:
//
//	{ invoices(first: 250) { totalCount nodes { id } } }                      lookup 1 × (3 + 1) = 4
//	{ invoices(search: "acme") { nodes { id } } }                             search 3 × 1       = 3
//	{ a: invoices(first: 500) { nodes { id } } b: invoices { totalCount } }   5 + 1              = 6
//
// A root field for which Options.ScanUnits returns n > 0 (an aggregate) costs weight(class) × n
// instead, whatever it selects, and requests no rows: its work is the rows it scans, which are
// unknown before it runs, not the groups it returns.
//
// A plan's cost is the sum over its root fields. All arithmetic saturates at the largest int,
// so no document or variable can make a cost wrap around.
package plan
