package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// flags are the command-line options shared by the commands.
type flags struct {
	config, env, listen, metrics string
}

// parseFlags parses serve's flags.
func parseFlags(args []string, stdout io.Writer) (*flags, error) {
	fs := newFlags("serve", "viewgate serve [-config file] [-env name] [-listen addr] [-metrics-listen addr]\n\nserves GraphQL on the config's sources; with no config, on the built-in demo database.")
	f := &flags{}
	fs.StringVar(&f.config, "config", "", "config file (default $VIEWGATE_CONFIG; none: the built-in demo)")
	fs.StringVar(&f.env, "env", "", "environment to run (default $VIEWGATE_ENV, then the config's default_env)")
	fs.StringVar(&f.listen, "listen", "", "address to listen on (overrides the config; demo default 127.0.0.1:8080)")
	fs.StringVar(&f.metrics, "metrics-listen", "", "address of the Prometheus /metrics listener (overrides metrics_listen; demo default "+demoMetricsListen+")")
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
	gw      *gateway.Gateway
	closers []func()
	demo    bool
}

func (a *app) close() {
	if a.gw != nil {
		a.gw.Close()
	}
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
		err = a.demoConfig(ctx, getenv)
	} else {
		err = a.loadConfig(path, f.env, getenv)
	}
	if err == nil {
		if f.listen != "" {
			a.cfg.Listen = f.listen
		}
		if f.metrics != "" {
			a.cfg.MetricsListen = f.metrics
		}
		a.gw, err = gateway.New(ctx, gateway.Options{Config: a.cfg, Catalog: a.catalog, Log: gateway.NewLogger(stderr), Stderr: stderr, GraphiQL: graphiqlOptions(a)})
	}
	if err != nil {
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
func (a *app) demoConfig(ctx context.Context, getenv func(string) string) error {
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
		Sources: map[string]config.Source{demo.SourceName: {Name: demo.SourceName, Driver: "sqlite", DSN: db, MaxConns: 4, StatementTimeout: 5 * time.Second, TenantMaxConcurrency: 2}},
		APIKeys: []config.APIKey{
			{ID: "demo-acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Key: demo.KeyAcme},
			{ID: "demo-globex", Tenant: demo.TenantGlobex, Roles: []string{"reporting"}, Key: demo.KeyGlobex},
			{ID: "demo-public", Roles: []string{"public"}, Key: demo.KeyPublic}, // no tenant: products only
		},
		Limits:   config.DefaultLimits(),
		QueryLog: config.DefaultQueryLog(),
		// The demo serves metrics; when the port is taken (several demos) it runs without them.
		MetricsListen: demoMetricsListen,
		Quota:         config.DemoQuota(),
	}
	// The demo honours a shared quota store too: VIEWGATE_QUOTA_REDIS_URL.
	return a.cfg.Quota.ApplyEnv(getenv)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	log := gateway.NewLogger(stderr)
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
	if q := a.gw.Quota(); q != nil {
		tenant := ""
		if a.demo {
			tenant = demo.TenantAcme
		}
		fmt.Fprintf(stdout, "quotas per tenant and per credential (cost units per window):\n")
		for _, line := range q.Describe(tenant) {
			fmt.Fprintf(stdout, "  %s\n", line)
		}
	}
	stopMetrics, err := a.serveMetrics(ctx, log, stdout)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	go reopenOnHangup(ctx, a.gw, log)
	log.Info("serving", "env", a.cfg.Env, "views", len(a.catalog.Views))
	return server.Serve(ctx, ln, a.gw.Handler(), log, 10*time.Second)
}

// demoMetricsListen is where the demo serves /metrics.
const demoMetricsListen = "127.0.0.1:9464"

// serveMetrics serves /metrics on metrics_listen until ctx ends; stop waits for it. The demo
// logs a taken port and goes on without metrics; a configured server fails instead.
func (a *app) serveMetrics(ctx context.Context, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	h := a.gw.MetricsHandler()
	if h == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsListen)
	if err != nil {
		if a.demo {
			log.Warn("metrics not served: the demo's metrics port is taken", "addr", a.cfg.MetricsListen, "error", err.Error())
			return func() {}, nil
		}
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := server.Serve(ctx, ln, mux, log, time.Second); err != nil {
			log.Error("metrics listener failed", "error", err.Error())
		}
	}()
	return func() { <-done }, nil
}

// reopenOnHangup reopens the query log and the slow log on every hangup signal main passes on
// (SIGHUP, as logrotate's postrotate sends), until ctx ends.
func reopenOnHangup(ctx context.Context, gw *gateway.Gateway, log *slog.Logger) {
	hup := hangups(ctx)
	if hup == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := gw.Reopen(); err != nil {
				log.Error("reopening the log files failed; the old files stay in use", "error", err.Error())
				continue
			}
			log.Info("log files reopened")
		}
	}
}
