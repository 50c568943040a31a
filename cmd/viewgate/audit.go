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

// label names the target within its source, as check's findings do: "replica r1 (dsn)".
func (t target) label() string {
	return t.role + " (" + config.RedactDSN(t.dsn) + ")"
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

// auditScope is what the privilege audit covers on db for source s: auditSchemas, plus the
// schemas the source's catalog views read from (where their base tables live).
func auditScope(ctx context.Context, db *inspect.DB, s config.Source, cat *views.Catalog) ([]string, error) {
	out := auditSchemas(s, cat)
	var rels []string
	for _, v := range sourceViews(cat, s.Name) {
		rels = append(rels, v.Relation)
	}
	from, err := db.ReadsFrom(ctx, rels)
	if err != nil {
		return nil, err
	}
	for _, schema := range from {
		if !slices.Contains(out, schema) {
			out = append(out, schema)
		}
	}
	return out, nil
}

// sourceViews returns the catalog's views that read source.
func sourceViews(cat *views.Catalog, source string) []*views.View {
	var out []*views.View
	for _, v := range cat.Views {
		if v.Source == source {
			out = append(out, v)
		}
	}
	return out
}

// startupCheck connects to t, runs the privilege audit (nil on SQLite, which is opened
// read-only) and compares the source's catalog views with the live relations; it returns an
// error when the database cannot be reached or audited.
func startupCheck(ctx context.Context, t target, cat *views.Catalog) (*inspect.Audit, []inspect.Finding, error) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	db, err := inspect.Open(ctx, t.source.Driver, t.dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t, err)
	}
	defer db.Close()
	var a *inspect.Audit
	if db.Engine() != inspect.SQLite {
		if a, err = runAudit(ctx, db, t.source, cat); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t, err)
		}
	}
	return a, db.Drift(ctx, sourceViews(cat, t.source.Name)), nil
}

// runAudit audits db's privileges over auditScope.
func runAudit(ctx context.Context, db *inspect.DB, s config.Source, cat *views.Catalog) (*inspect.Audit, error) {
	schemas, err := auditScope(ctx, db, s, cat)
	if err != nil {
		return nil, err
	}
	return db.Audit(ctx, schemas)
}

// DriftError is returned when the catalog asks for something a database cannot serve: a
// relation or column that does not exist, or a type the live column cannot hold.
type DriftError struct {
	Target   string // which source or replica, with its DSN redacted
	Findings []inspect.Finding
}

func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the catalog does not match the database (%d %s); fix the catalog or the views, then run viewgate check:",
		e.Target, len(e.Findings), plural(len(e.Findings), "problem"))
	for _, f := range e.Findings {
		b.WriteString("\n  - view " + f.View + ": " + f.Message) // the message names the column
	}
	return b.String()
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

// auditSources refuses to serve what would fail or could write. For every database of every
// source it compares the catalog's views with the live relations: a missing relation or column,
// or a type the column cannot serve, is an error (each warning is logged). Except on SQLite it
// also audits privileges and returns the violations as errors, unless the source sets
// allow_write_privileges (never in production), in which case each is logged as a warning.
func auditSources(ctx context.Context, cfg *config.Config, cat *views.Catalog, log *slog.Logger) error {
	var errs []error
	for _, name := range sourceNames(cfg) {
		s := cfg.Sources[name]
		for _, t := range targets(s) {
			a, drift, err := startupCheck(ctx, t, cat)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			var bad []inspect.Finding
			for _, f := range drift {
				switch f.Level {
				case inspect.Error:
					bad = append(bad, f)
				case inspect.Warning:
					log.Warn("catalog check", "source", s.Name, "target", t.role, "view", f.View, "column", f.Column, "warning", f.Message)
				}
			}
			if len(bad) > 0 {
				errs = append(errs, &DriftError{Target: t.String(), Findings: bad})
			}
			if a != nil {
				errs = append(errs, judgeAudit(cfg, s, t, a, log)...)
			}
		}
	}
	return errors.Join(errs...)
}

// judgeAudit returns the audit's refusals for target t of source s, or logs them as warnings
// where a development source allows write privileges.
func judgeAudit(cfg *config.Config, s config.Source, t target, a *inspect.Audit, log *slog.Logger) []error {
	var errs []error
	if m := missingERPSchemas(s, a); len(m) > 0 {
		errs = append(errs, fmt.Errorf("%s: erp_schemas %s do not exist (a misspelt name would leave them out of the audit)", t, strings.Join(m, ", ")))
	}
	if len(a.Violations) == 0 {
		log.Info("privilege audit passed", "source", s.Name, "target", t.role, "user", a.User, "covered", a.Covered())
		return errs
	}
	if !s.AllowWrite || cfg.Production {
		return append(errs, &inspect.PrivilegeError{Target: t.String(), Audit: a})
	}
	for _, v := range a.Violations {
		log.Warn("PRIVILEGE AUDIT OVERRIDDEN by allow_write_privileges (development only): these credentials can write to the ERP database",
			"source", s.Name, "target", t.role, "user", a.User, "violation", v.String())
	}
	return errs
}
