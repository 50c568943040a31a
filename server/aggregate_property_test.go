package server_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

// TestAggregateProperty is issue 10's property, on every engine: for random filters and
// searches, the totals and the per-status groups of invoicesAggregate equal what paging
// through the same rows with invoices and adding them up exactly (math/big) gives, for each
// tenant, and every row paged is, in the demo data, the tenant's own; so a tenant's totals
// never include another tenant's rows. Every aggregate statement is one SELECT whose values
// are all placeholders.
func TestAggregateProperty(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	inv := cat.View("invoices")
	tenantOf := map[string]string{}
	for _, i := range demo.Generate().Invoices {
		tenantOf[fmt.Sprint(i.ID)] = i.TenantID
	}
	n := 25
	if testing.Short() {
		n = 6
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			s := newStack(t, engine)
			for i := range n {
				g := &docGen{r: rand.New(rand.NewPCG(uint64(i), 10)), cat: cat}
				var args []string
				switch {
				case i%4 == 3: // anything the schema allows, hostile text included: mostly no rows
					args = append(args, "where: "+g.where(inv, 2))
				case i > 0:
					args = append(args, "where: "+plausibleWhere(g.r))
				}
				if g.pick(5) == 0 {
					args = append(args, "search: "+g.text())
				}
				for key, tenant := range map[string]string{"acme": demo.TenantAcme, "globex": demo.TenantGlobex} {
					rows := pageAll(t, s, key, strings.Join(args, ", "))
					for _, r := range rows {
						if tenantOf[r.ID] != tenant {
							t.Fatalf("seed %d: %s paged invoice %s of tenant %q", i, key, r.ID, tenantOf[r.ID])
						}
					}
					before := s.qlog.Len()
					got := aggregateOf(t, s, key, strings.Join(args, ", "))
					if diff := cmp.Diff(expectedAggregate(rows), got); diff != "" {
						t.Fatalf("seed %d, %s, %v: aggregate differs from the rows added up (-want +got):\n%s", i, key, args, diff)
					}
					for _, sql := range loggedSQL(t, s.qlog.Bytes()[before:]) {
						checkAggregateSelect(t, sql, g.literals)
					}
				}
			}
		})
	}
}

