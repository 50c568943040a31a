// Package quota charges per-tenant and per-credential query budgets, per request class.
package quota

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/viewgate/viewgate/config"
)

// Class is a request class; its values are config.QuotaClasses.
type Class string

// The request classes, cheapest first.
const (
	Lookup Class = "lookup"
	Search Class = "search"
	Report Class = "report"
	Export Class = "export"
)

// Classes lists every class in the order headers and Status report them.
var Classes = []Class{Lookup, Search, Report, Export}

// Scopes a request is charged to, and the windows each is limited by.
const (
	ScopeTenant     = "tenant"
	ScopeCredential = "credential"
	WindowBurst     = "burst"
	WindowSustained = "sustained"
)

// Subject is who a request is charged to: its tenant ("t:" keys) and its credential ("c:" keys).
// A subject without a tenant is charged on its credential only, and one without a credential on its
// tenant only.
type Subject struct {
	Tenant     string
	Credential string // the API key id or "jwt:<sub>"
}

// Options are what a Limiter takes besides its configuration; every field may be left zero.
type Options struct {
	Now        func() time.Time // the clock windows are aligned to; default time.Now
	Log        *slog.Logger     // Redis outages and recoveries; default: discarded
	KeyPrefix  string           // prefix of every store key; default "vg:q" (tests use a unique one)
	RedisRetry time.Duration    // after a Redis error, how long to answer without trying Redis; default 1s
	WarnEvery  time.Duration    // at most one WARN per this while Redis is down; default 10s
}

// Limiter enforces a config.Quota; it is safe for concurrent use.
type Limiter struct {
	cfg     config.Quota
	now     func() time.Time
	log     *slog.Logger
	plans   map[string]*plan // by name
	tenants map[string]*plan
	def     *plan
	auth    rule
	failed  failedClients // clients that failed authentication here lately
	store   *stores
	conc    concurrency
	stats   counters
}

// New returns a Limiter for cfg, or an error if cfg is inconsistent or its Redis URL does not parse.
// An unreachable Redis is not an error: the limiter starts on its on_redis_error behaviour and
// switches to Redis when it answers.
func New(cfg config.Quota, o Options) (*Limiter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "vg:q"
	}
	if o.RedisRetry <= 0 {
		o.RedisRetry = time.Second
	}
	if o.WarnEvery <= 0 {
		o.WarnEvery = 10 * time.Second
	}
	l := &Limiter{cfg: cfg, now: o.Now, log: o.Log, plans: map[string]*plan{}, tenants: map[string]*plan{}, failed: newFailedClients()}
	if !cfg.Enabled {
		return l, nil
	}
	if err := l.compile(); err != nil {
		return nil, err
	}
	st, err := newStores(cfg, o)
	if err != nil {
		return nil, err
	}
	l.store = st
	return l, nil
}

// Close releases the Redis connections; the Limiter must not be used afterwards.
func (l *Limiter) Close() error {
	if l.store == nil {
		return nil
	}
	return l.store.close()
}

// Enabled reports whether the limiter charges anything (quota.enabled).
func (l *Limiter) Enabled() bool {
	return l.cfg.Enabled
}

// Weight returns the configured cost weight of class (1 for an unknown class).
func (l *Limiter) Weight(c Class) int64 {
	if w, ok := l.cfg.Weights[string(c)]; ok {
		return w
	}
	return 1
}

// Describe returns one line per class with tenant's limits, for the start-up text, after a first
// line naming the plan and the store (never the Redis URL).
func (l *Limiter) Describe(tenant string) []string {
	if !l.cfg.Enabled {
		return []string{"quotas off (quota.enabled: false)"}
	}
	p := l.planFor(tenant)
	out := []string{fmt.Sprintf("plan %s, store %s", p.name, l.store.describe())}
	for _, c := range Classes {
		cr := p.classes[c]
		var b strings.Builder
		fmt.Fprintf(&b, "%s (weight %d): tenant %s + %s, credential %s + %s", c, l.Weight(c),
			cr.rules[0].rate, cr.rules[1].rate, cr.rules[2].rate, cr.rules[3].rate)
		if cr.concurrency > 0 {
			fmt.Fprintf(&b, ", at most %d at once per tenant", cr.concurrency)
		}
		out = append(out, b.String())
	}
	return out
}
