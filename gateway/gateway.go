// Package gateway assembles viewgate's request path once, from a config and a catalog: sources,
// cursors, the query log, resolvers, schemas, authentication, plans and quotas, and the HTTP
// handlers. The server command, the benchmarks and the end-to-end tests all use it.
package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/export"
	"github.com/viewgate/viewgate/metrics"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/requestid"
	"github.com/viewgate/viewgate/resolvers"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// Source is a database the gateway reads views from: a replica.Router, or a single
// replica.Source in tests and benchmarks.
type Source interface {
	resolvers.Runner
	Dialect() string
}

// Options are what New assembles the gateway from.
type Options struct {
	Config  *config.Config // validated, secrets resolved
	Catalog *views.Catalog
	Log     *slog.Logger // service and access log; nil: JSON on Stderr
	Stderr  io.Writer    // where the query log goes when Config.QueryLog.Path is "" (nil: os.Stderr)

	// Sources replaces opening the config's sources, by catalog source name; the gateway does
	// not close them. Tests and benchmarks pass a source they opened themselves.
	Sources map[string]Source
	// Auth replaces the authenticators the config describes (tests).
	Auth server.Authenticator
	// FullExecution runs every document on the full schema, where graphql-go completes each
	// field, instead of the execution schema; tests compare the two paths.
	FullExecution bool
	// Interpreted runs every document on the execution schema through graphql-go's executor,
	// without compiling any (server.GraphQLOptions.Interpreted); tests compare the paths.
	Interpreted bool
	// QuotaKeyPrefix prefixes the quota store's keys (default "vg:q"); tests sharing one Redis
	// set their own.
	QuotaKeyPrefix string
	// GraphiQL configures the page at "/" (the demo offers its keys there).
	GraphiQL server.GraphiQLOptions
	Now      func() time.Time
}

// Gateway is an assembled request path.
type Gateway struct {
	o       Options
	cfg     *config.Config
	cat     *views.Catalog
	log     *slog.Logger
	routers map[string]router // the sources the gateway opened, for /readyz
	schema  graphql.Schema    // validation and introspection
	exec    graphql.Schema    // runs everything else (schema.NewExec)
	authn   server.Authenticator
	store   *auth.KeyStore // nil without a keys file
	qlog    *querylog.Logger
	reader  *reader.Reader   // reads views for GraphQL and exports
	files   []*querylog.File // the query log's files, reopened on SIGHUP
	metrics *metrics.Metrics // nil unless metrics_listen is set
	quota   *quota.Limiter   // nil when quotas are off
	handler http.Handler
	closers []func()
}

// New assembles the gateway; it fails if a catalog view names a source the config does not
// have, a source cannot be opened, or the schema cannot be built. Close releases what it opened.
func New(ctx context.Context, o Options) (g *Gateway, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Log == nil {
		o.Log = NewLogger(o.Stderr)
	}
	g = &Gateway{o: o, cfg: o.Config, cat: o.Catalog, log: o.Log, routers: map[string]router{}}
	opened := g // the named result is nil on the error paths
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	if g.cfg.MetricsListen != "" {
		g.metrics = metrics.New(metrics.Options{Tenants: g.cfg.MetricsTenants, Formats: exportFormats})
	}
	srcs, err := g.sources(ctx)
	if err != nil {
		return nil, err
	}
	if g.qlog, err = g.queryLog(); err != nil {
		return nil, err
	}
	if err := g.quotas(); err != nil {
		return nil, err
	}
	g.registerCollectors()
	g.reader = reader.New(reader.Options{
		Sources: srcs, Log: g.qlog, DefaultPageSize: g.cfg.Limits.DefaultPageSize,
		PIIKey: PIIKey(g.cfg.CursorSecret), ErrorCode: server.ErrorCode, Now: o.Now,
	})
	ro := resolvers.Options{
		Sources: srcs, Log: g.qlog, DefaultPageSize: g.cfg.Limits.DefaultPageSize,
		PIIKey: PIIKey(g.cfg.CursorSecret), ErrorCode: server.ErrorCode, Now: o.Now,
		Reader: g.reader,
	}
	if g.quota != nil {
		ro.Quota = g.quota
	}
	res := resolvers.New(ro)
	if g.schema, err = schema.New(g.cat, res); err != nil {
		return nil, err
	}
	if g.exec, err = schema.NewExec(g.cat, res); err != nil {
		return nil, err
	}
	if err := g.wireAuth(ctx); err != nil {
		return nil, err
	}
	g.handler = g.routes()
	return g, nil
}

