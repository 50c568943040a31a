package bench_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/viewgate/viewgate/bench"
	"github.com/viewgate/viewgate/dbtest"
)

// peerListBody is ../shared/peer-bench/queries/viewgate-invoices.json: 50 open invoices of
// the tenant, newest first.
const peerListBody = `{"query":"query Invoices { invoices(first: 50, where: {status: {eq: \"open\"}}, orderBy: [{field: ISSUED_AT, direction: DESC}, {field: ID, direction: DESC}]) { nodes { id number status currency amountCents issuedAt } } }","operationName":"Invoices"}`

// peerKey is ViewgateAggregate's API key (tenant bench.PeerTenant, role reporting).
const peerKey = "vgk_bench_aggregate_0123456789abcdef0123"

// peerRawSQL is the statement of the peer benchmark's rawpgx handler.
const peerRawSQL = `SELECT id, number, status, currency, amount_cents, issued_at FROM reporting.v_invoices WHERE tenant_id = $1 AND status = $2 ORDER BY issued_at DESC, id DESC LIMIT 50`

// BenchmarkPeerListPostgresCPU is BenchmarkListPostgresCPU on the peer benchmark's 1M-row view
// (../shared/peer-bench/setup-data.sh; VIEWGATE_BENCH_PEER_DSN overrides its DSN): viewgate's
// handler serving the peer list query (also with plan_cache_mode=auto instead of the sessions'
// default force_generic_plan), against rawpgx's statement on a bare pgxpool. It reports the
// CPU of that database's backends per request (pg-µs/op) and skips when the data or /proc is
// not there.
//
//	go test ./bench -run '^$' -bench PeerListPostgresCPU -benchtime 5000x -count 3
func BenchmarkPeerListPostgresCPU(b *testing.B) {
	ctx := context.Background()
	dsn := bench.DefaultPeerDSN
	if v := os.Getenv("VIEWGATE_BENCH_PEER_DSN"); v != "" {
		dsn = v
	}
	probe, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Skipf("no peer benchmark data: %v", err)
	}
	defer probe.Close(ctx)
	if _, err := dbtest.BackendCPU(ctx, probe); err != nil {
		b.Skipf("cannot read the backends' CPU: %v", err)
	}
	vg := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateAggregate(ctx, dsn, bench.DefaultConns)
	})
	// The same handler with Postgres's own plan choice (a DSN runtime parameter): it re-plans
	// viewgate's statement at every execution, because a bound LIMIT makes the generic plan
	// look costlier (it assumes 10% of the rows) than the custom one.
	auto := handler(b, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.ViewgateAggregate(ctx, dsn+sep(dsn)+"plan_cache_mode=auto", bench.DefaultConns)
	})
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	runs := []struct {
		name string
		run  func(testing.TB)
	}{
		{"rawpgx", func(tb testing.TB) {
			rows, err := pool.Query(ctx, peerRawSQL, bench.PeerTenant, "open")
			if err != nil {
				tb.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if rows.Close(); rows.Err() != nil || n != 50 {
				tb.Fatalf("rawpgx: %d rows, %v", n, rows.Err())
			}
		}},
		{"viewgate", func(tb testing.TB) { servePeer(tb, vg) }},
		{"viewgate-auto", func(tb testing.TB) { servePeer(tb, auto) }},
	}
	for _, r := range runs {
		for range 20 {
			r.run(b)
		}
	}
	for i := range 2 * len(runs) { // each twice, alternating, so drift falls on both
		r := runs[i%len(runs)]
		b.Run(r.name, func(b *testing.B) {
			before, err := dbtest.BackendCPU(ctx, probe)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				r.run(b)
			}
			after, err := dbtest.BackendCPU(ctx, probe)
			if err != nil {
				b.Fatal(err)
			}
			reportCPU(b, before, after)
		})
	}
}

// servePeer sends the peer list query to h and fails tb unless it answers without errors.
func servePeer(tb testing.TB, h http.Handler) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1/graphql", bytes.NewReader([]byte(peerListBody)))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", peerKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		tb.Fatalf("viewgate: %d %.300s", rec.Code, rec.Body)
	}
}

func sep(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&"
	}
	return "?"
}
