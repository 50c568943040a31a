// Package bench compares viewgate's full request path with a minimal Go handler on the same query.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// Query is the list query both handlers answer: 50 invoices of tenant acme, 6 columns each.
const Query = `{ invoices(first: 50) { nodes { id number status amount issuedAt customerName } } }`

// Rows is the page size Query asks for.
const Rows = 50

// Path is where both handlers serve Query.
const Path = "/graphql"

// DefaultConns is the connection pool size of both handlers, the demo configuration's.
const DefaultConns = 4

// cursorSecret keys cursors and PII hashes; Query reads neither, but the wiring needs one.
const cursorSecret = "vgbench-cursor-secret-0123456789abcdef"

// listView and listColumns are what Query selects, in the catalog's column order.
const listView = "invoices"

var listColumns = []string{"id", "number", "status", "amount", "issued_at", "customer_name"}

// Body returns the JSON request body both handlers are sent.
func Body() []byte {
	b, _ := json.Marshal(map[string]string{"query": Query})
	return b
}

// NewRequest returns a POST of Body to url with the acme demo key, as a client sends it.
func NewRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(Body()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", demo.KeyAcme)
	return req, nil
}

// Viewgate returns viewgate's HTTP handler on the demo database at dsn, wired as cmd/viewgate
// wires it, with the access log and query log formatted and discarded and quotas off; driver is
// "postgres", "mysql" or "sqlite". It returns an error if the source cannot be opened; close
// releases it.
func Viewgate(ctx context.Context, driver, dsn string, conns int) (h http.Handler, close func(), err error) {
	return ViewgateConfig(ctx, driver, dsn, conns, nil)
}

// ViewgateConfig is Viewgate with edit applied to the config first (nil: none), to measure a
// setting against the default side by side.
func ViewgateConfig(ctx context.Context, driver, dsn string, conns int, edit func(*config.Config)) (h http.Handler, close func(), err error) {
	return viewgateOpen(ctx, driver, dsn, conns, edit, "")
}

// ViewgateQuota is Viewgate with quotas q (store keys under prefix; "" for the default), so that
// the cost of charging every request can be measured against quotas off on the same source.
func ViewgateQuota(ctx context.Context, driver, dsn string, conns int, q config.Quota, prefix string) (h http.Handler, close func(), err error) {
	return viewgateOpen(ctx, driver, dsn, conns, func(c *config.Config) { c.Quota = q }, prefix)
}

// HighQuota is the built-in plan with every limit at its maximum, so that a benchmark pays for
// charging every request but is never refused.
func HighQuota() config.Quota {
	q := config.DefaultQuota()
	w := config.Windows{Burst: config.Rate{Limit: 1e9, Window: time.Second}, Sustained: config.Rate{Limit: 1e9, Window: time.Hour}}
	p := config.Plan{}
	for _, c := range config.QuotaClasses {
		p[c] = config.ClassLimits{Tenant: w, Credential: w}
	}
	q.Plans[config.StandardPlan] = p
	return q
}

// TightQuota is HighQuota with burst windows of 3,200 a second: nothing a benchmark on this
// machine sends is refused, but Redis leases (a 64th of a window's limit) last only 50 requests.
func TightQuota() config.Quota {
	q := HighQuota()
	w := config.Windows{Burst: config.Rate{Limit: 3200, Window: time.Second}, Sustained: config.Rate{Limit: 1e9, Window: time.Hour}}
	for c := range q.Plans[config.StandardPlan] {
		q.Plans[config.StandardPlan][c] = config.ClassLimits{Tenant: w, Credential: w}
	}
	return q
}

func viewgateOpen(ctx context.Context, driver, dsn string, conns int, edit func(*config.Config), prefix string) (http.Handler, func(), error) {
	src, err := replica.Open(ctx, replica.Options{Name: demo.SourceName, Driver: driver, DSN: dsn, MaxConns: conns, StatementTimeout: 5 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	h, closeGW, err := viewgateWith(src, nil, edit, prefix)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return h, func() { closeGW(); src.Close() }, nil
}

// runner is what viewgate's handler reads from: a replica.Source or a replica.Router.
type runner = gateway.Source

func viewgateOn(src runner) (http.Handler, error) {
	h, _, err := viewgateWith(src, nil, nil, "")
	return h, err
}

// viewgateWith is viewgateOn with authn in place of the demo keys (nil: the demo keys), edit
// applied to the config (nil: none) and the quota store's keys under prefix. The handler is the
// gateway's, assembled as cmd/viewgate assembles it, with the access log and the query log
// formatted and discarded; quotas are off unless edit turns them on.
func viewgateWith(src runner, authn server.Authenticator, edit func(*config.Config), prefix string) (http.Handler, func(), error) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		return nil, nil, err
	}
	cfg := &config.Config{
		Env: "bench", CursorSecret: cursorSecret, Limits: config.DefaultLimits(), QueryLog: config.DefaultQueryLog(),
		APIKeys: []config.APIKey{
			{ID: "demo-acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Key: demo.KeyAcme},
			{ID: "demo-globex", Tenant: demo.TenantGlobex, Roles: []string{"reporting"}, Key: demo.KeyGlobex},
		},
	}
	if edit != nil {
		edit(cfg)
	}
	g, err := gateway.New(context.Background(), gateway.Options{
		Config: cfg, Catalog: cat, Log: gateway.NewLogger(io.Discard), Stderr: io.Discard,
		Sources: map[string]gateway.Source{demo.SourceName: src}, Auth: authn, QuotaKeyPrefix: prefix,
	})
	if err != nil {
		return nil, nil, err
	}
	return g.Handler(), g.Close, nil
}

// Statement returns the SQL text and arguments viewgate runs for Query on dialect ("postgres",
// "mysql" or "sqlite"), built by views.Builder, so the minimal handler runs exactly the same.
func Statement(dialect string) (sql string, args []any, err error) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		return "", nil, err
	}
	d, err := views.DialectFor(dialect)
	if err != nil {
		return "", nil, err
	}
	cur, err := views.NewCursors([]byte(cursorSecret))
	if err != nil {
		return "", nil, err
	}
	v := cat.View(listView)
	q := &views.Query{View: v, First: Rows, Tenant: demo.TenantAcme}
	for _, name := range listColumns {
		q.Fields = append(q.Fields, v.Column(name))
	}
	st, err := (&views.Builder{Dialect: d, Cursors: cur}).Select(q)
	if err != nil {
		return "", nil, fmt.Errorf("build %s statement: %w", listView, err)
	}
	return st.SQL, st.Args, nil
}
