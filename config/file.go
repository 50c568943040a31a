package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// field is a string as written in the file (before ${VAR} and file: resolution), with where it was written.
type field struct {
	node *yaml.Node // the value, or the enclosing mapping when the key is absent
	path string
	raw  string
	set  bool
	bad  bool // present but not a string; already reported
}

// missing reports whether a required field is absent or empty; a field of the wrong type was already reported.
func (f field) missing() bool {
	return !f.bad && f.raw == ""
}

// hasRefs reports whether a DSN, as written, needs resolving; a sqlite file: URI is not a reference.
func hasRefs(driver, raw string) bool {
	return strings.Contains(raw, "${") || (driver != "sqlite" && strings.HasPrefix(raw, filePrefix))
}

// rawConfig is the file's content after structural checks and before the environment is chosen.
type rawConfig struct {
	listen       field
	metrics      field
	metricsTen   int
	catalog      field
	cursorSecret field
	defaultEnv   field
	apiKeys      *rawKeys // nil when absent
	anon         *rawAnon // nil when absent
	limits       Limits
	queryLog     QueryLog
	logPath      field
	slowLogPath  field
	envs         []*rawEnv
	auth         rawAuth
	quota        *rawQuota // nil when absent
}

// rawKeys is an api_keys list.
type rawKeys struct {
	path string
	keys []rawKey
}

type rawKey struct {
	path   string
	id     string
	tenant string
	roles  []string
	key    field
}

// rawAnon is an allow_anonymous principal with where it was written.
type rawAnon struct {
	node *yaml.Node
	path string
	p    *Principal
}

type rawEnv struct {
	name         string
	production   bool
	sources      []rawSource
	apiKeys      *rawKeys  // nil when the environment uses the top-level list
	cursorSecret field     // unset when the environment uses the top-level secret
	quota        *rawQuota // nil when the environment uses the top-level section
	anon         *rawAnon  // nil when the environment uses the top-level allow_anonymous
}

type rawSource struct {
	src        Source // everything but the DSN
	dsn        field
	replicas   []rawReplica // the dsn form is one replica named after the source
	fallback   *rawReplica  // nil unless allow_primary_fallback: true
	allowWrite *yaml.Node   // allow_write_privileges when set to true, for the production rule
}

// root decodes the top-level mapping, reporting every structural problem.
func (d *decoder) root(n *yaml.Node) *rawConfig {
	raw := &rawConfig{limits: DefaultLimits(), queryLog: DefaultQueryLog(), auth: rawAuth{auth: DefaultAuth()}}
	m := d.fields(n, "", "listen", "catalog", "cursor_secret", "default_env", "api_keys",
		"allow_anonymous", "limits", "query_log", "environments", "auth", "quota", "metrics_listen", "metrics_tenants")
	if m == nil {
		return nil
	}
	raw.listen = d.field(m, n, "", "listen")
	raw.metrics = d.field(m, n, "", "metrics_listen")
	d.setInt(m, "", "metrics_tenants", 0, 1000, &raw.metricsTen)
	raw.catalog = d.field(m, n, "", "catalog")
	raw.cursorSecret = d.field(m, n, "", "cursor_secret")
	raw.defaultEnv = d.field(m, n, "", "default_env")
	if v := m["api_keys"]; !isNull(v) {
		raw.apiKeys = d.apiKeys(v, "api_keys")
	}
	raw.anon = d.anonymous(m, "")
	if v := m["auth"]; !isNull(v) {
		raw.auth = d.authSection(v, "auth")
	}
	if v := m["limits"]; !isNull(v) {
		d.limits(v, "limits", &raw.limits)
	}
	if v := m["quota"]; !isNull(v) {
		raw.quota = d.quotaSection(v, "quota")
	}
	if v := m["query_log"]; !isNull(v) {
		d.queryLog(v, raw)
	}
	if envs := m["environments"]; isNull(envs) {
		d.addf(n, "environments", "is required: name at least one environment with its sources")
	} else {
		raw.envs = d.environments(envs, "environments")
	}
	return raw
}

// queryLog decodes the query_log section over the defaults in raw.
func (d *decoder) queryLog(v *yaml.Node, raw *rawConfig) {
	const path = "query_log"
	lm := d.fields(v, path, "path", "slow_threshold", "slow_log_path", "slow_threshold_by_class", "slow_threshold_by_view", "plans", "label_statements")
	raw.logPath = d.field(lm, v, path, "path")
	raw.slowLogPath = d.field(lm, v, path, "slow_log_path")
	ql := &raw.queryLog
	d.setDuration(lm, path, "slow_threshold", 0, time.Hour, &ql.SlowThreshold)
	var label bool
	if d.setBool(lm, path, "label_statements", &label) {
		ql.LabelStatements = &label
	}
	ql.SlowByClass = d.thresholds(lm["slow_threshold_by_class"], join(path, "slow_threshold_by_class"), func(k string) string {
		switch k {
		case "lookup", "search", "report", "export":
			return ""
		}
		return "is not a class (lookup, search, report, export)"
	})
	ql.SlowByView = d.thresholds(lm["slow_threshold_by_view"], join(path, "slow_threshold_by_view"), func(k string) string {
		if !isName(k, "") {
			return "is not a view's root field name"
		}
		return "" // checked against the catalog when the gateway starts
	})
	if pv := lm["plans"]; !isNull(pv) {
		pp := join(path, "plans")
		pm := d.fields(pv, pp, "interval", "per_minute", "timeout")
		d.setDuration(pm, pp, "interval", 0, 24*time.Hour, &ql.Plans.Interval)
		d.setInt(pm, pp, "per_minute", 1, 600, &ql.Plans.PerMinute)
		d.setDuration(pm, pp, "timeout", 100*time.Millisecond, 30*time.Second, &ql.Plans.Timeout)
	}
}

