package replica

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// snapshotter is an engine that runs one long statement in a consistent snapshot (exports).
type snapshotter interface {
	snapshot(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error
}

// execute runs st on eng: in a snapshot when st asks for one and eng can (engines of tests
// that cannot run it as a plain query).
func execute(ctx context.Context, eng engine, st statement, fn func(Rows) error) error {
	if s, ok := eng.(snapshotter); ok && st.snapshot {
		return s.snapshot(ctx, st.sql, st.args, st.timeout, fn)
	}
	return eng.query(ctx, st.sql, st.args, st.timeout, fn)
}

// Named is what the rows of a Stream also are: they name the replica that reads them.
type Named interface {
	Replica() string
}

// namedRows are rows that name their replica.
type namedRows struct {
	Rows
	name string
}

func (n *namedRows) Replica() string { return n.name }

// Stream is Query for a long read (an export): the statement runs under timeout instead of the
// source's statement timeout, in a consistent snapshot: on Postgres a REPEATABLE READ READ ONLY
// transaction; on MySQL/MariaDB START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY, and when
// ctx ends before the statement does, KILL QUERY from another connection, because the driver
// only closes its socket and the server would go on; on SQLite one read transaction. Errors are
// those of Query.
func (s *Source) Stream(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	call := func(rows Rows) error { return fn(&namedRows{Rows: rows, name: s.name}) }
	if err := execute(ctx, s.eng, statement{sql: sql, args: args, timeout: timeout, snapshot: true}, call); err != nil {
		return wrap("query", s.name, err)
	}
	return nil
}

// pgBeginSnapshot opens the transaction of a Postgres export.
const pgBeginSnapshot = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"

func (pg *postgres) snapshot(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+backstop)
	defer cancel()
	conn, err := pg.pool.Acquire(ctx)
	if err != nil {
		return scrubConnect(fmt.Errorf("acquire connection: %w", err))
	}
	defer release(conn)
	return pipeline(ctx, conn.Conn(), pgBeginSnapshot, sql, args, timeout, fn)
}

// MySQL/MariaDB statements of an export.
const (
	myBeginSnapshot = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
	myConnectionID  = "SELECT CONNECTION_ID()"
	myCommit        = "COMMIT"
	killTimeout     = 5 * time.Second
)

func (s *sqlDB) snapshot(ctx context.Context, query string, args []any, timeout time.Duration, fn func(Rows) error) (err error) {
	if s.killer == nil { // SQLite: the read transaction of query is one snapshot
		return s.query(ctx, query, args, timeout, fn)
	}
	if err := s.guard(query); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+s.grace)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer func() {
		if err != nil { // the transaction may be open, or the query killed: never reuse the connection
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	var id int64
	if err := conn.QueryRowContext(ctx, myConnectionID).Scan(&id); err != nil {
		return fmt.Errorf("connection id: %w", err)
	}
	if _, err := conn.ExecContext(ctx, myBeginSnapshot); err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	stop := s.watch(ctx, id)
	defer func() {
		if stop() && err == nil {
			err = ctx.Err()
		}
	}()
	rows, err := conn.QueryContext(ctx, s.limit(query, timeout), args...)
	if err != nil {
		return err
	}
	if err := readRows(rows, fn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, myCommit); err != nil {
		return commitFailed(err)
	}
	return nil
}

// watch kills the statement of connection id when ctx ends before stop is called; stop waits
// for a kill under way and reports whether one was sent.
func (s *sqlDB) watch(ctx context.Context, id int64) (stop func() bool) {
	done, killed := make(chan struct{}), make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			kctx, cancel := context.WithTimeout(context.Background(), killTimeout)
			defer cancel()
			// id is the server's own connection number, formatted from an int64: no user text.
			_, err := s.killer.ExecContext(kctx, "KILL QUERY "+strconv.FormatInt(id, 10))
			if err != nil && !errors.Is(err, sql.ErrConnDone) {
				s.killErrs.Add(1)
			}
			killed <- true
		case <-done:
			killed <- false
		}
	}()
	return func() bool {
		close(done)
		return <-killed
	}
}
