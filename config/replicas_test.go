package config

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// singleReplicas returns a copy of want in which every source written in the single dsn:
// form has what that form means: one replica named after the source, and the defaults.
func singleReplicas(want *Config) *Config {
	c := *want
	c.Sources = maps.Clone(want.Sources)
	for name, s := range c.Sources {
		if s.Replicas == nil {
			s.Replicas = []Replica{{Name: s.Name, DSN: s.DSN, Weight: 1, MaxConns: s.MaxConns}}
			s.RequireReplica = s.Driver != "sqlite"
			s.HealthCheck = DefaultHealthCheck()
			if s.TenantMaxConcurrency == 0 {
				s.TenantMaxConcurrency = max(1, s.MaxConns/2) // the default: half the connections
			}
		}
		c.Sources[name] = s
	}
	return &c
}

func parseReplicas(t *testing.T, sources string) (*Config, error) {
	t.Helper()
	doc := "catalog: c.yaml\ncursor_secret: " + strings.Repeat("x", 32) + "\nenvironments:\n  dev:\n    sources:\n" + sources
	return Parse([]byte(doc), "v.yaml", "", fakeEnv(map[string]string{"R2_DSN": "postgres://viewgate:pw2@r2/erp"}), fakeFiles(nil))
}

func TestParseReplicas(t *testing.T) {
	cfg, err := parseReplicas(t, `      erp:
        driver: postgres
        max_conns: 6
        require_replica: false
        tenant_max_concurrency: 3
        heartbeat: dba.heartbeat
        health_check: {interval: 1s, healthy_after: 2}
        replicas:
          - {name: r1, dsn: "postgres://viewgate@r1/erp", max_lag: 10s}
          - {name: r2, dsn: "${R2_DSN}", weight: 3, max_conns: 20}
        fallback: {name: primary, dsn: "postgres://viewgate@primary/erp"}
        allow_primary_fallback: true
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Source{
		Name: "erp", Driver: "postgres", DSN: "postgres://viewgate@r1/erp", MaxConns: 6, StatementTimeout: 5 * time.Second,
		Replicas: []Replica{
			{Name: "r1", DSN: "postgres://viewgate@r1/erp", Weight: 1, MaxLag: 10 * time.Second, MaxConns: 6},
			{Name: "r2", DSN: "postgres://viewgate:pw2@r2/erp", Weight: 3, MaxConns: 20},
		},
		Fallback:             &Replica{Name: "primary", DSN: "postgres://viewgate@primary/erp", Weight: 1, MaxConns: 6},
		TenantMaxConcurrency: 3,
		Heartbeat:            "dba.heartbeat",
		HealthCheck:          HealthCheck{Interval: time.Second, Timeout: 3 * time.Second, HealthyAfter: 2},
	}
	if diff := cmp.Diff(want, cfg.Sources["erp"], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseFallbackSwitchedOff(t *testing.T) {
	cfg, err := parseReplicas(t, `      erp:
        driver: postgres
        dsn: "postgres://viewgate@r1/erp"
        fallback: {name: primary, dsn: "postgres://viewgate@primary/erp"}
        allow_primary_fallback: false
`)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sources["erp"]
	if s.Fallback != nil || !s.RequireReplica || len(s.Replicas) != 1 || s.Replicas[0].Name != "erp" {
		t.Errorf("got fallback %v, require_replica %v, replicas %+v", s.Fallback, s.RequireReplica, s.Replicas)
	}
}

func TestParseReplicasInvalid(t *testing.T) {
	_, err := parseReplicas(t, `      both:
        driver: postgres
        dsn: "postgres://viewgate@r1/erp"
        replicas: [{name: r1, dsn: "postgres://viewgate@r1/erp"}]
      none:
        driver: postgres
      bad:
        driver: mysql
        replicas:
          - {name: a, dsn: "viewgate@tcp(a:3306)/erp", weight: 0}
          - {name: a, dsn: "viewgate@tcp(b:3306)/erp"}
          - {name: "no way", dsn: "viewgate@tcp(c:3306)/erp", max_lag: soon, lag: 1s}
          - {name: d}
        fallback: {name: primary, dsn: "viewgate@tcp(p:3306)/erp"}
      fb:
        driver: postgres
        dsn: "postgres://viewgate@r1/erp"
        allow_primary_fallback: true
      hb:
        driver: postgres
        dsn: "postgres://viewgate@r1/erp"
        heartbeat: "dba.heart beat; DROP"
      lit:
        driver: postgres
        replicas: [{name: r1, dsn: "postgres://viewgate@r1/erp?sslmode=nope x"}]
`)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, want := range []string{
		"sources.both.dsn: set either dsn (one replica) or replicas, not both",
		"sources.none.dsn: is required (or list replicas",
		"sources.bad.replicas[0].weight: must be from 1 to 1000, got 0",
		`sources.bad.replicas[1].name: replica "a" is listed twice`,
		`sources.bad.replicas[2].name: "no way" must be letters`,
		`sources.bad.replicas[2].max_lag: must be a duration`,
		`sources.bad.replicas[2].lag: unknown key (allowed: name, dsn, max_conns, weight, max_lag)`,
		"sources.bad.replicas[3].dsn: is required",
		"sources.bad.fallback: is used only with allow_primary_fallback: true",
		"sources.fb.allow_primary_fallback: needs a fallback",
		`sources.hb.heartbeat: "dba.heart beat; DROP" must be [schema.]view`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseReplicaProductionSecrets(t *testing.T) {
	doc := "catalog: c.yaml\ncursor_secret: ${S}\nenvironments:\n  prod:\n    sources:\n      erp:\n        driver: postgres\n" +
		"        replicas: [{name: r1, dsn: \"${R1}\"}, {name: r2, dsn: \"postgres://viewgate:lit3ral@r2/erp\"}]\n" +
		"        fallback: {name: p, dsn: \"postgres://viewgate:lit3ral@p/erp\"}\n        allow_primary_fallback: true\n"
	_, err := Parse([]byte(doc), "v.yaml", "", fakeEnv(map[string]string{"S": strings.Repeat("s", 32), "R1": "postgres://u:p@r1/erp"}), fakeFiles(nil))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, want := range []string{"sources.erp.replicas[1].dsn: secrets must be", "sources.erp.fallback.dsn: secrets must be"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "lit3ral") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestTenantCapDefault: without tenant_max_concurrency a source lets one tenant run half its
// connections at once (at least one), so that one tenant cannot take every connection; 0 is an
// explicit "no cap".
func TestTenantCapDefault(t *testing.T) {
	cases := []struct {
		name, source string
		want         int
	}{
		{"one dsn", "      erp: {driver: postgres, dsn: \"postgres://viewgate@r1/erp\", max_conns: 10}\n", 5},
		{"replicas", "      erp:\n        driver: postgres\n        max_conns: 4\n        replicas:\n          - {name: a, dsn: \"postgres://viewgate@r1/erp\", max_conns: 10}\n          - {name: b, dsn: \"postgres://viewgate@r2/erp\"}\n", 7},
		{"one connection", "      erp: {driver: postgres, dsn: \"postgres://viewgate@r1/erp\", max_conns: 1}\n", 1},
		{"explicit no cap", "      erp: {driver: postgres, dsn: \"postgres://viewgate@r1/erp\", tenant_max_concurrency: 0}\n", 0},
		{"explicit", "      erp: {driver: postgres, dsn: \"postgres://viewgate@r1/erp\", tenant_max_concurrency: 9}\n", 9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseReplicas(t, tc.source)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Sources["erp"].TenantMaxConcurrency; got != tc.want {
				t.Errorf("tenant_max_concurrency = %d, want %d", got, tc.want)
			}
		})
	}
}
