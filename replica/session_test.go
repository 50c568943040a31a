package replica

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pgCode returns the SQLSTATE in err's chain, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestPostgresPoolConnectionsRefuseWrites writes on the pool's own connections, past Query:
// the session is read-only, so Postgres refuses with SQLSTATE 25006 without any transaction
// of ours.
func TestPostgresPoolConnectionsRefuseWrites(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`, `CREATE SEQUENCE s`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 2})
	ctx := testContext(t)
	pool := src.eng.(*postgres).pool
	for _, q := range []string{
		"INSERT INTO t VALUES (1)",
		"CREATE TABLE x (i int)",
		"SELECT nextval('s')",
		"WITH x AS (INSERT INTO t VALUES (1) RETURNING i) SELECT i FROM x",
	} {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, q)
		conn.Release()
		if got := pgCode(err); got != "25006" {
			t.Errorf("%s on a pool connection: SQLSTATE %q (%v), want 25006", q, got, err)
		}
		err = src.Query(ctx, q, nil, func(Rows) error { return nil })
		if got := pgCode(err); got != "25006" || !errors.Is(err, ErrWriteRefused) {
			t.Errorf("%s through Query: SQLSTATE %q (%v), want 25006 and ErrWriteRefused", q, got, err)
		}
	}
}

// TestPostgresSessionCannotBeMadeWritable turns the session's read-only default off through
// Query in each way a statement can: the connection is closed when it comes back, so the
// next statement gets a fresh, read-only one.
func TestPostgresSessionCannotBeMadeWritable(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 1})
	ctx := testContext(t)
	pool := src.eng.(*postgres).pool
	for _, q := range []string{
		"SET default_transaction_read_only = off",
		"SELECT set_config('default_transaction_read_only', 'off', false)",
		"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
	} {
		before := pool.Stat().NewConnsCount()
		_ = src.Query(ctx, q, nil, func(rows Rows) error {
			for rows.Next() {
			}
			return rows.Err()
		})
		err := src.Query(ctx, "INSERT INTO t VALUES (1)", nil, func(Rows) error { return nil })
		if got := pgCode(err); got != "25006" {
			t.Errorf("insert after %q: SQLSTATE %q (%v), want 25006", q, got, err)
		}
		if got := pool.Stat().NewConnsCount() - before; got != 1 {
			t.Errorf("after %q the pool opened %d connections, want 1 (the tampered one closed)", q, got)
		}
	}
}

// TestPostgresSessionSettingsAreSet reads the session settings on a pool connection, inside
// a labelled statement, and after it: the label lives only for the statement's implicit
// transaction.
func TestPostgresSessionSettingsAreSet(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 1, StatementTimeout: 1500 * time.Millisecond})
	const q = `SELECT current_setting('default_transaction_read_only'), current_setting('transaction_read_only'),
		current_setting('statement_timeout'), current_setting('TimeZone'), current_setting('application_name'), current_setting('plan_cache_mode')`
	read := func(ctx context.Context) []string {
		t.Helper()
		var got [6]string
		err := src.Query(ctx, q, nil, func(rows Rows) error {
			for rows.Next() {
				if err := rows.Scan(&got[0], &got[1], &got[2], &got[3], &got[4], &got[5]); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return got[:]
	}
	ctx := testContext(t)
	want := []string{"on", "on", "1500ms", "UTC", "viewgate", "force_generic_plan"}
	if diff := cmp.Diff(want, read(ctx)); diff != "" {
		t.Errorf("plain statement (-want +got):\n%s", diff)
	}
	labelled := WithTrace(ctx, &Trace{Label: "vg req1 invoices"})
	if diff := cmp.Diff([]string{"on", "on", "1500ms", "UTC", "vg req1 invoices", "force_generic_plan"}, read(labelled)); diff != "" {
		t.Errorf("labelled statement (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, read(ctx)); diff != "" {
		t.Errorf("after the labelled statement (-want +got):\n%s", diff)
	}
}

// TestPostgresTimeoutIsServerSide shows the session's statement_timeout cutting a slow
// statement (SQLSTATE 57014 from the server, not the client's deadline), and cutting pgx's
// Parse of a new statement that waits for a lock, which no per-statement SET could reach.
func TestPostgresTimeoutIsServerSide(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 1, StatementTimeout: 200 * time.Millisecond})
	ctx := testContext(t)
	err := src.Query(ctx, "SELECT pg_sleep(5)", nil, func(Rows) error { return nil })
	if got := pgCode(err); got != "57014" || !errors.Is(err, ErrTimeout) {
		t.Fatalf("pg_sleep: SQLSTATE %q (%v), want 57014 and ErrTimeout", got, err)
	}
	mustStillWork(t, src)

	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	err = src.Query(ctx, "SELECT i FROM t WHERE i = $1", []any{1}, func(Rows) error { return nil })
	if got := pgCode(err); got != "57014" || !errors.Is(err, ErrTimeout) {
		t.Fatalf("statement prepared behind a lock: SQLSTATE %q (%v), want 57014 and ErrTimeout", got, err)
	}
	mustStillWork(t, src)
}

// TestPostgresRefusesConnectionWithoutSettings connects through a stand-in for a pooler that
// drops startup parameters: the connection is refused with ErrSessionSettings, which is a
// kind of ErrUnavailable.
func TestPostgresRefusesConnectionWithoutSettings(t *testing.T) {
	dsn := newPGDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := dropStartupParams(t, u.Host, "default_transaction_read_only", "statement_timeout")
	u.Host = proxy.String()
	_, err = Open(testContext(t), Options{Name: "erp", Driver: "postgres", DSN: u.String()})
	if !errors.Is(err, ErrSessionSettings) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open through a pooler dropping startup parameters: %v, want ErrSessionSettings", err)
	}

	raw, err := pgx.Connect(testContext(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(context.Background())
	if err := verifyPGSession(testContext(t), raw, 5*time.Second); !errors.Is(err, ErrSessionSettings) {
		t.Errorf("verifyPGSession on a plain connection: %v, want ErrSessionSettings", err)
	}
}

// dropStartupParams listens on a loopback port and forwards each connection to upstream
// with the named startup parameters removed, as a pooler configured to ignore them does.
func dropStartupParams(t *testing.T, upstream string, names ...string) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { forwardWithout(c, upstream, names) })
		}
	})
	return ln.Addr().(*net.TCPAddr)
}

func forwardWithout(c net.Conn, upstream string, names []string) {
	defer c.Close()
	be := pgproto3.NewBackend(c, c)
	msg, err := be.ReceiveStartupMessage()
	if _, ok := msg.(*pgproto3.SSLRequest); ok && err == nil {
		if _, err := c.Write([]byte{'N'}); err != nil {
			return
		}
		msg, err = be.ReceiveStartupMessage()
	}
	sm, ok := msg.(*pgproto3.StartupMessage)
	if err != nil || !ok {
		return
	}
	for _, n := range names {
		delete(sm.Parameters, n)
	}
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer up.Close()
	buf, err := sm.Encode(nil)
	if err != nil {
		return
	}
	if _, err := up.Write(buf); err != nil {
		return
	}
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
}

// TestPostgresStreamSnapshotBesideSession runs an export stream (REPEATABLE READ READ ONLY,
// its own timeout) on one connection while the other serves plain statements: the stream
// sees the rows of its snapshot only, the plain statements see the rows committed meanwhile
// under the session settings, and the stream's timeout does not outlive it.
func TestPostgresStreamSnapshotBesideSession(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`, `INSERT INTO t SELECT generate_series(1, 3)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 2, StatementTimeout: 1500 * time.Millisecond})
	ctx := testContext(t)
	writer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	const settings = `SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), current_setting('statement_timeout')`
	var streamed, plain []string
	var plainCount int64
	n := 0
	err = src.Stream(ctx, settings+`, i FROM t ORDER BY i`, nil, time.Hour, func(rows Rows) error {
		for rows.Next() {
			var iso, ro, to string
			var i int64
			if err := rows.Scan(&iso, &ro, &to, &i); err != nil {
				return err
			}
			streamed = []string{iso, ro, to}
			if n++; n > 1 {
				continue
			}
			// Mid-stream: commit two rows, and read through the pool's other connection.
			if _, err := writer.Exec(ctx, "INSERT INTO t VALUES (4), (5)"); err != nil {
				return err
			}
			if err := scanOne(ctx, src, settings+`, (SELECT count(*) FROM t)`, nil, &iso, &ro, &to, &plainCount); err != nil {
				return err
			}
			plain = []string{iso, ro, to}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"repeatable read", "on", "1h"}, streamed); diff != "" {
		t.Errorf("stream's transaction (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"read committed", "on", "1500ms"}, plain); diff != "" {
		t.Errorf("plain statement beside it (-want +got):\n%s", diff)
	}
	if plainCount != 5 {
		t.Errorf("plain statement counted %d rows, want 5 (it sees the rows committed during the stream)", plainCount)
	}
	if n != 3 {
		t.Errorf("stream read %d rows, want 3 (its snapshot)", n)
	}
	for range 2 { // both connections are back to the session's timeout
		var to string
		if err := scanOne(ctx, src, "SELECT current_setting('statement_timeout')", nil, &to); err != nil || to != "1500ms" {
			t.Errorf("statement_timeout after the stream = %q, %v; want 1500ms", to, err)
		}
	}
	var count sql.NullInt64
	if err := scanOne(ctx, src, "SELECT count(*) FROM t", nil, &count); err != nil || count.Int64 != 5 {
		t.Errorf("count after the stream = %v, %v; want 5", count, err)
	}
}

// myCode returns the MySQL error number in err's chain, or 0.
func myCode(err error) uint16 {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number
	}
	return 0
}

// TestMySQLPoolConnectionsRefuseWrites writes on the pool's own connections, past Query and
// its SELECT-only guard: the session is read-only, so the server refuses with error 1792
// without any transaction of ours; the session variables are those asked for.
func TestMySQLPoolConnectionsRefuseWrites(t *testing.T) {
	dsn := newMySQLDatabase(t, `CREATE TABLE t (i int)`)
	// The DSN's own settings lose against the session's.
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Params = map[string]string{"tx_read_only": "0", "transaction_read_only": "0", "max_statement_time": "0", "max_execution_time": "0"}
	src := openSource(t, Options{Driver: "mysql", DSN: cfg.FormatDSN(), MaxConns: 2, StatementTimeout: 1500 * time.Millisecond})
	ctx := testContext(t)
	s := src.eng.(*sqlDB)
	for _, q := range []string{"INSERT INTO t VALUES (1)", "UPDATE t SET i = 2", "DELETE FROM t"} {
		_, err := s.db.ExecContext(ctx, q)
		if got := myCode(err); got != 1792 || !errors.Is(classify(err), ErrWriteRefused) {
			t.Errorf("%s on a pool connection: error %d (%v), want 1792", q, got, err)
		}
	}
	var ro, timeout string
	if err := scanOne(ctx, src, s.verify.query(), nil, &ro, &timeout); err != nil {
		t.Fatal(err)
	}
	if err := s.verify.matches(ro, timeout); err != nil {
		t.Errorf("session read through Query: %v", err)
	}
	if ro != "1" || timeout != map[string]string{"mariadb": "1.5", "mysql": "1500"}[s.name] {
		t.Errorf("@@%s, @@%s = %q, %q; want 1 and 1.5 s", s.verify.readOnly, s.verify.timeout, ro, timeout)
	}
}

// TestMySQLTimeoutIsServerSide shows the session's max_statement_time (MariaDB) or
// max_execution_time (MySQL) cutting a slow statement: the server's error, not the client's
// deadline.
func TestMySQLTimeoutIsServerSide(t *testing.T) {
	dsn := newMySQLDatabase(t)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 1, StatementTimeout: 200 * time.Millisecond})
	const heavy = `SELECT count(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c`
	err := src.Query(testContext(t), heavy, nil, func(rows Rows) error {
		for rows.Next() {
		}
		return rows.Err()
	})
	if got := myCode(err); (got != 1969 && got != 3024) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("got error %d (%v), want 1969 or 3024 and ErrTimeout", got, err)
	}
	mustStillWork(t, src)
}

// TestMySQLRefusesConnectionWithoutSettings gives the verified connector a connection whose
// SET did not make it read-only: database/sql never gets it.
func TestMySQLRefusesConnectionWithoutSettings(t *testing.T) {
	dsn := newMySQLDatabase(t)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 1})
	sess := src.eng.(*sqlDB).verify
	for _, tc := range []struct {
		name   string
		params map[string]string
	}{
		{"writable", map[string]string{sess.readOnly: "0", sess.timeout: sess.value}},
		{"no timeout", map[string]string{sess.readOnly: "1", sess.timeout: "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Params = tc.params
			conn, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(verifiedConnector{Connector: conn, verify: sess.verify})
			defer db.Close()
			if err := db.PingContext(testContext(t)); !errors.Is(err, ErrSessionSettings) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Ping = %v, want ErrSessionSettings", err)
			}
		})
	}
}

// TestMySQLStreamSnapshotBesideSession runs an export stream (a consistent-snapshot READ ONLY
// transaction with its own timeout) while the pool serves plain statements under the session
// settings; the stream's timeout does not outlive its statement.
func TestMySQLStreamSnapshotBesideSession(t *testing.T) {
	dsn := newMySQLDatabase(t, `CREATE TABLE t (i int)`, `INSERT INTO t VALUES (1), (2), (3)`)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 2, StatementTimeout: 1500 * time.Millisecond})
	s := src.eng.(*sqlDB)
	if s.name != "mariadb" {
		t.Skip("reads @@in_transaction, which only MariaDB has")
	}
	ctx := testContext(t)
	writer, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	const settings = `SELECT @@in_transaction, @@max_statement_time`
	var streamed, plain [2]string
	var plainCount int64
	n := 0
	err = src.Stream(ctx, settings+`, i FROM t ORDER BY i`, nil, time.Hour, func(rows Rows) error {
		for rows.Next() {
			var i int64
			if err := rows.Scan(&streamed[0], &streamed[1], &i); err != nil {
				return err
			}
			if n++; n > 1 {
				continue
			}
			if _, err := writer.ExecContext(ctx, "INSERT INTO t VALUES (4), (5)"); err != nil {
				return err
			}
			if err := scanOne(ctx, src, settings+`, (SELECT count(*) FROM t)`, nil, &plain[0], &plain[1], &plainCount); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([2]string{"1", "3600"}, streamed); diff != "" {
		t.Errorf("stream's transaction (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([2]string{"0", "1.5"}, plain); diff != "" {
		t.Errorf("plain statement beside it (-want +got):\n%s", diff)
	}
	if n != 3 || plainCount != 5 {
		t.Errorf("stream read %d rows, the plain statement counted %d; want 3 and 5", n, plainCount)
	}
	for range 2 {
		var ro, to string
		if err := scanOne(ctx, src, s.verify.query(), nil, &ro, &to); err != nil || s.verify.matches(ro, to) != nil {
			t.Errorf("session after the stream: %q, %q, %v; want %s", ro, to, err, s.verify.value)
		}
	}
}

// TestPostgresDSNSessionParameters keeps other runtime parameters of the DSN beside the
// session settings (plan_cache_mode=auto over the default force_generic_plan), and the
// session settings over the DSN's own.
func TestPostgresDSNSessionParameters(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn + "&plan_cache_mode=auto&statement_timeout=0&default_transaction_read_only=off",
		MaxConns: 1, StatementTimeout: 2 * time.Second})
	var plans, timeout, ro string
	err := scanOne(testContext(t), src, "SELECT current_setting('plan_cache_mode'), current_setting('statement_timeout'), current_setting('default_transaction_read_only')", nil, &plans, &timeout, &ro)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"auto", "2s", "on"}, []string{plans, timeout, ro}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
