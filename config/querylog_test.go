package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const qlBase = "catalog: c.yaml\ncursor_secret: 0123456789abcdef0123456789abcdef\nenvironments: {dev: {sources: {erp: {driver: sqlite, dsn: a.db}}}}\n"

// TestQueryLogAndMetricsKeys: thresholds per class and view, plans, and the metrics listener.
func TestQueryLogAndMetricsKeys(t *testing.T) {
	src := qlBase + `metrics_listen: 127.0.0.1:9464
metrics_tenants: 50
query_log:
  slow_threshold: 0s
  slow_threshold_by_class: {search: 1s, report: 5s}
  slow_threshold_by_view: {invoices: 100ms}
  plans: {interval: 10m, per_minute: 3, timeout: 500ms}
  label_statements: false
`
	cfg, err := Parse([]byte(src), "", "", func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := QueryLog{SlowThreshold: 0, SlowByClass: map[string]time.Duration{"search": time.Second, "report": 5 * time.Second},
		SlowByView: map[string]time.Duration{"invoices": 100 * time.Millisecond},
		Plans:      Plans{Interval: 10 * time.Minute, PerMinute: 3, Timeout: 500 * time.Millisecond}, LabelStatements: new(bool)}
	if diff := cmp.Diff(want, cfg.QueryLog); diff != "" {
		t.Errorf("query log (-want +got):\n%s", diff)
	}
	if cfg.MetricsListen != "127.0.0.1:9464" || cfg.MetricsTenants != 50 {
		t.Errorf("metrics %q %d", cfg.MetricsListen, cfg.MetricsTenants)
	}
}

func TestQueryLogKeysInvalid(t *testing.T) {
	src := qlBase + `metrics_listen: nowhere
metrics_tenants: 5000
query_log:
  slow_threshold_by_class: {bulk: 1s, search: forever}
  slow_threshold_by_view: {"no such": 1s}
  plans: {interval: 48h, per_minute: 0}
`
	_, err := Parse([]byte(src), "", "", func(string) string { return "" }, nil)
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	for _, want := range []string{
		"metrics_listen: \"nowhere\" must be host:port",
		"metrics_tenants: must be from 0 to 1000",
		"query_log.slow_threshold_by_class.bulk: is not a class",
		"query_log.slow_threshold_by_class.search: must be a duration",
		`query_log.slow_threshold_by_view."no such": is not a view's root field name`,
		"query_log.plans.interval: must be from 0s to 24h0m0s",
		"query_log.plans.per_minute: must be from 1 to 600",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestQueryLogLabel: label_statements unset labels MySQL/MariaDB statements (a comment) and
// not Postgres's (a statement of its own) nor SQLite's; set, it wins on every engine.
func TestQueryLogLabel(t *testing.T) {
	on, off := true, false
	for _, tc := range []struct {
		set  *bool
		want map[string]bool
	}{
		{nil, map[string]bool{"postgres": false, "mysql": true, "mariadb": true, "sqlite": false}},
		{&on, map[string]bool{"postgres": true, "mysql": true, "mariadb": true, "sqlite": true}},
		{&off, map[string]bool{"postgres": false, "mysql": false, "mariadb": false, "sqlite": false}},
	} {
		q := QueryLog{LabelStatements: tc.set}
		for dialect, want := range tc.want {
			if got := q.Label(dialect); got != want {
				t.Errorf("label_statements %v on %s: %v, want %v", tc.set, dialect, got, want)
			}
		}
	}
	for _, v := range []string{"true", "false"} {
		cfg, err := Parse([]byte(qlBase+"query_log: {label_statements: "+v+"}\n"), "", "", func(string) string { return "" }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.QueryLog.LabelStatements; got == nil || fmt.Sprint(*got) != v {
			t.Errorf("label_statements: %s parsed as %v", v, got)
		}
	}
}
