package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/resolvers"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// flags are the command-line options shared by the commands.
type flags struct {
	config, env, listen string
}

// parseFlags parses serve's flags.
func parseFlags(args []string, stdout io.Writer) (*flags, error) {
	fs := newFlags("serve", "viewgate serve [-config file] [-env name] [-listen addr]\n\nserves GraphQL on the config's sources; with no config, on the built-in demo database.")
	f := &flags{}
	fs.StringVar(&f.config, "config", "", "config file (default $VIEWGATE_CONFIG; none: the built-in demo)")
	fs.StringVar(&f.env, "env", "", "environment to run (default $VIEWGATE_ENV, then the config's default_env)")
	fs.StringVar(&f.listen, "listen", "", "address to listen on (overrides the config; demo default 127.0.0.1:8080)")
	if err := parse(fs, args, stdout); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return f, nil
}

// app is everything a running server is made of.
type app struct {
	cfg     *config.Config
	catalog *views.Catalog
	sources map[string]*replica.Router
	schema  graphql.Schema // validation and introspection
	exec    graphql.Schema // runs everything else (schema.NewExec)
	keys    *auth.Keys
	authn   *auth.Chain // API keys (file and static), bearer JWTs, anonymous
	qlog    *querylog.Logger
	closers []func()
	demo    bool
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// build wires the server from a config file, or from the built-in demo when there is none.
func build(ctx context.Context, f *flags, getenv func(string) string, stderr io.Writer) (*app, error) {
	a := &app{}
	path := f.config
	if path == "" {
		path = getenv("VIEWGATE_CONFIG")
	}
	var err error
	if path == "" {
		err = a.demoConfig(ctx)
	} else {
		err = a.loadConfig(path, f.env, getenv)
	}
	if err != nil {
		a.close()
		return nil, err
	}
	if f.listen != "" {
		a.cfg.Listen = f.listen
	}
	if err := a.wire(ctx, stderr); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) loadConfig(path, env string, getenv func(string) string) error {
	cfg, err := config.Load(path, env, getenv)
	if err != nil {
		return err
	}
	cat, err := views.LoadCatalog(cfg.Catalog)
	if err != nil {
		return err
	}
	a.cfg, a.catalog = cfg, cat
	return nil
}

// demoConfig generates the demo SQLite database in a fresh temporary directory.
func (a *app) demoConfig(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "viewgate-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	a.closers = append(a.closers, func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "demo.db")
	if err := demo.CreateSQLite(ctx, db); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	a.demo, a.catalog = true, cat
	a.cfg = &config.Config{
		Env: "demo", Listen: "127.0.0.1:8080", CursorSecret: string(secret),
		Sources: map[string]config.Source{demo.SourceName: {Name: demo.SourceName, Driver: "sqlite", DSN: db, MaxConns: 4, StatementTimeout: 5 * time.Second}},
		APIKeys: []config.APIKey{
			{ID: "demo-acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Key: demo.KeyAcme},
			{ID: "demo-globex", Tenant: demo.TenantGlobex, Roles: []string{"reporting"}, Key: demo.KeyGlobex},
			{ID: "demo-public", Roles: []string{"public"}, Key: demo.KeyPublic}, // no tenant: products only
		},
		Limits:   config.DefaultLimits(),
		QueryLog: config.QueryLog{SlowThreshold: 500 * time.Millisecond},
	}
	return nil
}

// wire opens the sources and builds the schema; every catalog source must be configured.
func (a *app) wire(ctx context.Context, stderr io.Writer) error {
	cur, err := views.NewCursors([]byte(a.cfg.CursorSecret))
	if err != nil {
		return err
	}
	a.sources = map[string]*replica.Router{}
	rlog := newLogger(stderr)
	srcs := map[string]resolvers.Source{}
	for _, v := range a.catalog.Views {
		if _, done := srcs[v.Source]; done {
			continue
		}
		sc, ok := a.cfg.Sources[v.Source]
		if !ok {
			return fmt.Errorf("catalog view %s reads source %q, which environment %q does not configure", v.Name, v.Source, a.cfg.Env)
		}
		src, err := openSource(ctx, sc, rlog)
		if err != nil {
			return err // replica.OpenRouter names the source
		}
		a.closers = append(a.closers, src.Close)
		a.sources[v.Source] = src
		d, err := views.DialectFor(src.Dialect())
		if err != nil {
			return err
		}
		srcs[v.Source] = resolvers.Source{Runner: src, Builder: &views.Builder{Dialect: d, Cursors: cur}}
	}
	if a.qlog, err = a.queryLog(stderr); err != nil {
		return err
	}
	res := resolvers.New(resolvers.Options{
		Sources: srcs, Log: a.qlog, DefaultPageSize: a.cfg.Limits.DefaultPageSize,
		PIIKey: piiKey(a.cfg.CursorSecret), ErrorCode: server.ErrorCode,
	})
	if a.schema, err = schema.New(a.catalog, res); err != nil {
		return err
	}
	if a.exec, err = schema.NewExec(a.catalog, res); err != nil {
		return err
	}
	return a.wireAuth(ctx, stderr)
}

func (a *app) queryLog(stderr io.Writer) (*querylog.Logger, error) {
	var w io.Writer = stderr
	if p := a.cfg.QueryLog.Path; p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, fmt.Errorf("query log: %w", err)
		}
		a.closers = append(a.closers, func() { f.Close() })
		w = f
	}
	var slow io.Writer
	if p := a.cfg.QueryLog.SlowLogPath; p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, fmt.Errorf("slow log: %w", err)
		}
		a.closers = append(a.closers, func() { f.Close() })
		slow = f
	}
	return querylog.New(w, a.cfg.QueryLog.SlowThreshold, slow), nil
}

