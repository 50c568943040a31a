package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// testSecret makes cursors identical across runs and engines.
const testSecret = "golden-cursor-secret-0123456789abcdef"

// Test keys: the demo keys plus a key whose roles reach only the products view.
var testKeys = map[string]string{
	"acme":   demo.KeyAcme,
	"globex": demo.KeyGlobex,
	"public": "vgk_test_public_0000000000000000000000",
	"bad":    "vgk_test_unknown_000000000000000000000",
}

// engines lists the engines every end-to-end case runs on.
var engines = []string{"sqlite", "postgres", "mariadb"}

// stack is the whole request path on one engine's demo database, plus what it logged.
type stack struct {
	h    http.Handler // the production path: documents run on the execution schema
	full http.Handler // graphql-go completes every field (what introspecting documents get)
	// interpreted runs the execution schema through graphql-go's executor, compiling nothing
	interpreted http.Handler
	qlog        *bytes.Buffer
	log         *bytes.Buffer
}

func newStack(t *testing.T, engine string) *stack {
	t.Helper()
	return newStackOn(t, openSource(t, engine, "", 10*time.Second), demo.Catalog())
}

// openSource opens the demo source on a fresh database of engine, after running setup there.
func openSource(t *testing.T, engine, setup string, timeout time.Duration) *replica.Source {
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
	o.Name, o.MaxConns, o.StatementTimeout = demo.SourceName, 4, timeout
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if setup != "" {
		admin, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx", "mariadb": "mysql"}[engine], o.DSN)
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

func newStackOn(t *testing.T, src *replica.Source, catalog []byte) *stack {
	t.Helper()
	return newStackAuth(t, src, catalog, nil)
}

// newStackAuth is newStackOn with authn in place of the test keys (nil: the test keys). Both
// handlers are the gateway's, assembled as cmd/viewgate assembles them.
func newStackAuth(t *testing.T, src *replica.Source, catalog []byte, authn server.Authenticator) *stack {
	t.Helper()
	return newStackConfig(t, src, catalog, authn, nil)
}

// newStackConfig is newStackAuth with edit applied to the gateway's options, config included,
// first (nil: none).
func newStackConfig(t *testing.T, src *replica.Source, catalog []byte, authn server.Authenticator, edit func(*gateway.Options)) *stack {
	t.Helper()
	cat, err := views.ParseCatalog(catalog)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{qlog: &bytes.Buffer{}, log: &bytes.Buffer{}}
	cfg := &config.Config{
		Env: "test", CursorSecret: testSecret, Limits: config.DefaultLimits(),
		QueryLog: config.QueryLog{SlowThreshold: time.Hour},
		APIKeys: []config.APIKey{
			{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Key: testKeys["acme"]},
			{ID: "globex", Tenant: demo.TenantGlobex, Roles: []string{"reporting"}, Key: testKeys["globex"]},
			{ID: "public", Tenant: demo.TenantAcme, Roles: []string{"public"}, Key: testKeys["public"]},
		},
	}
	cfg.Limits.DocCacheSize = 100
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: s.log}, nil))
	handler := func(full, interpreted bool) http.Handler {
		o := gateway.Options{
			Config: cfg, Catalog: cat, Log: log, Stderr: &lockedWriter{w: s.qlog},
			Sources: map[string]gateway.Source{demo.SourceName: src}, Auth: authn, FullExecution: full,
			Interpreted: interpreted,
		}
		if edit != nil {
			edit(&o)
		}
		g, err := gateway.New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Close)
		return g.Handler()
	}
	s.h, s.full, s.interpreted = handler(false, false), handler(true, false), handler(false, true)
	return s
}

// do sends one request through the stack.
func (s *stack) do(t *testing.T, method, contentType, key string, body io.Reader, url string) *httptest.ResponseRecorder {
	t.Helper()
	if url == "" {
		url = "/graphql"
	}
	req := httptest.NewRequest(method, url, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if k, ok := testKeys[key]; ok {
		req.Header.Set("X-API-Key", k)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newRequest(method, url, body string) *http.Request {
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", testKeys["acme"])
	return req
}

func serve(s *stack, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}
