// Package dbtest gives tests fresh, demo-loaded databases on real engines.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/redis/go-redis/v9"

	"github.com/viewgate/viewgate/demo"
)

// Environment variables naming the test servers, and their defaults.
const (
	EnvPostgres = "VIEWGATE_TEST_PG_DSN"
	EnvMySQL    = "VIEWGATE_TEST_MYSQL_DSN"
	EnvRedis    = "VIEWGATE_TEST_REDIS_ADDR"

	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultMySQL    = "root@tcp(127.0.0.1:3306)/"
	DefaultRedis    = "127.0.0.1:6379"
)

// setupTimeout bounds creating and loading one database.
const setupTimeout = 2 * time.Minute

// Postgres creates a fresh database on the test server, loads the demo data and returns its
// postgres:// URL; the database is dropped when the test ends. The server's DSN must be a URL.
func Postgres(t testing.TB) string {
	t.Helper()
	Require(t, "postgres")
	server := serverDSN(EnvPostgres, DefaultPostgres)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("dbtest: %s is not a postgres URL: %v", EnvPostgres, err)
	}
	name := dbName(t)
	// C.UTF-8 pins ordering (code point order) and case mapping whatever the server's default.
	adminExec(t, "pgx", server, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`, name))
	t.Cleanup(func() { adminExec(t, "pgx", server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	dsn := u.String()
	load(t, "pgx", dsn, demo.Postgres)
	return dsn
}

// MariaDB creates a fresh database (utf8mb4, case- and accent-insensitive utf8mb4_general_ci)
// on the test server, loads the demo data and returns its go-sql-driver DSN with parseTime=true;
// the database is dropped when the test ends.
func MariaDB(t testing.TB) string {
	t.Helper()
	Require(t, "mariadb")
	server := serverDSN(EnvMySQL, DefaultMySQL)
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("dbtest: %s is not a go-sql-driver DSN: %v", EnvMySQL, err)
	}
	name := dbName(t)
	adminExec(t, "mysql", server, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
	t.Cleanup(func() { adminExec(t, "mysql", server, "DROP DATABASE IF EXISTS "+name) })
	cfg.DBName = name
	cfg.ParseTime = true
	dsn := cfg.FormatDSN()
	load(t, "mysql", dsn, demo.MySQL)
	return dsn
}

// SQLite writes the demo database to a file in t.TempDir() and returns its path.
func SQLite(t testing.TB) string {
	t.Helper()
	b, err := sqliteImage()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	path := filepath.Join(t.TempDir(), "demo.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return path
}

// sqliteImage holds the bytes of a demo SQLite file: building one takes seconds under -race,
// copying it takes a millisecond. It is the package's only state, filled once per process.
var sqliteImage = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "dbtest-sqlite-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	path := filepath.Join(dir, "demo.db")
	if err := demo.CreateSQLite(ctx, path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

func serverDSN(env, def string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

// dbName returns a name that cannot collide with a concurrent test's database.
func dbName(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("dbtest: random name: %v", err)
	}
	return "vgtest_" + hex.EncodeToString(b[:])
}

func adminExec(t testing.TB, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("dbtest: open %s server: %v", driver, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("dbtest: %s: %v", stmt, err)
	}
}

func load(t testing.TB, driver, dsn, dialect string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("dbtest: open %s database: %v", driver, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := demo.Load(ctx, db, dialect, demo.Generate()); err != nil {
		t.Fatalf("dbtest: load demo data into %s: %v", dialect, err)
	}
}

// Require skips the test when engine ("postgres", "mariadb" or "mysql", "redis", "sqlite") is
// not reachable, or fails it when the CI environment variable is set.
func Require(t testing.TB, engine string) {
	t.Helper()
	addr, err := reach(engine)
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not reachable at %s (CI is set, so this fails): %v", engine, addr, err)
	}
	t.Skipf("%s not reachable at %s: %v", engine, addr, err)
}

func reach(engine string) (addr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch engine {
	case "postgres":
		dsn := serverDSN(EnvPostgres, DefaultPostgres)
		addr = "?"
		if u, err := url.Parse(dsn); err == nil {
			addr = u.Host
		}
		return addr, ping(ctx, "pgx", dsn)
	case "mariadb", "mysql":
		dsn := serverDSN(EnvMySQL, DefaultMySQL)
		addr = "?"
		if cfg, err := mysql.ParseDSN(dsn); err == nil {
			addr = cfg.Addr
		}
		return addr, ping(ctx, "mysql", dsn)
	case "redis":
		addr = serverDSN(EnvRedis, DefaultRedis)
		return addr, pingRedis(ctx, addr)
	case "sqlite":
		return "(embedded)", nil
	}
	return "?", fmt.Errorf("dbtest: unknown engine %q", engine)
}

func ping(ctx context.Context, driver, dsn string) error {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

func pingRedis(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if got := string(buf[:n]); got != "+PONG\r\n" {
		return fmt.Errorf("unexpected PING reply %q", got)
	}
	return nil
}

// Redis returns the test Redis server's URL (redis://addr/0) and a key prefix no other test uses;
// keys under the prefix are deleted when the test ends. It skips the test when Redis is not
// reachable, or fails it when the CI environment variable is set.
func Redis(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	Require(t, "redis")
	redisURL = "redis://" + serverDSN(EnvRedis, DefaultRedis) + "/0"
	prefix = "vgtest:" + strings.TrimPrefix(dbName(t), "vgtest_")
	t.Cleanup(func() { deleteRedisKeys(t, redisURL, prefix) })
	return redisURL, prefix
}

// deleteRedisKeys deletes every key under prefix.
func deleteRedisKeys(t testing.TB, redisURL, prefix string) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Errorf("dbtest: %v", err)
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("dbtest: scan redis keys %s*: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			t.Logf("dbtest: delete redis keys %s*: %v", prefix, err)
		}
	}
}
