package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

// TestPropertyOnlySelects is the read-only property of issue 3: random valid GraphQL documents
// over the demo catalog (random fields, filters from each column's allowed operators, orderings,
// aliases, fragments, directives, search, values full of SQL) run through the real stack on
// SQLite; every statement the query log records must be one SELECT over catalog identifiers with
// every value a placeholder.
func TestPropertyOnlySelects(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, "sqlite")
	idents := catalogIdents(cat)
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		g := &docGen{r: rand.New(rand.NewPCG(uint64(i), 3)), cat: cat}
		doc := g.document()
		before := s.qlog.Len()
		rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(`{"query": `+jsonString(doc)+`}`), "")
		if rec.Code != 200 || strings.Contains(rec.Body.String(), `"errors"`) {
			t.Fatalf("seed %d: a valid document failed: %d %.600s\n%s", i, rec.Code, rec.Body.String(), doc)
		}
		stmts := loggedSQL(t, s.qlog.Bytes()[before:])
		if len(stmts) < g.roots {
			t.Fatalf("seed %d: %d statements logged for %d root fields\n%s", i, len(stmts), g.roots, doc)
		}
		for _, sql := range stmts {
			if problem := checkSelect(sql, idents, g.literals); problem != "" {
				t.Fatalf("seed %d: %s\nSQL: %s\ndocument: %s", i, problem, sql, doc)
			}
		}
	}
}

// loggedSQL returns the sql of every query-log line in b.
func loggedSQL(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			SQL string `json:"sql"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("query log line: %v: %s", err, sc.Text())
		}
		out = append(out, e.SQL)
	}
	return out
}

// catalogIdents is every identifier SQL may quote: relations, columns and tenant columns.
func catalogIdents(cat *views.Catalog) map[string]bool {
	ids := map[string]bool{}
	for _, v := range cat.Views {
		for _, part := range strings.Split(v.Relation, ".") {
			ids[part] = true
		}
		ids[v.TenantColumn] = true
		for _, c := range v.Columns {
			ids[c.Name] = true
		}
	}
	return ids
}

var (
	quotedIdent = regexp.MustCompile(`"((?:[^"]|"")*)"`)
	numberLit   = regexp.MustCompile(`\b[0-9]+\b`)
	writeWord   = regexp.MustCompile(`(?i)\b(INSERT|UPDATE|DELETE|MERGE|DROP|CREATE|ALTER|TRUNCATE|GRANT|REVOKE|ATTACH|DETACH|PRAGMA|VACUUM|REPLACE|INTO|SET|CALL|EXEC|COPY|LOAD)\b`)
)

