package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver demo.Load runs on

	"github.com/viewgate/viewgate/demo"
)

// ErrNotLoopback is returned for a URL whose host is not a loopback address: load runs
// stay on this machine.
var ErrNotLoopback = errors.New("not a loopback address (use 127.0.0.1, ::1 or localhost)")

// CheckLoopback returns an error wrapping ErrNotLoopback unless rawURL names a loopback host.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("parse URL: %w", err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q: %w", host, ErrNotLoopback)
}

// CreatePostgres creates a fresh database on the Postgres server at serverURL (a loopback
// postgres:// URL), loads the demo data and returns its URL and a drop func that removes it.
// It returns an error wrapping ErrNotLoopback for a remote server; no error holds a password.
func CreatePostgres(ctx context.Context, serverURL string) (dsn string, drop func(context.Context) error, err error) {
	if err := CheckLoopback(serverURL); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(serverURL)
	name, err := dbName()
	if err != nil {
		return "", nil, err
	}
	// C.UTF-8 pins ordering whatever the server's default, as dbtest does.
	create := fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`, name)
	if err := exec(ctx, serverURL, create); err != nil {
		return "", nil, err
	}
	drop = func(ctx context.Context) error {
		return exec(ctx, serverURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path = "/" + name
	err = load(ctx, u.String())
	if err == nil {
		err = Analyze(ctx, u.String())
	}
	if err != nil {
		_ = drop(ctx)
		return "", nil, err
	}
	return u.String(), drop, nil
}

// Analyze collects the planner statistics of the Postgres database at dsn. A freshly loaded demo
// database has none until autovacuum comes by, and without them the list query takes a
// nested-loop plan a hundred times slower, which would bury the handlers' costs under the database's.
func Analyze(ctx context.Context, dsn string) error { return exec(ctx, dsn, "ANALYZE") }

func dbName() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return "vgbench_" + hex.EncodeToString(b[:]), nil
}

func exec(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("open postgres server: %w", redact(err, dsn))
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, redact(err, dsn))
	}
	return nil
}

func load(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("open bench database: %w", redact(err, dsn))
	}
	defer db.Close()
	if err := demo.Load(ctx, db, demo.Postgres, demo.Generate()); err != nil {
		return fmt.Errorf("load demo data: %w", redact(err, dsn))
	}
	return nil
}

// redact keeps a password in dsn out of err's text.
func redact(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil {
		return errors.New("(error text withheld: it may contain the DSN)")
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return err
	}
	return &redacted{err: err, pw: pw}
}

type redacted struct {
	err error
	pw  string
}

func (r *redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.pw, "xxxxx") }
func (r *redacted) Unwrap() error { return r.err }
