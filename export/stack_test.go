package export_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

const testSecret = "export-test-cursor-secret-0123456789abcdef"

var engines = []string{"sqlite", "postgres", "mariadb"}

// stack is the gateway on one engine's demo database behind a real HTTP server.
type stack struct {
	url  string
	qlog *lockedBuffer
	log  *lockedBuffer
	dsn  string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newStack serves the demo catalog (catalog: nil) or another on engine's fresh demo database,
// after running setup there; edit changes the config first.
func newStack(t *testing.T, engine, setup string, catalog []byte, edit func(*config.Config, *gateway.Options)) *stack {
	t.Helper()
	if catalog == nil {
		catalog = demo.Catalog()
	}
	cat, err := views.ParseCatalog(catalog)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{qlog: &lockedBuffer{}, log: &lockedBuffer{}}
	src := s.open(t, engine, setup)
	cfg := &config.Config{
		Env: "test", CursorSecret: testSecret, Limits: config.DefaultLimits(),
		QueryLog: config.QueryLog{SlowThreshold: time.Hour},
		APIKeys: []config.APIKey{
			{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Key: demo.KeyAcme},
			{ID: "globex", Tenant: demo.TenantGlobex, Roles: []string{"reporting"}, Key: demo.KeyGlobex},
			{ID: "public", Tenant: demo.TenantAcme, Roles: []string{"public"}, Key: keyPublic},
		},
	}
	o := gateway.Options{Config: cfg, Catalog: cat, Log: slog.New(slog.NewJSONHandler(s.log, nil)), Stderr: s.qlog,
		Sources: map[string]gateway.Source{demo.SourceName: src}}
	if edit != nil {
		edit(cfg, &o)
	}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

const keyPublic = "vgk_test_public_0000000000000000000000"

var drivers = map[string]string{"sqlite": "sqlite", "postgres": "pgx", "mariadb": "mysql"}

func (s *stack) open(t *testing.T, engine, setup string) *replica.Source {
	t.Helper()
	var o replica.Options
	switch engine {
	case "sqlite":
		o = replica.Options{Driver: "sqlite", DSN: dbtest.SQLite(t)}
	case "postgres":
		o = replica.Options{Driver: "postgres", DSN: dbtest.Postgres(t)}
	case "mariadb":
		o = replica.Options{Driver: "mysql", DSN: dbtest.MariaDB(t)}
	}
	s.dsn = o.DSN
	o.Name, o.MaxConns, o.StatementTimeout = demo.SourceName, 4, 10*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if setup != "" {
		admin, err := sql.Open(drivers[engine], o.DSN)
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.ExecContext(ctx, setup)
		admin.Close()
		if err != nil {
			t.Fatalf("setup on %s: %v", engine, err)
		}
	}
	src, err := replica.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// answer is one HTTP answer, read whole.
type answer struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
	err     error // reading the body
}

// export posts an export request; params are added to the URL.
func (s *stack) export(t *testing.T, key, query string, vars map[string]any, params string, hdr map[string]string) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	u := s.url + "/export"
	if params != "" {
		u += "?" + params
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// get sends a GET export.
func (s *stack) get(t *testing.T, key, query, params string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+"/export?query="+url.QueryEscape(query)+"&"+params, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", key)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, trailer: resp.Trailer, body: b, err: err}
}

// pages walks a connection through /graphql in pages of 500 and returns each node's JSON, as
// the response holds it.
func (s *stack) pages(t *testing.T, key, field, args, selection string, vars map[string]any) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	after := ""
	for range 100 {
		sep := ""
		if args != "" {
			sep = ", "
		}
		w := ""
		if strings.Contains(args, "$w") {
			w = ", $w: " + whereType(field)
		}
		q := "query($after: String" + w + ") { c: " + field + "(first: 500, after: $after" + sep + args + ") { nodes { " + selection + " } pageInfo { hasNextPage endCursor } } }"
		v := map[string]any{"after": nil}
		for k, x := range vars {
			v[k] = x
		}
		if after != "" {
			v["after"] = after
		}
		body, _ := json.Marshal(map[string]any{"query": q, "variables": v})
		req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		a := do(t, req)
		var r struct {
			Data struct {
				C struct {
					Nodes    []json.RawMessage
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			Errors []any
		}
		if err := json.Unmarshal(a.body, &r); err != nil || len(r.Errors) > 0 {
			t.Fatalf("graphql page: %d %s", a.status, a.body)
		}
		out = append(out, r.Data.C.Nodes...)
		if !r.Data.C.PageInfo.HasNextPage {
			return out
		}
		after = r.Data.C.PageInfo.EndCursor
	}
	t.Fatal("more than 100 pages")
	return nil
}

func whereType(field string) string {
	return strings.ToUpper(field[:1]) + strings.TrimSuffix(field[1:], "s") + "Where"
}
