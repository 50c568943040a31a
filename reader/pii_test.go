package reader

import (
	"testing"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/views"
)

const piiCatalog = `
views:
  - name: Contact
    field: contacts
    source: s
    relation: v_contacts
    tenant_column: tenant_id
    key: [id]
    roles: [r]
    columns:
      - {name: id, type: bigint}
      - {name: phone, type: text, pii: hash}
      - {name: mobile, type: text, pii: hash}
  - name: Lead
    field: leads
    source: s
    relation: v_leads
    tenant_column: tenant_id
    key: [id]
    roles: [r]
    columns:
      - {name: id, type: bigint}
      - {name: phone, type: text, pii: hash}
`

// hashes returns what a caller of tenant without the pii role sees for value in each hashed
// column of view, by column name.
func hashes(t *testing.T, r *Reader, v *views.View, tenant, value string) map[string]any {
	t.Helper()
	want := map[string]bool{}
	for _, c := range v.Columns {
		want[c.Field] = true
	}
	_, show := projection(v, &auth.Principal{Tenant: tenant, Roles: []string{"r"}}, want)
	rd := &Read{r: r}
	out := map[string]any{}
	for _, s := range show {
		if s.Mode == views.PIIHash {
			s.At = 0
			out[s.Col.Name] = rd.Value([]any{value}, s)
		}
	}
	return out
}

// TestPIIHashIsScoped: a pii: hash column's hash is keyed by tenant, view and column, so
// equal values do not link tenants or columns, and stays stable for the same three.
func TestPIIHashIsScoped(t *testing.T) {
	cat, err := views.ParseCatalog([]byte(piiCatalog))
	if err != nil {
		t.Fatal(err)
	}
	contacts, leads := cat.View("contacts"), cat.View("leads")
	r := New(Options{PIIKey: []byte("0123456789abcdef0123456789abcdef")})
	const phone = "+1-202-555-0101"
	a := hashes(t, r, contacts, "acme", phone)
	seen := map[any]string{}
	for name, h := range map[string]any{
		"acme contacts.phone":   a["phone"],
		"acme contacts.mobile":  a["mobile"],
		"globex contacts.phone": hashes(t, r, contacts, "globex", phone)["phone"],
		"acme leads.phone":      hashes(t, r, leads, "acme", phone)["phone"],
		// Length prefixes: moving a byte between tenant and view or value must not collide.
		"acm contacts.phone":   hashes(t, r, contacts, "acm", phone)["phone"],
		"acme contacts.phone+": hashes(t, r, contacts, "acme", phone+"1")["phone"],
	} {
		if s, ok := h.(string); !ok || len(s) != 24 {
			t.Fatalf("%s: hash %v, want 24 hex digits", name, h)
		}
		if other, dup := seen[h]; dup {
			t.Errorf("%s and %s hash %s alike", name, other, phone)
		}
		seen[h] = name
	}
	if again := hashes(t, r, contacts, "acme", phone); again["phone"] != a["phone"] || again["mobile"] != a["mobile"] {
		t.Errorf("the hash is not stable for the same tenant, view, column and value: %v then %v", a, again)
	}
	if h := hashes(t, New(Options{PIIKey: []byte("another key, another deployment..")}), contacts, "acme", phone)["phone"]; h == a["phone"] {
		t.Error("the hash does not depend on the key")
	}
	if got := (&Read{r: r}).Value([]any{nil}, Shown{Col: contacts.Column("phone"), Mode: views.PIIHash}); got != nil {
		t.Errorf("NULL hashes to %v, want null", got)
	}
}