// thresholds decodes a {name: duration} mapping whose keys bad judges ("" = fine).
func (d *decoder) thresholds(n *yaml.Node, path string, bad func(string) string) map[string]time.Duration {
	if isNull(n) {
		return nil
	}
	es, ok := d.entries(n, path)
	if !ok {
		return nil
	}
	out := map[string]time.Duration{}
	m := map[string]*yaml.Node{}
	for _, e := range es {
		if why := bad(e.key); why != "" {
			d.addf(e.keyNode, join(path, e.key), "%s", why)
			continue
		}
		m[e.key] = e.val
		var v time.Duration = -1
		d.setDuration(m, path, e.key, 0, time.Hour, &v)
		if v >= 0 {
			out[e.key] = v
		}
	}
	return out
}

// limits decodes the limits section over the defaults in l.
func (d *decoder) limits(n *yaml.Node, path string, l *Limits) {
	m := d.fields(n, path, "max_body_bytes", "max_depth", "max_fields", "default_page_size",
		"doc_cache_size", "doc_cache_bytes", "request_timeout", "max_cost", "max_root_fields", "max_rows",
		"request_db_time", "max_in_flight", "max_in_flight_per_principal", "max_response_bytes", "write_timeout",
		"export_statement_timeout", "export_idle_timeout")
	d.setBytes(m, path, "max_body_bytes", 1<<10, 64<<20, &l.MaxBodyBytes)
	d.setInt(m, path, "max_depth", 1, 100, &l.MaxDepth)
	d.setInt(m, path, "max_fields", 1, 100000, &l.MaxFields)
	d.setInt(m, path, "default_page_size", 1, 10000, &l.DefaultPageSize)
	d.setInt(m, path, "doc_cache_size", 0, 1000000, &l.DocCacheSize)
	d.setBytes(m, path, "doc_cache_bytes", 0, 4<<30, &l.DocCacheBytes)
	d.setDuration(m, path, "request_timeout", 100*time.Millisecond, time.Hour, &l.RequestTimeout)
	d.setInt(m, path, "max_cost", 1, 1000000, &l.MaxCost)
	d.setInt(m, path, "max_root_fields", 1, 1000, &l.MaxRootFields)
	d.setInt(m, path, "max_rows", 1, 1000000, &l.MaxRows)
	d.setDuration(m, path, "request_db_time", 100*time.Millisecond, time.Hour, &l.RequestDBTime)
	d.setInt(m, path, "max_in_flight", 1, 100000, &l.MaxInFlight)
	d.setInt(m, path, "max_in_flight_per_principal", 1, 100000, &l.MaxInFlightPerPrincipal)
	d.setBytes(m, path, "max_response_bytes", 64<<10, 1<<30, &l.MaxResponseBytes)
	d.setDuration(m, path, "write_timeout", time.Second, 10*time.Minute, &l.WriteTimeout)
	d.setDuration(m, path, "export_statement_timeout", time.Second, 24*time.Hour, &l.ExportStatementTimeout)
	d.setDuration(m, path, "export_idle_timeout", time.Second, 10*time.Minute, &l.ExportIdleTimeout)
}

// anonymous decodes the allow_anonymous key of mapping m, at path; nil when it is absent.
func (d *decoder) anonymous(m map[string]*yaml.Node, path string) *rawAnon {
	n := m["allow_anonymous"]
	if isNull(n) {
		return nil
	}
	a := &rawAnon{node: n, path: join(path, "allow_anonymous")}
	if a.p = d.principal(n, a.path); a.p == nil {
		return nil // reported
	}
	return a
}

// principal decodes a tenant and roles; without a tenant, the principal reads only views
// without a tenant_column.
func (d *decoder) principal(n *yaml.Node, path string) *Principal {
	m := d.fields(n, path, "tenant", "roles")
	if m == nil {
		return nil
	}
	return &Principal{Tenant: d.field(m, n, path, "tenant").raw, Roles: d.strList(m["roles"], join(path, "roles"))}
}

