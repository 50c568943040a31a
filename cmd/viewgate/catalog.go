package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

const catalogInitUsage = "viewgate catalog init -source name [-config file] [-env name] [-schemas a,b] [-tables] [-o catalog.yaml]"

// catalogCmd runs the catalog subcommands; init is the only one.
func catalogCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "init":
		return catalogInit(ctx, args[1:], getenv, stdout, stderr)
	case len(args) > 0 && (args[0] == "help" || isHelp(args[0])):
		fmt.Fprintf(stdout, "usage: %s\n\nRun \"viewgate catalog init -h\" for its flags.\n", catalogInitUsage)
		return nil
	case len(args) == 0:
		return errors.New("missing catalog command; usage: " + catalogInitUsage)
	}
	return fmt.Errorf("unknown catalog command %q; usage: %s", args[0], catalogInitUsage)
}

// catalogInit drafts a catalog from the views of a live source, for a DBA to review.
func catalogInit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("catalog init", catalogInitUsage+"\n\ndrafts a catalog from the views of a live source, read from its first replica, for a DBA to review.")
	var path, env, source, schemas, out string
	var tables bool
	fs.StringVar(&path, "config", "", "config file (default $VIEWGATE_CONFIG; none: the built-in demo)")
	fs.StringVar(&env, "env", "", "environment whose source is read (default $VIEWGATE_ENV, then the config's default_env)")
	fs.StringVar(&source, "source", "", "the source to read (required unless the config has one)")
	fs.StringVar(&schemas, "schemas", "", "comma-separated schemas (MySQL: databases) to read views from (default: the connection's current one)")
	fs.BoolVar(&tables, "tables", false, "include base tables (marked allow_table: true)")
	fs.StringVar(&out, "o", "", "write the draft to this file, which must not exist (default: standard output)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if path == "" {
		path = getenv("VIEWGATE_CONFIG")
	}
	a := &app{}
	defer a.close()
	var err error
	if path == "" {
		err = a.demoConfig(ctx, getenv)
	} else {
		// Only the source is needed: the catalog is what is being drafted, and the server's
		// secrets may not be set where a DBA drafts it.
		a.cfg, err = config.LoadSource(path, env, source, getenv)
	}
	if err != nil {
		return err
	}
	if source == "" && len(a.cfg.Sources) == 1 {
		source = sourceNames(a.cfg)[0]
	}
	s, ok := a.cfg.Sources[source]
	if !ok {
		return fmt.Errorf("catalog init: -source %q is not a source of environment %s (have: %s)", source, a.cfg.Env, strings.Join(sourceNames(a.cfg), ", "))
	}
	ts := targets(s)
	if len(ts) == 0 {
		return fmt.Errorf("catalog init: source %s has no DSN", source)
	}
	db, err := inspect.Open(ctx, s.Driver, ts[0].dsn)
	if err != nil {
		return fmt.Errorf("catalog init: %s: %w", ts[0], err)
	}
	defer db.Close()
	list, err := schemaList(ctx, db, schemas)
	if err != nil {
		return err
	}
	rels, err := db.Relations(ctx, list, tables)
	if err != nil {
		return err
	}
	if len(rels) == 0 {
		return fmt.Errorf("catalog init: no views in %s of source %s", strings.Join(list, ", "), source)
	}
	draft := draftCatalog(db.Engine(), source, rels)
	if out == "" {
		_, err = io.WriteString(stdout, draft)
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("catalog init: %w", err)
	}
	_, err = f.WriteString(draft)
	return errors.Join(err, f.Close())
}

// schemaList splits -schemas, defaulting to the connection's current schema.
func schemaList(ctx context.Context, db *inspect.DB, flag string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(flag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > 0 || db.Engine() == inspect.SQLite {
		return out, nil
	}
	cur, err := db.CurrentSchema(ctx)
	if err != nil || cur == "" {
		return nil, errors.Join(err, errors.New("catalog init: name the schemas with -schemas"))
	}
	return []string{cur}, nil
}

// draftCatalog writes relations as a catalog: every column with its type and nullability, no
// filters, no sorting, a guessed key, and TODO comments where a person must decide.
func draftCatalog(engine, source string, rels []*inspect.Relation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Drafted by viewgate catalog init from source %s. Review every view before exposing it:\n", source)
	b.WriteString("# descriptions, roles, filters (none are on), sort columns, PII columns and the key.\n")
	b.WriteString("views:\n")
	names := map[string]bool{}
	for _, r := range rels {
		draftView(&b, engine, source, r, names)
	}
	return b.String()
}

var (
	plainIdent    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)
	versionSuffix = regexp.MustCompile(`_v[0-9]+$`) // v_invoices_v1 → Invoices
)

