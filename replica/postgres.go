package replica

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statements of the pipeline that wraps a Postgres query whose timeout differs from the
// session's (exports). They are constants so pgx's statement cache prepares them once per
// connection.
const (
	pgBegin      = "BEGIN TRANSACTION READ ONLY"
	pgSetTimeout = "SELECT set_config('statement_timeout', $1, true)"
	// pgSetTimeoutLabel also sets application_name for the transaction, so that
	// pg_stat_activity shows the statement's label (requestId and view) while it runs.
	pgSetTimeoutLabel = "SELECT set_config('statement_timeout', $1, true), set_config('application_name', $2, true)"
	// pgSetLabel labels a plain statement: pgx sends a batch with one Sync, so the two
	// statements share one implicit transaction and the label ends with it.
	pgSetLabel = "SELECT set_config('application_name', $1, true)"
	pgCommit   = "COMMIT"
	pgRollback = "ROLLBACK"
)

// Pool settings; Options.MaxConns and these constants win over any pool_* parameter in
// the DSN. Connections are recycled after about half an hour so a replica moved behind
// the same host name is picked up and backend caches do not grow without bound; the
// jitter spreads those reconnects so the pool never drops every connection at once.
// Connections idle for a few minutes after a burst are closed to hand backend slots
// back to the replica, and the health check that closes them runs often enough for
// that limit to hold within half a minute. pgxpool's default ShouldPing is kept: a
// connection idle for over a second is pinged on acquire, one extra round trip that
// spares a quiet source from failing its first statement on a dead connection.
const (
	pgMaxConnLifetime       = 30 * time.Minute
	pgMaxConnLifetimeJitter = 5 * time.Minute
	pgMaxConnIdleTime       = 5 * time.Minute
	pgHealthCheckPeriod     = 30 * time.Second
)

// pgPlanCacheMode is the session's plan_cache_mode when the DSN sets none.
const pgPlanCacheMode = "force_generic_plan"

// cleanupTimeout bounds the ROLLBACK of a connection coming back dirty.
const cleanupTimeout = 5 * time.Second

// postgres runs statements through pgxpool. Every connection is read-only with the
// source's statement timeout as session settings (see pgSession), so a query under that
// timeout is the bare statement; another timeout gets a READ ONLY transaction of its own.
type postgres struct {
	pool    *pgxpool.Pool
	timeout time.Duration // the sessions' statement_timeout
}

func openPostgres(ctx context.Context, o Options) (*postgres, error) {
	cfg, err := pgPoolConfig(o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create postgres pool: %w", err)
	}
	pg := &postgres{pool: pool, timeout: o.StatementTimeout}
	if err := pg.ping(ctx); err != nil {
		pg.close()
		return nil, err
	}
	return pg, nil
}

func pgPoolConfig(o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// %v, not %w: *pgconn.ParseConfigError keeps the unredacted DSN in its
		// exported ConnString, which errors.As would reach through the chain.
		return nil, fmt.Errorf("parse postgres dsn: %v", err)
	}
	// Read-only and the statement timeout are session settings, sent as startup
	// parameters (no round trip) and verified in AfterConnect: every statement on the
	// connection, pgx's own Parse of a new statement included, runs read-only under the
	// timeout without a statement of its own.
	params := cfg.ConnConfig.RuntimeParams
	for k, v := range pgSession(o.StatementTimeout) {
		params[k] = v
	}
	if params["application_name"] == "" {
		params["application_name"] = "viewgate"
	}
	// Generic plans unless the DSN says otherwise: the bound LIMIT (DESIGN §5) makes a
	// generic plan look costlier than a custom one (Postgres assumes it keeps 10% of the
	// rows), so plan_cache_mode=auto would re-plan every statement at every execution, about
	// a third of the database's work on a list query (docs/architecture.md). Forced, a
	// prepared statement is planned once per connection, as a minimal handler's literal
	// LIMIT gets after five executions. ?plan_cache_mode=auto in the DSN goes back.
	if params["plan_cache_mode"] == "" {
		params["plan_cache_mode"] = pgPlanCacheMode
	}
	cfg.MaxConns = int32(min(o.MaxConns, math.MaxInt32))
	cfg.MinConns, cfg.MinIdleConns = 0, 0
	cfg.MaxConnLifetime = pgMaxConnLifetime
	cfg.MaxConnLifetimeJitter = pgMaxConnLifetimeJitter
	cfg.MaxConnIdleTime = pgMaxConnIdleTime
	cfg.HealthCheckPeriod = pgHealthCheckPeriod
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		// numeric in text format: the exact decimal text, instead of the binary form that
		// pgx turns into a big.Int and back into text for every value (a tenth of a list
		// query's CPU).
		c.TypeMap().RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: textNumeric{}})
		return verifyPGSession(ctx, c, o.StatementTimeout)
	}
	return cfg, nil
}

// textNumeric is pgx's numeric codec with text as the preferred result format.
type textNumeric struct{ pgtype.NumericCodec }

