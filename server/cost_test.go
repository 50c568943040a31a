package server

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/quota"
)

// TestCostExtension: the hand-written extension is what encoding/json wrote for the map it
// replaced.
func TestCostExtension(t *testing.T) {
	search := &plan.Plan{Cost: 12, Fields: []plan.Field{{Class: plan.Search}}}
	for _, tc := range []struct {
		name string
		pl   *plan.Plan
		d    *quota.Decision
	}{
		{"no quotas", &plan.Plan{Cost: 1}, nil},
		{"search", search, nil},
		{"remaining", search, &quota.Decision{Windows: []quota.WindowState{
			{Class: "search", Remaining: 40}, {Class: "search", Remaining: 7}, {Class: "lookup", Remaining: 1}}}},
		{"other class only", search, &quota.Decision{Windows: []quota.WindowState{{Class: "lookup", Remaining: 3}}}},
		{"zero cost", &plan.Plan{}, &quota.Decision{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost := map[string]any{"requested": tc.pl.Cost, "class": string(tc.pl.Class())}
			if tc.d != nil {
				if left := tc.d.Remaining(quota.Class(tc.pl.Class())); left >= 0 {
					cost["remaining"] = left
				}
			}
			want, err := json.Marshal(map[string]any{"cost": cost})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(costExtension(tc.pl, tc.d))); diff != "" {
				t.Errorf("(-encoding/json +hand):\n%s", diff)
			}
		})
	}
}
