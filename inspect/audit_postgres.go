package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// pgAudit checks role attributes, memberships, schema CREATE, ownership and table writes.
func (d *DB) pgAudit(ctx context.Context, schemas []string) (*Audit, error) {
	a := &Audit{}
	var current sql.NullString
	var super, bypass, createRole bool
	err := d.db.QueryRowContext(ctx, `SELECT current_user, current_schema(), r.rolsuper, r.rolbypassrls, r.rolcreaterole
FROM pg_roles r WHERE r.rolname = current_user`).Scan(&a.User, &current, &super, &bypass, &createRole)
	if err != nil {
		return nil, err
	}
	user := pgIdent(a.User)
	a.Schemas = resolveSchemas(schemas, current.String)
	if super {
		a.Violations = append(a.Violations, Violation{Privilege: "SUPERUSER", Object: "role " + a.User,
			Fix: fmt.Sprintf("ALTER ROLE %s NOSUPERUSER; (or connect as a dedicated role with only SELECT on the views)", user)})
		return a, nil // a superuser passes every other check: listing them would only repeat this
	}
	if bypass {
		a.Violations = append(a.Violations, Violation{Privilege: "BYPASSRLS", Object: "role " + a.User,
			Fix: fmt.Sprintf("ALTER ROLE %s NOBYPASSRLS;", user)})
	}
	if createRole {
		a.Violations = append(a.Violations, Violation{Privilege: "CREATEROLE", Object: "role " + a.User, Via: pgEscalation["CREATEROLE"],
			Fix: fmt.Sprintf("ALTER ROLE %s NOCREATEROLE;", user)})
	}
	steps := []func(context.Context, *Audit) error{d.pgMemberships, d.pgSchemas, d.pgTables, d.pgCount}
	for _, step := range steps {
		if err := step(ctx, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// pgEscalation says why an attribute, or membership in a predefined role, lets a role change
// the database although it holds no write privilege on the ERP's tables.
var pgEscalation = map[string]string{
	"SUPERUSER":                 "",
	"BYPASSRLS":                 "",
	"CREATEROLE":                "it can create roles and, on PostgreSQL 15 and older, grant itself any role but a superuser, pg_write_all_data among them",
	"pg_write_all_data":         "INSERT, UPDATE and DELETE on every table",
	"pg_write_server_files":     "writes any file the server can, with COPY … TO",
	"pg_execute_server_program": "runs programs as the server's operating-system user, with COPY … PROGRAM",
	"pg_read_server_files":      "reads any file the server can, the data directory included, with COPY … FROM",
}

// pgMemberships finds roles the user can SET ROLE to (or inherits from) that are superusers,
// bypass RLS or may create roles, and the predefined roles that write data, touch the server's
// files or run programs; the fix revokes the direct grant, which may be to a role in between.
func (d *DB) pgMemberships(ctx context.Context, a *Audit) error {
	rows, err := d.db.QueryContext(ctx, `SELECT r.rolname,
	CASE WHEN r.rolsuper THEN 'SUPERUSER' WHEN r.rolbypassrls THEN 'BYPASSRLS' WHEN r.rolcreaterole THEN 'CREATEROLE' ELSE r.rolname END,
	COALESCE((SELECT string_agg(DISTINCT quote_ident(g.rolname), ', ') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.member
		WHERE m.roleid = r.oid AND pg_has_role(g.oid, 'MEMBER')), '')
FROM pg_roles r
WHERE (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole
		OR r.rolname IN ('pg_write_all_data', 'pg_write_server_files', 'pg_execute_server_program', 'pg_read_server_files'))
	AND r.rolname <> current_user AND pg_has_role(r.oid, 'MEMBER')
ORDER BY 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var role, priv, grantees string
		if err := rows.Scan(&role, &priv, &grantees); err != nil {
			return err
		}
		if grantees == "" {
			grantees = pgIdent(a.User)
		}
		via := "member of role " + role
		if why := pgEscalation[priv]; why != "" {
			via += ": " + why
		}
		a.Violations = append(a.Violations, Violation{Privilege: priv, Object: "role " + a.User, Via: via,
			Fix: fmt.Sprintf("REVOKE %s FROM %s;", pgIdent(role), grantees)})
	}
	return rows.Err()
}

// pgGrantees lists, for an ACL column, the grantees through which the user holds priv.
const pgGrantees = `(SELECT string_agg(DISTINCT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END, ',')
	FROM aclexplode(%s) g WHERE g.privilege_type = %s AND (g.grantee = 0 OR pg_has_role(g.grantee, 'MEMBER')))`

// pgSchemas reports missing schemas, owned schemas and CREATE on them.
func (d *DB) pgSchemas(ctx context.Context, a *Audit) error {
	rows, err := d.db.QueryContext(ctx, `SELECT n.nspname, pg_has_role(n.nspowner, 'USAGE'), pg_get_userbyid(n.nspowner),
	has_schema_privilege(n.oid, 'CREATE'), COALESCE(`+fmt.Sprintf(pgGrantees, "n.nspacl", "'CREATE'")+`, '')
FROM pg_namespace n WHERE n.nspname = ANY($1) ORDER BY 1`, a.Schemas)
	if err != nil {
		return err
	}
	defer rows.Close()
	found := map[string]bool{}
	for rows.Next() {
		var name, owner, via string
		var owns, create bool
		if err := rows.Scan(&name, &owns, &owner, &create, &via); err != nil {
			return err
		}
		found[name] = true
		switch {
		case owns:
			a.Violations = append(a.Violations, Violation{Privilege: "OWNER", Object: "schema " + name, Via: "owned by " + owner,
				Fix: fmt.Sprintf("ALTER SCHEMA %s OWNER TO <an owner role viewgate is not a member of>;", pgIdent(name))})
		case create:
			a.Violations = append(a.Violations, Violation{Privilege: "CREATE", Object: "schema " + name, Via: viaGrantees(via),
				Fix: fmt.Sprintf("REVOKE CREATE ON SCHEMA %s FROM %s;", pgIdent(name), fromGrantees(via, a.User))})
		}
	}
	for _, s := range a.Schemas {
		if !found[s] {
			a.Missing = append(a.Missing, s)
		}
	}
	return rows.Err()
}

// pgTables reports owned relations and INSERT/UPDATE/DELETE/TRUNCATE on any relation of the schemas
// (views too: a simple view is writable). Column grants count for INSERT and UPDATE.
func (d *DB) pgTables(ctx context.Context, a *Audit) error {
	rows, err := d.db.QueryContext(ctx, `SELECT n.nspname, c.relname, c.relkind::text, pg_has_role(c.relowner, 'USAGE'), pg_get_userbyid(c.relowner),
	string_agg(p.priv, ', ' ORDER BY p.n), COALESCE(string_agg(`+fmt.Sprintf(pgGrantees, "c.relacl", "p.priv")+`, ','), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) WITH ORDINALITY AS p(priv, n)
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	AND CASE WHEN p.priv IN ('INSERT', 'UPDATE') THEN has_any_column_privilege(c.oid, p.priv) ELSE has_table_privilege(c.oid, p.priv) END
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2`, a.Schemas)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var schema, name, kind, owner, privs, via string
		var owns bool
		if err := rows.Scan(&schema, &name, &kind, &owns, &owner, &privs, &via); err != nil {
			return err
		}
		obj, qname := relWord(kind)+" "+schema+"."+name, pgIdent(schema)+"."+pgIdent(name)
		if owns {
			a.Violations = append(a.Violations, Violation{Privilege: "OWNER", Object: obj, Via: "owned by " + owner,
				Fix: fmt.Sprintf("ALTER %s %s OWNER TO <an owner role viewgate is not a member of>; then GRANT SELECT ON %s TO %s;",
					strings.ToUpper(relWord(kind)), qname, qname, pgIdent(a.User))})
			continue
		}
		v := Violation{Privilege: privs, Object: obj, Via: viaGrantees(via)}
		if via == "" {
			v.Via = "a column grant, or membership in pg_write_all_data"
			v.Fix = fmt.Sprintf("REVOKE %s ON %s FROM %s; (and any column grants: see \\dp %s; REVOKE pg_write_all_data FROM %s if granted)",
				privs, qname, pgIdent(a.User), qname, pgIdent(a.User))
		} else {
			v.Fix = fmt.Sprintf("REVOKE %s ON %s FROM %s;", privs, qname, fromGrantees(via, a.User))
		}
		a.Violations = append(a.Violations, v)
	}
	return rows.Err()
}

// relWord names a relkind the way ALTER does.
func relWord(kind string) string {
	switch kind {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "f":
		return "foreign table"
	}
	return "table"
}

// viaGrantees describes the comma-separated grantees through which a privilege is held.
func viaGrantees(list string) string {
	if list == "" {
		return ""
	}
	return "granted to " + strings.Join(dedupe(list), ", ")
}

// fromGrantees is the FROM list of a REVOKE: the grantees, or the user when unknown.
func fromGrantees(list, user string) string {
	if list == "" {
		return pgIdent(user)
	}
	return strings.Join(dedupe(list), ", ")
}

func dedupe(list string) []string {
	var out []string
	for _, g := range strings.Split(list, ",") {
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// pgCount counts the relations of the audited schemas.
func (d *DB) pgCount(ctx context.Context, a *Audit) error {
	return d.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, a.Schemas).Scan(&a.Relations)
}
