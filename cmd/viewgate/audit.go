package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

// auditTimeout bounds connecting to and auditing one database.
const auditTimeout = 30 * time.Second

// target is one database a source reads from: a replica, the fallback, or the single DSN.
type target struct {
	source config.Source
	role   string // "replica r1", "fallback primary"
	dsn    string
}

// String names the target for messages, with its password hidden.
func (t target) String() string {
	return fmt.Sprintf("source %s, %s (%s)", t.source.Name, t.role, config.RedactDSN(t.dsn))
}

// targets lists every database of s: its replicas and fallback, or its one DSN.
func targets(s config.Source) []target {
	var out []target
	for _, r := range s.Replicas {
		out = append(out, target{source: s, role: "replica " + r.Name, dsn: r.DSN})
	}
	if s.Fallback != nil {
		out = append(out, target{source: s, role: "fallback " + s.Fallback.Name, dsn: s.Fallback.DSN})
	}
	if len(out) == 0 && s.DSN != "" {
		out = append(out, target{source: s, role: "dsn", dsn: s.DSN})
	}
	return out
}

// sourceNames returns the config's source names, sorted.
func sourceNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Sources))
	for n := range cfg.Sources {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// auditSchemas is what the privilege audit covers for s: its erp_schemas, and the schemas its
// catalog views live in ("" for an unqualified relation: the connection's current schema).
func auditSchemas(s config.Source, cat *views.Catalog) []string {
	out := slices.Clone(s.ERPSchemas)
	for _, v := range cat.Views {
		if v.Source != s.Name {
			continue
		}
		schema, _, qualified := strings.Cut(v.Relation, ".")
		if !qualified {
			schema = ""
		}
		if !slices.Contains(out, schema) {
			out = append(out, schema)
		}
	}
	return out
}

// auditTarget connects to t and runs the privilege audit; it returns the audit, and an error
// when the database cannot be reached or audited.
func auditTarget(ctx context.Context, t target, cat *views.Catalog) (*inspect.Audit, error) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	db, err := inspect.Open(ctx, t.source.Driver, t.dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	defer db.Close()
	a, err := db.Audit(ctx, auditSchemas(t.source, cat))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	return a, nil
}

// missingERPSchemas returns the configured erp_schemas the audit could not find: a typo there
// would silently shrink the audit.
func missingERPSchemas(s config.Source, a *inspect.Audit) []string {
	var out []string
	for _, m := range a.Missing {
		if slices.Contains(s.ERPSchemas, m) {
			out = append(out, m)
		}
	}
	return out
}

// auditSources refuses credentials that could change an ERP database: it audits every database of
// every non-SQLite source and returns the violations as errors, unless the source sets
// allow_write_privileges (never in production), in which case each is logged as a warning.
func auditSources(ctx context.Context, cfg *config.Config, cat *views.Catalog, log *slog.Logger) error {
	var errs []error
	for _, name := range sourceNames(cfg) {
		s := cfg.Sources[name]
		if s.Driver == inspect.SQLite {
			continue // opened read-only: there is nothing to audit
		}
		for _, t := range targets(s) {
			a, err := auditTarget(ctx, t, cat)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if m := missingERPSchemas(s, a); len(m) > 0 {
				errs = append(errs, fmt.Errorf("%s: erp_schemas %s do not exist or are not visible to %s", t, strings.Join(m, ", "), a.User))
			}
			if len(a.Violations) == 0 {
				continue
			}
			if !s.AllowWrite || cfg.Production {
				errs = append(errs, &inspect.PrivilegeError{Target: t.String(), Audit: a})
				continue
			}
			for _, v := range a.Violations {
				log.Warn("PRIVILEGE AUDIT OVERRIDDEN by allow_write_privileges (development only): these credentials can write to the ERP database",
					"source", s.Name, "target", t.role, "user", a.User, "violation", v.String())
			}
		}
	}
	return errors.Join(errs...)
}
