package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// QuotaRedisEnvVar overrides quota.redis_url (and the demo's memory store) when set.
const QuotaRedisEnvVar = "VIEWGATE_QUOTA_REDIS_URL"

// QuotaClasses are the request classes a plan sets limits for, cheapest first.
var QuotaClasses = []string{"lookup", "search", "report", "export"}

// Quota configures the per-tenant and per-credential query budgets that package quota enforces.
type Quota struct {
	Enabled      bool              // default true; false charges nothing (benchmarks)
	RedisURL     string            // "" = memory store (one instance); resolved, may hold a password: log only through RedactDSN
	OnRedisError string            // "open" (default: local memory limits) or "closed" (503)
	AuthFailures Rate              // authentication failures per client IP before it is refused; default 30/1m
	DefaultPlan  string            // plan of tenants not in Tenants; default "standard"
	Tenants      map[string]string // tenant -> plan name
	Plans        map[string]Plan   // by name; always holds "standard" (built in unless redefined)
	Weights      map[string]int64  // class -> cost weight used by the planner, every class present
}

// Rate is a limit in cost units per fixed window.
type Rate struct {
	Limit  int64         // 1..1e9 cost units
	Window time.Duration // whole seconds
}

// Plan holds the limits of every class in QuotaClasses.
type Plan map[string]ClassLimits

// ClassLimits are one class's limits in a plan.
type ClassLimits struct {
	Tenant      Windows // shared by every credential of a tenant
	Credential  Windows // per API key or JWT subject
	Concurrency int     // requests of the class one tenant runs at once on one instance; 0 = no cap
	RowsPerDay  int64   // export only: rows one tenant may export per UTC day, charged as they stream; 0 = no budget
}

// Windows are the two windows every scope is limited by.
type Windows struct {
	Burst     Rate // window 1s..10m
	Sustained Rate // window 1h..24h
}

// Window ranges and the largest limit.
const (
	minBurst     = time.Second
	maxBurst     = 10 * time.Minute
	minSustained = time.Hour
	maxSustained = 24 * time.Hour
	maxRateLimit = 1_000_000_000
)

// DefaultExportRowsPerDay is the standard plan's export budget: rows per tenant per UTC day.
const DefaultExportRowsPerDay = 10_000_000

// StandardPlan is the name of the built-in plan.
const StandardPlan = "standard"

// String writes r as it is configured, like 60/10s or 5000/1h.
func (r Rate) String() string {
	return strconv.FormatInt(r.Limit, 10) + "/" + formatWindow(r.Window)
}

