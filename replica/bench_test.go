package replica

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/viewgate/viewgate/dbtest"
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
// classic transaction (four round trips) and a bare query on a plain connection, with the
// CPU the Postgres backends spent per statement (pg-ns/op, when /proc shows them):
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
	// timed is a plain connection with only a statement_timeout: what the timeout alone costs.
	timedCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	timedCfg.RuntimeParams["statement_timeout"] = "30000"
	timed, err := pgx.ConnectConfig(ctx, timedCfg)
	if err != nil {
		b.Fatal(err)
	}
	defer timed.Close(ctx)
	probe, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close(ctx)
	args := []any{10}
	labelled := WithTrace(ctx, &Trace{Label: "vg 5k2jqlvfa7ttzxqgq4xlm2s3ue invoices"})
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"session", func() error { return src.Query(ctx, benchQuery, args, scanAll) }},
		{"session-labelled", func() error { return src.Query(labelled, benchQuery, args, scanAll) }},
		{"pipeline", func() error { return pipelineQuery(ctx, conn, benchQuery, args, time.Minute, scanAll) }},
		{"begin-set-query-commit", func() error { return classicTx(ctx, conn, args) }},
		{"plain-query", func() error { return plainRows(ctx, conn, args) }},
		{"plain-query-timeout", func() error { return plainRows(ctx, timed, args) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			if err := bc.run(); err != nil { // prepares the statements before timing
				b.Fatal(err)
			}
			before := backendCPU(b, probe)
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
			reportBackendCPU(b, before, backendCPU(b, probe))
		})
	}
}

func plainRows(ctx context.Context, conn *pgx.Conn, args []any) error {
	rows, err := conn.Query(ctx, benchQuery, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanAll(rows)
}

// backendCPU is dbtest.BackendCPU, nil when /proc does not show the backends.
func backendCPU(b *testing.B, probe *pgx.Conn) map[int32]time.Duration {
	b.Helper()
	out, err := dbtest.BackendCPU(context.Background(), probe)
	if err != nil {
		return nil
	}
	return out
}

// reportBackendCPU reports the backends' CPU per statement as pg-ns/op.
func reportBackendCPU(b *testing.B, before, after map[int32]time.Duration) {
	if before == nil || after == nil {
		return
	}
	var spent time.Duration
	for pid, t := range after {
		spent += t - before[pid]
	}
	b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "pg-ns/op")
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
