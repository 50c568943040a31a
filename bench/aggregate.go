package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// The aggregate benchmark runs on the 1M-row view of ../shared/peer-bench, which its
// setup-data.sh loads: one tenant's 100,000 invoices, counted and summed by status and month.
const (
	// DefaultPeerDSN is the peer benchmark's database, as its read-only role.
	DefaultPeerDSN = "postgres://vgbench:vgbench@127.0.0.1:5432/vgbench"
	// PeerTenant is the tenant the peer benchmark reads.
	PeerTenant = "3"
	// PeerIndex is the index setup-data.sh creates, (tenant_id, issued_at DESC, id DESC).
	PeerIndex = "invoices_tenant_issued_id_idx"
	// AggregateQuery is the document both handlers answer.
	AggregateQuery = `{ invoicesAggregate(groupBy: [{field: STATUS}, {field: ISSUED_AT, bucket: MONTH}], first: 500) { groups { key { status issuedAt } count sum { amountCents } } } }`
	peerKey        = "vgk_bench_aggregate_0123456789abcdef0123"
	peerSource     = "erp"
)

//go:embed peer_catalog.yaml
var peerCatalog []byte

// NewAggregateRequest returns a POST of AggregateQuery to url with the benchmark's key.
func NewAggregateRequest(ctx context.Context, url string) (*http.Request, error) {
	body, _ := json.Marshal(map[string]string{"query": AggregateQuery})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", peerKey)
	return req, nil
}

// ViewgateAggregate returns viewgate's handler, as the gateway assembles it (quotas off, logs
// formatted and discarded), on the peer database at dsn; close releases its pool.
func ViewgateAggregate(ctx context.Context, dsn string, conns int) (h http.Handler, close func(), err error) {
	cat, err := views.ParseCatalog(peerCatalog)
	if err != nil {
		return nil, nil, err
	}
	src, err := replica.Open(ctx, replica.Options{Name: peerSource, Driver: "postgres", DSN: dsn, MaxConns: conns, StatementTimeout: 30 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	cfg := &config.Config{
		Env: "bench", CursorSecret: cursorSecret, Limits: config.DefaultLimits(), QueryLog: config.DefaultQueryLog(),
		APIKeys: []config.APIKey{{ID: "bench", Tenant: PeerTenant, Roles: []string{"reporting"}, Key: peerKey}},
	}
	g, err := gateway.New(ctx, gateway.Options{Config: cfg, Catalog: cat, Log: gateway.NewLogger(io.Discard), Stderr: io.Discard,
		Sources: map[string]gateway.Source{peerSource: src}})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return g.Handler(), func() { g.Close(); src.Close() }, nil
}

// AggregateStatement returns the SQL and arguments viewgate runs for AggregateQuery, built by
// views.Builder, so that the minimal handler and EXPLAIN run exactly the same.
func AggregateStatement() (sql string, args []any, err error) {
	cat, err := views.ParseCatalog(peerCatalog)
	if err != nil {
		return "", nil, err
	}
	cur, err := views.NewCursors([]byte(cursorSecret))
	if err != nil {
		return "", nil, err
	}
	v := cat.View("invoices")
	q := &views.AggregateQuery{View: v, Tenant: PeerTenant, First: 500,
		GroupBy: []views.GroupTerm{{Column: v.Column("status")}, {Column: v.Column("issued_at"), Bucket: views.Month}},
		Groups:  []views.Measure{{Agg: views.AggCount}, {Agg: views.AggSum, Column: v.Column("amount_cents")}}}
	st, err := (&views.Builder{Dialect: views.Postgres, Cursors: cur}).Aggregate(q)
	if err != nil {
		return "", nil, fmt.Errorf("build the aggregate: %w", err)
	}
	return st.SQL, st.Args, nil
}

// aggGroup is one group of AggregateQuery's answer.
type aggGroup struct {
	Key struct {
		Status   *string `json:"status"`
		IssuedAt string  `json:"issuedAt"`
	} `json:"key"`
	Count int64 `json:"count"`
	Sum   struct {
		AmountCents *string `json:"amountCents"`
	} `json:"sum"`
}

type aggResponse struct {
	Errors []json.RawMessage `json:"errors"`
	Data   struct {
		InvoicesAggregate struct {
			Groups []aggGroup `json:"groups"`
		} `json:"invoicesAggregate"`
	} `json:"data"`
}

// minimalAggregate runs the statement on a pgxpool and writes the groups with encoding/json:
// no auth, no GraphQL, no transaction, no logs.
type minimalAggregate struct {
	pool *pgxpool.Pool
	sql  string
	args []any
}

// MinimalAggregate returns the reference handler for AggregateQuery on the Postgres database
// at dsn; its sessions run in UTC, as viewgate's do, so that months are UTC months.
func MinimalAggregate(ctx context.Context, dsn string, conns int) (h http.Handler, close func(), err error) {
	sql, args, err := AggregateStatement()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: parse DSN: %w", err)
	}
	cfg.MaxConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("minimal: ping: %w", err)
	}
	return &minimalAggregate{pool: pool, sql: sql, args: args}, pool.Close, nil
}

func (m *minimalAggregate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	var resp aggResponse
	rows, err := m.pool.Query(r.Context(), m.sql, m.args...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	groups := []aggGroup{}
	for rows.Next() {
		var g aggGroup
		var month time.Time
		if err := rows.Scan(&g.Key.Status, &month, &g.Count, &g.Sum.AmountCents); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		g.Key.IssuedAt = month.UTC().Format(time.RFC3339Nano)
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp.Data.InvoicesAggregate.Groups = groups[:min(len(groups), 500)]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&resp)
}

// SameGroups returns nil if both bodies hold the same groups, in the same order, or an error
// wrapping ErrMismatch.
func SameGroups(viewgate, minimal []byte) error {
	var a, b aggResponse
	if err := json.Unmarshal(viewgate, &a); err != nil || len(a.Errors) > 0 {
		return fmt.Errorf("viewgate: %v %.300s", err, viewgate)
	}
	if err := json.Unmarshal(minimal, &b); err != nil || len(b.Errors) > 0 {
		return fmt.Errorf("minimal: %v %.300s", err, minimal)
	}
	ga, gb := a.Data.InvoicesAggregate.Groups, b.Data.InvoicesAggregate.Groups
	if len(ga) == 0 || !reflect.DeepEqual(ga, gb) {
		return fmt.Errorf("%w: viewgate has %d groups, minimal %d, or they differ", ErrMismatch, len(ga), len(gb))
	}
	return nil
}

// ExplainAggregate returns Postgres's plan of the aggregate statement (EXPLAIN, text) and
// whether it reads through PeerIndex.
func ExplainAggregate(ctx context.Context, dsn string) (plan string, usesIndex bool, err error) {
	sql, args, err := AggregateStatement()
	if err != nil {
		return "", false, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "", false, err
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", false, err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return "", false, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", false, err
		}
		lines = append(lines, line)
	}
	plan = strings.Join(lines, "\n")
	return plan, strings.Contains(plan, PeerIndex), rows.Err()
}
