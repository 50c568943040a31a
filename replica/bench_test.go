package replica

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
)

const benchQuery = "SELECT id, name FROM t WHERE id <= $1 ORDER BY id"

func scanAll(rows Rows) error {
	var id sql.NullInt64
	var name sql.NullString
	for rows.Next() {
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
	}
	return rows.Err()
}

// BenchmarkPostgresReadOnlyQuery compares the pipelined read-only query with a
// classic transaction (four round trips) and a bare query (no safety at all):
//
//	go test ./replica -run '^$' -bench PostgresReadOnlyQuery -benchmem
func BenchmarkPostgresReadOnlyQuery(b *testing.B) {
	dsn := newPGDatabase(b, `CREATE TABLE t (id int PRIMARY KEY, name text)`,
		`INSERT INTO t SELECT g, 'name ' || g FROM generate_series(1, 100) g`)
	ctx := context.Background()
	src := openSource(b, Options{Driver: "postgres", DSN: dsn, MaxConns: 1})
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	args := []any{10}

	b.Run("pipeline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := src.Query(ctx, benchQuery, args, scanAll); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("begin-set-query-commit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := classicTx(ctx, conn, args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain-query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := conn.Query(ctx, benchQuery, args...)
			if err != nil {
				b.Fatal(err)
			}
			if err := scanAll(rows); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func classicTx(ctx context.Context, conn *pgx.Conn, args []any) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, pgSetTimeout, "30000"); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, benchQuery, args...)
	if err != nil {
		return err
	}
	if err := scanAll(rows); err != nil {
		return err
	}
	rows.Close()
	return tx.Commit(ctx)
}
