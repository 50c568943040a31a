package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoHealthyReplica reports that every replica of a source (and its fallback, if any) is
// out of rotation; it wraps ErrUnavailable, so callers answer 503 and retry later.
var ErrNoHealthyReplica error = &kindError{"replica: no healthy replica", ErrUnavailable}

// ErrTenantBusy reports that a tenant waited for a free slot under its concurrency cap
// until its context ended; it wraps ErrUnavailable.
var ErrTenantBusy error = &kindError{"replica: tenant concurrency cap reached", ErrUnavailable}

// Defaults of RouterOptions.
const (
	DefaultCheckInterval = 5 * time.Second
	DefaultCheckTimeout  = 3 * time.Second
	DefaultRiseAfter     = 3
)

// ReplicaOptions configures one replica of a source.
type ReplicaOptions struct {
	Name     string        // unique in the source; appears in logs and on /readyz
	DSN      string        // never logged or shown
	Weight   int           // share of traffic among equally busy replicas; zero means 1
	MaxLag   time.Duration // replication lag that takes it out of rotation; zero means lag is not judged
	MaxConns int           // pool size; zero means DefaultMaxConns
}

// RouterOptions configures a source served by several replicas.
type RouterOptions struct {
	Name             string // source name
	Driver           string // "postgres", "mysql" or "sqlite"
	Replicas         []ReplicaOptions
	Fallback         *ReplicaOptions // used only while no replica is healthy (e.g. the primary); nil means none
	StatementTimeout time.Duration   // zero means DefaultStatementTimeout
	// RequireReplica takes a replica out of rotation when the server accepts writes:
	// Postgres not in recovery, MySQL/MariaDB with read_only off. Never applied to Fallback.
	RequireReplica bool
	CheckInterval  time.Duration // between background health checks; zero means DefaultCheckInterval, negative disables the loop
	CheckTimeout   time.Duration // per check; zero means DefaultCheckTimeout
	RiseAfter      int           // consecutive good checks before a replica rejoins; zero means DefaultRiseAfter
	// TenantMaxConcurrency caps the statements one tenant runs at once on this source;
	// further statements wait for a slot. Zero means no cap.
	TenantMaxConcurrency int
	// Heartbeat names a "[schema.]view" whose ts column is the primary's UTC time of its
	// last heartbeat write (pt-heartbeat style); when set it measures the lag instead of
	// the engine's own replication status, which may need a monitoring grant.
	Heartbeat string
	Tenant    func(context.Context) string // the tenant of a request; nil or "" means uncapped
	Log       *slog.Logger                 // state changes; nil discards them
	Now       func() time.Time             // nil means time.Now
	// Tick returns the channel that paces health checks and a stop function; nil means a
	// time.Ticker. Tests inject their own.
	Tick func(time.Duration) (<-chan time.Time, func())
}

// Router runs each statement on the least busy healthy replica of a source, retries a
// statement whose replica failed once on another, and checks replicas in the background.
type Router struct {
	o         RouterOptions
	replicas  []*member
	fallback  *member // nil when the source has none
	dialect   string
	heartbeat []string // nil: the engine's own lag measure
	rr        atomic.Uint64
	tenants   sync.Map // tenant → chan struct{}, the tenant's slots
	checkMu   sync.Mutex
	stop      context.CancelFunc
	done      chan struct{}
}

// OpenRouter connects to every replica and the fallback, checks each once, and starts the
// background checks; a replica that cannot be reached starts out of rotation. It returns an
// error wrapping ErrNoHealthyReplica if none can be reached, since the dialect is unknown then.
func OpenRouter(ctx context.Context, o RouterOptions) (*Router, error) {
	if len(o.Replicas) == 0 {
		return nil, fmt.Errorf("source %s: no replica configured", o.Name)
	}
	if _, err := heartbeatParts(o.Heartbeat); err != nil {
		return nil, fmt.Errorf("source %s: %w", o.Name, err)
	}
	r := newRouter(o)
	var wg sync.WaitGroup
	for _, m := range r.members() {
		wg.Go(func() { m.connect(ctx, r.log(), r.now()) })
	}
	wg.Wait()
	for _, m := range r.members() {
		if c := m.conns.Load(); c != nil && r.dialect == "" {
			r.dialect = c.query.dialect()
		}
	}
	if r.dialect == "" {
		r.Close()
		return nil, fmt.Errorf("open source %s: %w (%s)", o.Name, ErrNoHealthyReplica, r.why())
	}
	r.Check(ctx)
	r.start()
	return r, nil
}

// newRouter builds a router whose members are not connected yet.
func newRouter(o RouterOptions) *Router {
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.RiseAfter <= 0 {
		o.RiseAfter = DefaultRiseAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Router{o: o}
	r.heartbeat, _ = heartbeatParts(o.Heartbeat) // checked by OpenRouter
	for _, ro := range o.Replicas {
		r.replicas = append(r.replicas, newMember(o, ro, false))
	}
	if o.Fallback != nil {
		r.fallback = newMember(o, *o.Fallback, true)
	}
	return r
}

// heartbeatParts splits a "[schema.]view" name into plain identifiers, or returns an error.
func heartbeatParts(name string) ([]string, error) {
	if name == "" {
		return nil, nil
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" || len(parts) > 2 || strings.IndexFunc(p, func(c rune) bool {
			return c != '_' && (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z')
		}) >= 0 {
			return nil, fmt.Errorf("heartbeat %q must be [schema.]view with letters, digits and _", name)
		}
	}
	return parts, nil
}

