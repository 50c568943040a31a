package dbtest_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/viewgate/viewgate/dbtest"
)

func TestPostgresDropsDatabase(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := dbtest.Postgres(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if n := count(t, "pgx", dsn, "SELECT COUNT(*) FROM v_invoices"); n == 0 {
			t.Error("v_invoices is empty")
		}
	})
	server := envOr(dbtest.EnvPostgres, dbtest.DefaultPostgres)
	if n := count(t, "pgx", server, "SELECT COUNT(*) FROM pg_database WHERE datname = '"+name+"'"); n != 0 {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestMariaDBDropsDatabase(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := dbtest.MariaDB(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.ParseTime {
			t.Errorf("DSN %s: parseTime is off", dsn)
		}
		name = cfg.DBName
		if n := count(t, "mysql", dsn, "SELECT COUNT(*) FROM v_invoices"); n == 0 {
			t.Error("v_invoices is empty")
		}
	})
	server := envOr(dbtest.EnvMySQL, dbtest.DefaultMySQL)
	if n := count(t, "mysql", server, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"+name+"'"); n != 0 {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestSQLiteCopiesAreIndependent(t *testing.T) {
	a, b := dbtest.SQLite(t), dbtest.SQLite(t)
	if a == b {
		t.Fatalf("both calls returned %s", a)
	}
	exec(t, "sqlite", a, "DELETE FROM erp_invoice_line")
	if n := count(t, "sqlite", b, "SELECT COUNT(*) FROM erp_invoice_line"); n == 0 {
		t.Error("deleting from one copy emptied the other")
	}
}

// fakeTB records how Require ended the test; Fatalf and Skipf stop it like the real ones.
type fakeTB struct {
	testing.TB
	ended string
}

type stop struct{}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Fatalf(format string, a ...any) { f.ended = "fatal"; panic(stop{}) }
func (f *fakeTB) Skipf(format string, a ...any)  { f.ended = "skip"; panic(stop{}) }

func TestRequire(t *testing.T) {
	t.Setenv(dbtest.EnvPostgres, "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=1")
	for _, tc := range []struct{ ci, want string }{{"", "skip"}, {"true", "fatal"}} {
		t.Setenv("CI", tc.ci)
		f := &fakeTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != (stop{}) {
					panic(r)
				}
			}()
			dbtest.Require(f, "postgres")
		}()
		if f.ended != tc.want {
			t.Errorf("CI=%q: Require ended the test with %q, want %q", tc.ci, f.ended, tc.want)
		}
	}
}

func count(t *testing.T, driver, dsn, query string) int {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func exec(t *testing.T, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func TestRedisDeletesKeys(t *testing.T) {
	var redisURL, key string
	var prefixes []string
	for range 2 {
		t.Run("use", func(t *testing.T) {
			var prefix string
			redisURL, prefix = dbtest.Redis(t)
			prefixes = append(prefixes, prefix)
			key = prefix + ":k"
			c := redisClient(t, redisURL)
			if err := c.Set(context.Background(), key, 1, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if prefixes[0] == prefixes[1] {
		t.Errorf("two tests got the same prefix %q", prefixes[0])
	}
	c := redisClient(t, redisURL)
	if n, err := c.Exists(context.Background(), key).Result(); err != nil || n != 0 {
		t.Errorf("key %s still exists after the test (%d, %v)", key, n, err)
	}
}

func redisClient(t *testing.T, redisURL string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}
