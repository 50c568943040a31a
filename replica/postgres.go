package replica

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statements of the pipeline that wraps every Postgres query. They are constants so
// pgx's statement cache prepares them once per connection.
const (
	pgBegin      = "BEGIN TRANSACTION READ ONLY"
	pgSetTimeout = "SELECT set_config('statement_timeout', $1, true)"
	pgCommit     = "COMMIT"
)

// postgres runs statements through pgx, one pipelined batch per query.
type postgres struct {
	pool *pgPool
}

func openPostgres(ctx context.Context, o Options) (*postgres, error) {
	cfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	// Defence in depth: even a statement that escaped the explicit READ ONLY
	// transaction would run read-only.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "viewgate"
	}
	pg := &postgres{pool: newPGPool(cfg, o.MaxConns)}
	if err := pg.ping(ctx); err != nil {
		pg.close()
		return nil, err
	}
	return pg, nil
}

func (pg *postgres) dialect() string { return "postgres" }

func (pg *postgres) ping(ctx context.Context) error {
	conn, err := pg.pool.acquire(ctx)
	if err != nil {
		return err
	}
	err = conn.Ping(ctx)
	pg.pool.release(conn)
	return err
}

func (pg *postgres) close() { pg.pool.close() }

func (pg *postgres) query(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+backstop)
	defer cancel()
	conn, err := pg.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer pg.pool.release(conn)
	return pipelineQuery(ctx, conn, sql, args, timeout, fn)
}

// pipelineQuery sends BEGIN READ ONLY, the timeout, the statement and COMMIT in one
// round trip; after an error the connection is left in a failed transaction, which
// pgPool.release rolls back or discards.
func pipelineQuery(ctx context.Context, conn *pgx.Conn, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(pgBegin)
	b.Queue(pgSetTimeout, strconv.FormatInt(max(timeout.Milliseconds(), 1), 10))
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
	err = fn(rows)
	rows.Close()
	if err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// closeBatch closes br and reports its error only when nothing failed before, since
// after a failure it merely repeats it.
func closeBatch(br pgx.BatchResults, prior error) error {
	err := br.Close()
	if prior != nil {
		return nil
	}
	return err
}
