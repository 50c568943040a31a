package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/replica"
)

// Source is a source whose replicas are reported at each scrape (replica.Router).
type Source interface {
	Status() replica.SourceStatus
}

// Replicas reports every replica's health, lag, statements in flight and errors, read from the
// routers at scrape time (no database round trip).
type Replicas []Source

var (
	replicaUp       = prometheus.NewDesc("viewgate_replica_up", "1 while the replica (or fallback) is in rotation, else 0.", []string{"source", "replica", "fallback"}, nil)
	replicaLag      = prometheus.NewDesc("viewgate_replica_lag_seconds", "Replication lag at the last health check; absent while unknown.", []string{"source", "replica"}, nil)
	replicaInFlight = prometheus.NewDesc("viewgate_replica_in_flight", "Statements running on the replica.", []string{"source", "replica"}, nil)
	replicaErrors   = prometheus.NewDesc("viewgate_replica_errors_total", "Failed statements and failed health checks of the replica since start.", []string{"source", "replica"}, nil)
)

// Describe sends the replica metrics' descriptions.
func (r Replicas) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicaUp, replicaLag, replicaInFlight, replicaErrors} {
		ch <- d
	}
}

// Collect sends every replica's current state.
func (r Replicas) Collect(ch chan<- prometheus.Metric) {
	for _, s := range r {
		st := s.Status()
		for _, rep := range st.Replicas {
			up, fb := 0.0, "false"
			if rep.Healthy {
				up = 1
			}
			if rep.Fallback {
				fb = "true"
			}
			ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, up, st.Source, rep.Name, fb)
			if rep.LagSecs != nil {
				ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, *rep.LagSecs, st.Source, rep.Name)
			}
			ch <- prometheus.MustNewConstMetric(replicaInFlight, prometheus.GaugeValue, float64(rep.InFlight), st.Source, rep.Name)
			ch <- prometheus.MustNewConstMetric(replicaErrors, prometheus.CounterValue, float64(rep.Errors), st.Source, rep.Name)
		}
	}
}

// QuotaStats is the quota limiter's counters (quota.Limiter).
type QuotaStats interface {
	Stats() quota.Stats
}

// Quota reports the quota limiter's decisions at scrape time.
type Quota struct{ Limiter QuotaStats }

var (
	quotaDecisions   = prometheus.NewDesc("viewgate_quota_decisions_total", "Quota decisions by class and outcome (allowed, limited, over_limit, unavailable, error).", []string{"class", "outcome"}, nil)
	quotaFellBack    = prometheus.NewDesc("viewgate_quota_local_fallback_total", "Decisions taken from local memory because Redis failed (on_redis_error: open).", nil, nil)
	quotaStoreErrors = prometheus.NewDesc("viewgate_quota_store_errors_total", "Failed Redis operations of the quota store.", nil, nil)
	quotaAuthBlocked = prometheus.NewDesc("viewgate_quota_auth_blocked_total", "Requests refused because their client address failed authentication too often.", nil, nil)
)

// Describe sends the quota metrics' descriptions.
func (q Quota) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{quotaDecisions, quotaFellBack, quotaStoreErrors, quotaAuthBlocked} {
		ch <- d
	}
}

// Collect sends the limiter's counters.
func (q Quota) Collect(ch chan<- prometheus.Metric) {
	s := q.Limiter.Stats()
	for class, c := range s.Classes {
		for outcome, n := range map[string]uint64{"allowed": c.Allowed, "limited": c.Limited, "over_limit": c.OverLimit, "unavailable": c.Unavailable, "error": c.Errors} {
			ch <- prometheus.MustNewConstMetric(quotaDecisions, prometheus.CounterValue, float64(n), string(class), outcome)
		}
	}
	ch <- prometheus.MustNewConstMetric(quotaFellBack, prometheus.CounterValue, float64(s.FellBack))
	ch <- prometheus.MustNewConstMetric(quotaStoreErrors, prometheus.CounterValue, float64(s.StoreErrors))
	ch <- prometheus.MustNewConstMetric(quotaAuthBlocked, prometheus.CounterValue, float64(s.AuthBlocked))
}
