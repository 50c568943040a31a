package schema

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

type noResolvers struct{}

func (noResolvers) Connection(*views.View) graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, nil }
}

func (noResolvers) RawConnection(*views.View) graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, nil }
}

func demoSchema(t *testing.T) graphql.Schema {
	t.Helper()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cat, noResolvers{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNoWriteTypes(t *testing.T) {
	s := demoSchema(t)
	if s.MutationType() != nil || s.SubscriptionType() != nil {
		t.Fatal("the schema has a Mutation or Subscription type")
	}
	roots := fieldNames(s.QueryType().Fields())
	if diff := cmp.Diff([]string{"customers", "customersAggregate", "invoices", "invoicesAggregate", "products", "productsAggregate", "rateLimit"}, roots); diff != "" {
		t.Errorf("root fields (-want +got):\n%s", diff)
	}
}

// TestFilterInputs: a column's filter input holds exactly the operators the catalog configures,
// typed by the column; the tenant column and PII columns have none.
func TestFilterInputs(t *testing.T) {
	s := demoSchema(t)
	cases := []struct {
		typ    string
		fields map[string]string
	}{
		{"InvoiceStatusFilter", map[string]string{"eq": "String", "neq": "String", "in": "[String!]", "notIn": "[String!]"}},
		{"InvoiceAmountFilter", map[string]string{"eq": "Decimal", "lt": "Decimal", "lte": "Decimal", "gt": "Decimal", "gte": "Decimal", "in": "[Decimal!]"}},
		{"InvoiceDueDateFilter", map[string]string{"eq": "Date", "neq": "Date", "lt": "Date", "lte": "Date", "gt": "Date", "gte": "Date", "isNull": "Boolean"}},
		{"InvoicePublicIdFilter", map[string]string{"eq": "UUID", "in": "[UUID!]"}},
		{"ProductSkuFilter", map[string]string{"eq": "String", "in": "[String!]", "startsWith": "String", "startsWithExact": "String"}},
		{"InvoiceNumberFilter", map[string]string{"eq": "String", "in": "[String!]", "startsWith": "String", "contains": "String",
			"startsWithExact": "String", "containsExact": "String"}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			in, ok := s.Type(tc.typ).(*graphql.InputObject)
			if !ok {
				t.Fatalf("no input type %s", tc.typ)
			}
			got := map[string]string{}
			for name, f := range in.Fields() {
				got[name] = f.Type.String()
			}
			if diff := cmp.Diff(tc.fields, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	where := s.Type("InvoiceWhere").(*graphql.InputObject).Fields()
	for _, hidden := range []string{"tenantId", "customerEmail", "metadata"} {
		if _, ok := where[hidden]; ok {
			t.Errorf("InvoiceWhere exposes %s", hidden)
		}
	}
	if _, ok := s.Type("Invoice").(*graphql.Object).Fields()["tenantId"]; ok {
		t.Error("Invoice exposes the tenant column")
	}
}

// TestEveryOperatorIsDescribed: each operator's input field says what it matches.
func TestEveryOperatorIsDescribed(t *testing.T) {
	for _, op := range views.Ops {
		if opDescriptions[op] == "" {
			t.Errorf("operator %s has no description", op)
		}
	}
}

func TestOutputTypes(t *testing.T) {
	s := demoSchema(t)
	got := map[string]string{}
	for name, f := range s.Type("Invoice").(*graphql.Object).Fields() {
		got[name] = f.Type.String()
	}
	want := map[string]string{
		"id": "BigInt!", "number": "String!", "customerId": "BigInt!", "status": "String!", "amount": "Decimal!",
		"currency": "String!", "issuedAt": "DateTime!", "dueDate": "Date", "paidAt": "DateTime", "publicId": "UUID!",
		"metadata": "JSON", "note": "String", "customerName": "String!", "customerEmail": "String", "lineCount": "Int!",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Invoice fields (-want +got):\n%s", diff)
	}
	sortField := s.Type("InvoiceSortField").(*graphql.Enum)
	var values []string
	for _, v := range sortField.Values() {
		values = append(values, v.Name)
	}
	sort.Strings(values)
	if diff := cmp.Diff([]string{"AMOUNT", "CUSTOMER_NAME", "DUE_DATE", "ID", "ISSUED_AT", "LINE_COUNT", "PAID_AT"}, values); diff != "" {
		t.Errorf("sort fields (-want +got):\n%s", diff)
	}
}

func fieldNames(m graphql.FieldDefinitionMap) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (noResolvers) RateLimit() graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, nil }
}
