package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Sizes of the generated data set.
const (
	NumCustomers = 400
	NumProducts  = 120
	NumInvoices  = 3000
)

// The generator's fixed clock: data spans 2021-01-01 to now, nothing reads the wall clock.
var (
	epoch        = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	invoiceStart = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	// now is the demo data's "today" (2025-07-01): nothing is paid later.
	now = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	// batchRunAt is the issued_at shared by the newest invoices of both tenants (a tie on purpose).
	batchRunAt = time.Date(2025, 6, 30, 18, 0, 0, 0, time.UTC)
)

// Generate returns the demo data set; every call returns the same data.
func Generate() *Dataset {
	g := &generator{r: rnd{rand.NewPCG(0x76696577, 0x67617465)}} // "view", "gate"
	d := &Dataset{Products: g.products()}
	d.Customers = g.customers()
	d.Invoices, d.InvoiceLines = g.invoices(d.Customers, d.Products)
	return d
}

type generator struct{ r rnd }

// rnd derives every value from PCG's Uint64 alone: its sequence is specified, while the
// convenience methods of rand.Rand could change between Go releases.
type rnd struct{ src *rand.PCG }

func (r rnd) intn(n int) int         { return int(r.src.Uint64() % uint64(n)) }
func (r rnd) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }
func (r rnd) percent(p int) bool     { return r.intn(100) < p }
func pick[T any](r rnd, s []T) T     { return s[r.intn(len(s))] }
func ptr[T any](v T) *T              { return &v }
func (r rnd) timeIn(a, b time.Time) time.Time {
	return a.Add(time.Duration(r.src.Uint64()%uint64(b.Sub(a)/time.Second)) * time.Second)
}

var (
	adjectives = []string{"Steel", "Brass", "Oak", "Carbon", "Nylon", "Copper", "Alloy", "Rubber", "Glass", "Titanium", "Cedar", "Ceramic"}
	nouns      = []string{"Bracket", "Hinge", "Valve", "Gasket", "Bolt Set", "Clamp", "Pulley", "Bearing", "Panel", "Spring", "Flange", "Coupling"}
	services   = []string{"Installation", "Support Hour", "Training Day", "Site Survey", "Extended Warranty", "Express Delivery"}
	prices     = []Cents{499, 999, 1250, 1999, 2500, 4900, 9900, 10000, 14999, 25000, 100000}
)

func (g *generator) products() []Product {
	ps := make([]Product, NumProducts)
	for i := range ps {
		p := &ps[i]
		p.ID = int64(i + 1)
		p.Active = !g.r.percent(10)
		p.UnitPrice = Cents(g.r.between(150, 50000))
		if g.r.percent(50) {
			p.UnitPrice = pick(g.r, prices)
		}
		if i%7 == 3 {
			p.SKU = fmt.Sprintf("SV-%04d", p.ID)
			p.Name = pick(g.r, services)
			continue // services weigh nothing: weight_kg stays NULL
		}
		p.SKU = fmt.Sprintf("HW-%04d", p.ID)
		p.Name = fmt.Sprintf("%s %s %dmm", pick(g.r, adjectives), pick(g.r, nouns), 5*g.r.between(1, 40))
		p.WeightKg = ptr(float64(g.r.between(5, 25000)) / 1000)
	}
	ps[11].Name, ps[12].Name = "Crème Polish 250ml", "Smörgåsbord Tray"
	return ps
}

// edgeCustomers are the names engines compare, fold and sort differently; they take ids 1..17.
var edgeCustomers = []struct{ tenant, name string }{
	{TenantAcme, "Hämäläinen"}, {TenantAcme, "Hansen"}, {TenantAcme, "Hansen "},
	{TenantAcme, "Ødegaard"}, {TenantAcme, "Åström"}, {TenantAcme, "Müller"},
	{TenantAcme, "Mueller"}, {TenantAcme, "Muller"}, {TenantAcme, "Zoë"},
	{TenantAcme, "Zoe"}, {TenantAcme, "ÉLISE"}, {TenantAcme, "élise"},
	{TenantAcme, "O'Brien"}, {TenantAcme, "acme corp"}, {TenantAcme, "ACME Corp"},
	{TenantGlobex, "Hansen"}, {TenantGlobex, "O'Brien"},
}