// checkSelect returns what is wrong with sql, or "": it must be one SELECT statement, quote only
// catalog identifiers, hold no string literal and no ";", and contain none of the values sent.
func checkSelect(sql string, idents map[string]bool, literals []string) string {
	if !strings.HasPrefix(sql, "SELECT ") {
		return "the statement is not a SELECT"
	}
	// The builder's one literal is the LIKE escape character, the same in every statement.
	sql = strings.ReplaceAll(sql, "ESCAPE '!'", "ESCAPE x")
	if strings.ContainsAny(sql, ";'`\\") || strings.Contains(sql, "--") || strings.Contains(sql, "/*") {
		return "the statement holds a ; quote, backslash or comment"
	}
	for _, m := range quotedIdent.FindAllStringSubmatch(sql, -1) {
		if !idents[m[1]] {
			return fmt.Sprintf("quoted identifier %q is not in the catalog", m[1])
		}
	}
	bare := quotedIdent.ReplaceAllString(sql, "x")
	if w := writeWord.FindString(bare); w != "" {
		return fmt.Sprintf("the statement contains %q outside identifiers", w)
	}
	if strings.Count(bare, "SELECT ") != strings.Count(bare, "(SELECT ")+1 {
		return "more than one top-level SELECT"
	}
	if !strings.HasPrefix(bare, "SELECT COUNT(*) FROM ") && !strings.HasSuffix(bare, " LIMIT ?") {
		return "a row query without a bound LIMIT"
	}
	if n := numberLit.FindString(bare); n != "" {
		return fmt.Sprintf("numeric literal %s in the statement (values must be placeholders)", n)
	}
	for _, lit := range literals {
		if len(lit) >= 3 && strings.Contains(bare, lit) {
			return fmt.Sprintf("the value %q appears in the SQL text", lit)
		}
	}
	return ""
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// docGen writes one random valid document over the catalog, for a caller with every role.
type docGen struct {
	r         *rand.Rand
	cat       *views.Catalog
	roots     int      // root fields written
	literals  []string // text values sent, which must never reach SQL text
	fragments []string
	aliases   int
}

func (g *docGen) pick(n int) int { return g.r.IntN(n) }

func (g *docGen) document() string {
	var b strings.Builder
	b.WriteString("query Q {")
	g.roots = 1 + g.pick(3)
	for i := range g.roots {
		v := g.cat.Views[g.pick(len(g.cat.Views))]
		fmt.Fprintf(&b, " r%d: %s%s { %s }", i, v.Field, g.args(v), g.connection(v))
	}
	b.WriteString(" }")
	for _, f := range g.fragments {
		b.WriteString(" " + f)
	}
	return b.String()
}

func (g *docGen) args(v *views.View) string {
	var args []string
	if g.pick(2) == 0 {
		args = append(args, fmt.Sprintf("first: %d", g.pick(min(v.MaxPageSize, 60)+1)))
	}
	if g.pick(3) > 0 {
		args = append(args, "where: "+g.where(v, 2))
	}
	if g.pick(2) == 0 {
		args = append(args, "orderBy: "+g.orderBy(v))
	}
	if len(v.Search) > 0 && g.pick(4) == 0 {
		args = append(args, "search: "+g.text())
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

func (g *docGen) where(v *views.View, depth int) string {
	var terms []string
	used := map[string]bool{} // input object fields must be unique
	for range 1 + g.pick(3) {
		var t string
		switch k := g.pick(6); {
		case depth > 0 && k == 0:
			t = fmt.Sprintf("and: [%s, %s]", g.where(v, depth-1), g.where(v, depth-1))
		case depth > 0 && k == 1:
			t = fmt.Sprintf("or: [%s]", g.where(v, depth-1))
		case depth > 0 && k == 2:
			t = "not: " + g.where(v, depth-1)
		default:
			t = g.filter(v)
		}
		if key, _, _ := strings.Cut(t, ":"); !used[key] {
			used[key] = true
			terms = append(terms, t)
		}
	}
	return "{" + strings.Join(terms, ", ") + "}"
}

// filter returns "field: {op: value}" for a random filterable column, or "".
func (g *docGen) filter(v *views.View) string {
	var cols []*views.Column
	for _, c := range v.Columns {
		if len(c.Filter) > 0 {
			cols = append(cols, c)
		}
	}
	c := cols[g.pick(len(cols))]
	op := c.Filter[g.pick(len(c.Filter))]
	var val string
	switch op {
	case views.IsNull:
		val = []string{"true", "false"}[g.pick(2)]
	case views.In, views.NotIn:
		var items []string
		for range 1 + g.pick(3) {
			items = append(items, g.value(c.Type))
		}
		val = "[" + strings.Join(items, ", ") + "]"
	default:
		val = g.value(c.Type)
	}
	return fmt.Sprintf("%s: {%s: %s}", c.Field, op, val)
}

// value returns a GraphQL literal of type t.
func (g *docGen) value(t views.Type) string {
	switch t {
	case views.Int:
		return fmt.Sprint(g.r.Int32N(1000) - 10)
	case views.BigInt:
		return jsonString(fmt.Sprint(g.r.Int64N(1 << 40)))
	case views.Decimal:
		return jsonString(fmt.Sprintf("%d.%02d", g.r.IntN(100000), g.r.IntN(100)))
	case views.Float:
		return fmt.Sprintf("%.3f", g.r.Float64()*100)
	case views.Bool:
		return []string{"true", "false"}[g.pick(2)]
	case views.Date:
		return jsonString(fmt.Sprintf("20%02d-%02d-%02d", 10+g.pick(20), 1+g.pick(12), 1+g.pick(28)))
	case views.Timestamp:
		return jsonString(fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:00Z", 10+g.pick(20), 1+g.pick(12), 1+g.pick(28), g.pick(24), g.pick(60)))
	case views.UUID:
		return jsonString(fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", g.r.Uint32(), g.pick(1<<16), g.pick(1<<12), g.pick(1<<12), g.r.Uint64()&(1<<48-1)))
	}
	return g.text()
}

// hostile are text values that would break a statement built by pasting strings.
var hostile = []string{`'; DROP TABLE erp_invoice; --`, `" OR 1=1 --`, `%_!\`, `ACM-`, `Hämäläinen`, `x') UNION SELECT * FROM erp_customer --`,
	"tab\tnew\nline", `/* c */`, `$1`, `?`, `😀`, `paid`}

func (g *docGen) text() string {
	s := hostile[g.pick(len(hostile))]
	if g.pick(3) == 0 {
		s = fmt.Sprintf("%s%d", s, g.pick(1000))
	}
	g.literals = append(g.literals, s)
	return jsonString(s)
}

func (g *docGen) orderBy(v *views.View) string {
	var terms []string
	used := map[string]bool{}
	for range 1 + g.pick(3) {
		c := v.Columns[g.pick(len(v.Columns))]
		if !(c.Sort || slices.Contains(v.Key, c.Name)) || used[c.Name] {
			continue
		}
		used[c.Name] = true
		dir := []string{"", ", direction: ASC", ", direction: DESC"}[g.pick(3)]
		terms = append(terms, fmt.Sprintf("{field: %s%s}", strings.ToUpper(c.Name), dir))
	}
	return "[" + strings.Join(terms, ", ") + "]"
}

// connection selects from a connection: nodes, edges, pageInfo and totalCount, with fragments.
func (g *docGen) connection(v *views.View) string {
	parts := []string{"nodes { " + g.nodeFields(v) + " }"}
	if g.pick(3) == 0 {
		parts = append(parts, "edges { cursor node { "+g.nodeFields(v)+" } }")
	}
	if g.pick(2) == 0 {
		parts = append(parts, "totalCount")
	}
	if g.pick(3) == 0 {
		parts = append(parts, "pageInfo { hasNextPage endCursor }")
	}
	if g.pick(4) == 0 {
		name := fmt.Sprintf("C%d", len(g.fragments))
		g.fragments = append(g.fragments, fmt.Sprintf("fragment %s on %sConnection { %s }", name, v.Name, strings.Join(parts, " ")))
		return "..." + name
	}
	return strings.Join(parts, " ")
}

// nodeFields selects random columns, with aliases, directives and fragments.
func (g *docGen) nodeFields(v *views.View) string {
	var fields []string
	for range 1 + g.pick(5) {
		c := v.Columns[g.pick(len(v.Columns))]
		f := c.Field
		switch g.pick(6) {
		case 0:
			g.aliases++
			f = fmt.Sprintf("a%d: %s", g.aliases, f)
		case 1:
			f += []string{" @include(if: true)", " @include(if: false)", " @skip(if: true)", " @skip(if: false)"}[g.pick(4)]
		}
		fields = append(fields, f)
	}
	fields = append(fields, "id") // every demo view has one, so the selection is never empty
	switch g.pick(4) {
	case 0:
		return "... on " + v.Name + " { " + strings.Join(fields, " ") + " }"
	case 1:
		name := fmt.Sprintf("N%d", len(g.fragments))
		g.fragments = append(g.fragments, fmt.Sprintf("fragment %s on %s { %s }", name, v.Name, strings.Join(fields, " ")))
		return "..." + name + " __typename"
	}
	return strings.Join(fields, " ")
}

// TestCheckSelectCatches makes sure the property's checker refuses what it must.
func TestCheckSelectCatches(t *testing.T) {
	ids := map[string]bool{"v_invoices": true, "id": true, "tenant_id": true}
	for sql, want := range map[string]string{
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = ? LIMIT ?`:                                "",
		`SELECT COUNT(*) FROM "v_invoices"`:                                                          "",
		`DELETE FROM "v_invoices"`:                                                                   "not a SELECT",
		`SELECT "id" FROM "v_invoices"; DROP TABLE x LIMIT ?`:                                        "; quote",
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = 'acme' LIMIT ?`:                           "; quote",
		`SELECT "id" FROM "erp_invoice" LIMIT ?`:                                                     "not in the catalog",
		`SELECT "id" FROM "v_invoices" LIMIT 10`:                                                     "without a bound LIMIT",
		`SELECT "id" FROM "v_invoices" WHERE "id" = 42 LIMIT ?`:                                      "numeric literal",
		`SELECT "id" FROM "v_invoices" UNION SELECT "id" FROM "v_invoices" LIMIT ?`:                  "more than one",
		`SELECT "id" INTO "v_invoices" FROM "v_invoices" LIMIT ?`:                                    `contains "INTO"`,
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" LIKE hello ESCAPE '!' LIMIT ?`:              `"hello" appears`,
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" IN (SELECT "id" FROM "v_invoices") LIMIT ?`: "",
	} {
		got := checkSelect(sql, ids, []string{"hello"})
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want %q", sql, got, want)
		}
	}
}