// members returns the replicas, then the fallback.
func (r *Router) members() []*member {
	if r.fallback == nil {
		return r.replicas
	}
	return append(r.replicas[:len(r.replicas):len(r.replicas)], r.fallback)
}

func (r *Router) log() *slog.Logger {
	if r.o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.o.Log
}

func (r *Router) now() time.Time { return r.o.Now() }

// Name returns the source name.
func (r *Router) Name() string { return r.o.Name }

// Bound returns the longest a Query holds its caller: the wait for the tenant's slot, then
// the statement timeout and the client-side backstop every engine adds to it, once per
// attempt (a statement that fails as unavailable is tried once more on another member).
func (r *Router) Bound() time.Duration {
	var wait time.Duration
	if r.o.TenantMaxConcurrency > 0 && r.o.Tenant != nil {
		wait = tenantWait
	}
	return wait + time.Duration(min(len(r.members()), 2))*(r.o.StatementTimeout+backstop)
}

// Dialect returns "postgres", "mysql", "mariadb" or "sqlite", as detected by the first
// replica reached at OpenRouter.
func (r *Router) Dialect() string { return r.dialect }

// Query runs sql on a healthy replica in a READ ONLY transaction under the statement
// timeout and hands the rows to fn. When the replica fails as unavailable before fn has
// seen a row, it is taken out of rotation and the statement runs once more on another
// healthy replica, calling fn again. It returns an error wrapping ErrNoHealthyReplica when
// no replica is healthy, ErrTenantBusy when the tenant's cap could not be met, and
// otherwise what Source.Query returns.
func (r *Router) Query(ctx context.Context, sql string, args []any, fn func(Rows) error) error {
	return r.route(ctx, statement{sql: sql, args: args, timeout: r.o.StatementTimeout}, fn)
}

// Stream is Query for a long read (an export): the statement runs in a consistent snapshot
// (see Source.Stream) under timeout instead of the source's statement timeout; a Trace on
// ctx learns the replica, as for Query.
func (r *Router) Stream(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	return r.route(ctx, statement{sql: sql, args: args, timeout: timeout, snapshot: true}, fn)
}

// statement is one statement to route.
type statement struct {
	sql      string
	args     []any
	timeout  time.Duration
	snapshot bool
}

func (r *Router) route(ctx context.Context, st statement, fn func(Rows) error) error {
	release, err := r.admit(ctx)
	if err != nil {
		return err
	}
	defer release()
	m := r.pick(nil)
	if m == nil {
		return r.noHealthy()
	}
	again, err := r.run(ctx, m, st, fn, true)
	if !again {
		return err
	}
	next := r.pick(m)
	if next == nil {
		return fmt.Errorf("%w; first attempt: %w", r.noHealthy(), err)
	}
	_, err = r.run(ctx, next, st, fn, false)
	return err
}

// run executes the statement on m; again reports that it failed as unavailable before fn
// saw a row, so a retry elsewhere cannot double anything fn collected.
func (r *Router) run(ctx context.Context, m *member, st statement, fn func(Rows) error, first bool) (again bool, err error) {
	c := m.conns.Load()
	if c == nil { // lost a race with a reconnect; treat as unavailable
		return first, fmt.Errorf("query on source %s (replica %s): %w", r.o.Name, m.name, ErrUnavailable)
	}
	ran(ctx, m.name)
	var seen *seenRows
	call := fn
	if first {
		seen = &seenRows{}
		call = func(rows Rows) error {
			seen.Rows = rows
			return fn(seen)
		}
	}
	err = m.run(func() error { return execute(ctx, c.query, st, call) })
	if err == nil {
		return false, nil
	}
	err = wrap("query", r.o.Name+" (replica "+m.name+")", err)
	m.errs.Add(1)
	if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
		return false, err
	}
	m.eject(r.log(), r.now(), "query failed: "+describe(err), r.o.Name)
	return first && !seen.seen, err
}

// Explain returns the plan of sql on the named replica (or the fallback): the one that ran the
// statement, since plans differ between servers. It runs in a READ ONLY transaction under
// timeout (zero: the statement timeout) and never with a parameter value: Postgres plans the
// generic plan with NULLs, MySQL and MariaDB get neutral stand-ins of the parameters' kinds.
// It returns an error wrapping ErrUnavailable when that member is unknown or not connected,
// and ErrNoPlan on SQLite or for anything but a single SELECT.
func (r *Router) Explain(ctx context.Context, replica, sql string, args []any, timeout time.Duration) (json.RawMessage, error) {
	if timeout <= 0 {
		timeout = r.o.StatementTimeout
	}
	for _, m := range r.members() {
		if m.name != replica {
			continue
		}
		c := m.conns.Load()
		if c == nil {
			break
		}
		var plan json.RawMessage
		err := m.run(func() (err error) {
			plan, err = c.query.explain(ctx, sql, args, timeout)
			return err
		})
		if err != nil {
			return nil, wrap("explain", r.o.Name+" (replica "+m.name+")", err)
		}
		return plan, nil
	}
	return nil, fmt.Errorf("explain on source %s: replica %q is not connected: %w", r.o.Name, replica, ErrUnavailable)
}

