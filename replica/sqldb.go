package replica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// sqlDB runs statements through database/sql, which MySQL, MariaDB and SQLite share;
// the engines differ in how the statement timeout reaches the server.
type sqlDB struct {
	db   *sql.DB
	name string // dialect
	// limit rewrites a statement so the server enforces timeout; nil means the
	// context deadline is the only limit.
	limit func(sql string, timeout time.Duration) string
	// guard refuses a statement before it is sent; nil lets the server decide alone.
	guard func(sql string) error
	// grace is added to the statement timeout for the context deadline.
	grace time.Duration
	// comment sends a Trace's label as a leading comment (MySQL/MariaDB show it in the process list).
	comment bool
	// killer runs KILL QUERY for a snapshot whose context ended (MySQL/MariaDB); nil for SQLite.
	killer   *sql.DB
	killErrs atomic.Int64
	// session is the statement timeout every connection has as a session variable, with
	// read-only mode (MySQL/MariaDB, see mySession); zero means neither is (SQLite).
	session time.Duration
	verify  mySession // what session set; checked by the health check
}

func (s *sqlDB) dialect() string { return s.name }

func (s *sqlDB) ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// close closes idle connections; no error worth reporting.
func (s *sqlDB) close() {
	s.db.Close()
	if s.killer != nil {
		s.killer.Close()
	}
}

// query runs the statement in a ReadOnly transaction, or alone on an engine whose sessions
// are read-only; database/sql drains and closes rows and rolls back on every error path,
// so the connection returns clean.
func (s *sqlDB) query(ctx context.Context, query string, args []any, timeout time.Duration, fn func(Rows) error) (err error) {
	if s.session > 0 {
		return s.plain(ctx, query, args, timeout, fn)
	}
	if s.guard != nil {
		if err := s.guard(query); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+s.grace)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if s.limit != nil {
		query = s.limit(query, timeout)
	}
	if label := labelOf(ctx); s.comment && label != "" {
		query = "/* " + label + " */ " + query
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if err := readRows(rows, fn); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return commitFailed(err)
	}
	return nil
}

// plain runs the statement on its own in the read-only session; a timeout other than the
// session's is given to the statement (s.limit).
func (s *sqlDB) plain(ctx context.Context, query string, args []any, timeout time.Duration, fn func(Rows) error) error {
	if err := s.guard(query); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+s.grace)
	defer cancel()
	if timeout != s.session {
		query = s.limit(query, timeout)
	}
	if label := labelOf(ctx); s.comment && label != "" {
		query = "/* " + label + " */ " + query
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return readRows(rows, fn)
}

func readRows(rows *sql.Rows, fn func(Rows) error) error {
	err := fn(rows)
	closeErr := rows.Close()
	if err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return closeErr
}

// ignoreDone drops sql.ErrTxDone, which Rollback returns when the context already
// rolled the transaction back.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
