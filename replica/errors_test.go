package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestClassify pins the driver errors behind WRITE_REFUSED, TIMEOUT and UNAVAILABLE (and so
// behind the router's failover, which retries only ErrUnavailable).
func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code}) }
	my := func(n uint16) error { return fmt.Errorf("query: %w", &mysql.MySQLError{Number: n}) }
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"pg read_only_sql_transaction", pg("25006"), ErrWriteRefused},
		{"mysql read-only transaction", my(1792), ErrWriteRefused},
		{"mysql --read-only server", my(1290), ErrWriteRefused},
		{"pg statement_timeout", pg("57014"), ErrTimeout},
		{"mariadb max_statement_time", my(1969), ErrTimeout},
		{"mysql max_execution_time", my(3024), ErrTimeout},
		{"deadline", context.DeadlineExceeded, ErrTimeout},
		{"pg admin_shutdown", pg("57P01"), ErrUnavailable},
		{"pg crash_shutdown", pg("57P02"), ErrUnavailable},
		{"pg cannot_connect_now", pg("57P03"), ErrUnavailable},
		{"pg conflict with recovery", pg("40001"), ErrUnavailable},
		{"pg connection_failure", pg("08006"), ErrUnavailable},
		{"mysql server shutdown", my(1053), ErrUnavailable},
		{"mysql gone away", my(2006), ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), ErrUnavailable},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), ErrUnavailable},
		{"eof", io.ErrUnexpectedEOF, ErrUnavailable},
		{"pg syntax error", pg("42601"), nil},
		{"mysql unknown column", my(1054), nil},
		{"callback error", errors.New("scan: bad"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCommitFailed(t *testing.T) {
	if err := commitFailed(&pgconn.PgError{Code: "57P01"}); err != nil {
		t.Errorf("connection lost at COMMIT after every row was read: %v, want nil", err)
	}
	if err := commitFailed(&pgconn.PgError{Code: "40001"}); err != nil {
		t.Errorf("recovery conflict at COMMIT: %v, want nil", err)
	}
	if err := commitFailed(&pgconn.PgError{Code: "XX000"}); err == nil {
		t.Error("other COMMIT failure: nil, want an error")
	}
}
