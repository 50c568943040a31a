package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/replica"
)

// bounded is a Source that says how long its statements may run (resolvers.Source.Bound);
// the replica router, which opens the config's sources, is one.
type bounded interface{ Bound() time.Duration }

var (
	_ bounded = (*replica.Router)(nil)
	_ bounded = (*replica.Source)(nil)
)

// OpenSource opens a source's replicas behind a router; a config without replicas (the demo)
// is one replica named after the source.
func OpenSource(ctx context.Context, sc config.Source, log *slog.Logger) (*replica.Router, error) {
	reps := sc.Replicas
	if len(reps) == 0 {
		reps = []config.Replica{{Name: sc.Name, DSN: sc.DSN, Weight: 1, MaxConns: sc.MaxConns}}
	}
	o := replica.RouterOptions{
		Name: sc.Name, Driver: sc.Driver, StatementTimeout: sc.StatementTimeout,
		RequireReplica: sc.RequireReplica, TenantMaxConcurrency: sc.TenantMaxConcurrency,
		CheckInterval: sc.HealthCheck.Interval, CheckTimeout: sc.HealthCheck.Timeout, RiseAfter: sc.HealthCheck.HealthyAfter,
		Heartbeat: sc.Heartbeat, Tenant: tenantOf, Log: log,
	}
	for _, r := range reps {
		o.Replicas = append(o.Replicas, replicaOptions(r))
	}
	if sc.Fallback != nil {
		fb := replicaOptions(*sc.Fallback)
		o.Fallback = &fb
	}
	return replica.OpenRouter(ctx, o)
}

func replicaOptions(r config.Replica) replica.ReplicaOptions {
	return replica.ReplicaOptions{Name: r.Name, DSN: r.DSN, Weight: r.Weight, MaxLag: r.MaxLag, MaxConns: r.MaxConns}
}

// tenantOf is the tenant whose statements the per-tenant cap counts.
func tenantOf(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return p.Tenant
	}
	return ""
}

// router is an opened source behind replica's router: what /readyz reports on.
type router interface {
	Ping(ctx context.Context) error
	Status() replica.SourceStatus
}

// readiness is ready when every source has a replica (or its fallback) in rotation.
type readiness map[string]router

func (r readiness) names() []string {
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Ready names each source without a healthy replica and why its replicas are out.
func (r readiness) Ready(ctx context.Context) error {
	var errs []error
	for _, name := range r.names() {
		if err := r[name].Ping(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("not ready: %w", errors.Join(errs...))
	}
	return nil
}

// readySource is a source on /readyz: healthy or unhealthy, as a whole and per replica, nothing more.
type readySource struct {
	Source   string         `json:"source"`
	Status   string         `json:"status"`
	Replicas []readyReplica `json:"replicas"`
}

type readyReplica struct {
	Name     string `json:"name"`
	Fallback bool   `json:"fallback,omitempty"`
	Status   string `json:"status"`
}

func health(ok bool) string {
	if ok {
		return "healthy"
	}
	return "unhealthy"
}

// Report lists every source's replicas as healthy or unhealthy, for /readyz.
func (r readiness) Report() any {
	out := make([]readySource, 0, len(r))
	for _, st := range r.Details() {
		rs := readySource{Source: st.Source, Status: health(st.Healthy), Replicas: []readyReplica{}}
		for _, rep := range st.Replicas {
			rs.Replicas = append(rs.Replicas, readyReplica{Name: rep.Name, Fallback: rep.Fallback, Status: health(rep.Healthy)})
		}
		out = append(out, rs)
	}
	return out
}

// Details lists every source's replicas with their state, reasons and counters, for the admin
// route /admin/replicas.
func (r readiness) Details() []replica.SourceStatus {
	out := make([]replica.SourceStatus, 0, len(r))
	for _, name := range r.names() {
		out = append(out, r[name].Status())
	}
	return out
}
