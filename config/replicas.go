package config

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Replica is one database a source reads from: a read replica, or the source's fallback.
type Replica struct {
	Name     string        // unique in the source; the single dsn: form names it after the source
	DSN      string        // resolved; contains credentials, so log it only through RedactDSN
	Weight   int           // default 1 (1..1000): share of traffic among equally busy replicas
	MaxLag   time.Duration // default 0 = lag not judged (0..24h)
	MaxConns int           // default: the source's max_conns (1..1000)
}

// HealthCheck paces the background checks of a source's replicas.
type HealthCheck struct {
	Interval     time.Duration // default 5s (100ms..10m)
	Timeout      time.Duration // default 3s (100ms..1m)
	HealthyAfter int           // default 3 (1..100): consecutive good checks before a replica rejoins
}

// DefaultHealthCheck returns the health check settings used for keys absent from health_check.
func DefaultHealthCheck() HealthCheck {
	return HealthCheck{Interval: 5 * time.Second, Timeout: 3 * time.Second, HealthyAfter: 3}
}

// replicaKeys lists the source keys decoded here.
var replicaKeys = []string{"replicas", "fallback", "allow_primary_fallback", "require_replica", "tenant_max_concurrency", "health_check", "heartbeat"}

// rawReplica is a replica as written, its DSN not yet resolved.
type rawReplica struct {
	rep Replica // everything but the DSN
	dsn field
}

// replicas decodes dsn or replicas (exactly one is required), the fallback and the routing
// keys of source s, whose mapping m sits at path.
func (d *decoder) replicas(m map[string]*yaml.Node, n *yaml.Node, path string, s *rawSource) {
	s.src.RequireReplica = s.src.Driver != "sqlite"
	d.setBool(m, path, "require_replica", &s.src.RequireReplica)
	s.src.TenantMaxConcurrency = unsetTenantCap
	d.setInt(m, path, "tenant_max_concurrency", 0, 100000, &s.src.TenantMaxConcurrency)
	s.src.HealthCheck = d.healthCheck(m["health_check"], join(path, "health_check"))
	if hb := d.field(m, n, path, "heartbeat"); hb.set && !hb.bad {
		schema, view, qualified := strings.Cut(hb.raw, ".")
		if !isName(view, "") || qualified && !isName(schema, "") || strings.Contains(hb.raw, "-") {
			d.addf(hb.node, hb.path, "%q must be [schema.]view: letters, digits and _", truncate(hb.raw, 40))
		} else {
			s.src.Heartbeat = hb.raw
		}
	}
	list := m["replicas"]
	switch {
	case !isNull(list) && s.dsn.set:
		d.addf(s.dsn.node, s.dsn.path, "set either dsn (one replica) or replicas, not both")
	case !isNull(list):
		s.replicas = d.replicaList(list, join(path, "replicas"))
	case s.dsn.missing():
		d.addf(s.dsn.node, s.dsn.path, "is required (or list replicas: [{name, dsn, weight, max_lag}])")
	default:
		s.replicas = []rawReplica{{rep: Replica{Name: s.src.Name, Weight: 1}, dsn: s.dsn}}
	}
	var allow bool
	allowSet := d.setBool(m, path, "allow_primary_fallback", &allow)
	fb := m["fallback"]
	switch {
	case isNull(fb) && allow:
		d.addf(m["allow_primary_fallback"], join(path, "allow_primary_fallback"), "needs a fallback: {name, dsn}")
	case !isNull(fb) && !allowSet:
		d.addf(fb, join(path, "fallback"), "is used only with allow_primary_fallback: true (set it to true, or to false to keep it unused)")
	case !isNull(fb):
		r := d.replica(fb, join(path, "fallback"), false)
		if allow && r != nil {
			s.fallback = r
		}
	}
}

// replicaList decodes a replicas list, reporting repeated names.
func (d *decoder) replicaList(n *yaml.Node, path string) []rawReplica {
	items := d.seq(n, path, "a list of {name, dsn, weight, max_lag, max_conns}")
	if items != nil && len(items) == 0 {
		d.addf(n, path, "must list at least one replica")
	}
	var out []rawReplica
	seen := map[string]bool{}
	for i, item := range items {
		r := d.replica(item, index(path, i), true)
		if r == nil {
			continue
		}
		if seen[r.rep.Name] {
			d.addf(item, join(index(path, i), "name"), "replica %q is listed twice", r.rep.Name)
			continue
		}
		seen[r.rep.Name] = true
		out = append(out, *r)
	}
	return out
}

