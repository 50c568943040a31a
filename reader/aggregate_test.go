package reader

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/views"
)

func TestAggregateQueryArgs(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	v := cat.View("invoices")
	q, err := aggregateQuery(v, Args{
		"first": 7, "after": "c", "search": "acme", "where": map[string]any{"status": map[string]any{"eq": "paid"}},
		"groupBy": []any{map[string]any{"field": "status"}, map[string]any{"field": "issued_at", "bucket": "month"}},
		"orderBy": []any{map[string]any{"field": "sum.amount", "direction": "DESC"}, map[string]any{"field": "key.status"}},
	}, 20)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{q.First, q.After, q.Search, q.Where != nil, len(q.GroupBy), q.GroupBy[1].Bucket, q.OrderBy[0].Agg, q.OrderBy[0].Desc, q.OrderBy[1].Column.Name}
	want := []any{7, "c", "acme", true, 2, views.Month, views.AggSum, true, "status"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if q, _ := aggregateQuery(v, Args{}, 20); q.First != 20 || q.OrderBy != nil || q.GroupBy != nil {
		t.Errorf("defaults: first %d, orderBy %v, groupBy %v", q.First, q.OrderBy, q.GroupBy)
	}
	for name, tc := range map[string]struct {
		args Args
		want error
	}{
		"not a dimension": {Args{"groupBy": []any{map[string]any{"field": "amount"}}}, views.ErrBadGroup},
		"PII column":      {Args{"groupBy": []any{map[string]any{"field": "customer_email"}}}, views.ErrBadGroup},
		"unknown sort":    {Args{"orderBy": []any{map[string]any{"field": "sum.status"}}}, views.ErrBadOrder},
		"bad where":       {Args{"where": map[string]any{"nope": map[string]any{"eq": 1}}}, views.ErrBadFilter},
	} {
		if _, err := aggregateQuery(v, tc.args, 20); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}
