package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// BenchmarkExport streams tenant 3's 100,000 invoices of the peer benchmark's database
// ($VIEWGATE_EXPORT_BENCH_PG, e.g. postgres://vgbench:vgbench@127.0.0.1:5432/vgbench; skipped
// without it) through the whole handler, for profiles; cmd/vgexportbench compares with psql.
func BenchmarkExport(b *testing.B) {
	dsn := os.Getenv("VIEWGATE_EXPORT_BENCH_PG")
	if dsn == "" {
		b.Skip("set VIEWGATE_EXPORT_BENCH_PG to the peer benchmark's database")
	}
	cat, err := views.ParseCatalog([]byte(`views:
  - name: Invoice
    field: invoices
    source: erp
    relation: reporting.v_invoices
    tenant_column: tenant_id
    key: [id]
    default_order: [{column: issued_at, desc: true}]
    roles: [reporting]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: number, type: text, nullable: false}
      - {name: status, type: text, nullable: false}
      - {name: currency, type: text, nullable: false}
      - {name: amount_cents, type: bigint, nullable: false}
      - {name: issued_at, type: timestamp, nullable: false, sort: true}
`))
	if err != nil {
		b.Fatal(err)
	}
	src, err := replica.Open(context.Background(), replica.Options{Name: "erp", Driver: "postgres", DSN: dsn, MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	cfg := &config.Config{Env: "bench", CursorSecret: testSecret, Limits: config.DefaultLimits(),
		APIKeys: []config.APIKey{{ID: "bench", Tenant: "3", Roles: []string{"reporting"}, Key: "vgk_exportbench_0123456789abcdef0123"}}}
	g, err := gateway.New(context.Background(), gateway.Options{Config: cfg, Catalog: cat, Log: slog.New(slog.DiscardHandler),
		Stderr: io.Discard, Sources: map[string]gateway.Source{"erp": src}})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	for _, format := range []string{"csv", "ndjson", "csv+gzip"} {
		b.Run(format, func(b *testing.B) {
			body, _ := json.Marshal(map[string]any{"query": "{ invoices { nodes { id number status currency amountCents issuedAt } } }"})
			f, gz := format, false
			if format == "csv+gzip" {
				f, gz = "csv", true
			}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/export?format="+f, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", "vgk_exportbench_0123456789abcdef0123")
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				t0 := time.Now()
				resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				b.ReportMetric(100_000/time.Since(t0).Seconds(), "rows/s")
				b.SetBytes(n)
			}
		})
	}
}
