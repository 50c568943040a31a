// Package demo generates the embedded demo ERP database.
package demo

import "time"

// Tenants of the demo data set.
const (
	TenantAcme   = "acme"
	TenantGlobex = "globex"
)

// Dataset is the whole demo ERP data set, rows in id order.
type Dataset struct {
	Customers    []Customer
	Products     []Product
	Invoices     []Invoice
	InvoiceLines []InvoiceLine
}

// Customer is one row of erp_customer.
type Customer struct {
	ID        int64
	TenantID  string
	Name      string
	Email     *string
	Phone     *string
	Country   *string // ISO 3166-1 alpha-2
	CreatedAt time.Time
	VIP       bool
}

// Product is one row of erp_product; products are shared by all tenants.
type Product struct {
	ID        int64
	SKU       string
	Name      string
	UnitPrice Cents
	WeightKg  *float64
	Active    bool
}

// Invoice is one row of erp_invoice.
type Invoice struct {
	ID         int64
	TenantID   string
	Number     string
	CustomerID int64
	Status     string // draft, issued, paid or void
	Amount     Cents  // the sum of the invoice's lines
	Currency   string
	IssuedAt   time.Time
	DueDate    *time.Time // midnight UTC
	PaidAt     *time.Time
	PublicID   string  // lower-case UUID, version 4 shaped
	Metadata   *string // a JSON object, written the way Postgres prints jsonb
	Note       *string
}

// InvoiceLine is one row of erp_invoice_line.
type InvoiceLine struct {
	ID        int64
	InvoiceID int64
	ProductID int64
	Quantity  int
	UnitPrice Cents
}

// Cents is an exact money amount in hundredths.
type Cents int64

// String formats c with two decimals, as the databases print DECIMAL(p,2).
func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + itoa(int64(c/100)) + "." + pad2(int64(c%100))
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

func pad2(n int64) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
