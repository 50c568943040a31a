// Package replica runs read-only statements on a source's database pools.
package replica

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DefaultStatementTimeout applies when Options.StatementTimeout is zero.
const DefaultStatementTimeout = 30 * time.Second

// DefaultMaxConns applies when Options.MaxConns is zero.
const DefaultMaxConns = 4

// backstop is added to the statement timeout for the client-side context deadline on
// server engines, so the server's own timeout normally fires first and reports itself.
const backstop = time.Second

// Options configures one source.
type Options struct {
	Name             string        // source name from the config; appears in errors and logs
	Driver           string        // "postgres", "mysql" (also MariaDB) or "sqlite"
	DSN              string        // never appears in an error
	MaxConns         int           // pool size; zero means DefaultMaxConns
	StatementTimeout time.Duration // server-side limit per statement; zero means DefaultStatementTimeout
}

// Rows is what a Query callback reads; both pgx.Rows and *sql.Rows satisfy it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// engine is one driver's way to run a read-only statement on one database; a Source
// holds one, a Router two per replica (queries and health checks).
type engine interface {
	dialect() string
	query(ctx context.Context, sql string, args []any, timeout time.Duration, fn func(Rows) error) error
	explain(ctx context.Context, sql string, args []any, timeout time.Duration) (json.RawMessage, error)
	ping(ctx context.Context) error
	check(ctx context.Context, heartbeat []string) (probe, error)
	close()
}

// Source runs read-only statements against one configured database.
type Source struct {
	name    string
	timeout time.Duration
	eng     engine
}

// Open connects to o.DSN and pings it; it returns an error wrapping ErrUnavailable if
// the database cannot be reached, and no error it returns contains the DSN's password.
func Open(ctx context.Context, o Options) (*Source, error) {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	eng, err := openEngine(ctx, o)
	if err != nil {
		return nil, redact(wrap("open "+o.Driver, o.Name, err), o.DSN)
	}
	return &Source{name: o.Name, timeout: o.StatementTimeout, eng: eng}, nil
}

func openEngine(ctx context.Context, o Options) (engine, error) {
	switch o.Driver {
	case "postgres":
		return openPostgres(ctx, o)
	case "mysql":
		return openMySQL(ctx, o)
	case "sqlite":
		return openSQLite(ctx, o)
	}
	return nil, fmt.Errorf("%w %q (want postgres, mysql or sqlite)", ErrUnknownDriver, o.Driver)
}

// Name returns the source name given in Options.
func (s *Source) Name() string { return s.name }

// Bound returns the longest a Query statement holds its caller once it runs: the statement
// timeout and at most the backstop over it.
func (s *Source) Bound() time.Duration { return s.timeout + backstop }

// Dialect returns "postgres", "mysql", "mariadb" or "sqlite", as detected at Open.
func (s *Source) Dialect() string { return s.eng.dialect() }

// Query runs sql with args in a READ ONLY transaction under the statement timeout and
// hands the rows to fn; it returns an error wrapping ErrTimeout, ErrWriteRefused or
// ErrUnavailable when the database says so, and fn's own error unchanged in the chain.
func (s *Source) Query(ctx context.Context, sql string, args []any, fn func(Rows) error) error {
	ran(ctx, s.name)
	if err := s.eng.query(ctx, sql, args, s.timeout, fn); err != nil {
		return wrap("query", s.name, err)
	}
	return nil
}

// Explain returns the plan of sql as the engine's EXPLAIN prints it in JSON, captured in a
// READ ONLY transaction under timeout (zero: the statement timeout) without any parameter
// value (see Router.Explain); replica is ignored, a Source being one database. It returns an
// error wrapping ErrNoPlan on SQLite or for anything but a single SELECT.
func (s *Source) Explain(ctx context.Context, replica, sql string, args []any, timeout time.Duration) (json.RawMessage, error) {
	if timeout <= 0 {
		timeout = s.timeout
	}
	plan, err := s.eng.explain(ctx, sql, args, timeout)
	if err != nil {
		return nil, wrap("explain", s.name, err)
	}
	return plan, nil
}

// Ping checks that the source answers; it returns an error wrapping ErrUnavailable if not.
func (s *Source) Ping(ctx context.Context) error {
	if err := s.eng.ping(ctx); err != nil {
		return wrap("ping", s.name, err)
	}
	return nil
}

// Close releases every connection; Query must not be called afterwards.
func (s *Source) Close() { s.eng.close() }
