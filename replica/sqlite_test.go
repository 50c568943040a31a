package replica

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newSQLiteFile writes a database file with setup and returns its path.
func newSQLiteFile(t *testing.T, setup ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range setup {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("setup %q: %v", stmt, err)
		}
	}
	return path
}

func TestSQLiteScanNullTypes(t *testing.T) {
	path := newSQLiteFile(t,
		`CREATE TABLE typed (id INTEGER PRIMARY KEY, t TEXT, b BIGINT, i INT, n TEXT, nd DECIMAL(14,2), f REAL,
			ok BOOLEAN, d DATE, ts TIMESTAMP, u TEXT, j TEXT)`,
		`INSERT INTO typed VALUES (1, 'héllo', 9007199254740993, -42, '12.50', 12.50, 1.25, 1, '2026-11-28',
			'2026-11-28 15:04:05.123456', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": "x", "b": [1, 2]}')`,
		`INSERT INTO typed (id) VALUES (2)`)
	src := openSource(t, Options{Driver: "sqlite", DSN: path})
	runScanCases(t, src, "SELECT {col} FROM typed WHERE id = ?", func(id int) []any { return []any{id} }, []scanCase{
		{column: "t", dest: newString, want: str("héllo")},
		{column: "b", dest: newInt, want: sql.NullInt64{Int64: 9007199254740993, Valid: true}},
		{column: "i", dest: newInt, want: sql.NullInt64{Int64: -42, Valid: true}},
		{column: "n", dest: newString, want: str("12.50")},
		// DECIMAL has NUMERIC affinity: 12.50 is stored as the REAL 12.5 and the scale is lost.
		{column: "nd", dest: newString, want: str("12.5")},
		{column: "f", dest: newFloat, want: sql.NullFloat64{Float64: 1.25, Valid: true}},
		{column: "ok", dest: newBool, want: sql.NullBool{Bool: true, Valid: true}},
		{column: "d", dest: newTime, want: nullTime("2026-11-28T00:00:00Z")},
		{column: "ts", dest: newTime, want: nullTime("2026-11-28T15:04:05.123456Z")},
		{column: "u", dest: newString, want: str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{column: "j", dest: newString, want: str(`{"a": "x", "b": [1, 2]}`)},
	})
}

func TestSQLiteReadOnly(t *testing.T) {
	path := newSQLiteFile(t, `CREATE TABLE t (i int)`)
	for _, dsn := range []string{path, "file:" + path, "file:" + path + "?mode=rw&_pragma=query_only(0)"} {
		src := openSource(t, Options{Driver: "sqlite", DSN: dsn})
		for _, stmt := range []string{"INSERT INTO t VALUES (1)", "CREATE TABLE x (i int)", "DELETE FROM t"} {
			t.Run(dsn+" "+stmt, func(t *testing.T) {
				err := src.Query(testContext(t), stmt, nil, func(Rows) error { return nil })
				if !errors.Is(err, ErrWriteRefused) {
					t.Fatalf("got %v, want ErrWriteRefused", err)
				}
				mustStillWork(t, src)
			})
		}
	}
}

func TestSQLiteTimeout(t *testing.T) {
	path := newSQLiteFile(t, `CREATE TABLE t (i int)`)
	src := openSource(t, Options{Driver: "sqlite", DSN: path, StatementTimeout: 200 * time.Millisecond})
	const heavy = `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) SELECT count(*) FROM c`
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
}

func TestSQLiteOpen(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		wantErr   bool
		wantIs    error
	}{
		{name: "missing file", dsn: filepath.Join(t.TempDir(), "absent.db"), wantErr: true, wantIs: ErrUnavailable},
		{name: "memory", dsn: ":memory:", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(context.Background(), Options{Name: "demo", Driver: "sqlite", DSN: tc.dsn})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Open error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				src.Close()
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("got %v, want errors.Is %v", err, tc.wantIs)
			}
		})
	}
}

// TestSQLiteMissingFile: a SQLite file that does not exist is named as such, at Open and as the
// reason a router gives, and the router's error does not repeat its prefixes.
func TestSQLiteMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{filepath.Join(dir, "absent.db"), "file:" + filepath.Join(dir, "absent.db") + "?cache=shared", "file:" + filepath.Join(dir, "ab%73ent.db")} {
		_, err := Open(context.Background(), Options{Name: "demo", Driver: "sqlite", DSN: dsn})
		if want := "open sqlite on source demo: replica: source unavailable: the database file does not exist"; err == nil || err.Error() != want || !errors.Is(err, ErrUnavailable) {
			t.Errorf("Open(%s) = %v, want %q", dsn, err, want)
		}
	}
	_, err := OpenRouter(context.Background(), RouterOptions{Name: "demo", Driver: "sqlite", CheckInterval: -1,
		Replicas: []ReplicaOptions{{Name: "main", DSN: filepath.Join(dir, "absent.db")}}})
	if want := "open source demo: replica: no healthy replica (main: connect: the database file does not exist)"; err == nil || err.Error() != want || !errors.Is(err, ErrNoHealthyReplica) {
		t.Errorf("OpenRouter = %v\nwant %q", err, want)
	}
}

func TestSQLiteReadOnlyDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/data/demo.db", "file:/data/demo.db?_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&mode=ro"},
		{"file:demo.db?mode=rwc&_pragma=foreign_keys(1)&_pragma=query_only(0)",
			"file:demo.db?_pragma=foreign_keys%281%29&_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&mode=ro"},
	} {
		got, err := sqliteReadOnlyDSN(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
	}
}
