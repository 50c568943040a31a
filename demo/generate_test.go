package demo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

// goldenDigest is the sha256 of the JSON dump of Generate(). A change here changes every
// golden file built on the demo data: update it only on purpose, and say so in the commit.
const goldenDigest = "0f99d1fa8650fa14d68ee0c49606de4cc3510b8372a03d2fa2d2ada2cbf32a58"

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := demo.Generate(), demo.Generate()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two calls differ (-first +second):\n%s", diff)
	}
	dump, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(dump)
	if got := hex.EncodeToString(sum[:]); got != goldenDigest {
		t.Errorf("digest of Generate() = %s, want %s; the demo data changed", got, goldenDigest)
	}
}

func TestGenerateShape(t *testing.T) {
	d := demo.Generate()
	if diff := cmp.Diff(shapeWant, shape(d)); diff != "" {
		t.Errorf("data set shape (-want +got):\n%s", diff)
	}
}

// shapeWant pins the counts and edge cases other tests rely on.
var shapeWant = map[string]int{
	"customers": 400, "customers.acme": 252, "customers.globex": 148,
	"customers.country_null": 63, "customers.email_null": 15, "customers.phone_null": 38, "customers.vip": 44,
	"products": 120, "products.inactive": 17, "products.weight_null": 17,
	"invoices": 3000, "invoices.acme": 1902, "invoices.globex": 1098,
	"invoices.status.draft": 214, "invoices.status.issued": 526, "invoices.status.paid": 2012, "invoices.status.void": 248,
	"invoices.due_date_null": 684, "invoices.paid_at_null": 988, "invoices.metadata_null": 931, "invoices.note_null": 2361,
	"invoices.amount_tied_rows": 1054, "invoices.issued_at_tied_rows": 172,
	"lines": 5626,
}

func shape(d *demo.Dataset) map[string]int {
	m := map[string]int{
		"customers": len(d.Customers), "products": len(d.Products),
		"invoices": len(d.Invoices), "lines": len(d.InvoiceLines),
	}
	for _, c := range d.Customers {
		m["customers."+c.TenantID]++
		if c.Country == nil {
			m["customers.country_null"]++
		}
		if c.Email == nil {
			m["customers.email_null"]++
		}
		if c.Phone == nil {
			m["customers.phone_null"]++
		}
		if c.VIP {
			m["customers.vip"]++
		}
	}
	for _, p := range d.Products {
		if p.WeightKg == nil {
			m["products.weight_null"]++
		}
		if !p.Active {
			m["products.inactive"]++
		}
	}
	amounts, issued := map[demo.Cents]int{}, map[string]int{}
	for _, inv := range d.Invoices {
		m["invoices."+inv.TenantID]++
		m["invoices.status."+inv.Status]++
		if inv.DueDate == nil {
			m["invoices.due_date_null"]++
		}
		if inv.PaidAt == nil {
			m["invoices.paid_at_null"]++
		}
		if inv.Metadata == nil {
			m["invoices.metadata_null"]++
		}
		if inv.Note == nil {
			m["invoices.note_null"]++
		}
		amounts[inv.Amount]++
		issued[inv.TenantID+inv.IssuedAt.String()]++
	}
	for _, n := range amounts {
		if n > 1 {
			m["invoices.amount_tied_rows"] += n
		}
	}
	for _, n := range issued {
		if n > 1 {
			m["invoices.issued_at_tied_rows"] += n
		}
	}
	return m
}

func TestCatalogParses(t *testing.T) {
	c, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.Views {
		if v.Source != demo.SourceName {
			t.Errorf("view %s: source %q, want %q", v.Name, v.Source, demo.SourceName)
		}
		if v.Description == "" {
			t.Errorf("view %s has no description", v.Name)
		}
		for _, col := range v.Columns {
			if col.Description == "" {
				t.Errorf("column %s.%s has no description", v.Name, col.Name)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	for _, k := range []string{demo.KeyAcme, demo.KeyGlobex, demo.KeyPublic} {
		if len(k) < 32 || !strings.HasPrefix(k, "vgk_demo_") {
			t.Errorf("demo key %q: want >= 32 characters starting with vgk_demo_", k)
		}
	}
}