func (textNumeric) PreferredFormat() int16 { return pgtype.TextFormatCode }

func (pg *postgres) dialect() string { return "postgres" }

func (pg *postgres) ping(ctx context.Context) error { return scrubConnect(pg.pool.Ping(ctx)) }

// close waits for busy connections to come back, then closes them all.
func (pg *postgres) close() { pg.pool.Close() }

func (pg *postgres) query(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+backstop)
	defer cancel()
	conn, err := pg.pool.Acquire(ctx)
	if err != nil {
		return scrubConnect(fmt.Errorf("acquire connection: %w", err))
	}
	defer release(conn)
	if timeout != pg.timeout {
		return pipelineQuery(ctx, conn.Conn(), sql, args, timeout, fn)
	}
	return plainQuery(ctx, conn.Conn(), sql, args, fn)
}

// plainQuery runs the statement alone, read-only under the session's timeout; a label
// is set for the implicit transaction of the same round trip.
func plainQuery(ctx context.Context, conn *pgx.Conn, sql string, args []any, fn func(Rows) error) error {
	label := labelOf(ctx)
	if label == "" {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		return readAll(rows, fn)
	}
	b := &pgx.Batch{}
	b.Queue(pgSetLabel, label)
	b.Queue(sql, args...)
	br := conn.SendBatch(ctx, b)
	err := readLabelled(br, fn)
	return errors.Join(err, closeBatch(br, err))
}

func readLabelled(br pgx.BatchResults, fn func(Rows) error) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("set statement label: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	return readAll(rows, fn)
}

// readAll hands rows to fn and closes them; fn's error comes first, then the statement's.
func readAll(rows pgx.Rows, fn func(Rows) error) error {
	err := fn(rows)
	rows.Close()
	if err != nil {
		return err
	}
	return rows.Err()
}

// release rolls back a connection left in an open or failed transaction, so a failed
// statement costs one round trip rather than a reconnect, and returns it to the pool.
// pgxpool's Release destroys any connection that is then still closed, busy or not
// idle ('I'), so a failed ROLLBACK never hands a dirty connection to the next query.
// A connection whose session is no longer read-only (Postgres 14 and later report
// default_transaction_read_only on every change, at no cost) is closed, so it is never
// reused.
func release(conn *pgxpool.Conn) {
	c := conn.Conn()
	if ro := c.PgConn().ParameterStatus("default_transaction_read_only"); ro != "" && ro != "on" {
		_ = c.Close(context.Background()) // Release destroys a closed connection
	}
	if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		_, _ = c.Exec(ctx, pgRollback) // on failure Release destroys the connection
		cancel()
	}
	conn.Release()
}

// scrubConnect flattens an error holding a *pgconn.ConnectError, whose Config carries
// the password, into one with the same message and sentinel.
func scrubConnect(err error) error {
	var connErr *pgconn.ConnectError
	if !errors.As(err, &connErr) {
		return err
	}
	kind := classify(err)
	if kind == nil {
		return &redactedError{msg: err.Error()}
	}
	return &redactedError{msg: kind.Error() + ": " + err.Error(), kinds: []error{kind}}
}

// pipelineQuery sends BEGIN READ ONLY, the timeout, the statement and COMMIT in one
// round trip, for a statement whose timeout is not the session's; after an error the connection is left in a failed transaction, which
// release rolls back or discards.
func pipelineQuery(ctx context.Context, conn *pgx.Conn, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	return pipeline(ctx, conn, pgBegin, sql, args, timeout, fn)
}

// pipeline is pipelineQuery with the transaction opened by begin.
func pipeline(ctx context.Context, conn *pgx.Conn, begin, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(begin)
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	if label := labelOf(ctx); label != "" {
		b.Queue(pgSetTimeoutLabel, ms, label)
	} else {
		b.Queue(pgSetTimeout, ms)
	}
	b.Queue(sql, args...)
	b.Queue(pgCommit)
	br := conn.SendBatch(ctx, b)
	err := readPipeline(br, fn)
	return errors.Join(err, closeBatch(br, err))
}

func readPipeline(br pgx.BatchResults, fn func(Rows) error) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("begin read-only transaction: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("set statement timeout: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	if err := readAll(rows, fn); err != nil {
		return err
	}
	if _, err := br.Exec(); err != nil {
		return commitFailed(err)
	}
	return nil
}

// commitFailed returns nil when the connection died at COMMIT: every row was read in a
// READ ONLY transaction, so the answer is complete and there was nothing to commit (a
// standby shutting down does this). release discards the broken connection.
func commitFailed(err error) error {
	if errors.Is(classify(err), ErrUnavailable) {
		return nil
	}
	return fmt.Errorf("commit: %w", err)
}

// closeBatch closes br and reports its error only when nothing failed before, since
// after a failure it merely repeats it.
func closeBatch(br pgx.BatchResults, prior error) error {
	err := br.Close()
	if prior != nil || errors.Is(classify(err), ErrUnavailable) { // see commitFailed
		return nil
	}
	return err
}