// sources opens every source the catalog reads (or takes it from Options.Sources) and pairs
// it with its SQL builder.
func (g *Gateway) sources(ctx context.Context) (map[string]resolvers.Source, error) {
	cur, err := views.NewCursors([]byte(g.cfg.CursorSecret))
	if err != nil {
		return nil, err
	}
	out := map[string]resolvers.Source{}
	for _, v := range g.cat.Views {
		if _, done := out[v.Source]; done {
			continue
		}
		src, err := g.source(ctx, v)
		if err != nil {
			return nil, err
		}
		d, err := views.DialectFor(src.Dialect())
		if err != nil {
			return nil, err
		}
		rs := resolvers.Source{Runner: src, Builder: &views.Builder{Dialect: d, Cursors: cur},
			Label: g.cfg.QueryLog.Label(src.Dialect())}
		if b, ok := src.(bounded); ok {
			rs.Bound = b.Bound()
		}
		out[v.Source] = rs
	}
	return out, nil
}

func (g *Gateway) source(ctx context.Context, v *views.View) (Source, error) {
	if src, ok := g.o.Sources[v.Source]; ok {
		return src, nil
	}
	sc, ok := g.cfg.Sources[v.Source]
	if !ok {
		return nil, fmt.Errorf("catalog view %s reads source %q, which environment %q does not configure", v.Name, v.Source, g.cfg.Env)
	}
	r, err := OpenSource(ctx, sc, g.log)
	if err != nil {
		return nil, err // replica.OpenRouter names the source
	}
	g.closers = append(g.closers, r.Close)
	g.routers[v.Source] = r
	return r, nil
}

// quotas starts the quota limiter the config describes; with quotas off there is none, and
// requests are neither charged nor given RateLimit headers.
func (g *Gateway) quotas() error {
	if !g.cfg.Quota.Enabled {
		return nil
	}
	l, err := quota.New(g.cfg.Quota, quota.Options{Now: g.o.Now, Log: g.log, KeyPrefix: g.o.QuotaKeyPrefix})
	if err != nil {
		return fmt.Errorf("quota: %w", err)
	}
	g.quota = l
	g.closers = append(g.closers, func() { _ = l.Close() })
	return nil
}

// weights are the planner's cost weights per class, from the quota config (1 each without it).
func (g *Gateway) weights() map[plan.Class]int {
	if g.quota == nil {
		return nil
	}
	w := map[plan.Class]int{}
	for _, c := range plan.Classes {
		w[c] = int(g.quota.Weight(quota.Class(c)))
	}
	return w
}

// classOf classes the aggregate root fields as report; the planner classes the others.
func (g *Gateway) classOf(field string) (plan.Class, bool) {
	if g.cat.AggregateView(field) != nil {
		return plan.Report, true
	}
	return "", false
}

// scanUnits is the planned cost units of an aggregate root field: its view's scan_cost, since
// the rows it will read are unknown before it runs (see the README's "Cost and classes").
func (g *Gateway) scanUnits(field string) int {
	if v := g.cat.AggregateView(field); v != nil {
		return v.Aggregate.ScanCost
	}
	return 0
}

// Quota returns the quota limiter, or nil when quotas are off.
func (g *Gateway) Quota() *quota.Limiter { return g.quota }

// queryLog opens the query log and the slow log the config names, and starts the plan capture
// of slow statements; Close waits for the plans being captured.
func (g *Gateway) queryLog() (*querylog.Logger, error) {
	ql := g.cfg.QueryLog
	for view := range ql.SlowByView {
		if g.cat.View(view) == nil {
			return nil, fmt.Errorf("query_log.slow_threshold_by_view.%s: no catalog view has this root field", view)
		}
	}
	o := querylog.Options{
		JSON: g.o.Stderr, Threshold: ql.SlowThreshold, ByClass: ql.SlowByClass, ByView: ql.SlowByView,
		Plans: querylog.PlanOptions{Interval: ql.Plans.Interval, PerMinute: ql.Plans.PerMinute, Timeout: ql.Plans.Timeout},
		Log:   g.log, Now: g.o.Now,
	}
	if g.metrics != nil {
		o.Observer = g.metrics
	}
	if ql.Path != "" {
		f, err := g.open(ql.Path)
		if err != nil {
			return nil, fmt.Errorf("query log: %w", err)
		}
		o.JSON = f
	}
	if ql.SlowLogPath != "" {
		f, err := g.open(ql.SlowLogPath)
		if err != nil {
			return nil, fmt.Errorf("slow log: %w", err)
		}
		o.Slow = f
	}
	l := querylog.New(o)
	g.closers = append(g.closers, l.Close)
	return l, nil
}

func (g *Gateway) open(path string) (*querylog.File, error) {
	f, err := querylog.OpenFile(path)
	if err != nil {
		return nil, err
	}
	g.files = append(g.files, f)
	g.closers = append(g.closers, func() { f.Close() })
	return f, nil
}

