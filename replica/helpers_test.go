package replica

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func pgAdminDSN() string {
	return envOr("VIEWGATE_TEST_PG_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

func mysqlAdminDSN() string {
	return envOr("VIEWGATE_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/")
}

// unreachable skips the test outside CI and fails it in CI.
func unreachable(tb testing.TB, service string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "" {
		tb.Skipf("%s not reachable (set CI to make this fatal): %v", service, err)
	}
	tb.Fatalf("%s not reachable: %v", service, err)
}

func randomName(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return "vg_test_" + hex.EncodeToString(b)
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// newPGDatabase creates a fresh database, runs setup in it as the admin and returns
// its DSN; the database is dropped at cleanup.
func newPGDatabase(tb testing.TB, setup ...string) string {
	tb.Helper()
	ctx := testContext(tb)
	admin, err := pgx.Connect(ctx, pgAdminDSN())
	if err != nil {
		unreachable(tb, "PostgreSQL", err)
	}
	defer admin.Close(ctx)
	name := randomName(tb)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, pgAdminDSN())
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(pgAdminDSN())
	if err != nil {
		tb.Fatalf("VIEWGATE_TEST_PG_DSN must be a URL: %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", name, err)
	}
	defer db.Close(ctx)
	for _, stmt := range setup {
		if _, err := db.Exec(ctx, stmt); err != nil {
			tb.Fatalf("setup %q: %v", stmt, err)
		}
	}
	return dsn
}

// newMySQLDatabase is newPGDatabase for MySQL/MariaDB.
func newMySQLDatabase(tb testing.TB, setup ...string) string {
	tb.Helper()
	ctx := testContext(tb)
	admin, err := sql.Open("mysql", mysqlAdminDSN())
	if err != nil {
		tb.Fatalf("open mysql admin: %v", err)
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		unreachable(tb, "MySQL/MariaDB", err)
	}
	name := randomName(tb)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("mysql", mysqlAdminDSN())
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE " + name); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(mysqlAdminDSN())
	if err != nil {
		tb.Fatalf("parse VIEWGATE_TEST_MYSQL_DSN: %v", err)
	}
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	defer db.Close()
	for _, stmt := range setup {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			tb.Fatalf("setup %q: %v", stmt, err)
		}
	}
	return dsn
}

func openSource(tb testing.TB, o Options) *Source {
	tb.Helper()
	if o.Name == "" {
		o.Name = "test"
	}
	src, err := Open(testContext(tb), o)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(src.Close)
	return src
}

// scanOne runs query and scans its single row into dest.
func scanOne(ctx context.Context, src *Source, query string, args []any, dest ...any) error {
	return src.Query(ctx, query, args, func(rows Rows) error {
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// mustStillWork checks that the pool hands out a clean connection after a failure.
func mustStillWork(t *testing.T, src *Source) {
	t.Helper()
	var n sql.NullInt64
	if err := scanOne(testContext(t), src, "SELECT 1", nil, &n); err != nil {
		t.Fatalf("follow-up query: %v", err)
	}
	if n.Int64 != 1 {
		t.Fatalf("follow-up query returned %v, want 1", n)
	}
}
