package replica

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMySQLScanNullTypes(t *testing.T) {
	dsn := newMySQLDatabase(t,
		`CREATE TABLE typed (id int PRIMARY KEY, t varchar(20), b bigint, i int, n decimal(14,2), f double,
			ok tinyint(1), bo boolean, d date, ts datetime(6), u char(36), j json)`,
		`INSERT INTO typed VALUES (1, 'héllo', 9007199254740993, -42, 12.5, 1.25, 1, true, '2026-11-28',
			'2026-11-28 15:04:05.123456', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": "x", "b": [1, 2]}')`,
		`INSERT INTO typed (id) VALUES (2)`)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn})
	runScanCases(t, src, "SELECT {col} FROM typed WHERE id = ?", func(id int) []any { return []any{id} }, []scanCase{
		{column: "t", dest: newString, want: str("héllo")},
		{column: "b", dest: newInt, want: sql.NullInt64{Int64: 9007199254740993, Valid: true}},
		{column: "i", dest: newInt, want: sql.NullInt64{Int64: -42, Valid: true}},
		{column: "n", dest: newString, want: str("12.50")},
		{column: "f", dest: newFloat, want: sql.NullFloat64{Float64: 1.25, Valid: true}},
		{column: "ok", dest: newBool, want: sql.NullBool{Bool: true, Valid: true}},
		{column: "bo", dest: newBool, want: sql.NullBool{Bool: true, Valid: true}},
		{column: "d", dest: newTime, want: nullTime("2026-11-28T00:00:00Z")},
		{column: "ts", dest: newTime, want: nullTime("2026-11-28T15:04:05.123456Z")},
		{column: "u", dest: newString, want: str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{column: "j", dest: newString, want: str(`{"a": "x", "b": [1, 2]}`)},
	})
}

func TestMySQLWriteRefused(t *testing.T) {
	dsn := newMySQLDatabase(t, `CREATE TABLE t (i int)`,
		`CREATE FUNCTION sneaky() RETURNS int MODIFIES SQL DATA BEGIN INSERT INTO t VALUES (1); RETURN 1; END`)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 1})
	for _, tc := range []struct{ name, sql string }{
		{"select calling a writing function", "SELECT sneaky()"}, // refused by the server
		{"create table", "CREATE TABLE x (i int)"},               // refused before sending
		{"insert", "INSERT INTO t VALUES (1)"},
		{"update", "UPDATE t SET i = 2"},
		{"insert select", "INSERT INTO t SELECT 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := src.Query(testContext(t), tc.sql, nil, func(Rows) error { return nil })
			if !errors.Is(err, ErrWriteRefused) {
				t.Fatalf("got %v, want ErrWriteRefused", err)
			}
			mustStillWork(t, src)
		})
	}
	var n sql.NullInt64
	if err := scanOne(testContext(t), src, "SELECT count(*) FROM t", nil, &n); err != nil || n.Int64 != 0 {
		t.Fatalf("rows in t after refused writes: %v, %v; want 0", n, err)
	}
	if err := scanOne(testContext(t), src, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'x' AND table_schema = DATABASE()", nil, &n); err != nil || n.Int64 != 0 {
		t.Fatalf("table x exists after a refused CREATE: %v, %v", n, err)
	}
}

func TestMySQLTimeout(t *testing.T) {
	dsn := newMySQLDatabase(t)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 1, StatementTimeout: 200 * time.Millisecond})
	// SLEEP interrupted by max_statement_time returns 1 instead of failing, so burn CPU.
	const heavy = `SELECT count(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c`
	start := time.Now()
	err := src.Query(testContext(t), heavy, nil, func(rows Rows) error {
		for rows.Next() {
		}
		return rows.Err()
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("timeout took %v, want about 200ms", d)
	}
	t.Log(err)
	mustStillWork(t, src)
	if got := src.Dialect(); got != "mariadb" && got != "mysql" {
		t.Errorf("Dialect() = %q", got)
	}
}

func TestMySQLEarlyReturn(t *testing.T) {
	dsn := newMySQLDatabase(t)
	src := openSource(t, Options{Driver: "mysql", DSN: dsn, MaxConns: 1})
	errStop := errors.New("stop")
	const many = `SELECT a.ORDINAL_POSITION FROM information_schema.columns a, information_schema.columns b LIMIT ?`
	for _, tc := range []struct {
		name    string
		fnErr   error
		wantErr error
	}{
		{"stop without error", nil, nil},
		{"callback error", errStop, errStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0
			err := src.Query(testContext(t), many, []any{5000}, func(rows Rows) error {
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

func TestMySQLLimit(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "SELECT a FROM t", "SELECT /*+ MAX_EXECUTION_TIME(1500) */ a FROM t"},
		{"lower case and blanks", "\n  select a from t", "\n  select /*+ MAX_EXECUTION_TIME(1500) */ a from t"},
		{"leading comment", "/* view Invoice */ SELECT 1", "/* view Invoice */ SELECT /*+ MAX_EXECUTION_TIME(1500) */ 1"},
		{"line comment", "-- x\nSELECT 1", "-- x\nSELECT /*+ MAX_EXECUTION_TIME(1500) */ 1"},
		{"not a select", "WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"},
		{"identifier prefix", "selection", "selection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, mySQLLimit(tc.in, 1500*time.Millisecond)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff("SET STATEMENT max_statement_time=0.2 FOR SELECT 1", mariaDBLimit("SELECT 1", 200*time.Millisecond)); diff != "" {
		t.Errorf("mariaDBLimit (-want +got):\n%s", diff)
	}
}
