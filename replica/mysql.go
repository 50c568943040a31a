package replica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

func openMySQL(ctx context.Context, o Options) (*sqlDB, error) {
	cfg, err := mysql.ParseDSN(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse mysql dsn: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false // one statement per call, whatever the DSN says
	for _, v := range sessionVars {
		delete(cfg.Params, v)
	}
	dialect, txVar, err := detectMySQL(ctx, cfg.Clone())
	if err != nil {
		return nil, err
	}
	// Read-only and the statement timeout are session variables, set by the driver's one SET
	// on each new connection and read back before database/sql may use it.
	sess := newMySession(dialect, txVar, o.StatementTimeout)
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	maps.Copy(cfg.Params, sess.params())
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure mysql connector: %w", err)
	}
	vc := verifiedConnector{Connector: conn, verify: sess.verify}
	db := sql.OpenDB(vc)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	// One connection of its own for KILL QUERY, so a full pool cannot delay a kill.
	killer := sql.OpenDB(vc)
	killer.SetMaxOpenConns(1)
	s := &sqlDB{db: db, name: dialect, limit: mySQLLimit, grace: backstop, guard: refuseImplicitCommit,
		comment: true, killer: killer, session: o.StatementTimeout, verify: sess}
	if dialect == "mariadb" {
		s.limit = mariaDBLimit
	}
	if err := s.ping(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// detectMySQL tells MariaDB from MySQL, which spell the statement timeout differently, and
// whether the server knows transaction_read_only (MySQL 5.7.20+, MariaDB 11.1+) or only
// tx_read_only, on one connection of its own.
func detectMySQL(ctx context.Context, cfg *mysql.Config) (dialect string, txVar bool, err error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return "", false, fmt.Errorf("configure mysql connector: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return "", false, fmt.Errorf("detect server version: %w", err)
	}
	dialect = "mysql"
	if strings.Contains(version, "MariaDB") {
		dialect = "mariadb"
	}
	var name, value string
	err = db.QueryRowContext(ctx, "SHOW SESSION VARIABLES LIKE 'transaction_read_only'").Scan(&name, &value)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("detect read-only variable: %w", err)
	}
	return dialect, err == nil, nil
}

// refuseImplicitCommit returns ErrWriteRefused unless query starts with SELECT or
// WITH: MySQL and MariaDB run DDL such as CREATE TABLE after an implicit COMMIT,
// outside the READ ONLY transaction, so the server alone would not refuse it.
func refuseImplicitCommit(query string) error {
	i := skipBlanks(query, 0)
	for _, kw := range []string{"select", "with"} {
		end := i + len(kw)
		if end <= len(query) && strings.EqualFold(query[i:end], kw) && (end == len(query) || !isWordByte(query[end])) {
			return nil
		}
	}
	return fmt.Errorf("%w: only SELECT or WITH statements run on %s", ErrWriteRefused, "MySQL/MariaDB")
}

// mariaDBLimit prefixes the statement with MariaDB's per-statement max_statement_time,
// which applies to any statement and is given in seconds.
func mariaDBLimit(query string, timeout time.Duration) string {
	secs := strconv.FormatFloat(max(timeout.Seconds(), 0.001), 'f', -1, 64)
	return "SET STATEMENT max_statement_time=" + secs + " FOR " + query
}

// mySQLLimit puts a MAX_EXECUTION_TIME hint after the leading SELECT; MySQL honours it
// only for SELECT, so other statements are returned unchanged and rely on the
// context deadline.
func mySQLLimit(query string, timeout time.Duration) string {
	i := leadingSelect(query)
	if i < 0 {
		return query
	}
	ms := strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	return query[:i] + " /*+ MAX_EXECUTION_TIME(" + ms + ") */" + query[i:]
}

// leadingSelect returns the index just past a SELECT keyword that starts query after
// blanks and comments, or -1.
func leadingSelect(query string) int {
	i := skipBlanks(query, 0)
	const kw = "select"
	if len(query)-i < len(kw) || !strings.EqualFold(query[i:i+len(kw)], kw) {
		return -1
	}
	end := i + len(kw)
	if end < len(query) && isWordByte(query[end]) {
		return -1
	}
	return end
}

func skipBlanks(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "/*") && !strings.HasPrefix(s[i:], "/*+"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return len(s)
			}
			i += end + 4
		case strings.HasPrefix(s[i:], "-- ") || s[i] == '#':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return len(s)
			}
			i += end + 1
		default:
			return i
		}
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
