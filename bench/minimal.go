package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// invoice is one node of Query's answer, its fields in the order Query selects them.
type invoice struct {
	ID           int64     `json:"id,string"`
	Number       string    `json:"number"`
	Status       string    `json:"status"`
	Amount       string    `json:"amount"`
	IssuedAt     time.Time `json:"issuedAt"`
	CustomerName string    `json:"customerName"`
}

// listResponse is the GraphQL response shape {"data":{"invoices":{"nodes":[...]}}}.
type listResponse struct {
	Data struct {
		Invoices struct {
			Nodes []invoice `json:"nodes"`
		} `json:"invoices"`
	} `json:"data"`
}

// minimal is the bare-minimum reference: one pgxpool query, a scan, encoding/json. No auth,
// no GraphQL, no transaction, no logs.
type minimal struct {
	pool *pgxpool.Pool
	sql  string
	args []any
}

// Minimal returns the reference handler on the Postgres database at dsn, running the statement
// viewgate builds for Query with a pool of conns connections; it returns an error if the
// database cannot be reached. close releases the pool.
func Minimal(ctx context.Context, dsn string, conns int) (h http.Handler, close func(), err error) {
	sql, args, err := Statement("postgres")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: parse DSN: %w", err)
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("minimal: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("minimal: ping: %w", err)
	}
	return &minimal{pool: pool, sql: sql, args: args}, pool.Close, nil
}

func (m *minimal) ServeHTTP(w http.ResponseWriter, r *http.Request) { serveList(w, r, m.list) }

// list reads the page.
func (m *minimal) list(ctx context.Context) ([]invoice, error) {
	rows, err := m.pool.Query(ctx, m.sql, m.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanPage(rows)
}

// serveList answers a request with the page list reads, as encoding/json writes it.
func serveList(w http.ResponseWriter, r *http.Request, list func(context.Context) ([]invoice, error)) {
	_, _ = io.Copy(io.Discard, r.Body)
	var resp listResponse
	nodes, err := list(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp.Data.Invoices.Nodes = nodes
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&resp)
}

// pageRows is what pgx.Rows and *sql.Rows have in common.
type pageRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanPage reads the page; like viewgate the statement asks for one row more than it returns.
func scanPage(rows pageRows) ([]invoice, error) {
	nodes := make([]invoice, 0, Rows+1)
	for rows.Next() {
		var n invoice
		if err := rows.Scan(&n.ID, &n.Number, &n.Status, &n.Amount, &n.IssuedAt, &n.CustomerName); err != nil {
			return nil, err
		}
		n.IssuedAt = n.IssuedAt.UTC()
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return nodes[:min(len(nodes), Rows)], nil
}
