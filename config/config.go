// Package config loads and validates viewgate's YAML configuration.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// EnvVar is the environment variable that selects the environment when no name is passed to Load.
const EnvVar = "VIEWGATE_ENV"

// Config is the validated configuration for one selected environment, with every secret resolved.
type Config struct {
	File           string            // path it was loaded from ("" when parsed from bytes)
	Env            string            // the selected environment name
	Production     bool              // the selected environment is named prod or sets production: true
	Listen         string            // default "127.0.0.1:8080"
	Catalog        string            // catalog path; relative paths are resolved against the config file's directory
	CursorSecret   string            // resolved secret, >= 32 bytes required (top-level, or per environment: the environment's wins)
	Sources        map[string]Source // the selected environment's sources, keyed by name
	APIKeys        []APIKey          // static API keys (top-level, or per environment: a per-environment list replaces the top-level one)
	AllowAnonymous *Principal        // optional: requests without a credential act as this principal (top-level or per environment; refused in production); nil = 401
	Auth           Auth              // keys file and bearer JWTs (config/auth.go)
	Limits         Limits
	QueryLog       QueryLog
	MetricsListen  string // host:port of the Prometheus /metrics listener; "" = none
	MetricsTenants int    // 0 = no tenant label; N (1..1000) = a tenant label for the first N tenants seen, the rest "other"
	Quota          Quota  // top-level, or per environment: the environment's section replaces it whole (config/quota.go)
}

// Source is one database the catalog's views read from.
type Source struct {
	Name             string
	Driver           string        // postgres | mysql | sqlite
	DSN              string        // resolved; contains credentials, so log it only through RedactDSN
	MaxConns         int           // default 10 (1..1000)
	StatementTimeout time.Duration // default 5s (100ms..10m)
	// Replicas are read in rotation (at least one); the single dsn: form is one replica named
	// after the source, with DSN below. Fallback (e.g. the primary) serves only while no replica
	// is healthy, and is nil unless allow_primary_fallback: true.
	Replicas             []Replica
	Fallback             *Replica
	RequireReplica       bool   // default true for postgres and mysql: a writable server is out of rotation
	TenantMaxConcurrency int    // default half the source's connections, at least 1 (0 = no cap, ..100000): statements one tenant runs at once
	Heartbeat            string // "" or a DBA's [schema.]view whose ts column measures replication lag
	HealthCheck          HealthCheck
	ERPSchemas           []string // schemas (MySQL: databases) the privilege audit covers, besides the catalog's own
	AllowWrite           bool     // allow_write_privileges: skip refusing write privileges (development only; refused in production)
}

// APIKey is a static credential that authenticates as a tenant with roles.
type APIKey struct {
	ID     string // unique; safe to log
	Tenant string // "" = none: the key reads only views without a tenant_column
	Roles  []string
	Key    string // the resolved secret (>= 16 characters); never log it
}

// Principal is the identity a request acts as.
type Principal struct {
	Tenant string // "" = none: reads only views without a tenant_column
	Roles  []string
}

// Limits bounds what one request may cost.
type Limits struct {
	MaxBodyBytes    int64         // default 1 MiB (1 KiB..64 MiB)
	MaxDepth        int           // default 12 (1..100)
	MaxFields       int           // default 300 (1..100000)
	DefaultPageSize int           // default 20 (1..10000)
	DocCacheSize    int           // default 1000 (0..1000000) documents; 0 disables the parsed-document cache
	DocCacheBytes   int64         // default 32 MiB (0..4 GiB): estimated memory of cached documents; 0 disables the cache
	RequestTimeout  time.Duration // default 30s (100ms..1h)

	// The request budget, refused with QUERY_TOO_COMPLEX before any SQL runs.
	MaxCost       int           // default 1000 (1..1000000): the plan's cost
	MaxRootFields int           // default 20 (1..1000): root fields after merging aliases
	MaxRows       int           // default 5000 (1..1000000): rows asked for over all root fields
	RequestDBTime time.Duration // default 10s (100ms..1h): database time one request may spend; later root fields fail once it is spent

	// Bounds on memory and connections held by slow or many clients.
	MaxInFlight             int           // default 64 (1..100000): requests served at once; more answer 503
	MaxInFlightPerPrincipal int           // default 16 (1..100000): requests one credential has in flight; more answer 429
	MaxResponseBytes        int64         // default 16 MiB (64 KiB..1 GiB): a bigger answer is refused with QUERY_TOO_COMPLEX
	WriteTimeout            time.Duration // default 30s (1s..10m): time to send one response to a slow reader

	// Exports: their statements run under their own timeout, and the stream is cut when the
	// client reads nothing for ExportIdleTimeout.
	ExportStatementTimeout time.Duration // default 10m (1s..24h)
	ExportIdleTimeout      time.Duration // default 30s (1s..10m)
}

