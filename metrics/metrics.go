// Package metrics holds viewgate's Prometheus registry and the collectors that the other
// packages feed through the small interfaces they declare (server.Observer, querylog.Observer).
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/viewgate/viewgate/querylog"
)

// Latency buckets in seconds, from a cached lookup (about a millisecond) to a statement timeout.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Options configures the collectors.
type Options struct {
	// Tenants, when above zero, adds viewgate_tenant_requests_total with a tenant label for the
	// first Tenants tenants seen; later ones are counted as "other". Zero means no tenant label
	// anywhere. No metric ever has a credential label.
	Tenants int
	// Classes and Formats are pre-set label values, so that their series exist at zero.
	Classes []string
	Formats []string
}

// Metrics is the registry and every collector; its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests         *prometheus.CounterVec
	requestSeconds   *prometheus.HistogramVec
	statements       *prometheus.CounterVec
	statementSeconds *prometheus.HistogramVec
	statementRows    *prometheus.CounterVec
	authFailures     *prometheus.CounterVec
	logWriteFailures *prometheus.CounterVec
	plans            *prometheus.CounterVec
	docCache         *prometheus.CounterVec
	exportRows       *prometheus.CounterVec
	exportBytes      *prometheus.CounterVec
	tenantRequests   *prometheus.CounterVec // nil without Options.Tenants

	maxTenants int
	mu         sync.Mutex
	tenants    map[string]bool
}

// New returns the collectors registered on a fresh registry, with Go's runtime and the
// process's collectors.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), maxTenants: o.Tenants, tenants: map[string]bool{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = m.counter("viewgate_http_requests_total", "HTTP requests answered, by route, status code and request class.", "route", "status", "class")
	m.requestSeconds = m.histogram("viewgate_http_request_duration_seconds", "Time from a request's arrival to its answer, by route and class.", "route", "class")
	m.statements = m.counter("viewgate_statements_total", "Statements run, by view, replica and outcome (ok or the error code).", "view", "replica", "outcome")
	m.statementSeconds = m.histogram("viewgate_statement_duration_seconds", "Statement time, by view and replica.", "view", "replica")
	m.statementRows = m.counter("viewgate_statement_rows_total", "Rows statements returned, by view and replica.", "view", "replica")
	m.authFailures = m.counter("viewgate_auth_failures_total", "Failed authentications, by reason.", "reason")
	m.logWriteFailures = m.counter("viewgate_log_write_failures_total", "Failed writes to the query log and the slow log (entries lost), by file.", "file")
	m.plans = m.counter("viewgate_slow_plans_total", "Plans of slow statements: captured, failed, or dropped by the rate limit.", "outcome")
	m.docCache = m.counter("viewgate_document_cache_total", "Lookups of the parsed-document cache, by result (hit or miss).", "result")
	m.exportRows = m.counter("viewgate_export_rows_total", "Rows streamed by exports, by format.", "format")
	m.exportBytes = m.counter("viewgate_export_bytes_total", "Bytes streamed by exports, by format.", "format")
	if o.Tenants > 0 {
		m.tenantRequests = m.counter("viewgate_tenant_requests_total", "GraphQL requests by tenant (capped; later tenants are \"other\") and class.", "tenant", "class")
	}
	m.preset(o)
	return m
}

func (m *Metrics) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) histogram(name, help string, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.reg.MustRegister(h)
	return h
}

// preset creates the series whose label values are known in advance, so they show as zero.
func (m *Metrics) preset(o Options) {
	for _, r := range []string{"hit", "miss"} {
		m.docCache.WithLabelValues(r)
	}
	for _, f := range []string{querylog.FileQueryLog, querylog.FileSlowLog} {
		m.logWriteFailures.WithLabelValues(f)
	}
	for _, p := range []string{querylog.PlanCaptured, querylog.PlanFailed, querylog.PlanDropped} {
		m.plans.WithLabelValues(p)
	}
	for _, f := range o.Formats {
		m.exportRows.WithLabelValues(f)
		m.exportBytes.WithLabelValues(f)
	}
}

// Register adds further collectors (such as Replicas and Quota) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
}

// Handler serves the registry in the Prometheus text format (or OpenMetrics when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Request counts one HTTP request (server.Observer); tenant feeds the capped tenant family only.
func (m *Metrics) Request(route, class, tenant string, status int, d time.Duration) {
	if class == "" {
		class = "none"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status), class).Inc()
	m.requestSeconds.WithLabelValues(route, class).Observe(d.Seconds())
	if m.tenantRequests != nil && tenant != "" {
		m.tenantRequests.WithLabelValues(m.tenant(tenant), class).Inc()
	}
}

// tenant returns t while fewer than maxTenants tenants have been seen or t is one of them, else "other".
func (m *Metrics) tenant(t string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tenants[t] {
		return t
	}
	if len(m.tenants) < m.maxTenants {
		m.tenants[t] = true
		return t
	}
	return "other"
}

// DocCache counts a lookup of the parsed-document cache (server.Observer).
func (m *Metrics) DocCache(hit bool) {
	r := "miss"
	if hit {
		r = "hit"
	}
	m.docCache.WithLabelValues(r).Inc()
}

// AuthFailure counts a failed authentication by its reason (server.Observer).
func (m *Metrics) AuthFailure(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// Statement counts one statement with its time and rows (querylog.Observer).
func (m *Metrics) Statement(e *querylog.Entry) {
	replica := e.Replica
	if replica == "" {
		replica = e.Source
	}
	outcome := e.ErrorCode
	if outcome == "" {
		outcome = "ok"
	}
	m.statements.WithLabelValues(e.View, replica, outcome).Inc()
	m.statementSeconds.WithLabelValues(e.View, replica).Observe(e.Duration.Seconds())
	m.statementRows.WithLabelValues(e.View, replica).Add(float64(e.Rows))
}

// WriteFailed counts a failed write to a log file (querylog.Observer).
func (m *Metrics) WriteFailed(file string) { m.logWriteFailures.WithLabelValues(file).Inc() }

// Plan counts a plan capture by outcome (querylog.Observer).
func (m *Metrics) Plan(outcome string) { m.plans.WithLabelValues(outcome).Inc() }

// Export counts rows and bytes an export streamed (for the export feature to call).
func (m *Metrics) Export(format string, rows, bytes int64) {
	m.exportRows.WithLabelValues(format).Add(float64(rows))
	m.exportBytes.WithLabelValues(format).Add(float64(bytes))
}