// handler assembles the routes and middleware.
func (a *app) handler(log *slog.Logger) http.Handler {
	lim := a.cfg.Limits
	mux := http.NewServeMux()
	mux.Handle("/graphql", server.GraphQL(server.GraphQLOptions{
		Schema: a.schema, Exec: &a.exec, Auth: a.authn, Log: log,
		Limits:       server.Limits{MaxDepth: lim.MaxDepth, MaxFields: lim.MaxFields},
		DocCacheSize: lim.DocCacheSize, Timeout: lim.RequestTimeout,
	}))
	mux.Handle("/admin/", a.admin(log))
	mux.Handle("/healthz", server.Health())
	mux.Handle("/readyz", server.Ready(readiness(a.sources)))
	mux.Handle("/", server.GraphiQL("/graphql", graphiqlOptions(a)))
	return server.Chain(mux, server.RequestID, server.AccessLog(log, time.Now), server.Recover(log), server.BodyLimit(lim.MaxBodyBytes))
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(requestid.Handler{Handler: slog.NewJSONHandler(w, nil)})
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	log := newLogger(stderr)
	a, err := build(ctx, f, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if err := auditSources(ctx, a.cfg, a.catalog, log); err != nil {
		return fmt.Errorf("privilege audit: %w", err)
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "viewgate listening on %s (environment %s)\n", url, a.cfg.Env)
	if a.demo {
		fmt.Fprintf(stdout, "demo database with tenants acme and globex; try GraphiQL at %s with a header X-API-Key:\n  acme   (reporting, analyst, pii): %s\n  globex (reporting):               %s\n  no tenant (public, products only): %s\n", url, demo.KeyAcme, demo.KeyGlobex, demo.KeyPublic)
	}
	log.Info("listening", "addr", ln.Addr().String(), "env", a.cfg.Env, "views", len(a.catalog.Views))
	return server.Serve(ctx, ln, a.handler(log), log, 10*time.Second)
}

// piiKey derives the key of pii: hash columns from the cursor secret, so that the two uses of
// the secret are separate: a PII hash says nothing about a cursor's MAC, and the reverse.
func piiKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("viewgate pii hash v1"))
	return m.Sum(nil)
}
