package replica_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/server"
)

// The tests in this file need the hot standby that .ci/standby creates on 127.0.0.1:5433;
// they skip without it unless CI is set. They run one after the other (none is parallel),
// and the last one stops the standby and starts it again.

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// whereAmI reports whether the statement ran on a standby.
func whereAmI(ctx context.Context, r *replica.Router) (standby bool, err error) {
	err = r.Query(ctx, "SELECT pg_is_in_recovery(), count(*) FROM v_invoices", nil, func(rows replica.Rows) error {
		var n int64
		for rows.Next() {
			if err := rows.Scan(&standby, &n); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return standby, err
}

func openRouter(t *testing.T, o replica.RouterOptions) (*replica.Router, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	o.Name, o.Driver = "erp", "postgres"
	o.Log = slog.New(slog.NewJSONHandler(logs, nil))
	r, err := replica.OpenRouter(ctxT(t, 30*time.Second), o)
	if err != nil {
		t.Fatalf("OpenRouter: %v", err)
	}
	t.Cleanup(r.Close)
	return r, logs
}

// syncBuffer is a bytes.Buffer safe for the router's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func replicaState(r *replica.Router, name string) replica.ReplicaStatus {
	for _, st := range r.Status().Replicas {
		if st.Name == name {
			return st
		}
	}
	return replica.ReplicaStatus{}
}

func TestStandbyReadsGoToStandby(t *testing.T) {
	primary, standby := dbtest.Standby(t)
	r, logs := openRouter(t, replica.RouterOptions{
		RequireReplica: true, CheckInterval: -1,
		Replicas: []replica.ReplicaOptions{
			{Name: "primary-as-replica", DSN: primary},
			{Name: "standby", DSN: standby, MaxLag: 30 * time.Second},
		},
	})
	for range 20 {
		onStandby, err := whereAmI(ctxT(t, 10*time.Second), r)
		if err != nil {
			t.Fatal(err)
		}
		if !onStandby {
			t.Fatal("a statement ran on the primary, which require_replica should keep out")
		}
	}
	// A write reaching the standby is refused by Postgres (25006), not retried elsewhere, and
	// leaves the standby in rotation.
	err := r.Query(ctxT(t, 10*time.Second), "CREATE TABLE vg_write_probe (i int)", nil, func(replica.Rows) error { return nil })
	if !errors.Is(err, replica.ErrWriteRefused) || !replicaState(r, "standby").Healthy {
		t.Errorf("write on the standby: %v, want ErrWriteRefused", err)
	}
	if st := replicaState(r, "primary-as-replica"); st.Healthy || !strings.HasPrefix(st.Reason, "writable") {
		t.Errorf("primary listed as a replica: %+v, want out of rotation as writable", st)
	}
	if st := replicaState(r, "standby"); !st.Healthy || st.LagSecs == nil {
		t.Errorf("standby: %+v, want healthy with a known lag", st)
	}
	if out := logs.String(); strings.Contains(out, "postgres://") || strings.Contains(out, "127.0.0.1") {
		t.Errorf("log shows a DSN or host:\n%s", out)
	}
	if r.Dialect() != "postgres" {
		t.Errorf("Dialect = %q", r.Dialect())
	}
}

func TestStandbyLagLeavesRotation(t *testing.T) {
	primary, standby := dbtest.Standby(t)
	ctx := ctxT(t, 2*time.Minute)
	sb, err := pgx.Connect(ctx, standby)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	r, logs := openRouter(t, replica.RouterOptions{
		RequireReplica: true, CheckInterval: -1, RiseAfter: 2,
		Replicas: []replica.ReplicaOptions{{Name: "standby", DSN: standby, MaxLag: time.Second}},
		Fallback: &replica.ReplicaOptions{Name: "primary", DSN: primary},
	})
	// Other tests write to the shared primary, so replay may be a second behind at first.
	waitFor(t, r, "the standby to be in rotation", func() bool { return replicaState(r, "standby").Healthy })
	if _, err := sb.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, standby); err == nil {
			_, _ = c.Exec(ctx, "SELECT pg_wal_replay_resume()")
			c.Close(ctx)
		}
	})
	p, err := pgx.Connect(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if _, err := p.Exec(ctx, "CREATE TABLE lag_probe (i int); INSERT INTO lag_probe VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, "the standby to leave rotation over max_lag", func() bool {
		st := replicaState(r, "standby")
		return !st.Healthy && strings.Contains(st.Reason, "over max_lag 1s")
	})
	if onStandby, err := whereAmI(ctx, r); err != nil || onStandby {
		t.Fatalf("while the standby lags: on standby %v, err %v; want the primary fallback", onStandby, err)
	}
	if _, err := sb.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, "the standby to rejoin", func() bool { return replicaState(r, "standby").Healthy })
	if onStandby, err := whereAmI(ctx, r); err != nil || !onStandby {
		t.Fatalf("after resume: on standby %v, err %v; want the standby", onStandby, err)
	}
	for _, want := range []string{`"msg":"replica out of rotation","source":"erp","replica":"standby"`, `"msg":"replica back in rotation","source":"erp","replica":"standby"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// waitFor runs health checks until cond holds, for at most 30 seconds.
func waitFor(t *testing.T, r *replica.Router, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.Check(context.Background())
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %+v", what, r.Status())
}

// standbyState is what a standby says about its WAL receiver and replay, as a superuser sees it.
type standbyState struct {
	Status            string
	ReceiveBehind     bool // pg_last_wal_receive_lsn() < pg_last_wal_replay_lsn()
	NoReplayTimestamp bool // pg_last_xact_replay_timestamp() IS NULL
}

func readStandbyState(ctx context.Context, t *testing.T, dsn string) standbyState {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var st standbyState
	err = c.QueryRow(ctx, `SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none'),
		coalesce(pg_last_wal_receive_lsn() < pg_last_wal_replay_lsn(), false), pg_last_xact_replay_timestamp() IS NULL`).
		Scan(&st.Status, &st.ReceiveBehind, &st.NoReplayTimestamp)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func execPG(ctx context.Context, t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestStandbyRestartOnQuietPrimary: a standby restarted while its primary writes nothing
// reports a receive position behind its replay position (the start of the WAL segment it
// resumes streaming from) and no replayed transaction; with nothing to replay its lag is 0,
// so it rejoins rotation, for a superuser and for an account without pg_read_all_stats
// (which cannot see the receiver's status). It runs on a private primary and standby
// (dbtest.QuietPair): the shared test primary is never idle while other tests run.
func TestStandbyRestartOnQuietPrimary(t *testing.T) {
	pair := dbtest.QuietPair(t)
	ctx := ctxT(t, 3*time.Minute)
	execPG(ctx, t, pair.Primary, "CREATE ROLE vg_reader LOGIN", "CREATE TABLE probe (i int)", "INSERT INTO probe VALUES (1)", "CHECKPOINT")
	pair.WaitReplayed(t)
	// A restartpoint past the last commit: after the restart no transaction is replayed again.
	execPG(ctx, t, pair.Standby, "CHECKPOINT")
	reader := strings.Replace(pair.Standby, "postgres://postgres@", "postgres://vg_reader@", 1)
	routers := map[string]*replica.Router{}
	for name, dsn := range map[string]string{"superuser": pair.Standby, "without pg_read_all_stats": reader} {
		r, _ := openRouter(t, replica.RouterOptions{
			RequireReplica: true, CheckInterval: -1, RiseAfter: 2, CheckTimeout: 5 * time.Second,
			Replicas: []replica.ReplicaOptions{{Name: "standby", DSN: dsn, MaxLag: time.Second}},
		})
		if st := replicaState(r, "standby"); !st.Healthy || st.LagSecs == nil || *st.LagSecs != 0 {
			t.Fatalf("%s: before the restart: %+v, want in rotation with lag 0", name, st)
		}
		routers[name] = r
	}
	// The primary may still log one standby snapshot (bgwriter, within 15 s of the last
	// write), which would end the state under test; then the round is tried again.
	for round := 1; ; round++ {
		pair.Ctl(t, "standby", "restart")
		var before standbyState
		for deadline := time.Now().Add(30 * time.Second); ; {
			if before = readStandbyState(ctx, t, pair.Standby); before.Status == "streaming" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !before.ReceiveBehind || !before.NoReplayTimestamp || before.Status != "streaming" {
			t.Fatalf("after the restart: %+v, want streaming with the receive position behind replay and no replayed transaction", before)
		}
		for name, r := range routers {
			for range 10 { // the first check may still meet a connection the restart closed
				r.Check(ctx)
				if replicaState(r, "standby").Healthy {
					break
				}
			}
			st := replicaState(r, "standby")
			if !st.Healthy || st.LagSecs == nil || *st.LagSecs != 0 {
				t.Errorf("%s: after a restart on a quiet primary: %+v, want back in rotation with lag 0", name, st)
			}
		}
		if after := readStandbyState(ctx, t, pair.Standby); after == before || round == 3 {
			break
		}
		t.Logf("round %d: the primary wrote during the checks; restarting again", round)
	}
	// Restarted while its primary is down, the standby streams nothing: it is not caught up.
	pair.Ctl(t, "primary", "stop")
	pair.Ctl(t, "standby", "restart")
	r := routers["superuser"]
	for range 3 {
		r.Check(ctx)
	}
	if st := replicaState(r, "standby"); st.Healthy || st.LagSecs != nil {
		t.Errorf("restarted without its primary: %+v, want out of rotation with the lag unknown", st)
	}
}

// TestStandbyRestartRejoins restarts the shared CI standby (not the primary): once it
// streams again its lag is known and it rejoins rotation. On a quiet primary this is the
// state TestStandbyRestartOnQuietPrimary pins; while other tests write to the shared
// primary, replay catches up at once. The standby is running again when the test ends.
func TestStandbyRestartRejoins(t *testing.T) {
	_, standby := dbtest.Standby(t)
	t.Cleanup(func() { dbtest.StandbyCtl(t, "start") })
	ctx := ctxT(t, 2*time.Minute)
	r, logs := openRouter(t, replica.RouterOptions{
		RequireReplica: true, CheckInterval: -1, RiseAfter: 2, CheckTimeout: 5 * time.Second,
		Replicas: []replica.ReplicaOptions{{Name: "standby", DSN: standby, MaxLag: 30 * time.Second}},
	})
	if !replicaState(r, "standby").Healthy {
		t.Fatalf("standby not in rotation at start: %+v", r.Status())
	}
	dbtest.StandbyCtl(t, "stop")
	r.Check(ctx)
	if st := replicaState(r, "standby"); st.Healthy {
		t.Fatalf("stopped standby still in rotation: %+v", st)
	}
	dbtest.StandbyCtl(t, "start")
	waitFor(t, r, "the restarted standby to rejoin", func() bool { return replicaState(r, "standby").Healthy })
	if st := replicaState(r, "standby"); st.LagSecs == nil || *st.LagSecs > 30 {
		t.Errorf("restarted standby: %+v, want a known lag within max_lag", st)
	}
	if !strings.Contains(logs.String(), `"msg":"replica back in rotation","source":"erp","replica":"standby"`) {
		t.Errorf("log lacks the rejoin:\n%s", logs)
	}
	// A pooled connection from before the restart may fail one statement (and take the
	// standby out until it passes its checks again); after that, statements reach it.
	var onStandby bool
	var err error
	for range 20 {
		if onStandby, err = whereAmI(ctx, r); err == nil && onStandby {
			return
		}
		r.Check(ctx)
		r.Check(ctx)
	}
	t.Fatalf("after the restart: on standby %v, err %v; want the standby", onStandby, err)
}

// TestStandbyStopUnderLoad stops the standby while a bounded load runs on loopback: every
// statement must succeed (retried on the primary fallback); a source without a fallback must
// then answer a clean 503. The standby is started again at the end.
func TestStandbyStopUnderLoad(t *testing.T) {
	primary, standby := dbtest.Standby(t)
	t.Cleanup(func() { dbtest.StandbyCtl(t, "start") })
	withFallback, _ := openRouter(t, replica.RouterOptions{
		RequireReplica: true, CheckInterval: 200 * time.Millisecond, CheckTimeout: time.Second,
		Replicas: []replica.ReplicaOptions{{Name: "standby", DSN: standby, MaxConns: 4}},
		Fallback: &replica.ReplicaOptions{Name: "primary", DSN: primary, MaxConns: 4},
	})
	h, closeH, err := bench.ViewgateRouter(ctxT(t, 30*time.Second), "postgres", []string{standby}, 4, replica.RouterOptions{
		RequireReplica: true, CheckInterval: 200 * time.Millisecond, CheckTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeH()

	const workers, maxStatements, maxTime = 4, 4000, 15 * time.Second
	var done, onStandby, onPrimary atomic.Int64
	var failures []error
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), maxTime)
	defer cancel()
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && done.Load() < maxStatements {
				sb, err := whereAmI(context.Background(), withFallback)
				done.Add(1)
				switch {
				case err != nil:
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				case sb:
					onStandby.Add(1)
				default:
					onPrimary.Add(1)
				}
				select {
				case <-stopped:
					if onPrimary.Load() >= 200 {
						cancel()
					}
				default:
				}
			}
		})
	}
	for done.Load() < 100 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	dbtest.StandbyCtl(t, "stop")
	close(stopped)
	wg.Wait()
	t.Logf("statements: %d (standby %d, primary %d), failures %d", done.Load(), onStandby.Load(), onPrimary.Load(), len(failures))
	for i, err := range failures {
		if i < 5 {
			t.Errorf("statement failed: %v", err)
		}
	}
	if onStandby.Load() == 0 || onPrimary.Load() == 0 {
		t.Errorf("want statements on the standby before the stop and on the primary after")
	}
	if st := replicaState(withFallback, "standby"); st.Healthy {
		t.Errorf("stopped standby still in rotation: %+v", st)
	}

	// No replica left and no fallback: a clean 503 with Retry-After and UNAVAILABLE.
	var res *httptest.ResponseRecorder
	for range 20 { // the first request may still find the standby in rotation and fail over to nothing
		res = httptest.NewRecorder()
		req, _ := bench.NewRequest(context.Background(), "http://127.0.0.1"+bench.Path)
		h.ServeHTTP(res, req)
		if res.Code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := res.Body.String()
	if res.Code != http.StatusServiceUnavailable || res.Header().Get("Retry-After") == "" || !strings.Contains(body, `"code":"UNAVAILABLE"`) {
		t.Errorf("no replica left: %d Retry-After=%q %s", res.Code, res.Header().Get("Retry-After"), body)
	}
	if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "postgres") || strings.Contains(body, "standby") {
		t.Errorf("the 503 body names a server: %s", body)
	}
	if err := withFallback.Query(context.Background(), "SELECT 1", nil, func(replica.Rows) error { return nil }); err != nil {
		t.Errorf("fallback source after the stop: %v", err)
	}
}

// TestNoHealthyReplicaIsUnavailable checks the error vocabulary the server's table relies on.
func TestNoHealthyReplicaIsUnavailable(t *testing.T) {
	err := fmt.Errorf("query invoices: %w", replica.ErrNoHealthyReplica)
	if got := server.ErrorCode(err); got != "UNAVAILABLE" {
		t.Errorf("ErrorCode(ErrNoHealthyReplica) = %q, want UNAVAILABLE", got)
	}
	if got := server.ErrorCode(replica.ErrTenantBusy); got != "UNAVAILABLE" {
		t.Errorf("ErrorCode(ErrTenantBusy) = %q, want UNAVAILABLE", got)
	}
	if !errors.Is(replica.ErrNoHealthyReplica, replica.ErrUnavailable) {
		t.Error("ErrNoHealthyReplica does not wrap ErrUnavailable")
	}
}
