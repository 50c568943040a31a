package replica

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
)

// scanCase scans one column of the row with id 1 (values) and id 2 (all NULL).
type scanCase struct {
	column string
	dest   func() any // a fresh *sql.NullX
	want   any        // the sql.NullX for row 1
}

func nullTime(s string) sql.NullTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return sql.NullTime{Time: t, Valid: true}
}

func newString() any { return new(sql.NullString) }
func newInt() any    { return new(sql.NullInt64) }
func newFloat() any  { return new(sql.NullFloat64) }
func newBool() any   { return new(sql.NullBool) }
func newTime() any   { return new(sql.NullTime) }

func str(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// runScanCases checks every case against both rows of the typed table.
func runScanCases(t *testing.T, src *Source, query string, args func(id int) []any, cases []scanCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.column, func(t *testing.T) {
			q := strings.ReplaceAll(query, "{col}", tc.column)
			for id, want := range map[int]any{1: tc.want, 2: reflect.ValueOf(tc.dest()).Elem().Interface()} {
				dest := tc.dest()
				if err := scanOne(testContext(t), src, q, args(id), dest); err != nil {
					t.Fatalf("row %d: %v", id, err)
				}
				got := reflect.ValueOf(dest).Elem().Interface()
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("row %d (-want +got):\n%s", id, diff)
				}
			}
		})
	}
}

