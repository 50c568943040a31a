package replica

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// probe is what one health check learnt about a server.
type probe struct {
	readOnly bool          // the server refuses writes: a standby, or read_only on
	lag      time.Duration // replication lag, when lagKnown
	lagKnown bool
}

// pools are a member's two connections: query serves statements, check serves health
// checks, so a saturated pool cannot make a busy replica look dead.
type pools struct {
	query, check engine
}

// member is one replica or the fallback of a Router.
type member struct {
	name     string
	weight   int64
	maxLag   time.Duration
	fallback bool
	opts     Options // to (re)connect; holds the DSN, so it is never logged
	conns    atomic.Pointer[pools]
	up       atomic.Bool
	inflight atomic.Int64
	errs     atomic.Int64

	mu       sync.Mutex // guards what follows
	good     int        // consecutive good checks while out of rotation
	reason   string     // why it is out of rotation; "" while up
	since    time.Time  // last change of up
	lag      time.Duration
	lagKnown bool
	checked  time.Time
}

func newMember(o RouterOptions, ro ReplicaOptions, fallback bool) *member {
	w := int64(ro.Weight)
	if w <= 0 {
		w = 1
	}
	if ro.MaxConns <= 0 {
		ro.MaxConns = DefaultMaxConns
	}
	return &member{
		name: ro.Name, weight: w, maxLag: ro.MaxLag, fallback: fallback, reason: "not checked yet",
		opts: Options{Name: o.Name, Driver: o.Driver, DSN: ro.DSN, MaxConns: ro.MaxConns, StatementTimeout: o.StatementTimeout},
	}
}

// connect opens both pools unless they are open; on failure the member stays out of
// rotation with the reason.
func (m *member) connect(ctx context.Context, log *slog.Logger, now time.Time) bool {
	if m.conns.Load() != nil {
		return true
	}
	q, err := openEngine(ctx, m.opts)
	if err == nil {
		co := m.opts
		co.MaxConns = 1
		var c engine
		if c, err = openEngine(ctx, co); err == nil {
			m.conns.Store(&pools{query: q, check: c})
			return true
		}
		q.close()
	}
	m.eject(log, now, "connect: "+describe(err), m.opts.Name)
	return false
}

func (m *member) close() {
	if p := m.conns.Swap(nil); p != nil {
		p.query.close()
		p.check.close()
	}
}

// Check runs one health check of every replica and the fallback, concurrently, and
// updates the rotation; the background loop calls it every CheckInterval.
func (r *Router) Check(ctx context.Context) {
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	var wg sync.WaitGroup
	for _, m := range r.members() {
		wg.Go(func() { r.checkOne(ctx, m) })
	}
	wg.Wait()
}

func (r *Router) checkOne(ctx context.Context, m *member) {
	ctx, cancel := context.WithTimeout(ctx, r.o.CheckTimeout)
	defer cancel()
	if !m.connect(ctx, r.log(), r.now()) {
		return
	}
	hb := r.heartbeat
	if m.fallback {
		hb = nil // the primary does not lag behind itself
	}
	p, err := m.conns.Load().check.check(ctx, hb)
	if err != nil && errors.Is(classify(err), ErrUnavailable) {
		m.errs.Add(1)
	}
	reason := r.judge(m, p, err)
	m.mu.Lock()
	m.checked = r.now()
	m.lag, m.lagKnown = p.lag, p.lagKnown && err == nil
	m.mu.Unlock()
	if reason != "" {
		m.eject(r.log(), r.now(), reason, r.o.Name)
		return
	}
	m.pass(r.log(), r.now(), r.o.RiseAfter, r.o.Name)
}

// judge returns why a check puts m out of rotation, or "".
func (r *Router) judge(m *member, p probe, err error) string {
	switch {
	case err != nil:
		return "check failed: " + describe(err)
	case r.o.RequireReplica && !m.fallback && !p.readOnly:
		return "writable: the server accepts writes, so it is not a read-only replica (set require_replica: false to allow it)"
	case m.fallback || m.maxLag <= 0:
		return ""
	case !p.lagKnown:
		return "replication lag unknown (not replicating, or no monitoring grant)"
	case p.lag > m.maxLag:
		return fmt.Sprintf("lag %s over max_lag %s", p.lag.Round(time.Millisecond), m.maxLag)
	}
	return ""
}

// eject takes m out of rotation (or keeps it out) with reason, logging a change.
func (m *member) eject(log *slog.Logger, now time.Time, reason, source string) {
	m.mu.Lock()
	wasUp, old := m.up.Swap(false), m.reason
	m.good, m.reason = 0, reason
	if wasUp {
		m.since = now
	}
	m.mu.Unlock()
	if wasUp || old != reason && old == "not checked yet" {
		log.Warn("replica out of rotation", "source", source, "replica", m.name, "fallback", m.fallback, "reason", reason)
	}
}

// pass counts a good check; m rejoins after rise good checks in a row, or at once on its
// first check ever.
func (m *member) pass(log *slog.Logger, now time.Time, rise int, source string) {
	m.mu.Lock()
	if m.up.Load() {
		m.mu.Unlock()
		return
	}
	m.good++
	first := m.reason == "not checked yet"
	if !first && m.good < rise {
		m.mu.Unlock()
		return
	}
	old := m.reason
	m.good, m.reason, m.since = 0, "", now
	m.up.Store(true)
	m.mu.Unlock()
	if first {
		log.Info("replica in rotation", "source", source, "replica", m.name, "fallback", m.fallback)
		return
	}
	log.Info("replica back in rotation", "source", source, "replica", m.name, "fallback", m.fallback, "after", old, "good_checks", rise)
}

// start runs Check every CheckInterval until Close.
func (r *Router) start() {
	if r.o.CheckInterval < 0 {
		return
	}
	tick := r.o.Tick
	if tick == nil {
		tick = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan struct{})
	c, stop := tick(r.o.CheckInterval)
	go func() {
		defer close(r.done)
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-c:
				r.Check(ctx)
			}
		}
	}()
}

// describe says what went wrong in a few words, without the host, user or DSN that
// driver messages may carry.
func describe(err error) string {
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	var liteErr *sqlite.Error
	var setErr *settingError
	switch {
	case errors.As(err, &setErr):
		return setErr.Error()
	case errors.As(err, &pgErr):
		return "SQLSTATE " + pgErr.Code + ": " + pgErr.Message
	case errors.As(err, &myErr):
		return fmt.Sprintf("error %d: %s", myErr.Number, myErr.Message)
	case errors.Is(err, syscall.ECONNREFUSED), strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn):
		return "connection lost"
	case errors.Is(err, errNoFile):
		return errNoFile.Error()
	case errors.As(err, &liteErr) && liteErr.Code()&0xff == sqlite3.SQLITE_CANTOPEN:
		return "cannot open the database file"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "failed"
}