// formatWindow writes a whole-second window in its largest exact unit.
func formatWindow(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// rates builds a Windows from burst and sustained limits over the given windows.
func rates(burst int64, burstWindow time.Duration, sustained int64, sustainedWindow time.Duration) Windows {
	return Windows{Burst: Rate{burst, burstWindow}, Sustained: Rate{sustained, sustainedWindow}}
}

// DefaultPlan returns the built-in "standard" plan: roomy for people and reports, strict on the
// classes that cost the database most.
func DefaultPlan() Plan {
	return Plan{
		"lookup": {Tenant: rates(300, 10*time.Second, 60000, time.Hour), Credential: rates(150, 10*time.Second, 30000, time.Hour)},
		"search": {Tenant: rates(60, 10*time.Second, 6000, time.Hour), Credential: rates(30, 10*time.Second, 3000, time.Hour)},
		"report": {Tenant: rates(30, 10*time.Second, 1500, time.Hour), Credential: rates(15, 10*time.Second, 750, time.Hour), Concurrency: 2},
		"export": {Tenant: rates(100, time.Minute, 2000, time.Hour), Credential: rates(50, time.Minute, 1000, time.Hour), Concurrency: 1,
			RowsPerDay: DefaultExportRowsPerDay},
	}
}

// DefaultWeights returns the built-in class cost weights.
func DefaultWeights() map[string]int64 {
	return map[string]int64{"lookup": 1, "search": 3, "report": 5, "export": 10}
}

// DefaultQuota returns the quota settings used when the file has no quota section.
func DefaultQuota() Quota {
	return Quota{
		Enabled:      true,
		OnRedisError: "open",
		AuthFailures: Rate{30, time.Minute},
		DefaultPlan:  StandardPlan,
		Tenants:      map[string]string{},
		Plans:        map[string]Plan{StandardPlan: DefaultPlan()},
		Weights:      DefaultWeights(),
	}
}

// DemoQuota returns the built-in demo's quotas: small enough to see a 429 by hand (the 7th search in
// 10 seconds at the default weight), while a hundred plain lookups in a row still pass.
func DemoQuota() Quota {
	q := DefaultQuota()
	q.Plans[StandardPlan] = Plan{
		"lookup": {Tenant: rates(200, 10*time.Second, 5000, time.Hour), Credential: rates(200, 10*time.Second, 5000, time.Hour)},
		"search": {Tenant: rates(20, 10*time.Second, 200, time.Hour), Credential: rates(20, 10*time.Second, 200, time.Hour)},
		"report": {Tenant: rates(20, 10*time.Second, 200, time.Hour), Credential: rates(20, 10*time.Second, 200, time.Hour), Concurrency: 2},
		"export": {Tenant: rates(50, time.Minute, 500, time.Hour), Credential: rates(50, time.Minute, 500, time.Hour), Concurrency: 1,
			RowsPerDay: 100_000},
	}
	return q
}

// ApplyEnv overrides q.RedisURL with getenv(QuotaRedisEnvVar) when that is set, for configurations
// built in code (the demo); it returns an error naming the variable, never its value, if the URL is bad.
func (q *Quota) ApplyEnv(getenv func(string) string) error {
	v := getenv(QuotaRedisEnvVar)
	if v == "" {
		return nil
	}
	if reason := checkRedisURL(v); reason != "" {
		return fmt.Errorf("%s: %s", QuotaRedisEnvVar, reason)
	}
	q.RedisURL = v
	return nil
}

// PlanFor returns the plan that applies to tenant.
func (q Quota) PlanFor(tenant string) Plan {
	if name, ok := q.Tenants[tenant]; ok {
		return q.Plans[name]
	}
	return q.Plans[q.DefaultPlan]
}

// rawQuota is a quota section before its Redis URL is resolved.
type rawQuota struct {
	quota    Quota
	redisURL field
}

// quotaSection decodes a quota section over the defaults.
func (d *decoder) quotaSection(n *yaml.Node, path string) *rawQuota {
	rq := &rawQuota{quota: DefaultQuota()}
	m := d.fields(n, path, "enabled", "redis_url", "on_redis_error", "auth_failures", "default_plan",
		"tenants", "plans", "weights")
	if m == nil {
		return rq
	}
	q := &rq.quota
	d.setBool(m, path, "enabled", &q.Enabled)
	rq.redisURL = d.field(m, n, path, "redis_url")
	if f := d.field(m, n, path, "on_redis_error"); f.set && !f.bad {
		if f.raw != "open" && f.raw != "closed" {
			d.addf(f.node, f.path, "%q is not open or closed", truncate(f.raw, 40))
		}
		q.OnRedisError = f.raw
	}
	d.setRate(m, path, "auth_failures", time.Second, time.Hour, &q.AuthFailures)
	if v := m["plans"]; !isNull(v) {
		d.plans(v, join(path, "plans"), q.Plans)
	}
	if f := d.field(m, n, path, "default_plan"); f.set && !f.bad {
		d.checkPlanName(f.node, f.path, f.raw, q.Plans)
		q.DefaultPlan = f.raw
	}
	if v := m["tenants"]; !isNull(v) {
		d.tenantPlans(v, join(path, "tenants"), q)
	}
	if v := m["weights"]; !isNull(v) {
		d.weights(v, join(path, "weights"), q.Weights)
	}
	return rq
}

// checkPlanName reports a plan name that names no plan.
func (d *decoder) checkPlanName(n *yaml.Node, path, name string, plans map[string]Plan) {
	if _, ok := plans[name]; !ok {
		names := slices.Sorted(maps.Keys(plans))
		d.addf(n, path, "unknown plan %q (plans: %s)", truncate(name, 40), strings.Join(names, ", "))
	}
}

// plans decodes the named plans into plans; an omitted class, scope or window takes the built-in default.
func (d *decoder) plans(n *yaml.Node, path string, plans map[string]Plan) {
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	for _, e := range es {
		if !isName(e.key, "") {
			d.addf(e.keyNode, path, "plan name %q must be letters, digits, _ and - (at most 64)", truncate(e.key, 40))
			continue
		}
		p := join(path, e.key)
		plan := DefaultPlan()
		m := d.fields(e.val, p, QuotaClasses...)
		for _, class := range QuotaClasses {
			v := m[class]
			if isNull(v) {
				continue
			}
			limits := plan[class]
			d.classLimits(v, join(p, class), &limits)
			plan[class] = limits
		}
		plans[e.key] = plan
	}
}

// classLimits decodes one class's limits over the defaults in l.
func (d *decoder) classLimits(n *yaml.Node, path string, l *ClassLimits) {
	keys := []string{"tenant", "credential", "concurrency"}
	export := strings.HasSuffix(path, ".export")
	if export {
		keys = append(keys, "rows_per_day")
	}
	m := d.fields(n, path, keys...)
	if m == nil {
		return
	}
	if export {
		v := int(l.RowsPerDay)
		d.setInt(m, path, "rows_per_day", 0, maxRateLimit, &v)
		l.RowsPerDay = int64(v)
	}
	if v := m["tenant"]; !isNull(v) {
		d.windows(v, join(path, "tenant"), &l.Tenant)
	}
	if v := m["credential"]; !isNull(v) {
		d.windows(v, join(path, "credential"), &l.Credential)
	}
	d.setInt(m, path, "concurrency", 0, 10000, &l.Concurrency)
}

// windows decodes a scope's burst and sustained rates over the defaults in w.
func (d *decoder) windows(n *yaml.Node, path string, w *Windows) {
	m := d.fields(n, path, "burst", "sustained")
	if m == nil {
		return
	}
	d.setRate(m, path, "burst", minBurst, maxBurst, &w.Burst)
	d.setRate(m, path, "sustained", minSustained, maxSustained, &w.Sustained)
	if w.Burst.Limit > w.Sustained.Limit {
		at := m["burst"]
		if at == nil {
			at = m["sustained"]
		}
		d.addf(at, join(path, "burst"), "limit %d is above the sustained limit %d, so it could never be used", w.Burst.Limit, w.Sustained.Limit)
	}
}

// tenantPlans decodes the tenant -> plan mapping, reporting unknown plans.
func (d *decoder) tenantPlans(n *yaml.Node, path string, q *Quota) {
	es, ok := d.entries(n, path)
	if !ok {
		return
	}
	for _, e := range es {
		p := join(path, e.key)
		name, ok := d.str(e.val, p)
		if !ok {
			continue
		}
		if e.key == "" {
			d.addf(e.keyNode, path, "a tenant must not be empty")
			continue
		}
		d.checkPlanName(e.val, p, name, q.Plans)
		q.Tenants[e.key] = name
	}
}

// weights decodes class cost weights over the defaults in w.
func (d *decoder) weights(n *yaml.Node, path string, w map[string]int64) {
	m := d.fields(n, path, QuotaClasses...)
	for _, class := range QuotaClasses {
		v := int(w[class])
		d.setInt(m, path, class, 1, 10000, &v)
		w[class] = int64(v)
	}
}

// setRate stores m[key] in dst if it is a rate N/window with the window in lo..hi; an absent key
// leaves the default.
func (d *decoder) setRate(m map[string]*yaml.Node, path, key string, lo, hi time.Duration, dst *Rate) {
	n, p := m[key], join(path, key)
	if isNull(n) {
		return
	}
	s, ok := d.scalar(n, p, "a rate like 60/10s")
	if !ok {
		return
	}
	r, err := parseRate(s.Value)
	if err != nil {
		d.addf(n, p, "%v, got %q", err, truncate(s.Value, 40))
		return
	}
	if r.Window < lo || r.Window > hi {
		d.addf(n, p, "window must be from %s to %s, got %s", formatWindow(lo), formatWindow(hi), formatWindow(r.Window))
		return
	}
	*dst = r
}

// parseRate parses "N/window": N cost units (1..1e9) per window (a Go duration or a number of days
// like 1d, in whole seconds).
func parseRate(s string) (Rate, error) {
	const want = "must be a rate N/window like 60/10s or 5000/1h, N from 1 to 1000000000"
	num, win, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return Rate{}, errors.New(want)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > maxRateLimit {
		return Rate{}, errors.New(want)
	}
	w, err := parseWindow(win)
	if err != nil {
		return Rate{}, err
	}
	return Rate{Limit: n, Window: w}, nil
}

// parseWindow parses a whole-second Go duration or a number of days like 1d.
func parseWindow(s string) (time.Duration, error) {
	const want = "the window must be a duration in whole seconds like 10s, 1m, 1h or 1d"
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 365 {
			return 0, errors.New(want)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New(want)
		}
		d = v
	}
	if d <= 0 || d%time.Second != 0 {
		return 0, errors.New(want)
	}
	return d, nil
}