// replica decodes one replica (or, when !routed, the fallback, which has no weight or lag).
func (d *decoder) replica(n *yaml.Node, path string, routed bool) *rawReplica {
	known := []string{"name", "dsn", "max_conns"}
	if routed {
		known = append(known, "weight", "max_lag")
	}
	m := d.fields(n, path, known...)
	if m == nil {
		return nil
	}
	r := &rawReplica{rep: Replica{Weight: 1}, dsn: d.field(m, n, path, "dsn")}
	name := d.field(m, n, path, "name")
	switch {
	case name.missing():
		d.addf(name.node, name.path, "is required")
	case !isName(name.raw, ""):
		d.addf(name.node, name.path, "%q must be letters, digits, _ and - (at most 64)", truncate(name.raw, 40))
	}
	r.rep.Name = name.raw
	if r.dsn.missing() {
		d.addf(r.dsn.node, r.dsn.path, "is required")
	}
	d.setInt(m, path, "weight", 1, 1000, &r.rep.Weight)
	d.setDuration(m, path, "max_lag", 0, 24*time.Hour, &r.rep.MaxLag)
	d.setInt(m, path, "max_conns", 1, 1000, &r.rep.MaxConns)
	return r
}

// healthCheck decodes the health_check mapping, applying defaults.
func (d *decoder) healthCheck(n *yaml.Node, path string) HealthCheck {
	hc := DefaultHealthCheck()
	if isNull(n) {
		return hc
	}
	m := d.fields(n, path, "interval", "timeout", "healthy_after")
	d.setDuration(m, path, "interval", 100*time.Millisecond, 10*time.Minute, &hc.Interval)
	d.setDuration(m, path, "timeout", 100*time.Millisecond, time.Minute, &hc.Timeout)
	d.setInt(m, path, "healthy_after", 1, 100, &hc.HealthyAfter)
	return hc
}

// dsns returns every DSN field of the source: its replicas', then its fallback's.
func (s rawSource) dsns() []field {
	var out []field
	for _, r := range s.replicas {
		out = append(out, r.dsn)
	}
	if s.fallback != nil {
		out = append(out, s.fallback.dsn)
	}
	return out
}

// resolveReplicas resolves every replica's DSN into src (Replicas, Fallback and, for code
// that reads one DSN, DSN = the first replica's); false after a problem.
func (r *resolver) resolveReplicas(s rawSource, src *Source) bool {
	ok := true
	for _, rr := range s.replicas {
		rep, good := r.resolveReplica(src, rr)
		ok = ok && good
		src.Replicas = append(src.Replicas, rep)
	}
	if s.fallback != nil {
		rep, good := r.resolveReplica(src, *s.fallback)
		ok = ok && good
		src.Fallback = &rep
	}
	if !ok || len(src.Replicas) == 0 {
		return false
	}
	src.DSN = src.Replicas[0].DSN
	if src.TenantMaxConcurrency == unsetTenantCap {
		src.TenantMaxConcurrency = defaultTenantCap(src.Replicas)
	}
	return true
}

// unsetTenantCap marks a source whose tenant_max_concurrency is not written.
const unsetTenantCap = -1

// defaultTenantCap is half the connections of a source's replicas, at least 1: one tenant
// cannot take every connection and stop the source for the others.
func defaultTenantCap(reps []Replica) int {
	n := 0
	for _, r := range reps {
		n += r.MaxConns
	}
	return max(1, n/2)
}

func (r *resolver) resolveReplica(src *Source, rr rawReplica) (Replica, bool) {
	rep := rr.rep
	if rep.MaxConns == 0 {
		rep.MaxConns = src.MaxConns
	}
	if rr.dsn.raw == "" {
		return rep, false // already reported
	}
	var ok bool
	if src.Driver == "sqlite" {
		// A sqlite DSN may itself be a file: URI, so it is never a file: reference.
		rep.DSN, ok = r.expand(rr.dsn, rr.dsn.raw)
	} else {
		rep.DSN, ok = r.secret(rr.dsn)
	}
	if !ok {
		return rep, false
	}
	if reason := checkDSN(src.Driver, rep.DSN); reason != "" {
		if hasRefs(src.Driver, rr.dsn.raw) { // a literal DSN was reported by literalDSNs
			r.addf(rr.dsn.node, rr.dsn.path, "after resolving references: %s", reason)
		}
		return rep, false
	}
	if src.Driver == "sqlite" {
		rep.DSN = sqlitePath(rep.DSN, r.dir)
	}
	return rep, true
}
