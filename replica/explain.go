package replica

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNoPlan reports that a statement's plan cannot be captured: the engine has none to give
// (SQLite), or the statement is not a single SELECT.
var ErrNoPlan = errors.New("replica: no plan for this statement")

// checkExplainable refuses what Explain must never wrap: anything but one SELECT or WITH
// statement (the statement text is viewgate's own squirrel output, never user text).
func checkExplainable(sql string) error {
	if strings.Contains(sql, ";") || refuseImplicitCommit(sql) != nil {
		return fmt.Errorf("%w: only a single SELECT or WITH statement is explained", ErrNoPlan)
	}
	return nil
}

// pgExplain is the script that captures a generic plan on Postgres 12 and later, in one round
// trip of the simple protocol: PREPARE under plan_cache_mode = force_generic_plan, then EXPLAIN
// EXECUTE with NULL for every parameter, so the plan holds $n and never a value.
func pgExplain(sql string, nargs int, timeout time.Duration) string {
	nulls := make([]string, nargs)
	for i := range nulls {
		nulls[i] = "NULL"
	}
	exec := "EXECUTE vg_plan"
	if nargs > 0 {
		exec += "(" + strings.Join(nulls, ", ") + ")"
	}
	return pgBegin + "; SET LOCAL statement_timeout = " + strconv.FormatInt(max(timeout.Milliseconds(), 1), 10) +
		"; SET LOCAL plan_cache_mode = force_generic_plan; PREPARE vg_plan AS " + sql +
		"; EXPLAIN (FORMAT JSON) " + exec + "; DEALLOCATE vg_plan; " + pgCommit
}

// explain captures sql's generic plan; after any error the connection is closed, since the
// prepared statement may have outlived the failed script.
func (pg *postgres) explain(ctx context.Context, sql string, args []any, timeout time.Duration) (json.RawMessage, error) {
	if err := checkExplainable(sql); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+backstop)
	defer cancel()
	conn, err := pg.pool.Acquire(ctx)
	if err != nil {
		return nil, scrubConnect(fmt.Errorf("acquire connection: %w", err))
	}
	defer release(conn)
	results, err := conn.Conn().PgConn().Exec(ctx, pgExplain(sql, len(args), timeout)).ReadAll()
	if err == nil && (len(results) < 5 || len(results[4].Rows) == 0 || len(results[4].Rows[0]) == 0) {
		err = errors.New("EXPLAIN returned no plan")
	}
	if err != nil {
		_ = conn.Conn().Close(context.Background()) // release discards a closed connection
		return nil, fmt.Errorf("explain: %w", err)
	}
	return json.RawMessage(append([]byte(nil), results[4].Rows[0][0]...)), nil
}

// standIns replaces parameter values by neutral ones of the same kind ("" for text, 1 for
// integers, 0 for other numbers, false, the Unix epoch, NULL): MySQL and MariaDB have no
// generic plan, and their EXPLAIN prints the values it was given in its conditions. NULL
// everywhere would make them answer "Impossible WHERE" or "Zero limit".
func standIns(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case nil:
			out[i] = nil
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			out[i] = 1
		case float32, float64:
			out[i] = 0.0
		case bool:
			out[i] = false
		case time.Time:
			out[i] = time.Unix(0, 0).UTC()
		case []byte:
			out[i] = []byte{}
		default:
			out[i] = ""
		}
	}
	return out
}

// explain captures the plan of sql with EXPLAIN FORMAT=JSON in a read-only transaction, with
// stand-ins for the parameters; SQLite has no plan worth capturing.
func (s *sqlDB) explain(ctx context.Context, query string, args []any, timeout time.Duration) (json.RawMessage, error) {
	if s.name == "sqlite" {
		return nil, ErrNoPlan
	}
	if err := checkExplainable(query); err != nil {
		return nil, err
	}
	q := "EXPLAIN FORMAT=JSON " + query
	if s.name == "mariadb" {
		q = mariaDBLimit(q, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+s.grace)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("explain: begin read-only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // nothing to commit: EXPLAIN only reads
	var plan json.RawMessage
	err = tx.QueryRowContext(ctx, q, standIns(args)...).Scan(&plan)
	if err == nil && plan == nil {
		err = errors.New("EXPLAIN returned no plan")
	}
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return plan, nil
}