// checkRedisURL returns why u is not a usable Redis URL, or ""; the reason never quotes u.
func checkRedisURL(u string) string {
	if !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		return "must be a redis:// or rediss:// URL"
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "not a valid URL (percent-encode special characters in the password)"
	case p.Scheme != "redis" && p.Scheme != "rediss":
		return "must be a redis:// or rediss:// URL"
	case p.Host == "" || p.Hostname() == "":
		return "needs a host, as in redis://host:6379/0"
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "has a bad port"
		}
	}
	if db := strings.TrimPrefix(p.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return "path must be a database number, as in redis://host:6379/0"
		}
	}
	return ""
}

// quotaConfig resolves the effective quota section: the environment's when it has one, else the
// top-level one; VIEWGATE_QUOTA_REDIS_URL overrides the Redis URL.
func (r *resolver) quotaConfig(top *rawQuota, e *rawEnv) Quota {
	rq := top
	if e != nil && e.quota != nil {
		rq = e.quota
	}
	if rq == nil {
		rq = &rawQuota{quota: DefaultQuota()}
	}
	q := rq.quota
	if v := r.getenv(QuotaRedisEnvVar); v != "" {
		if reason := checkRedisURL(v); reason != "" {
			r.addf(nil, QuotaRedisEnvVar, "%s", reason)
		}
		q.RedisURL = v
		return q
	}
	f := rq.redisURL
	if !f.set || f.raw == "" {
		return q
	}
	v, ok := r.secret(f)
	if !ok {
		return q
	}
	if reason := checkRedisURL(v); reason != "" {
		if hasRefs("", f.raw) {
			reason = "after resolving references: " + reason
		}
		r.addf(f.node, f.path, "%s", reason)
	}
	q.RedisURL = v
	return q
}
