package replica

import "time"

// SourceStatus is a source's health as shown on /readyz; it holds names and states only,
// never a DSN.
type SourceStatus struct {
	Source   string          `json:"source"`
	Healthy  bool            `json:"healthy"`
	Replicas []ReplicaStatus `json:"replicas"`
}

// ReplicaStatus is one replica's (or the fallback's) health and counters.
type ReplicaStatus struct {
	Name      string    `json:"name"`
	Fallback  bool      `json:"fallback,omitempty"`
	Healthy   bool      `json:"healthy"`
	Reason    string    `json:"reason,omitempty"` // why it is out of rotation
	Since     time.Time `json:"since,omitzero"`   // when it last entered or left rotation
	InFlight  int64     `json:"in_flight"`
	Errors    int64     `json:"errors"`                // failed statements and failed checks since start
	LagSecs   *float64  `json:"lag_seconds,omitempty"` // nil when unknown
	MaxLag    string    `json:"max_lag,omitempty"`
	Weight    int64     `json:"weight"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Status returns the source's health and per-replica counters.
func (r *Router) Status() SourceStatus {
	st := SourceStatus{Source: r.o.Name, Healthy: r.Healthy()}
	for _, m := range r.members() {
		st.Replicas = append(st.Replicas, m.status())
	}
	return st
}

func (m *member) status() ReplicaStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := ReplicaStatus{
		Name: m.name, Fallback: m.fallback, Healthy: m.up.Load(), Reason: m.reason, Since: m.since,
		InFlight: m.inflight.Load(), Errors: m.errs.Load(), Weight: m.weight, CheckedAt: m.checked,
	}
	if m.lagKnown {
		secs := m.lag.Seconds()
		st.LagSecs = &secs
	}
	if m.maxLag > 0 {
		st.MaxLag = m.maxLag.String()
	}
	return st
}