// draftView writes one view entry.
func draftView(b *strings.Builder, engine, source string, r *inspect.Relation, names map[string]bool) {
	base := strings.TrimPrefix(strings.ToLower(r.Name), "v_")
	base = versionSuffix.ReplaceAllString(base, "")
	name := pascal(singular(base)) // a type names one row: Invoice, for the field invoices
	if names[name] || name == "" {
		name = pascal(r.Schema + "_" + singular(base))
	}
	names[name] = true
	relation := r.Name
	if engine != inspect.SQLite && r.Schema != "" {
		relation = r.Schema + "." + r.Name
	}
	field := lowerFirst(pascal(base))
	if r.Schema != "" && name == pascal(r.Schema+"_"+singular(base)) {
		field = lowerFirst(pascal(r.Schema + "_" + base))
	}
	fmt.Fprintf(b, "\n  - name: %s\n    field: %s\n    source: %s\n    relation: %s\n", name, field, source, relation)
	if r.Kind == inspect.Table {
		b.WriteString("    allow_table: true   # TODO: a base table; prefer a stable view\n")
	}
	b.WriteString("    description: TODO describe one row of this view.\n")
	tenant := ""
	if r.Column("tenant_id") != nil {
		tenant = "tenant_id"
		b.WriteString("    tenant_column: tenant_id   # TODO: check: every query is filtered by the caller's tenant on it\n")
	}
	if key := guessKey(engine, r, base); key != "" {
		fmt.Fprintf(b, "    key: [%s]\n", key)
	} else {
		b.WriteString("    key: []   # TODO: name the unique, NOT NULL column(s); no column named id or <view>_id was found\n")
	}
	fmt.Fprintf(b, "    roles: [%s]   # TODO: the roles that may read this view; check refuses the draft until they are named\n    columns:\n", views.DraftRole)
	key := guessKey(engine, r, base)
	for _, c := range r.Columns {
		if c.Name == tenant {
			continue
		}
		draftColumn(b, engine, c, c.Name == key)
	}
}

// guessKey returns id or <view>_id (singular too) when the column exists with a type a key may have.
func guessKey(engine string, r *inspect.Relation, base string) string {
	for _, n := range []string{"id", base + "_id", singular(base) + "_id"} {
		c := r.Column(n)
		if c == nil || !plainIdent.MatchString(n) {
			continue
		}
		if t, _, ok := inspect.CatalogType(engine, *c); ok && t != views.JSON && t != views.Float {
			return n
		}
	}
	return ""
}

// draftColumn writes one column, commented out when no catalog type fits it.
func draftColumn(b *strings.Builder, engine string, c inspect.Column, key bool) {
	t, scale, ok := inspect.CatalogType(engine, c)
	if !ok || !plainIdent.MatchString(c.Name) {
		typ := c.Type
		if typ == "" {
			typ = "an expression without a declared type"
		}
		fmt.Fprintf(b, "      # - {name: %q}   # TODO: %s has no catalog type or is not a plain identifier; expose it through a cast in the view\n", c.Name, typ)
		return
	}
	fmt.Fprintf(b, "      - {name: %s, type: %s", c.Name, t)
	if t == views.Decimal {
		fmt.Fprintf(b, ", scale: %d", scale)
	}
	if key || !c.Nullable {
		b.WriteString(", nullable: false")
	}
	b.WriteString("}")
	var todo []string
	switch {
	case t == views.Decimal && c.Scale < 0:
		todo = append(todo, fmt.Sprintf("%s declares no scale; choose one", c.Type))
	case engine == inspect.MySQL && t == views.JSON:
		todo = append(todo, "json? MariaDB stores JSON as LONGTEXT with a binary collation; say text if this is not JSON")
	case engine == inspect.MySQL && c.Base == "longtext":
		todo = append(todo, "json? MariaDB stores JSON columns as LONGTEXT")
	case engine == inspect.SQLite && t == views.Int && strings.EqualFold(c.Type, "INT"):
		todo = append(todo, "SQLite reports INT for every integer expression; declare bigint if values can pass 2147483647")
	}
	if !key && likelyPII(c.Name) {
		todo = append(todo, "personal data? set pii: mask, hash or null (callers without the pii role then see no value)")
	}
	if len(todo) > 0 {
		b.WriteString("   # TODO: " + strings.Join(todo, "; "))
	}
	b.WriteString("\n")
}

// piiWords are name parts that usually mean personal data; piiPairs are two parts in a row.
var (
	piiWords = []string{"email", "mail", "phone", "mobile", "fax", "tel", "telephone", "name", "firstname", "lastname", "fullname",
		"surname", "username", "address", "street", "zip", "zipcode", "postcode", "iban", "ssn", "passport", "birth", "birthday",
		"birthdate", "dob", "nationality"}
	piiPairs = [][2]string{{"tax", "id"}, {"tax", "number"}, {"vat", "id"}, {"vat", "number"}, {"postal", "code"}, {"national", "id"}}
)

// likelyPII reports whether a column name looks like personal data (customer_email, phone,
// first_name, billing_address, tax_id, date_of_birth…), so the draft asks about it.
func likelyPII(column string) bool {
	parts := strings.Split(strings.ToLower(column), "_")
	for i, p := range parts {
		if slices.Contains(piiWords, p) {
			return true
		}
		if i > 0 && slices.Contains(piiPairs, [2]string{parts[i-1], p}) {
			return true
		}
	}
	return false
}

// irregular are plurals the suffix rules below get wrong.
var irregular = map[string]string{"people": "person", "children": "child", "statuses": "status", "bonuses": "bonus",
	"campuses": "campus", "buses": "bus", "analyses": "analysis"}

// singular turns the last word of a snake_case plural into its singular (invoices → invoice,
// categories → category, addresses → address, people → person); other words stay as they are.
func singular(s string) string {
	i := strings.LastIndexByte(s, '_') + 1
	head, w := s[:i], s[i:]
	switch {
	case irregular[w] != "":
		w = irregular[w]
	case w == "series" || w == "species":
	case len(w) > 3 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "ches"),
		strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zzes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"), len(w) < 3:
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	return head + w
}

// pascal turns snake_case into PascalCase, dropping anything but letters and digits.
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			if up {
				r = []rune(strings.ToUpper(string(r)))[0]
			}
			b.WriteRune(r)
			up = false
		case r >= '0' && r <= '9':
			if b.Len() > 0 {
				b.WriteRune(r)
			}
			up = true
		default:
			up = true
		}
	}
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
