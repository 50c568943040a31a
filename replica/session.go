package replica

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrSessionSettings reports a connection on which the read-only mode or the statement
// timeout did not take (a pooler that drops startup parameters, say); the connection is
// closed unused. It wraps ErrUnavailable, so a replica that does this leaves the rotation.
var ErrSessionSettings error = &kindError{"replica: session settings did not take", ErrUnavailable}

// pgSession returns the startup parameters every Postgres connection is opened with.
// Timestamps are UTC everywhere in viewgate: time buckets (date_trunc of a timestamptz) and
// casts follow the session's time zone.
func pgSession(timeout time.Duration) map[string]string {
	return map[string]string{
		"default_transaction_read_only": "on",
		"statement_timeout":             msOf(timeout),
		"timezone":                      "UTC",
	}
}

// msOf formats a timeout in whole milliseconds, at least 1 (0 would mean none).
func msOf(timeout time.Duration) string { return strconv.FormatInt(max(timeout.Milliseconds(), 1), 10) }

// pgSessionQuery reads back what pgSession set; pg_settings gives statement_timeout in ms.
const pgSessionQuery = `SELECT current_setting('default_transaction_read_only'), setting, current_setting('TimeZone')
	FROM pg_settings WHERE name = 'statement_timeout'`

// verifyPGSession returns an error wrapping ErrSessionSettings unless c's session is
// read-only with the statement timeout and time zone of pgSession.
func verifyPGSession(ctx context.Context, c *pgx.Conn, timeout time.Duration) error {
	res, err := c.PgConn().Exec(ctx, pgSessionQuery).ReadAll()
	if err != nil {
		return fmt.Errorf("read session settings: %w", err)
	}
	if len(res) != 1 || len(res[0].Rows) != 1 || len(res[0].Rows[0]) != 3 {
		return fmt.Errorf("%w: no answer to the settings query", ErrSessionSettings)
	}
	row := res[0].Rows[0]
	return pgSessionMatches(string(row[0]), string(row[1]), string(row[2]), timeout)
}

// pgSessionMatches compares settings read back with those pgSession asks for.
func pgSessionMatches(readOnly, timeoutMS, zone string, timeout time.Duration) error {
	want := pgSession(timeout)
	for _, s := range [][3]string{
		{"default_transaction_read_only", readOnly, want["default_transaction_read_only"]},
		{"statement_timeout", timeoutMS, want["statement_timeout"]},
		{"TimeZone", zone, want["timezone"]},
	} {
		if s[1] != s[2] {
			return &settingError{name: s[0], got: s[1], want: s[2]}
		}
	}
	return nil
}

// mySession is how a MySQL or MariaDB server spells the session's read-only mode and
// statement timeout, and their values.
type mySession struct {
	readOnly string // transaction_read_only, or tx_read_only on MariaDB before 11.1
	timeout  string // max_statement_time (MariaDB, seconds) or max_execution_time (MySQL, ms)
	value    string // the timeout's value in the variable's unit
}

// newMySession returns the session settings for dialect "mariadb" or "mysql"; txVar says
// whether the server knows transaction_read_only.
func newMySession(dialect string, txVar bool, timeout time.Duration) mySession {
	s := mySession{readOnly: "tx_read_only"}
	if txVar {
		s.readOnly = "transaction_read_only"
	}
	if dialect == "mariadb" {
		s.timeout, s.value = "max_statement_time", strconv.FormatFloat(max(timeout.Seconds(), 0.001), 'f', -1, 64)
	} else {
		s.timeout, s.value = "max_execution_time", msOf(timeout)
	}
	return s
}

// sessionVars are every spelling of the two settings, removed from a DSN's parameters
// before ours are set, so a DSN cannot set one alias against the other.
var sessionVars = []string{"transaction_read_only", "tx_read_only", "max_statement_time", "max_execution_time"}

// params returns the DSN parameters the driver sends as one SET on each new connection.
func (s mySession) params() map[string]string {
	return map[string]string{s.readOnly: "1", s.timeout: s.value}
}

// query reads the settings back.
func (s mySession) query() string {
	return "SELECT @@session." + s.readOnly + ", @@session." + s.timeout
}

// matches returns an error wrapping ErrSessionSettings unless the values read back by
// query are those of params.
func (s mySession) matches(readOnly, timeout string) error {
	if readOnly != "1" {
		return &settingError{name: s.readOnly, got: readOnly, want: "1"}
	}
	got, err1 := strconv.ParseFloat(timeout, 64)
	want, err2 := strconv.ParseFloat(s.value, 64)
	if err1 != nil || err2 != nil || math.Abs(got-want) > 1e-6*max(1, want) {
		return &settingError{name: s.timeout, got: timeout, want: s.value}
	}
	return nil
}

// settingError is ErrSessionSettings for one setting; its text names the setting and both
// values, nothing about the server, so health reasons may quote it.
type settingError struct{ name, got, want string }

func (e *settingError) Error() string {
	return fmt.Sprintf("%v: %s is %q, want %q (a connection pooler may have dropped the settings)", ErrSessionSettings, e.name, e.got, e.want)
}

func (e *settingError) Unwrap() error { return ErrSessionSettings }

// verify checks a new driver connection before database/sql may use it.
func (s mySession) verify(ctx context.Context, c driver.Conn) error {
	q, ok := c.(driver.QueryerContext)
	if !ok {
		return fmt.Errorf("%w: the driver cannot read them back", ErrSessionSettings)
	}
	rows, err := q.QueryContext(ctx, s.query(), nil)
	if err != nil {
		return fmt.Errorf("read session settings: %w", err)
	}
	defer rows.Close()
	vals := make([]driver.Value, 2)
	if err := rows.Next(vals); err != nil {
		if err == io.EOF {
			return fmt.Errorf("%w: no answer to the settings query", ErrSessionSettings)
		}
		return fmt.Errorf("read session settings: %w", err)
	}
	return s.matches(textOf(vals[0]), textOf(vals[1]))
}

// textOf formats a value of the text protocol ([]byte) or of a typed one.
func textOf(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case nil:
		return "NULL"
	}
	return fmt.Sprint(v)
}

// verifiedConnector is a driver.Connector that refuses a connection whose session settings
// did not take; database/sql never sees it.
type verifiedConnector struct {
	driver.Connector
	verify func(context.Context, driver.Conn) error
}

func (v verifiedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := v.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.verify(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
