package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanUnits: a field with scan units costs weight × units whatever it selects (first, a
// page, totalCount), and its rows are not requested rows.
func TestScanUnits(t *testing.T) {
	fx := newFixture(t)
	o := fx.options()
	o.Weights = map[Class]int{Report: 5}
	o.ClassOf = func(name string) (Class, bool) { return Report, name == "customersAggregate" }
	o.ScanUnits = func(name string) int {
		return map[string]int{"customersAggregate": 3, "customers": -2}[name]
	}
	p, err := New(o, fx.mustParse(t, `{ a: customersAggregate(first: 90) { groups { count } pageInfo { hasNextPage } }
		b: customersAggregate { totals { count } } c: customers(first: 150) { totalCount nodes { id } } }`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][3]int{}
	for _, f := range p.Fields {
		got[f.Key] = [3]int{f.Scan, f.Cost, f.Rows}
	}
	want := map[string][3]int{"a": {3, 15, 90}, "b": {3, 15, 20}, "c": {0, 3, 150}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scan, cost, rows per field (-want +got):\n%s", diff)
	}
	if p.Cost != 33 || p.Rows != 150 {
		t.Errorf("plan cost %d, rows %d; want 33 and 150 (scanning fields request no rows)", p.Cost, p.Rows)
	}
	if diff := cmp.Diff(map[Class]int{Report: 30, Lookup: 3}, p.CostByClass()); diff != "" {
		t.Errorf("CostByClass (-want +got):\n%s", diff)
	}
}