// QueryLog says where executed statements are logged.
type QueryLog struct {
	Path          string                   // "" = stderr
	SlowThreshold time.Duration            // default 500ms (0..1h); 0 marks every statement slow
	SlowByClass   map[string]time.Duration // slow_threshold_by_class: per quota class, over SlowThreshold
	SlowByView    map[string]time.Duration // slow_threshold_by_view: per view (root field), over the class's
	SlowLogPath   string                   // "" = none; MySQL slow-log format file
	Plans         Plans
	// LabelStatements (label_statements) shows each statement's requestId and view to DBAs:
	// application_name on Postgres, a leading comment on MySQL/MariaDB. nil (unset) is each
	// engine's default (labelsByDefault).
	LabelStatements *bool
}

// Label reports whether statements on a source of dialect ("postgres", "mysql", "mariadb",
// "sqlite") are labelled.
func (q QueryLog) Label(dialect string) bool {
	if q.LabelStatements != nil {
		return *q.LabelStatements
	}
	return labelsByDefault(dialect)
}

// labelsByDefault reports whether statements of a dialect are labelled when label_statements
// is unset: on MySQL/MariaDB, where the label is a comment in the statement; not on Postgres,
// where it is a set_config of its own in the statement's round trip, which cost 8 % of the
// list benchmark's throughput and 7 % of the database's CPU (docs/architecture.md).
func labelsByDefault(dialect string) bool { return dialect == "mysql" || dialect == "mariadb" }

// Plans says when the plans of slow statements are captured.
type Plans struct {
	Interval  time.Duration // default 1h (0..24h): per query ID; 0 = no plans
	PerMinute int           // default 10 (1..600): captures of all query IDs per minute
	Timeout   time.Duration // default 2s (100ms..30s): per capture
}

// Defaults applied to keys that are absent from the file.
const (
	defaultListen           = "127.0.0.1:8080"
	defaultMaxConns         = 10
	defaultStatementTimeout = 5 * time.Second
)

// DefaultLimits returns the limits used for keys absent from the limits section.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:            1 << 20,
		MaxDepth:                12,
		MaxFields:               300,
		DefaultPageSize:         20,
		DocCacheSize:            1000,
		DocCacheBytes:           32 << 20,
		RequestTimeout:          30 * time.Second,
		MaxCost:                 1000,
		MaxRootFields:           20,
		MaxRows:                 5000,
		RequestDBTime:           10 * time.Second,
		MaxInFlight:             64,
		MaxInFlightPerPrincipal: 16,
		MaxResponseBytes:        16 << 20,
		WriteTimeout:            30 * time.Second,
		ExportStatementTimeout:  10 * time.Minute,
		ExportIdleTimeout:       30 * time.Second,
	}
}

// DefaultQueryLog returns the query log settings used for keys absent from the query_log section.
func DefaultQueryLog() QueryLog {
	return QueryLog{SlowThreshold: 500 * time.Millisecond, Plans: Plans{Interval: time.Hour, PerMinute: 10, Timeout: 2 * time.Second}}
}

// Load reads the file at path and returns its configuration for env, or an error (a *ValidationError
// for problems in the file's content) if it cannot be read or is invalid.
//
// An empty env selects getenv(EnvVar), then the file's default_env, then the only environment if
// there is exactly one. A nil getenv means os.Getenv.
func Load(path, env string, getenv func(string) string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(b, path, env, getenv, os.ReadFile)
}

// Parse returns the configuration in b for env, or a *ValidationError listing every problem found.
//
// file names the source in errors and anchors relative paths ("" means the working directory);
// an empty env selects getenv(EnvVar), then the file's default_env, then the only environment. getenv resolves ${VAR}
// references and readFile resolves file: references; nil means os.Getenv and os.ReadFile.
func Parse(b []byte, file, env string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	d := &decoder{dir: dirOf(file)}
	root, ok := d.document(b)
	var cfg *Config
	if ok {
		if raw := d.root(root); raw != nil {
			r := &resolver{decoder: d, getenv: getenv, readFile: readFile}
			cfg = r.config(raw, file, env)
		}
	}
	if len(d.problems) > 0 {
		return nil, &ValidationError{File: file, Problems: d.report()}
	}
	return cfg, nil
}

// dirOf returns the directory relative paths in file are anchored to ("" for the working directory).
func dirOf(file string) string {
	if file == "" {
		return ""
	}
	return filepath.Dir(file)
}

// String describes the configuration for logs with every secret hidden.
func (c *Config) String() string {
	names := make([]string, 0, len(c.Sources))
	for name := range c.Sources {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "env=%s listen=%s catalog=%s", c.Env, c.Listen, c.Catalog)
	for _, name := range names {
		fmt.Fprintf(&b, " source=%s", c.Sources[name])
	}
	fmt.Fprintf(&b, " api_keys=%d", len(c.APIKeys))
	return b.String()
}

// String describes the source for logs with its password hidden.
func (s Source) String() string {
	return fmt.Sprintf("%s(%s %s)", s.Name, s.Driver, RedactDSN(s.DSN))
}

// String describes the key for logs without the key itself.
func (k APIKey) String() string {
	return fmt.Sprintf("%s(tenant %s, roles %s)", k.ID, k.Tenant, strings.Join(k.Roles, ","))
}