// Reopen reopens the query log and the slow log at their paths (after logrotate moved them);
// a file that cannot be reopened keeps the old one in use, and the errors are returned.
func (g *Gateway) Reopen() error {
	var errs []error
	for _, f := range g.files {
		if err := f.Reopen(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// exportFormats are the export formats whose metric series exist from the start.
var exportFormats = []string{"csv", "ndjson"}

// registerCollectors adds the replicas' and the quota limiter's state to the metrics.
func (g *Gateway) registerCollectors() {
	if g.metrics == nil {
		return
	}
	var reps metrics.Replicas
	for _, name := range readiness(g.routers).names() {
		reps = append(reps, g.routers[name])
	}
	g.metrics.Register(reps)
	if g.quota != nil {
		g.metrics.Register(metrics.Quota{Limiter: g.quota})
	}
}

// MetricsHandler returns the Prometheus /metrics handler, or nil when metrics_listen is not set.
func (g *Gateway) MetricsHandler() http.Handler {
	if g.metrics == nil {
		return nil
	}
	return g.metrics.Handler()
}

// observer is the metrics as the server takes them: a nil interface when metrics are off.
func (g *Gateway) observer() server.Observer {
	if g.metrics == nil {
		return nil
	}
	return g.metrics
}

// routes assembles the routes and the middleware.
func (g *Gateway) routes() http.Handler {
	lim := g.cfg.Limits
	exec := &g.exec
	if g.o.FullExecution {
		exec = nil
	}
	mux := http.NewServeMux()
	gql := server.GraphQLOptions{
		Schema: g.schema, Exec: exec, Interpreted: g.o.Interpreted, Auth: g.authn, Log: g.log, Timeout: lim.RequestTimeout, Now: g.o.Now,
		Plan: plan.Options{Catalog: g.cat, DefaultPageSize: lim.DefaultPageSize, Weights: g.weights(),
			ClassOf: g.classOf, ScanUnits: g.scanUnits},
		Budget: plan.Budget{MaxCost: lim.MaxCost, MaxRootFields: lim.MaxRootFields, MaxRows: lim.MaxRows},
		Context: func(ctx context.Context) context.Context {
			return resolvers.WithDBTime(ctx, lim.RequestDBTime)
		},
		Quota: g.serverQuota(), Observer: g.observer(),
		Limits: server.Limits{
			MaxDepth: lim.MaxDepth, MaxFields: lim.MaxFields,
			DocCacheSize: lim.DocCacheSize, DocCacheBytes: lim.DocCacheBytes,
			MaxInFlight: lim.MaxInFlight, MaxInFlightPerPrincipal: lim.MaxInFlightPerPrincipal,
			MaxResponseBytes: lim.MaxResponseBytes, WriteTimeout: lim.WriteTimeout,
		},
	}
	mux.Handle("/graphql", server.GraphQL(gql))
	mux.Handle("/export", g.export(gql))
	mux.Handle("/admin/", g.admin())
	mux.Handle("/healthz", server.Health())
	mux.Handle("/readyz", server.Ready(readiness(g.routers)))
	mux.Handle("/", server.GraphiQL("/graphql", g.o.GraphiQL))
	return server.Chain(mux, server.RequestID, server.AccessLog(g.log, g.o.Now), server.Measure(g.observer(), g.o.Now),
		server.Recover(g.log), server.BodyLimit(lim.MaxBodyBytes))
}

// export returns the /export endpoint, which shares /graphql's front (authentication,
// document bounds, errors), reader and quotas.
func (g *Gateway) export(gql server.GraphQLOptions) http.Handler {
	lim := g.cfg.Limits
	o := export.Options{
		Front: server.NewFront(gql), Schema: &g.schema, Catalog: g.cat, Reader: g.reader,
		Plan: gql.Plan, Key: ExportKey(g.cfg.CursorSecret), Log: g.log, Now: g.o.Now,
		StatementTimeout: lim.ExportStatementTimeout, IdleTimeout: lim.ExportIdleTimeout,
	}
	if g.quota != nil {
		o.Quota = g.quota
	}
	if g.metrics != nil {
		o.Metrics = g.metrics
	}
	return export.New(o)
}

// ExportKey derives the key that signs export checkpoints from the cursor secret.
func ExportKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("viewgate export checkpoint v1"))
	return m.Sum(nil)
}

// serverQuota is the limiter as the server takes it: a nil interface when quotas are off.
func (g *Gateway) serverQuota() server.Quota {
	if g.quota == nil {
		return nil
	}
	return g.quota
}

// Handler returns the HTTP handler of every route.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Schema returns the GraphQL schema clients see and introspect.
func (g *Gateway) Schema() graphql.Schema { return g.schema }

// Close releases what New opened, in reverse order.
func (g *Gateway) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

// NewLogger returns the service's structured logger: JSON lines on w, each with the requestId
// of its request.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(requestid.Handler{Handler: slog.NewJSONHandler(w, nil)})
}

// PIIKey derives the key of pii: hash columns from the cursor secret, so that the two uses of
// the secret are separate: a PII hash says nothing about a cursor's MAC, and the reverse.
func PIIKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("viewgate pii hash v1"))
	return m.Sum(nil)
}
