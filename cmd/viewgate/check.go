package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

// checkReport is what viewgate check found, as --json prints it.
type checkReport struct {
	OK       bool              `json:"ok"`
	Config   string            `json:"config"` // the file, or "built-in demo"
	Env      string            `json:"env"`
	Errors   int               `json:"errors"`
	Warnings int               `json:"warnings"`
	Notes    int               `json:"notes"`
	Checked  []string          `json:"checked"` // the databases connected to, DSNs redacted
	Findings []inspect.Finding `json:"findings"`
}

func (r *checkReport) add(f inspect.Finding) {
	switch f.Level {
	case inspect.Error:
		r.Errors++
	case inspect.Warning:
		r.Warnings++
	default:
		r.Notes++
	}
	r.Findings = append(r.Findings, f)
}

// check validates the config and catalog, then connects to every database of every source,
// audits its privileges and compares the catalog with it; it returns an error when anything
// is an error-level finding, after printing the report.
func check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "viewgate check [-config file] [-env name] [-json]\n\nvalidates the config and the catalog, then connects to every database of every source,\naudits its privileges and compares the catalog with it; exits 1 on any error-level finding.")
	var path, env string
	var asJSON bool
	fs.StringVar(&path, "config", "", "config file (default $VIEWGATE_CONFIG; none: the built-in demo)")
	fs.StringVar(&env, "env", "", "environment to check (default $VIEWGATE_ENV, then the config's default_env)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if path == "" {
		path = getenv("VIEWGATE_CONFIG")
	}
	r := &checkReport{Config: path, Findings: []inspect.Finding{}, Checked: []string{}}
	a := &app{}
	defer a.close()
	var err error
	if path == "" {
		r.Config, err = "built-in demo", a.demoConfig(ctx, getenv)
	} else {
		err = a.loadConfig(path, env, getenv)
	}
	if err != nil {
		r.add(inspect.Finding{Level: inspect.Error, Message: err.Error()})
	} else {
		r.Env = a.cfg.Env
		checkSources(ctx, a.cfg, a.catalog, r)
		checkPrincipals(a.cfg, a.catalog, time.Now(), r) // checkkeys.go
	}
	r.OK = r.Errors == 0
	if err := printReport(stdout, r, asJSON); err != nil {
		return err
	}
	if r.Errors > 0 {
		return fmt.Errorf("check found %d %s", r.Errors, plural(r.Errors, "error"))
	}
	return nil
}

// checkSources checks that every view's source is configured, then every database of every source.
func checkSources(ctx context.Context, cfg *config.Config, cat *views.Catalog, r *checkReport) {
	used := map[string]bool{}
	for _, v := range cat.Views {
		used[v.Source] = true
		if _, ok := cfg.Sources[v.Source]; !ok {
			r.add(inspect.Finding{Level: inspect.Error, Source: v.Source, View: v.Name,
				Message: fmt.Sprintf("view %s reads source %q, which environment %q does not configure", v.Name, v.Source, cfg.Env)})
		}
	}
	for _, name := range sourceNames(cfg) {
		s := cfg.Sources[name]
		if !used[name] {
			r.add(inspect.Finding{Level: inspect.Note, Source: name, Message: "no catalog view reads this source"})
		}
		for _, t := range targets(s) {
			checkTarget(ctx, cfg, cat, t, r)
		}
		checkRotation(ctx, s, r)
	}
}

// checkRotation opens the source as serve does and reports what its health checks decide: a
// replica out of rotation (unreachable, writable under require_replica, lagging) is a warning,
// and an error when none is left, for then every query on the source answers 503.
func checkRotation(ctx context.Context, s config.Source, r *checkReport) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	router, err := gateway.OpenSource(ctx, s, slog.New(slog.DiscardHandler))
	if err != nil {
		r.add(inspect.Finding{Level: inspect.Error, Source: s.Name, Message: "serve could not open the source: " + err.Error()})
		return
	}
	defer router.Close()
	labels := map[string]string{}
	for _, t := range targets(s) {
		_, name, _ := strings.Cut(t.role, " ")
		labels[name] = t.label()
	}
	st := router.Status()
	level, left := inspect.Warning, ""
	if !st.Healthy {
		level, left = inspect.Error, fmt.Sprintf("; none would be left, so every query on source %s would answer 503 UNAVAILABLE", s.Name)
	}
	inRotation := []string{}
	for _, m := range st.Replicas {
		if m.Healthy {
			inRotation = append(inRotation, m.Name)
			continue
		}
		what := "replica"
		if m.Fallback {
			what = "fallback"
		}
		r.add(inspect.Finding{Level: level, Source: s.Name, Target: labels[m.Name],
			Message: fmt.Sprintf("serve would take %s %s out of rotation: %s%s", what, m.Name, m.Reason, left)})
	}
	if len(inRotation) == 1 && s.Fallback != nil && inRotation[0] == s.Fallback.Name {
		r.add(inspect.Finding{Level: inspect.Warning, Source: s.Name, Message: "only the fallback " + s.Fallback.Name + " would serve queries"})
	}
}