// plausibleWhere is a random filter that matches some of the demo's invoices, often many.
func plausibleWhere(r *rand.Rand) string {
	terms := map[string]string{}
	for range 1 + r.IntN(2) {
		switch r.IntN(7) {
		case 0:
			var in []string
			for _, st := range []string{"draft", "issued", "paid", "void"} {
				if r.IntN(2) == 0 {
					in = append(in, jsonString(st))
				}
			}
			terms["status"] = "{in: [" + strings.Join(append(in, `"paid"`), ", ") + "]}"
		case 1:
			terms["amount"] = fmt.Sprintf(`{gte: "%d.%02d"}`, r.IntN(3000), r.IntN(100))
		case 2:
			from := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(900*24)) * time.Hour)
			to := from.Add(time.Duration(1+r.IntN(300*24)) * time.Hour)
			terms["issuedAt"] = fmt.Sprintf(`{gte: %q, lt: %q}`, from.Format(time.RFC3339), to.Format(time.RFC3339))
		case 3:
			terms["customerName"] = fmt.Sprintf("{lt: %q}", []string{"D", "M", "T", "Zo", "Ö", "é"}[r.IntN(6)])
		case 4:
			terms["dueDate"] = fmt.Sprintf("{isNull: %v}", r.IntN(2) == 0)
		case 5:
			terms["currency"] = []string{`{eq: "EUR"}`, `{in: ["USD", "SEK"]}`, `{in: ["GBP", "USD"]}`}[r.IntN(3)]
		case 6:
			terms["or"] = fmt.Sprintf(`[{status: {eq: "paid"}}, {amount: {lt: "%d"}}]`, r.IntN(2000))
		}
	}
	var parts []string
	for k, v := range terms {
		parts = append(parts, k+": "+v)
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// pagedRow is one invoice as the list returns it.
type pagedRow struct {
	ID, Status, Amount, CustomerName, IssuedAt string
	LineCount                                  int64
	DueDate                                    *string
}

// pageAll reads every invoice matching args, 500 a page.
func pageAll(t *testing.T, s *stack, key, args string) []pagedRow {
	t.Helper()
	if args != "" {
		args = ", " + args
	}
	q := `query($after: String) { invoices(first: 500, after: $after` + args + `) {
		nodes { id status amount customerName issuedAt lineCount dueDate } pageInfo { hasNextPage endCursor } } }`
	var rows []pagedRow
	var after *string
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("paging does not end")
		}
		var res struct {
			Invoices struct {
				Nodes    []pagedRow
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		queryData(t, s, key, q, map[string]any{"after": after}, &res)
		rows = append(rows, res.Invoices.Nodes...)
		if !res.Invoices.PageInfo.HasNextPage {
			return rows
		}
		after = res.Invoices.PageInfo.EndCursor
	}
}

// aggResult is the part of invoicesAggregate the property compares.
type aggResult struct {
	Totals aggTotals
	Groups []aggGroup
}

type aggTotals struct {
	Count int64
	Sum   struct{ Amount, LineCount *string }
	Avg   struct{ Amount, LineCount *string }
	Min   struct{ Amount, CustomerName, IssuedAt, DueDate *string }
	Max   struct{ Amount, CustomerName, IssuedAt, DueDate *string }
}

type aggGroup struct {
	Key   struct{ Status *string }
	Count int64
	Sum   struct{ Amount *string }
	Avg   struct{ Amount *string }
	Min   struct{ CustomerName *string }
	Max   struct{ IssuedAt *string }
}

func aggregateOf(t *testing.T, s *stack, key, args string) aggResult {
	t.Helper()
	if args != "" {
		args = ", " + args
	}
	q := `{ invoicesAggregate(groupBy: [{field: STATUS}], first: 100` + args + `) {
		totals { count sum { amount lineCount } avg { amount lineCount }
			min { amount customerName issuedAt dueDate } max { amount customerName issuedAt dueDate } }
		groups { key { status } count sum { amount } avg { amount } min { customerName } max { issuedAt } } } }`
	var res struct{ InvoicesAggregate aggResult }
	queryData(t, s, key, q, nil, &res)
	return res.InvoicesAggregate
}

// queryData sends a query and decodes its data into out; any error fails the test.
func queryData(t *testing.T, s *stack, key, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	rec := s.do(t, "POST", "application/json", key, strings.NewReader(string(body)), "")
	var res struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 || len(res.Errors) > 0 {
		t.Fatalf("%d %.600s\n%s", rec.Code, rec.Body.String(), query)
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		t.Fatal(err)
	}
}

// expectedAggregate adds rows up exactly, as the aggregate must: groups by status in code-point
// order, NULLs ignored, averages rounded half away from zero to scale + 4.
func expectedAggregate(rows []pagedRow) aggResult {
	out := aggResult{Totals: totalsOf(rows), Groups: []aggGroup{}}
	byStatus := map[string][]pagedRow{}
	for _, r := range rows {
		byStatus[r.Status] = append(byStatus[r.Status], r)
	}
	statuses := make([]string, 0, len(byStatus))
	for st := range byStatus {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses) // Go compares strings byte by byte: code-point order for UTF-8
	for _, st := range statuses {
		tot := totalsOf(byStatus[st])
		var g aggGroup
		g.Key.Status, g.Count = &st, tot.Count
		g.Sum.Amount, g.Avg.Amount = tot.Sum.Amount, tot.Avg.Amount
		g.Min.CustomerName, g.Max.IssuedAt = tot.Min.CustomerName, tot.Max.IssuedAt
		out.Groups = append(out.Groups, g)
	}
	return out
}

func totalsOf(rows []pagedRow) aggTotals {
	var t aggTotals
	t.Count = int64(len(rows))
	if len(rows) == 0 {
		return t
	}
	amount, lines := new(big.Rat), new(big.Int)
	var amounts, names, issued, due []string
	for _, r := range rows {
		a, _ := new(big.Rat).SetString(r.Amount)
		amount.Add(amount, a)
		lines.Add(lines, big.NewInt(r.LineCount))
		amounts, names, issued = append(amounts, r.Amount), append(names, r.CustomerName), append(issued, r.IssuedAt)
		if r.DueDate != nil {
			due = append(due, *r.DueDate)
		}
	}
	n := big.NewRat(int64(len(rows)), 1)
	t.Sum.Amount, t.Sum.LineCount = ptr(amount.FloatString(2)), ptr(lines.String())
	t.Avg.Amount = ptr(roundHalfAway(new(big.Rat).Quo(amount, n), 6))
	t.Avg.LineCount = ptr(roundHalfAway(new(big.Rat).Quo(new(big.Rat).SetInt(lines), n), 4))
	byRat := func(a, b string) int {
		x, _ := new(big.Rat).SetString(a)
		y, _ := new(big.Rat).SetString(b)
		return x.Cmp(y)
	}
	byTime := func(a, b string) int {
		x, _ := time.Parse(time.RFC3339Nano, a)
		y, _ := time.Parse(time.RFC3339Nano, b)
		return x.Compare(y)
	}
	t.Min.Amount, t.Max.Amount = ptr(slices.MinFunc(amounts, byRat)), ptr(slices.MaxFunc(amounts, byRat))
	t.Min.CustomerName, t.Max.CustomerName = ptr(slices.Min(names)), ptr(slices.Max(names))
	t.Min.IssuedAt, t.Max.IssuedAt = ptr(slices.MinFunc(issued, byTime)), ptr(slices.MaxFunc(issued, byTime))
	if len(due) > 0 { // dates as YYYY-MM-DD compare as text
		t.Min.DueDate, t.Max.DueDate = ptr(slices.Min(due)), ptr(slices.Max(due))
	}
	return t
}

// roundHalfAway formats r with places decimals, rounding half away from zero.
func roundHalfAway(r *big.Rat, places int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	num := new(big.Int).Mul(new(big.Int).Abs(r.Num()), scale)
	den := r.Denom()
	q := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(num, big.NewInt(2)), den), new(big.Int).Mul(den, big.NewInt(2)))
	s := fmt.Sprintf("%0*s", places+1, q.String())
	s = s[:len(s)-places] + "." + s[len(s)-places:]
	if r.Sign() < 0 && strings.Trim(s, "0.") != "" {
		s = "-" + s
	}
	return s
}