// seenRows remembers whether fn was handed a row.
type seenRows struct {
	Rows
	seen bool
}

func (s *seenRows) Next() bool {
	ok := s.Rows.Next()
	s.seen = s.seen || ok
	return ok
}

// tieRun is how many tied picks in a row go to the same replica: alternating on every
// statement makes a lone client wake a different, cache-cold backend each time, which cost
// about 10% of serial throughput in bench's BenchmarkRouter (runs of 16 still about 2.5%);
// runs of 64 keep it within the noise while weights still share the traffic.
const tieRun = 64

// pick returns the healthy replica with the fewest statements in flight per unit of
// weight, skipping not; ties go round-robin in proportion to weight, in runs of tieRun.
// The fallback is returned only when no replica is healthy; nil means nothing is.
func (r *Router) pick(not *member) *member {
	var best *member
	var tied int64 // total weight of replicas tied with best
	var ties [8]*member
	cand := ties[:0]
	for _, m := range r.replicas {
		if m == not || !m.up.Load() {
			continue
		}
		if best != nil {
			// m.in/m.w vs best.in/best.w without division
			a, b := m.inflight.Load()*best.weight, best.inflight.Load()*m.weight
			if a > b {
				continue
			}
			if a < b {
				cand, tied = cand[:0], 0
			}
		}
		best = m
		cand = append(cand, m)
		tied += m.weight
	}
	switch len(cand) {
	case 0:
		if f := r.fallback; f != nil && f != not && f.up.Load() {
			return f
		}
		return nil
	case 1:
		return cand[0]
	}
	k := int64(r.rr.Add(1) / tieRun % uint64(tied))
	for _, m := range cand {
		if k -= m.weight; k < 0 {
			return m
		}
	}
	return cand[len(cand)-1]
}

// noHealthy returns ErrNoHealthyReplica with each member's state.
func (r *Router) noHealthy() error {
	return fmt.Errorf("source %s: %w (%s)", r.o.Name, ErrNoHealthyReplica, r.why())
}

// why lists the members out of rotation with their reasons; no DSN appears.
func (r *Router) why() string {
	var parts []string
	for _, m := range r.members() {
		if st := m.status(); !st.Healthy {
			parts = append(parts, st.Name+": "+st.Reason)
		}
	}
	return strings.Join(parts, "; ")
}

// admit waits for a slot under the tenant's cap and returns its release; without a cap
// or a tenant it returns at once.
func (r *Router) admit(ctx context.Context) (func(), error) {
	if r.o.TenantMaxConcurrency <= 0 || r.o.Tenant == nil {
		return func() {}, nil
	}
	tenant := r.o.Tenant(ctx)
	if tenant == "" {
		return func() {}, nil
	}
	v, ok := r.tenants.Load(tenant)
	if !ok {
		v, _ = r.tenants.LoadOrStore(tenant, make(chan struct{}, r.o.TenantMaxConcurrency))
	}
	slots := v.(chan struct{})
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	default:
	}
	wait := time.NewTimer(tenantWait)
	defer wait.Stop()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-wait.C:
	case <-ctx.Done():
	}
	// ctx.Err() is not wrapped: the answer is 503 UNAVAILABLE with Retry-After, not a timeout.
	return nil, fmt.Errorf("source %s: %w: tenant %s already runs %d statements (%v)",
		r.o.Name, ErrTenantBusy, tenant, r.o.TenantMaxConcurrency, ctx.Err())
}

// tenantWait bounds how long a statement waits for its tenant's slot before the request is
// answered 503 with Retry-After.
const tenantWait = 2 * time.Second

// Ping checks that at least one replica (or the fallback) is in rotation; it returns an
// error wrapping ErrNoHealthyReplica if none is.
func (r *Router) Ping(context.Context) error {
	if r.Healthy() {
		return nil
	}
	return r.noHealthy()
}

// Healthy reports whether a statement would find a replica or the fallback in rotation.
func (r *Router) Healthy() bool {
	for _, m := range r.members() {
		if m.up.Load() {
			return true
		}
	}
	return false
}

// Close stops the health checks and closes every pool; Query must not be called afterwards.
func (r *Router) Close() {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	for _, m := range r.members() {
		m.close()
	}
}

// run counts a statement in flight on the replica while it runs, even if it panics, so that a
// recovered panic cannot skew routing for good.
func (m *member) run(f func() error) error {
	m.inflight.Add(1)
	defer m.inflight.Add(-1)
	return f()
}
