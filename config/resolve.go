package config

import (
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// minCursorSecret and minKeyLen are the shortest secrets accepted, in bytes.
const (
	minCursorSecret = 32
	minKeyLen       = 16
)

// prodRule is the message for a literal secret in a production environment.
const prodRule = "secrets must be ${ENV} or file: references in prod"

// resolver picks the environment and resolves its references into a Config.
type resolver struct {
	*decoder
	getenv   func(string) string
	readFile func(string) ([]byte, error)
}

// config builds the Config for the environment named env (or the default one).
func (r *resolver) config(raw *rawConfig, file, env string) *Config {
	cfg := &Config{File: file, Limits: raw.limits, QueryLog: raw.queryLog}
	cfg.Listen = r.listen(raw.listen)
	if raw.metrics.set && raw.metrics.raw != "" {
		cfg.MetricsListen = r.listen(raw.metrics)
	}
	cfg.MetricsTenants = raw.metricsTen
	if raw.catalog.missing() {
		r.addf(raw.catalog.node, raw.catalog.path, "is required: the path of the views catalog")
	} else {
		cfg.Catalog = r.path(raw.catalog)
	}
	cfg.QueryLog.Path = r.path(raw.logPath)
	cfg.QueryLog.SlowLogPath = r.path(raw.slowLogPath)
	cfg.Auth = r.authConfig(raw.auth)
	r.productionRules(raw)
	for _, e := range raw.envs {
		r.literalDSNs(e)
	}
	e := r.selectEnv(raw, env)
	cfg.Quota = r.quotaConfig(raw.quota, e)
	if e == nil {
		return cfg
	}
	cfg.Env, cfg.Production = e.name, e.production
	cfg.Sources = r.sources(e)
	cfg.CursorSecret = r.cursorSecret(raw, e)
	keys := raw.apiKeys
	if e.apiKeys != nil {
		keys = e.apiKeys
	}
	cfg.APIKeys = r.apiKeys(keys)
	if a := anonOf(raw, e); a != nil {
		cfg.AllowAnonymous = a.p
	}
	return cfg
}

// listen returns the listen address, defaulting it and reporting one that is not host:port.
func (r *resolver) listen(f field) string {
	if !f.set {
		return defaultListen
	}
	v, ok := r.expand(f, f.raw)
	if !ok {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		r.addf(f.node, f.path, "%q must be host:port with a numeric port, like 127.0.0.1:8080 or :8080", truncate(f.raw, 80))
		return ""
	}
	return v
}

// path expands a path and anchors it to the config file's directory; unset is "".
func (r *resolver) path(f field) string {
	if !f.set || f.raw == "" {
		return ""
	}
	v, ok := r.expand(f, f.raw)
	if !ok {
		return ""
	}
	if v != "" && !filepath.IsAbs(v) && r.dir != "" {
		v = filepath.Join(r.dir, v)
	}
	return v
}

// envNames lists the environment names, sorted.
func envNames(raw *rawConfig) string {
	names := make([]string, len(raw.envs))
	for i, e := range raw.envs {
		names[i] = e.name
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// findEnv returns the environment called name, or nil.
func findEnv(raw *rawConfig, name string) *rawEnv {
	for _, e := range raw.envs {
		if e.name == name {
			return e
		}
	}
	return nil
}

// selectEnv returns the requested environment, else default_env, else the only one; nil after a problem.
func (r *resolver) selectEnv(raw *rawConfig, env string) *rawEnv {
	if len(raw.envs) == 0 {
		return nil // already reported
	}
	def := raw.defaultEnv
	if def.set && findEnv(raw, def.raw) == nil {
		r.addf(def.node, def.path, "unknown environment %q (available: %s)", truncate(def.raw, 40), envNames(raw))
	}
	if env == "" {
		env = r.getenv(EnvVar)
	}
	switch {
	case env != "":
		if e := findEnv(raw, env); e != nil {
			return e
		}
		r.addf(nil, "", "unknown environment %q (available: %s)", truncate(env, 40), envNames(raw))
		return nil
	case def.set:
		return findEnv(raw, def.raw)
	case len(raw.envs) == 1:
		return raw.envs[0]
	}
	r.addf(nil, "", "no environment selected: pass one, set %s or set default_env (available: %s)", EnvVar, envNames(raw))
	return nil
}

// productionRules reports literal secrets used by any production environment, selected or not, so a
// mistake in prod is caught wherever the file is checked.
func (r *resolver) productionRules(raw *rawConfig) {
	reported := make(map[string]bool)
	literal := func(f field, env string, what string) {
		if reported[f.path] {
			return
		}
		reported[f.path] = true
		r.addf(f.node, f.path, "%s (environment %q uses a literal %s)", prodRule, env, what)
	}
	for _, e := range raw.envs {
		if !e.production {
			continue
		}
		for _, s := range e.sources {
			for _, dsn := range s.dsns() {
				if s.src.Driver != "sqlite" && hasLiteralPassword(dsn.raw) {
					literal(dsn, e.name, "password in its DSN")
				}
			}
		}
		r.refuseWriteOverride(e)
		secret := raw.cursorSecret
		if e.cursorSecret.set {
			secret = e.cursorSecret
		}
		if secret.set && !isReference(secret.raw) {
			literal(secret, e.name, "cursor_secret")
		}
		keys := raw.apiKeys
		if e.apiKeys != nil {
			keys = e.apiKeys
		}
		for _, k := range keysOf(keys) {
			if k.key.set && !isReference(k.key.raw) {
				literal(k.key, e.name, "API key")
			}
		}
		q := raw.quota
		if e.quota != nil {
			q = e.quota
		}
		if q != nil && q.redisURL.set && hasLiteralPassword(q.redisURL.raw) {
			literal(q.redisURL, e.name, "password in quota.redis_url")
		}
		if a := anonOf(raw, e); a != nil && !reported[a.path] {
			reported[a.path] = true
			hint := ""
			if a == raw.anon {
				hint = "; to allow it elsewhere, set environments.<name>.allow_anonymous there instead"
			}
			r.addf(a.node, a.path, "is refused in production environments (environment %q uses it): %s%s", e.name, prodAnonRule, hint)
		}
	}
}

// prodAnonRule says why allow_anonymous is refused in production, whatever its roles: a request
// without a credential would then be served rather than refused, for instance when a proxy drops
// a client's key, and nothing in the logs says who read what.
const prodAnonRule = "give every caller an API key or a token"

// anonOf returns the environment's allow_anonymous, or the top-level one; nil when neither is set.
func anonOf(raw *rawConfig, e *rawEnv) *rawAnon {
	if e.anon != nil {
		return e.anon
	}
	return raw.anon
}

// keysOf returns the keys of a possibly absent list.
func keysOf(ks *rawKeys) []rawKey {
	if ks == nil {
		return nil
	}
	return ks.keys
}

// literalDSNs checks the syntax of DSNs written without references, in every environment.
func (r *resolver) literalDSNs(e *rawEnv) {
	for _, s := range e.sources {
		for _, dsn := range s.dsns() {
			if dsn.raw == "" || hasRefs(s.src.Driver, dsn.raw) {
				continue
			}
			if reason := checkDSN(s.src.Driver, dsn.raw); reason != "" {
				r.addf(dsn.node, dsn.path, "%s", reason)
			}
		}
	}
}

// sources resolves and checks the DSNs of the selected environment.
func (r *resolver) sources(e *rawEnv) map[string]Source {
	out := make(map[string]Source, len(e.sources))
	for _, s := range e.sources {
		src := s.src
		if !r.resolveReplicas(s, &src) {
			continue // reported
		}
		out[src.Name] = src
	}
	return out
}

// cursorSecret resolves the environment's cursor secret, or the top-level one.
func (r *resolver) cursorSecret(raw *rawConfig, e *rawEnv) string {
	f := raw.cursorSecret
	if e.cursorSecret.set {
		f = e.cursorSecret
	}
	if f.raw == "" {
		if !f.bad {
			r.addf(f.node, f.path, "is required: at least %d bytes, written as ${VAR} or file:path", minCursorSecret)
		}
		return ""
	}
	v, ok := r.secret(f)
	if ok && len(v) < minCursorSecret {
		r.addf(f.node, f.path, "is shorter than %d bytes", minCursorSecret)
		return ""
	}
	return v
}

// apiKeys resolves the effective key list, reporting short and repeated keys.
func (r *resolver) apiKeys(ks *rawKeys) []APIKey {
	if ks == nil {
		return nil
	}
	out := make([]APIKey, 0, len(ks.keys))
	seen := make(map[string]string)
	for _, k := range ks.keys {
		if k.key.raw == "" {
			continue // already reported
		}
		v, ok := r.secret(k.key)
		if !ok {
			continue
		}
		switch {
		case len(v) < minKeyLen:
			r.addf(k.key.node, k.key.path, "is shorter than %d characters", minKeyLen)
		case seen[v] != "":
			r.addf(k.key.node, k.key.path, "is the same key as %s", seen[v])
		default:
			seen[v] = k.path
		}
		out = append(out, APIKey{ID: k.id, Tenant: k.tenant, Roles: k.roles, Key: v})
	}
	return out
}
