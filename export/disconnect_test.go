package export_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
)

// slowCatalog is one exportable view whose rows take a second each to produce.
var slowCatalog = []byte(fmt.Sprintf(`views:
  - name: SlowProduct
    field: slowProducts
    source: %s
    relation: slow_products
    key: [id]
    default_order: [{column: id}]
    roles: [reporting]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: sku, type: text, nullable: false}
`, demo.SourceName))

// slowViews makes the slow view on each engine, and running names the query that reads it.
var slowViews = map[string]struct{ setup, running string }{
	"postgres": {
		setup:   `CREATE VIEW slow_products AS SELECT id, sku FROM v_products WHERE pg_sleep(1)::text = ''`,
		running: `SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%slow_products%' AND state = 'active' AND pid <> pg_backend_pid()`,
	},
	"mariadb": {
		setup:   `CREATE VIEW slow_products AS SELECT id, sku FROM v_products WHERE SLEEP(1) = 0`,
		running: `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%slow_products%' AND ID <> CONNECTION_ID()`,
	},
}

// TestExportDisconnectStopsQuery: a client that goes away mid-export stops the statement on
// the database (pgx cancels it; on MariaDB the export kills it from another connection), and
// while it runs the tenant's one export slot is taken (429).
func TestExportDisconnectStopsQuery(t *testing.T) {
	for _, engine := range []string{"postgres", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			sv := slowViews[engine]
			s := newStack(t, engine, sv.setup, slowCatalog, func(c *config.Config, _ *gateway.Options) {
				c.Quota = config.DefaultQuota()
			})
			admin, err := sql.Open(drivers[engine], s.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			running := func() int {
				var n int
				if err := admin.QueryRow(sv.running).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				body, _ := json.Marshal(map[string]any{"query": `{ slowProducts { nodes { id sku } } }`})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/export", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", demo.KeyAcme)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			if !eventually(20*time.Second, func() bool { return running() == 1 }) {
				t.Fatalf("the export's statement never showed up on %s", engine)
			}
			busy := s.export(t, demo.KeyAcme, `{ slowProducts { nodes { id } } }`, nil, "", nil)
			if busy.status != http.StatusTooManyRequests || busy.header.Get("Retry-After") == "" {
				t.Errorf("a second export of the tenant: %d %s, want 429 with Retry-After", busy.status, busy.body)
			}
			cancel()
			<-done
			if !eventually(15*time.Second, func() bool { return running() == 0 }) {
				t.Fatalf("the statement still runs on %s after the client went away", engine)
			}
		})
	}
}

// eventually polls cond every 50ms until it holds or within passes.
func eventually(within time.Duration, cond func() bool) bool {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
