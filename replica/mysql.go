package replica

import (
	"context"
	"database/sql"
	"fmt"
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
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure mysql connector: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	// One connection of its own for KILL QUERY, so a full pool cannot delay a kill.
	killer := sql.OpenDB(conn)
	killer.SetMaxOpenConns(1)
	s := &sqlDB{db: db, grace: backstop, guard: refuseImplicitCommit, killer: killer}
	if err := s.detect(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// detect tells MariaDB from MySQL, which spell the statement timeout differently.
func (s *sqlDB) detect(ctx context.Context) error {
	var version string
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return fmt.Errorf("detect server version: %w", err)
	}
	if strings.Contains(version, "MariaDB") {
		s.name, s.limit = "mariadb", mariaDBLimit
	} else {
		s.name, s.limit = "mysql", mySQLLimit
	}
	return nil
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
