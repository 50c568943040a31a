package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// EnvStandby names the hot standby of the Postgres test server, and DefaultStandby is where
// `.ci/standby` creates it.
const (
	EnvStandby     = "VIEWGATE_TEST_PG_STANDBY_DSN"
	DefaultStandby = "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable"
)

// replayTimeout bounds waiting for the standby to replay what the primary wrote.
const replayTimeout = time.Minute

// Standby creates a fresh demo database on the primary, waits until the hot standby has
// replayed it, and returns the primary's and the standby's DSN for it. It skips the test when
// the standby is not reachable and CI is unset (run `.ci/standby` to create one), and fails
// it under CI.
func Standby(t testing.TB) (primary, standby string) {
	t.Helper()
	RequireStandby(t)
	primary = Postgres(t)
	p, _ := url.Parse(primary)
	s, err := url.Parse(serverDSN(EnvStandby, DefaultStandby))
	if err != nil {
		t.Fatalf("dbtest: %s is not a postgres URL: %v", EnvStandby, err)
	}
	s.Path = p.Path
	standby = s.String()
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	for {
		var n int
		err := queryRow(ctx, standby, "SELECT count(*) FROM v_invoices", &n)
		if err == nil && n > 0 {
			return primary, standby
		}
		if ctx.Err() != nil {
			t.Fatalf("dbtest: the standby did not replay the new database within %s: %v", replayTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RequireStandby skips the test when the Postgres hot standby is not reachable, or fails it
// when the CI environment variable is set.
func RequireStandby(t testing.TB) {
	t.Helper()
	Require(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dsn := serverDSN(EnvStandby, DefaultStandby)
	var inRecovery bool
	err := queryRow(ctx, dsn, "SELECT pg_is_in_recovery()", &inRecovery)
	if err == nil && !inRecovery {
		err = fmt.Errorf("the server is not in recovery, so it is not a standby")
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("postgres standby not usable at %s (CI is set, so this fails): %v", redactHost(dsn), err)
	}
	t.Skipf("postgres standby not usable at %s (create it with .ci/standby): %v", redactHost(dsn), err)
}

// StandbyCtl runs `.ci/standby action` (start or stop), which needs root or the postgres user.
func StandbyCtl(t testing.TB, action string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", ".ci", "standby")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, action).CombinedOutput()
	if err != nil {
		t.Fatalf("dbtest: .ci/standby %s: %v\n%s", action, err, out)
	}
	t.Logf(".ci/standby %s: %s", action, strings.TrimSpace(string(out)))
}

func queryRow(ctx context.Context, dsn, query string, dest ...any) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRowContext(ctx, query).Scan(dest...)
}

// redactHost returns the host:port of a postgres URL, for messages.
func redactHost(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Host
	}
	return "?"
}
