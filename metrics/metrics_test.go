package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/viewgate/viewgate/querylog"
)

// TestTenantLabelCapped: the tenant family exists only when turned on, and counts tenants past
// the cap as "other".
func TestTenantLabelCapped(t *testing.T) {
	off := New(Options{})
	off.Request("/graphql", "lookup", "acme", 200, time.Millisecond)
	if strings.Contains(scrapeText(t, off), "tenant") {
		t.Error("a tenant label without metrics_tenants")
	}
	m := New(Options{Tenants: 2})
	for _, tenant := range []string{"acme", "globex", "initech", "acme", "umbrella"} {
		m.Request("/graphql", "lookup", tenant, 200, time.Millisecond)
	}
	for tenant, want := range map[string]float64{"acme": 2, "globex": 1, "other": 2} {
		if got := testutil.ToFloat64(m.tenantRequests.WithLabelValues(tenant, "lookup")); got != want {
			t.Errorf("tenant %s: %v, want %v", tenant, got, want)
		}
	}
}

// TestStatementOutcome: statements count by view, replica (the source when unknown) and outcome.
func TestStatementOutcome(t *testing.T) {
	m := New(Options{})
	m.Statement(&querylog.Entry{View: "invoices", Source: "erp", Replica: "erp-a", Duration: time.Millisecond, Rows: 5})
	m.Statement(&querylog.Entry{View: "invoices", Source: "erp", ErrorCode: "TIMEOUT", Duration: time.Second})
	for _, c := range []struct {
		labels []string
		want   float64
	}{{[]string{"invoices", "erp-a", "ok"}, 1}, {[]string{"invoices", "erp", "TIMEOUT"}, 1}} {
		if got := testutil.ToFloat64(m.statements.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("%v: %v, want %v", c.labels, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.statementRows.WithLabelValues("invoices", "erp-a")); got != 5 {
		t.Errorf("rows %v, want 5", got)
	}
}

func scrapeText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
