package replica

import (
	"context"
	"database/sql"
	"testing"
	"time"

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

// BenchmarkPostgresReadOnlyQuery compares Query on the read-only session (the statement
// alone), the pipelined READ ONLY transaction that a statement with another timeout gets, a
// classic transaction (four round trips) and a bare query on a plain connection:
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

	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := src.Query(ctx, benchQuery, args, scanAll); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipeline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := pipelineQuery(ctx, conn, benchQuery, args, time.Minute, scanAll); err != nil {
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

// BenchmarkPostgresLabel measures what the statement label (application_name in the pipeline)
// costs, the two variants alternating statement by statement so that the shared machine's
// noise falls on both alike; it reports the mean time of each:
//
//	go test ./replica -run '^$' -bench PostgresLabel -benchtime 20000x
func BenchmarkPostgresLabel(b *testing.B) {
	dsn := newPGDatabase(b, `CREATE TABLE t (id int PRIMARY KEY, name text)`,
		`INSERT INTO t SELECT g, 'name ' || g FROM generate_series(1, 100) g`)
	src := openSource(b, Options{Driver: "postgres", DSN: dsn, MaxConns: 1})
	plain := context.Background()
	labelled := WithTrace(plain, &Trace{Label: "vg 5k2jqlvfa7ttzxqgq4xlm2s3ue invoices"})
	args := []any{10}
	var took [2]time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ctx := plain
		if i%2 == 1 {
			ctx = labelled
		}
		start := time.Now()
		if err := src.Query(ctx, benchQuery, args, scanAll); err != nil {
			b.Fatal(err)
		}
		took[i%2] += time.Since(start)
		i++
	}
	half := float64(max(i/2, 1))
	b.ReportMetric(float64(took[0].Nanoseconds())/half, "ns/plain")
	b.ReportMetric(float64(took[1].Nanoseconds())/half, "ns/labelled")
	b.ReportMetric(100*(float64(took[1])/float64(took[0])-1), "%cost")
}
