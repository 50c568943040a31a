package replica

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrTimeout reports that a statement hit the statement timeout or the caller's deadline.
	ErrTimeout = fault.Hidden(fault.Timeout, "replica: statement timeout",
		"the query took longer than the statement timeout; narrow it with where or a smaller first")
	// ErrWriteRefused reports that the database refused a write inside the read-only transaction.
	ErrWriteRefused = fault.Hidden(fault.WriteRefused, "replica: write refused by read-only transaction",
		"the database refused a write: viewgate is read-only")
	// ErrUnavailable reports that the database could not be reached or dropped the connection.
	ErrUnavailable = fault.Hidden(fault.Unavailable, "replica: source unavailable", "the database is unavailable; retry later")
	// ErrUnknownDriver reports an Options.Driver outside postgres, mysql and sqlite.
	ErrUnknownDriver = errors.New("replica: unknown driver")
)

// kindError is a sentinel that is also a kind of a broader one (errors.Is finds both) but
// prints only its own message, so a wrapped chain does not repeat "replica: …" prefixes.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// errNoFile reports a SQLite source whose database file does not exist: opened read-only, it
// is never created, and SQLite itself only says "unable to open database file".
var errNoFile = errors.New("the database file does not exist")

// wrap adds the operation, the source name and, when the error is one the caller
// acts on, the matching sentinel.
func wrap(op, source string, err error) error {
	if kind := classify(err); kind != nil && !errors.Is(err, kind) {
		return fmt.Errorf("%s on source %s: %w: %w", op, source, kind, err)
	}
	return fmt.Errorf("%s on source %s: %w", op, source, err)
}

// classify maps a driver error to ErrTimeout, ErrWriteRefused, ErrUnavailable or nil.
func classify(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	if kind := classifyServer(err); kind != nil {
		return kind
	}
	if unavailable(err) {
		return ErrUnavailable
	}
	return nil
}

func classifyServer(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57014": // query_canceled, which includes statement_timeout
			return ErrTimeout
		case "25006": // read_only_sql_transaction
			return ErrWriteRefused
		case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			"40001", // serialization failure: on a hot standby, "conflict with recovery"
			"55000", // object_not_in_prerequisite_state: the database does not accept connections
			"3D000": // invalid_catalog_name: the database is gone
			return ErrUnavailable
		}
		if strings.HasPrefix(pgErr.Code, "08") { // connection_exception class
			return ErrUnavailable
		}
		return nil
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1969, 3024: // MariaDB max_statement_time, MySQL max_execution_time
			return ErrTimeout
		case 1792, 1290: // read-only transaction, --read-only server
			return ErrWriteRefused
		case 1044, 1045, 1049, // access denied, unknown database: like pgconn.ConnectError
			1053, 1077, 1927, 2006, 2013: // server shutdown, connection killed or lost
			return ErrUnavailable
		}
		return nil
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff {
		case sqlite3.SQLITE_READONLY:
			return ErrWriteRefused
		case sqlite3.SQLITE_INTERRUPT:
			return ErrTimeout
		case sqlite3.SQLITE_CANTOPEN:
			return ErrUnavailable
		}
	}
	return nil
}

func unavailable(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn)
}

// redactedError prints a scrubbed message and keeps only the sentinels of the
// original chain, so no unwrapping can reach the secret.
type redactedError struct {
	msg   string
	kinds []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.kinds }

// redact replaces the DSN's password in err's message; drivers usually leave it out,
// but a parse error may quote the DSN.
func redact(err error, dsn string) error {
	msg := err.Error()
	for _, secret := range secrets(dsn) {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	red := &redactedError{msg: msg}
	for _, kind := range []error{ErrTimeout, ErrWriteRefused, ErrUnavailable, ErrUnknownDriver} {
		if errors.Is(err, kind) {
			red.kinds = append(red.kinds, kind)
		}
	}
	return red
}

// secrets returns the password forms that could appear in a message about dsn.
func secrets(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p, url.QueryEscape(p))
		}
	}
	if cfg, err := mysql.ParseDSN(dsn); err == nil && cfg.Passwd != "" {
		out = append(out, cfg.Passwd)
	}
	for _, f := range strings.Fields(dsn) {
		if p, ok := strings.CutPrefix(f, "password="); ok && p != "" {
			out = append(out, strings.Trim(p, "'"))
		}
	}
	return out
}