var (
	firstNames = []string{"Alice", "Bruno", "Chen", "Dagny", "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Jana", "Kofi", "Lena", "Mateo", "Nina", "Oskar", "Priya", "Rafael", "Sofia", "Tomás", "Ulla", "Viktor", "Wen", "Yara", "Søren", "José"}
	lastNames  = []string{"Andersen", "Becker", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Horvat", "Ito", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nieminen", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Virtanen", "Weber", "Young"}
	companies  = []string{"Northwind", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Vandelay", "Hooli", "Pied Piper", "Wonka", "Oscorp", "Gringotts"}
	suffixes   = []string{"Ltd", "GmbH", "Oy", "AB", "AS", "Inc", "SARL", "LLC"}
	countries  = []string{"FI", "SE", "NO", "DK", "DE", "FR", "GB", "US", "NL", "ES"}
	domains    = []string{"example.com", "example.org", "example.net", "mail.test"}
	areaCodes  = []int{202, 312, 415, 617, 702, 808}
)

func (g *generator) customers() []Customer {
	cs := make([]Customer, NumCustomers)
	for i := range cs {
		c := &cs[i]
		c.ID = int64(i + 1)
		c.TenantID, c.Name = g.customerName(i)
		c.CreatedAt = g.r.timeIn(epoch, batchRunAt.AddDate(0, -3, 0))
		c.VIP = g.r.percent(10)
		if !g.r.percent(15) {
			c.Country = ptr(pick(g.r, countries))
		}
		if !g.r.percent(4) {
			c.Email = ptr(fmt.Sprintf("%s.%d@%s", emailLocal(c.Name), c.ID, pick(g.r, domains)))
		}
		if !g.r.percent(10) {
			c.Phone = ptr(fmt.Sprintf("+1-%d-555-01%02d", pick(g.r, areaCodes), g.r.intn(100)))
		}
	}
	return cs
}

func (g *generator) customerName(i int) (tenant, name string) {
	if i < len(edgeCustomers) {
		return edgeCustomers[i].tenant, edgeCustomers[i].name
	}
	tenant = TenantGlobex
	if g.r.percent(60) {
		tenant = TenantAcme
	}
	if g.r.percent(50) {
		return tenant, pick(g.r, firstNames) + " " + pick(g.r, lastNames)
	}
	return tenant, pick(g.r, companies) + " " + pick(g.r, suffixes)
}

var asciiFold = strings.NewReplacer("ä", "a", "å", "a", "ö", "o", "ø", "o", "ü", "u", "ë", "e", "é", "e", "á", "a", "í", "i", "ó", "o", "ç", "c")

func emailLocal(name string) string {
	s := asciiFold.Replace(strings.ToLower(strings.TrimSpace(name)))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '.'
	}, s)
}

func (g *generator) invoices(cs []Customer, ps []Product) ([]Invoice, []InvoiceLine) {
	invs := make([]Invoice, NumInvoices)
	for i := range invs {
		c := cs[g.r.intn(len(cs))]
		from := invoiceStart
		if c.CreatedAt.After(from) {
			from = c.CreatedAt
		}
		invs[i] = Invoice{TenantID: c.TenantID, CustomerID: c.ID, IssuedAt: g.r.timeIn(from, batchRunAt)}
	}
	// Ids follow issue time, as an ERP numbers them, except for a few backdated invoices.
	slices.SortStableFunc(invs, func(a, b Invoice) int { return a.IssuedAt.Compare(b.IssuedAt) })
	for i := range invs {
		invs[i].ID = int64(i + 1)
	}
	g.timeEdges(invs)
	var lines []InvoiceLine
	seq := map[string]int{}
	for i := range invs {
		inv := &invs[i]
		seq[inv.TenantID]++
		inv.Number = fmt.Sprintf("%s-%d-%06d", numberPrefix[inv.TenantID], inv.IssuedAt.Year(), seq[inv.TenantID])
		lines = g.lines(inv, ps, lines)
		g.fill(inv)
	}
	g.noteEdges(invs)
	return invs, lines
}

var numberPrefix = map[string]string{TenantAcme: "ACM", TenantGlobex: "GLX"}

// timeEdges backdates some invoices, makes some share the issued_at of the tenant's previous
// invoice, and gives the newest invoices of each tenant one batch-run timestamp.
func (g *generator) timeEdges(invs []Invoice) {
	prev := map[string]int{}
	for i := range invs {
		inv := &invs[i]
		switch p, ok := prev[inv.TenantID]; {
		case ok && g.r.percent(3):
			inv.IssuedAt = invs[p].IssuedAt
		case g.r.percent(3):
			inv.IssuedAt = inv.IssuedAt.Add(-time.Duration(g.r.between(3600, 30*86400)) * time.Second)
		}
		prev[inv.TenantID] = i
	}
	newest := map[string]int{TenantAcme: 6, TenantGlobex: 4}
	for i := len(invs) - 1; i >= 0 && (newest[TenantAcme] > 0 || newest[TenantGlobex] > 0); i-- {
		if newest[invs[i].TenantID] > 0 {
			newest[invs[i].TenantID]--
			invs[i].IssuedAt = batchRunAt
		}
	}
}