func ptr[T any](v T) *T { return &v }

var (
	boundLimit    = regexp.MustCompile(` LIMIT (\?|\$[0-9]+)$`)
	backtickIdent = regexp.MustCompile("`(?:[^`]|``)*`")
)

// checkAggregateSelect: one SELECT ending in a bound LIMIT, no statement separator or comment,
// and, outside quoted identifiers, none of the text values the query sent.
func checkAggregateSelect(t *testing.T, sql string, literals []string) {
	t.Helper()
	if !strings.HasPrefix(sql, "SELECT ") || !boundLimit.MatchString(sql) {
		t.Errorf("not a SELECT with a bound LIMIT: %s", sql)
	}
	if strings.Contains(sql, ";") || strings.Contains(sql, "--") || strings.Contains(sql, "/*") {
		t.Errorf("a separator or comment: %s", sql)
	}
	bare := backtickIdent.ReplaceAllString(quotedIdent.ReplaceAllString(sql, "x"), "x")
	for _, lit := range literals {
		if len(lit) >= 3 && strings.Contains(bare, lit) {
			t.Errorf("the value %q is in the SQL: %s", lit, sql)
		}
	}
}

func TestRoundHalfAway(t *testing.T) {
	for in, want := range map[string]string{"1/3": "0.3333", "2/3": "0.6667", "1/8": "0.1250", "-1/8": "-0.1250",
		"5/100000": "0.0001", "-5/100000": "-0.0001", "4/100000": "0.0000", "-4/100000": "0.0000", "7": "7.0000"} {
		r, _ := new(big.Rat).SetString(in)
		if got := roundHalfAway(r, 4); got != want {
			t.Errorf("roundHalfAway(%s) = %s, want %s", in, got, want)
		}
	}
}