func TestPostgresScanNullTypes(t *testing.T) {
	dsn := newPGDatabase(t,
		`CREATE TABLE typed (id int PRIMARY KEY, t text, b bigint, i int, n numeric(14,2), f float8,
			ok bool, d date, ts timestamp, tz timestamptz, u uuid, j jsonb)`,
		`INSERT INTO typed VALUES (1, 'héllo', 9007199254740993, -42, 12.5, 1.25, true, '2026-11-28',
			'2026-11-28 15:04:05.123456', '2026-11-28 15:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2], "a": "x"}')`,
		`INSERT INTO typed (id) VALUES (2)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn})
	runScanCases(t, src, "SELECT {col} FROM typed WHERE id = $1", func(id int) []any { return []any{id} }, []scanCase{
		{column: "t", dest: newString, want: str("héllo")},
		{column: "b", dest: newInt, want: sql.NullInt64{Int64: 9007199254740993, Valid: true}},
		{column: "b", dest: newString, want: str("9007199254740993")},
		{column: "i", dest: newInt, want: sql.NullInt64{Int64: -42, Valid: true}},
		{column: "n", dest: newString, want: str("12.50")},
		{column: "f", dest: newFloat, want: sql.NullFloat64{Float64: 1.25, Valid: true}},
		{column: "ok", dest: newBool, want: sql.NullBool{Bool: true, Valid: true}},
		{column: "d", dest: newTime, want: nullTime("2026-11-28T00:00:00Z")},
		{column: "ts", dest: newTime, want: nullTime("2026-11-28T15:04:05.123456Z")},
		{column: "tz", dest: newTime, want: nullTime("2026-11-28T13:04:05Z")},
		{column: "u", dest: newString, want: str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{column: "j", dest: newString, want: str(`{"a": "x", "b": [1, 2]}`)},
	})
}

func TestPostgresWriteRefused(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn})
	for _, tc := range []struct{ name, sql string }{
		{"data-modifying CTE", "WITH x AS (INSERT INTO t VALUES (1) RETURNING i) SELECT i FROM x"},
		{"create table", "CREATE TABLE x (i int)"},
		{"insert", "INSERT INTO t VALUES (1)"},
		{"nextval", "SELECT nextval('s')"}, // fails as missing relation, not as a write
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := src.Query(testContext(t), tc.sql, nil, func(Rows) error { return nil })
			if tc.name == "nextval" {
				if err == nil || errors.Is(err, ErrWriteRefused) {
					t.Fatalf("got %v, want an error that is not ErrWriteRefused", err)
				}
			} else if !errors.Is(err, ErrWriteRefused) {
				t.Fatalf("got %v, want ErrWriteRefused", err)
			}
			mustStillWork(t, src)
		})
	}
	var n sql.NullInt64
	if err := scanOne(testContext(t), src, "SELECT count(*) FROM t", nil, &n); err != nil || n.Int64 != 0 {
		t.Fatalf("rows in t after refused writes: %v, %v; want 0", n, err)
	}
}

func TestPostgresTimeout(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, StatementTimeout: 200 * time.Millisecond})
	start := time.Now()
	err := src.Query(testContext(t), "SELECT pg_sleep(2)", nil, func(Rows) error { return nil })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("timeout took %v, want about 200ms", d)
	}
	mustStillWork(t, src)

	ctx, cancel := context.WithTimeout(testContext(t), 100*time.Millisecond)
	defer cancel()
	long := openSource(t, Options{Driver: "postgres", DSN: dsn, StatementTimeout: 5 * time.Second})
	if err := long.Query(ctx, "SELECT pg_sleep(2)", nil, func(Rows) error { return nil }); !errors.Is(err, ErrTimeout) {
		t.Fatalf("caller deadline: got %v, want ErrTimeout", err)
	}
	mustStillWork(t, long)
}

func TestPostgresEarlyReturn(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 1})
	errStop := errors.New("stop")
	for _, tc := range []struct {
		name    string
		fnErr   error
		wantErr error
	}{
		{"stop without error", nil, nil},
		{"callback error", errStop, errStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen int
			err := src.Query(testContext(t), "SELECT g FROM generate_series(1, $1::int) g", []any{100000}, func(rows Rows) error {
				for rows.Next() {
					if seen++; seen == 3 {
						return tc.fnErr
					}
				}
				return rows.Err()
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			mustStillWork(t, src)
		})
	}
}

func TestPostgresConcurrentQueriesShareSmallPool(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			var n sql.NullInt64
			err := scanOne(testContext(t), src, "SELECT $1::int + 1", []any{i}, &n)
			if err == nil && n.Int64 != int64(i+1) {
				err = errors.New("wrong result")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := src.Dialect(); got != "postgres" {
		t.Errorf("Dialect() = %q, want postgres", got)
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	newPGDatabase(t) // skips when PostgreSQL is absent
	for _, tc := range []struct {
		name        string
		driver, dsn string
		wantIs      error
	}{
		{"postgres missing database", "postgres", "postgres://postgres:s3cretpw@127.0.0.1:5432/nodb", ErrUnavailable},
		{"postgres refused port", "postgres", "postgres://postgres:s3cretpw@127.0.0.1:1/nodb", ErrUnavailable},
		{"postgres bad dsn", "postgres", "postgres://postgres:s3cretpw@127.0.0.1:notaport/nodb", nil},
		{"postgres keyword dsn", "postgres", "host=127.0.0.1 port=1 user=postgres password=s3cretpw", ErrUnavailable},
		{"mysql wrong password", "mysql", "root:s3cretpw@tcp(127.0.0.1:3306)/nodb", ErrUnavailable},
		{"mysql refused port", "mysql", "root:s3cretpw@tcp(127.0.0.1:1)/nodb", ErrUnavailable},
		{"unknown driver", "oracle", "scott:s3cretpw@db", ErrUnknownDriver},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(testContext(t), Options{Name: "erp", Driver: tc.driver, DSN: tc.dsn})
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error contains the password: %v", err)
			}
			if !strings.Contains(err.Error(), "erp") {
				t.Errorf("error does not name the source: %v", err)
			}
			if connErr := (*pgconn.ConnectError)(nil); errors.As(err, &connErr) {
				t.Errorf("error chain holds the password in %T.Config", connErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("got %v, want errors.Is %v", err, tc.wantIs)
			}
			t.Log(err)
		})
	}
}

func TestRedact(t *testing.T) {
	dsn := "postgres://u:s3cret%20pw@h/db"
	err := redact(errors.Join(ErrUnavailable, errors.New("cannot parse postgres://u:s3cret pw@h/db and s3cret+pw")), dsn)
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("redact left the password in %q", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("redact lost the sentinel: %v", err)
	}
}

// TestPostgresPoolKeepsOnlyIdleConnections looks inside the pool after failures: the
// failed transactions were rolled back, so one connection served every statement.
func TestPostgresPoolKeepsOnlyIdleConnections(t *testing.T) {
	dsn := newPGDatabase(t, `CREATE TABLE t (i int)`)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn, MaxConns: 3, StatementTimeout: 100 * time.Millisecond})
	for _, q := range []string{"INSERT INTO t VALUES (1)", "SELECT pg_sleep(1)", "SELECT 1/0", "SELECT 1"} {
		_ = src.Query(testContext(t), q, nil, func(Rows) error { return nil })
	}
	pool := src.eng.(*postgres).pool
	if got := pool.Stat().NewConnsCount(); got != 1 {
		t.Errorf("opened %d connections, want 1 reused after each rollback", got)
	}
	idle := pool.AcquireAllIdle(testContext(t))
	if len(idle) == 0 {
		t.Fatal("no idle connection kept")
	}
	for _, conn := range idle {
		if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
			t.Errorf("idle connection in transaction status %q", st)
		}
		conn.Release()
	}
}

func TestPostgresSessionSettings(t *testing.T) {
	dsn := newPGDatabase(t)
	src := openSource(t, Options{Driver: "postgres", DSN: dsn + "&pool_max_conns=9"})
	for _, tc := range []struct{ setting, want string }{
		{"default_transaction_read_only", "on"},
		{"application_name", "viewgate"},
		{"TimeZone", "UTC"},
	} {
		var got sql.NullString
		if err := scanOne(testContext(t), src, "SELECT current_setting($1)", []any{tc.setting}, &got); err != nil {
			t.Fatal(err)
		}
		if got.String != tc.want {
			t.Errorf("%s = %q, want %q", tc.setting, got.String, tc.want)
		}
	}
	if got := src.eng.(*postgres).pool.Config().MaxConns; got != DefaultMaxConns {
		t.Errorf("MaxConns = %d, want Options' %d over the DSN's pool_max_conns", got, DefaultMaxConns)
	}
}

func TestOpenParseErrorDropsTheDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres:s3cretpw@127.0.0.1:notaport/nodb",
		"postgres://postgres:s3cretpw@127.0.0.1/nodb?pool_max_conns=x",
		"host=127.0.0.1 password=s3cretpw pool_max_conns=x",
	} {
		_, err := Open(testContext(t), Options{Name: "erp", Driver: "postgres", DSN: dsn})
		if err == nil || strings.Contains(err.Error(), "s3cretpw") {
			t.Fatalf("Open(%q) = %v, want an error without the password", dsn, err)
		}
		if pce := (*pgconn.ParseConfigError)(nil); errors.As(err, &pce) {
			t.Errorf("Open(%q) error chain holds the DSN in %T", dsn, pce)
		}
	}
}