func (g *generator) lines(inv *Invoice, ps []Product, lines []InvoiceLine) []InvoiceLine {
	n := 1
	switch k := g.r.intn(100); {
	case k >= 75:
		n = 3
	case k >= 40:
		n = 2
	}
	for range n {
		p := ps[g.r.intn(len(ps))]
		qty := g.r.between(1, 12)
		if n == 1 && g.r.percent(50) {
			qty = 1 // a single unit: the invoice amount equals a list price, so amounts tie
		}
		lines = append(lines, InvoiceLine{ID: int64(len(lines) + 1), InvoiceID: inv.ID, ProductID: p.ID, Quantity: qty, UnitPrice: p.UnitPrice})
		inv.Amount += p.UnitPrice * Cents(qty)
	}
	inv.Metadata = ptr(fmt.Sprintf(`{"lines": %d, "channel": "%s"}`, n, pick(g.r, channels)))
	return lines
}

var (
	channels     = []string{"web", "email", "edi", "phone"}
	currencies   = map[string][]string{TenantAcme: {"EUR", "EUR", "EUR", "EUR", "USD", "SEK"}, TenantGlobex: {"USD", "USD", "USD", "USD", "USD", "GBP"}}
	plainNotes   = []string{"Net 30", "Thank you for your business", "Deliver to dock 4", "Partial shipment", "Call before delivery", "Reverse charge applies"}
	recentCutoff = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

// fill sets status and the columns that follow from it.
func (g *generator) fill(inv *Invoice) {
	inv.Currency = pick(g.r, currencies[inv.TenantID])
	inv.PublicID = g.uuid()
	inv.Status = g.status(inv.IssuedAt)
	if inv.Status != "draft" && !g.r.percent(17) {
		d := inv.IssuedAt.Truncate(24*time.Hour).AddDate(0, 0, pick(g.r, []int{14, 30, 30, 60}))
		inv.DueDate = &d
	}
	if inv.Status == "paid" {
		// Paid within 75 days, and never after the data set's now.
		limit := min(75*86400, int(now.Sub(inv.IssuedAt)/time.Second))
		inv.PaidAt = ptr(inv.IssuedAt.Add(time.Duration(g.r.between(3600, limit)) * time.Second))
	}
	switch k := g.r.intn(100); {
	case k < 30:
		inv.Metadata = nil
	case k < 45:
		inv.Metadata = ptr(fmt.Sprintf(`{"po": "PO-%05d", %s`, g.r.intn(100000), (*inv.Metadata)[1:]))
	}
	if g.r.percent(20) {
		inv.Note = ptr(pick(g.r, plainNotes))
	}
}

func (g *generator) status(issued time.Time) string {
	k := g.r.intn(100)
	if issued.Before(recentCutoff) {
		return pickPct(k, []int{2, 10, 80}, []string{"draft", "issued", "paid", "void"})
	}
	return pickPct(k, []int{25, 45, 25}, []string{"draft", "issued", "paid", "void"})
}

// pickPct maps k in 0..99 to a name by cumulative percentages; the last name takes the rest.
func pickPct(k int, pcts []int, names []string) string {
	for i, p := range pcts {
		if k < p {
			return names[i]
		}
		k -= p
	}
	return names[len(names)-1]
}

func (g *generator) uuid() string {
	var b [16]byte
	hi, lo := g.r.src.Uint64(), g.r.src.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// edgeNotes are the notes LIKE and GLOB escaping, case folding, quoting and characters outside
// the Basic Multilingual Plane (which a MariaDB utf8mb3 column cannot hold; note is utf8mb4)
// disagree on; noteEdges gives them, in order, to every 7th acme invoice starting with the 10th.
var edgeNotes = []string{
	"50% off", "50 percent off", "under_score", "underXscore", "wow!", "wow", `back\slash`, "backslash",
	`say "cheese"`, "it's done", "Rush ORDER", "rush order", "100%", "_leading underscore", "%leading percent", "ÉLISE approved",
	"[urgent] call *before* noon?", "thanks 😀", "THANKS",
}

func (g *generator) noteEdges(invs []Invoice) {
	n, k := 0, 0
	for i := range invs {
		if invs[i].TenantID != TenantAcme {
			continue
		}
		n++
		if n >= 10 && (n-10)%7 == 0 && k < len(edgeNotes) {
			invs[i].Note = ptr(edgeNotes[k])
			k++
		}
	}
}
