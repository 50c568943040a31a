package plan

import (
	"fmt"
	"math"

	"github.com/viewgate/viewgate/fault"
)

// rowsPerUnit is how many requested rows cost one unit, as in GitHub's GraphQL API.
const rowsPerUnit = 100

// FieldCost is the cost formula of a root field: weight × (pages + (1 if totalCount)), at
// least weight × 1, where pages = max(1, ceil(rows/100)) when a page is selected, else 0. A
// weight below 1 counts as 1; the result saturates at the largest int.
func FieldCost(weight, rows int, page, totalCount bool) int {
	units := 0
	if page {
		units = 1
		if rows > rowsPerUnit {
			units = rows / rowsPerUnit
			if rows%rowsPerUnit != 0 {
				units++
			}
		}
	}
	if totalCount {
		units++
	}
	return mulSat(max(weight, 1), max(units, 1))
}

// addSat adds two non-negative ints, saturating at the largest int.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// mulSat multiplies two positive ints, saturating at the largest int.
func mulSat(a, b int) int {
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

// Budget bounds one request; a zero field means no limit.
type Budget struct {
	MaxCost       int // the plan's Cost
	MaxRootFields int // root fields that are not free (rateLimit and introspection do not count)
	MaxRows       int // the plan's Rows: requested rows summed over the fields that select a page
}

// ErrOverBudget is wrapped by every error of Check.
var ErrOverBudget = fault.New(fault.QueryTooComplex, "request over budget")

// BudgetError says which limit of a Budget a plan exceeds; it wraps ErrOverBudget.
type BudgetError struct {
	Limit string // "root fields", "rows" or "cost"
	Value int    // the plan's value
	Max   int    // the limit
}

func (e *BudgetError) Error() string {
	what := fmt.Sprintf("cost %d", e.Value)
	fix := "lower first (the page size), select totalCount less often, or split the request"
	switch e.Limit {
	case "root fields":
		what = fmt.Sprintf("%d root fields", e.Value)
		fix = "split the request into several smaller ones"
	case "rows":
		what = fmt.Sprintf("%d requested rows (first, summed over the connections)", e.Value)
		fix = "lower first or the number of connections, and page with after"
	}
	return fmt.Sprintf("%v: %s, over the maximum of %d per request; %s", ErrOverBudget, what, e.Max, fix)
}

func (e *BudgetError) Unwrap() error { return ErrOverBudget }

// Check returns a *BudgetError (wrapping ErrOverBudget) for the first limit of b the plan
// exceeds, checked in the order root fields, rows, cost; nil when it fits.
func (p *Plan) Check(b Budget) error {
	if n := p.RootFields(); b.MaxRootFields > 0 && n > b.MaxRootFields {
		return &BudgetError{Limit: "root fields", Value: n, Max: b.MaxRootFields}
	}
	if b.MaxRows > 0 && p.Rows > b.MaxRows {
		return &BudgetError{Limit: "rows", Value: p.Rows, Max: b.MaxRows}
	}
	if b.MaxCost > 0 && p.Cost > b.MaxCost {
		return &BudgetError{Limit: "cost", Value: p.Cost, Max: b.MaxCost}
	}
	return nil
}
