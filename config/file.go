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
	catalog      field
	cursorSecret field
	defaultEnv   field
	apiKeys      *rawKeys // nil when absent
	anon         *Principal
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

type rawEnv struct {
	name         string
	production   bool
	sources      []rawSource
	apiKeys      *rawKeys  // nil when the environment uses the top-level list
	cursorSecret field     // unset when the environment uses the top-level secret
	quota        *rawQuota // nil when the environment uses the top-level section
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
		"allow_anonymous", "limits", "query_log", "environments", "auth", "quota")
	if m == nil {
		return nil
	}
	raw.listen = d.field(m, n, "", "listen")
	raw.catalog = d.field(m, n, "", "catalog")
	raw.cursorSecret = d.field(m, n, "", "cursor_secret")
	raw.defaultEnv = d.field(m, n, "", "default_env")
	if v := m["api_keys"]; !isNull(v) {
		raw.apiKeys = d.apiKeys(v, "api_keys")
	}
	if v := m["allow_anonymous"]; !isNull(v) {
		raw.anon = d.principal(v, "allow_anonymous")
	}
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
		lm := d.fields(v, "query_log", "path", "slow_threshold", "slow_log_path")
		raw.logPath = d.field(lm, v, "query_log", "path")
		raw.slowLogPath = d.field(lm, v, "query_log", "slow_log_path")
		d.setDuration(lm, "query_log", "slow_threshold", 0, time.Hour, &raw.queryLog.SlowThreshold)
	}
	if envs := m["environments"]; isNull(envs) {
		d.addf(n, "environments", "is required: name at least one environment with its sources")
	} else {
		raw.envs = d.environments(envs, "environments")
	}
	return raw
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

// principal decodes a tenant and roles.
func (d *decoder) principal(n *yaml.Node, path string) *Principal {
	m := d.fields(n, path, "tenant", "roles")
	if m == nil {
		return nil
	}
	p := &Principal{}
	if tenant := d.field(m, n, path, "tenant"); tenant.missing() {
		d.addf(tenant.node, tenant.path, "is required")
	} else {
		p.Tenant = tenant.raw
	}
	p.Roles = d.strList(m["roles"], join(path, "roles"))
	return p
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
		tenant := d.field(m, item, p, "tenant")
		if k.tenant = tenant.raw; tenant.missing() {
			d.addf(tenant.node, tenant.path, "is required")
		}
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
	m := d.fields(e.val, path, "production", "sources", "api_keys", "cursor_secret", "quota")
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