// apiKeys decodes an api_keys list, reporting missing fields and duplicate ids.
func (d *decoder) apiKeys(n *yaml.Node, path string) *rawKeys {
	ks := &rawKeys{path: path}
	ids := make(map[string]string)
	for i, item := range d.seq(n, path, "a list of {id, tenant, roles, key}") {
		p := index(path, i)
		m := d.fields(item, p, "id", "tenant", "roles", "key")
		if m == nil {
			continue
		}
		k := rawKey{path: p, key: d.field(m, item, p, "key")}
		id := d.field(m, item, p, "id")
		switch k.id = id.raw; {
		case id.bad:
		case id.missing():
			d.addf(id.node, id.path, "is required")
		case !isName(id.raw, "."):
			d.addf(id.node, id.path, "%q must be letters, digits, _, - and . (at most 64)", truncate(id.raw, 40))
		case ids[id.raw] != "":
			d.addf(id.node, id.path, "duplicate id %q (also %s)", id.raw, ids[id.raw])
		default:
			ids[id.raw] = p
		}
		k.tenant = d.field(m, item, p, "tenant").raw // "" reads only untenanted views
		k.roles = d.strList(m["roles"], join(p, "roles"))
		if k.key.missing() {
			d.addf(k.key.node, k.key.path, "is required (write ${VAR} or file:path)")
		}
		ks.keys = append(ks.keys, k)
	}
	return ks
}

// environments decodes every environment; structure is checked for all of them, not only the selected one.
func (d *decoder) environments(n *yaml.Node, path string) []*rawEnv {
	es, ok := d.entries(n, path)
	if !ok {
		return nil
	}
	if len(es) == 0 {
		d.addf(n, path, "must name at least one environment")
	}
	var envs []*rawEnv
	for _, e := range es {
		if !isName(e.key, "") {
			d.addf(e.keyNode, path, "environment name %q must be letters, digits, _ and - (at most 64)", truncate(e.key, 40))
			continue
		}
		envs = append(envs, d.environment(e, join(path, e.key)))
	}
	return envs
}

func (d *decoder) environment(e entry, path string) *rawEnv {
	env := &rawEnv{name: e.key, production: e.key == "prod"}
	m := d.fields(e.val, path, "production", "sources", "api_keys", "cursor_secret", "quota", "allow_anonymous")
	if m == nil {
		return env
	}
	var production bool
	if d.setBool(m, path, "production", &production) {
		if !production && env.production {
			d.addf(m["production"], join(path, "production"), "cannot be false: the prod environment is always production")
		}
		env.production = env.production || production
	}
	if src := m["sources"]; isNull(src) {
		d.addf(e.keyNode, join(path, "sources"), "is required: name at least one source")
	} else {
		env.sources = d.sources(src, join(path, "sources"))
	}
	if v := m["api_keys"]; !isNull(v) {
		env.apiKeys = d.apiKeys(v, join(path, "api_keys"))
	}
	env.cursorSecret = d.field(m, e.val, path, "cursor_secret")
	if v := m["quota"]; !isNull(v) {
		env.quota = d.quotaSection(v, join(path, "quota"))
	}
	env.anon = d.anonymous(m, path)
	return env
}

// sources decodes an environment's sources, applying defaults.
func (d *decoder) sources(n *yaml.Node, path string) []rawSource {
	es, ok := d.entries(n, path)
	if !ok {
		return nil
	}
	if len(es) == 0 {
		d.addf(n, path, "must name at least one source")
	}
	var out []rawSource
	for _, e := range es {
		if !isName(e.key, "") {
			d.addf(e.keyNode, path, "source name %q must be letters, digits, _ and - (at most 64)", truncate(e.key, 40))
			continue
		}
		p := join(path, e.key)
		m := d.fields(e.val, p, append([]string{"driver", "dsn", "max_conns", "statement_timeout", "erp_schemas", "allow_write_privileges"}, replicaKeys...)...)
		if m == nil {
			continue
		}
		s := rawSource{dsn: d.field(m, e.val, p, "dsn")}
		s.src = Source{Name: e.key, MaxConns: defaultMaxConns, StatementTimeout: defaultStatementTimeout}
		driver := d.field(m, e.val, p, "driver")
		switch s.src.Driver = driver.raw; driver.raw {
		case "postgres", "mysql", "sqlite":
		case "":
			if !driver.bad {
				d.addf(driver.node, driver.path, "is required (allowed: postgres, mysql, sqlite)")
			}
		default:
			d.addf(driver.node, driver.path, "unknown driver %q (allowed: postgres, mysql, sqlite)", truncate(driver.raw, 40))
		}
		d.replicas(m, e.val, p, &s)
		d.setInt(m, p, "max_conns", 1, 1000, &s.src.MaxConns)
		d.setDuration(m, p, "statement_timeout", 100*time.Millisecond, 10*time.Minute, &s.src.StatementTimeout)
		s.allowWrite = d.auditKeys(m, p, &s.src)
		out = append(out, s)
	}
	return out
}