// checkTarget audits one database and compares the source's catalog views with it.
func checkTarget(ctx context.Context, cfg *config.Config, cat *views.Catalog, t target, r *checkReport) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	label := t.label()
	r.Checked = append(r.Checked, t.String())
	at := func(f inspect.Finding) inspect.Finding {
		f.Source, f.Target = t.source.Name, label
		return f
	}
	db, err := inspect.Open(ctx, t.source.Driver, t.dsn)
	if err != nil {
		r.add(at(inspect.Finding{Level: inspect.Error, Message: "cannot connect: " + err.Error()}))
		return
	}
	defer db.Close()
	checkAudit(ctx, cfg, cat, t, db, r, at)
	for _, f := range db.Drift(ctx, sourceViews(cat, t.source.Name)) {
		r.add(at(f))
	}
}

// checkAudit adds the privilege audit's findings: errors, or warnings where a development
// source allows write privileges.
func checkAudit(ctx context.Context, cfg *config.Config, cat *views.Catalog, t target, db *inspect.DB, r *checkReport, at func(inspect.Finding) inspect.Finding) {
	if db.Engine() == inspect.SQLite {
		r.add(at(inspect.Finding{Level: inspect.Note, Message: "SQLite is opened read-only; no privilege audit is needed"}))
		return
	}
	a, err := runAudit(ctx, db, t.source, cat)
	if err != nil {
		r.add(at(inspect.Finding{Level: inspect.Error, Message: err.Error()}))
		return
	}
	if m := missingERPSchemas(t.source, a); len(m) > 0 {
		r.add(at(inspect.Finding{Level: inspect.Error, Message: fmt.Sprintf("erp_schemas %s do not exist (a misspelt name would leave them out of the audit)", strings.Join(m, ", "))}))
	}
	level, suffix := inspect.Error, ""
	if t.source.AllowWrite && !cfg.Production {
		level, suffix = inspect.Warning, " (allowed by allow_write_privileges: development only)"
	}
	for _, v := range a.Violations {
		r.add(at(inspect.Finding{Level: level, Message: fmt.Sprintf("user %s can %s on %s%s%s", a.User, v.Privilege, v.Object, via(v.Via), suffix), Fix: v.Fix}))
	}
	if len(a.Violations) == 0 {
		r.add(at(inspect.Finding{Level: inspect.Note, Message: fmt.Sprintf("privilege audit passed: user %s cannot change the ERP database; it covered %s", a.User, a.Covered())}))
	}
}

func via(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// printReport writes r as JSON or as text for people.
func printReport(w io.Writer, r *checkReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "viewgate check: %s", r.Config)
	if r.Env != "" {
		fmt.Fprintf(w, ", environment %s", r.Env)
	}
	fmt.Fprintln(w)
	printFindings(w, r.Findings, "")
	for _, c := range r.Checked {
		fmt.Fprintf(w, "%s\n", c)
		printFindings(w, r.Findings, c)
	}
	_, err := fmt.Fprintf(w, "%d %s, %d %s, %d %s\n", r.Errors, plural(r.Errors, "error"), r.Warnings, plural(r.Warnings, "warning"), r.Notes, plural(r.Notes, "note"))
	return err
}

// printFindings writes the findings about one checked database ("": about none in particular).
func printFindings(w io.Writer, fs []inspect.Finding, checked string) {
	for _, f := range fs {
		if f.Target == "" && checked != "" || f.Target != "" && !strings.HasSuffix(checked, ", "+f.Target) {
			continue
		}
		where := strings.Join(nonEmpty(f.View, f.Column), ".")
		if where == "" && f.Target == "" {
			where = f.Source
		}
		if where != "" {
			where += ": "
		}
		fmt.Fprintf(w, "  %-7s %s%s\n", f.Level, where, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, "          fix: %s\n", f.Fix)
		}
	}
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// plural returns word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
