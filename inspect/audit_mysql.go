package inspect

import (
	"context"
	"fmt"
	"strings"
)

// myWrites are the privileges that change data or structure at database or table level; DROP
// is what TRUNCATE needs on MySQL and MariaDB.
var myWrites = []string{"INSERT", "UPDATE", "DELETE", "DROP", "CREATE", "ALTER", "INDEX", "TRIGGER",
	"CREATE VIEW", "CREATE ROUTINE", "ALTER ROUTINE", "DELETE HISTORY"}

// myGlobalExtra are global privileges that defeat a read-only replica or lead to one that
// writes: FILE reads and writes the server's files (SELECT … INTO OUTFILE, LOAD DATA), and
// CREATE USER makes accounts, and grants to them with GRANT OPTION.
var myGlobalExtra = []string{"SUPER", "READ_ONLY ADMIN", "ALL PRIVILEGES", "FILE", "CREATE USER"}

// myAudit reads information_schema's privilege tables for the current user: global, database,
// table and column grants that could write in the audited databases.
func (d *DB) myAudit(ctx context.Context, schemas []string) (*Audit, error) {
	a := &Audit{}
	var current *string
	if err := d.db.QueryRowContext(ctx, `SELECT CURRENT_USER(), DATABASE()`).Scan(&a.User, &current); err != nil {
		return nil, err
	}
	cur := ""
	if current != nil {
		cur = *current
	}
	a.Schemas = resolveSchemas(schemas, cur)
	user, host, _ := strings.Cut(a.User, "@")
	if i := strings.LastIndexByte(a.User, '@'); i >= 0 {
		user, host = a.User[:i], a.User[i+1:]
	}
	grantee := "'" + user + "'@'" + host + "'"
	for _, step := range []func(context.Context, *Audit, string) error{d.myGlobal, d.mySchemas, d.myTables, d.myColumns, d.myGrantOption, d.myRoles, d.myCount} {
		if err := step(ctx, a, grantee); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// inList returns "?, ?, …" and the arguments for a SQL IN list.
func inList(items []string) (string, []any) {
	args := make([]any, len(items))
	for i, s := range items {
		args[i] = s
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(items)), ", "), args
}

func (d *DB) myGlobal(ctx context.Context, a *Audit, grantee string) error {
	in, args := inList(append(append([]string{}, myWrites...), myGlobalExtra...))
	privs, err := queryStrings(ctx, d.db, `SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
WHERE GRANTEE = ? AND PRIVILEGE_TYPE IN (`+in+`) ORDER BY PRIVILEGE_TYPE`, append([]any{grantee}, args...)...)
	if err != nil || len(privs) == 0 {
		return err
	}
	list := strings.Join(privs, ", ")
	a.Violations = append(a.Violations, Violation{Privilege: list, Object: "*.* (every database)", Via: "granted to " + grantee,
		Fix: fmt.Sprintf("REVOKE %s ON *.* FROM %s; (REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s; removes them all)", list, grantee, grantee)})
	return nil
}

// mySchemas reads database-level grants, whose TABLE_SCHEMA may be a LIKE pattern (erp\_%).
func (d *DB) mySchemas(ctx context.Context, a *Audit, grantee string) error {
	found, err := d.visibleSchemas(ctx, a.Schemas)
	if err != nil {
		return err
	}
	all, err := queryStrings(ctx, d.db, `SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
WHERE GRANTEE = ? AND PRIVILEGE_TYPE = 'SHOW DATABASES'`, grantee)
	if err != nil {
		return err
	}
	in, args := inList(myWrites)
	for _, s := range a.Schemas {
		if !found[s] {
			a.Invisible = append(a.Invisible, s)
			if len(all) > 0 { // the user sees every database: this one does not exist
				a.Missing = append(a.Missing, s)
			}
		}
		rows, err := queryPairs(ctx, d.db, `SELECT TABLE_SCHEMA, GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE SEPARATOR ', ')
FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND ? LIKE TABLE_SCHEMA AND PRIVILEGE_TYPE IN (`+in+`)
GROUP BY TABLE_SCHEMA ORDER BY TABLE_SCHEMA`, append([]any{grantee, s}, args...)...)
		if err != nil {
			return err
		}
		for _, r := range rows {
			a.Violations = append(a.Violations, Violation{Privilege: r[1], Object: "database " + r[0] + ".*", Via: "granted to " + grantee,
				Fix: fmt.Sprintf("REVOKE %s ON %s.* FROM %s;", r[1], myIdent(r[0]), grantee)})
		}
	}
	return nil
}

// grantOptionWhy says why GRANT OPTION is refused although it writes nothing itself.
const grantOptionWhy = "it can hand its privileges to other accounts"

// myGrantOption finds privileges held WITH GRANT OPTION, on any database: a read-only service
// account never needs to grant, and with CREATE USER it could make and empower accounts.
func (d *DB) myGrantOption(ctx context.Context, a *Audit, grantee string) error {
	rows, err := queryPairs(ctx, d.db, `SELECT '*', '*' FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES'
UNION SELECT TABLE_SCHEMA, '*' FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES'
UNION SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES'
UNION SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES'
ORDER BY 1, 2`, grantee, grantee, grantee, grantee)
	if err != nil {
		return err
	}
	for _, r := range rows {
		obj, on := myObject(r[0], r[1])
		a.Violations = append(a.Violations, Violation{Privilege: "GRANT OPTION", Object: obj, Via: "granted to " + grantee + ": " + grantOptionWhy,
			Fix: fmt.Sprintf("REVOKE GRANT OPTION ON %s FROM %s;", on, grantee)})
	}
	return nil
}

// myObject names schema.table (either may be *) for messages and for a GRANT or REVOKE.
func myObject(schema, table string) (obj, on string) {
	switch {
	case schema == "*":
		return "*.* (every database)", "*.*"
	case table == "*":
		return "database " + schema + ".*", myIdent(schema) + ".*"
	}
	return "table " + schema + "." + table, myIdent(schema) + "." + myIdent(table)
}

// myCount counts the tables and views of the audited databases that the user can see.
func (d *DB) myCount(ctx context.Context, a *Audit, _ string) error {
	if len(a.Schemas) == 0 {
		return nil
	}
	in, args := inList(a.Schemas)
	return d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (`+in+`)`, args...).Scan(&a.Relations)
}

// visibleSchemas reports which of schemas exist and are visible to the user.
func (d *DB) visibleSchemas(ctx context.Context, schemas []string) (map[string]bool, error) {
	found := map[string]bool{}
	if len(schemas) == 0 {
		return found, nil
	}
	in, args := inList(schemas)
	names, err := queryStrings(ctx, d.db, `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (`+in+`)`, args...)
	for _, n := range names {
		found[n] = true
	}
	return found, err
}

func (d *DB) myTables(ctx context.Context, a *Audit, grantee string) error {
	if len(a.Schemas) == 0 {
		return nil
	}
	sin, sargs := inList(a.Schemas)
	in, args := inList(myWrites)
	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE SEPARATOR ', ')
FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA IN (`+sin+`) AND PRIVILEGE_TYPE IN (`+in+`)
GROUP BY TABLE_SCHEMA, TABLE_NAME ORDER BY TABLE_SCHEMA, TABLE_NAME`, append(append([]any{grantee}, sargs...), args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table, privs string
		if err := rows.Scan(&schema, &table, &privs); err != nil {
			return err
		}
		a.Violations = append(a.Violations, Violation{Privilege: privs, Object: "table " + schema + "." + table, Via: "granted to " + grantee,
			Fix: fmt.Sprintf("REVOKE %s ON %s.%s FROM %s;", privs, myIdent(schema), myIdent(table), grantee)})
	}
	return rows.Err()
}

func (d *DB) myColumns(ctx context.Context, a *Audit, grantee string) error {
	if len(a.Schemas) == 0 {
		return nil
	}
	sin, sargs := inList(a.Schemas)
	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE, GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME SEPARATOR ',')
FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA IN (`+sin+`) AND PRIVILEGE_TYPE IN ('INSERT', 'UPDATE')
GROUP BY TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE ORDER BY 1, 2, 3`, append([]any{grantee}, sargs...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table, priv, cols string
		if err := rows.Scan(&schema, &table, &priv, &cols); err != nil {
			return err
		}
		quoted := make([]string, 0)
		for _, c := range strings.Split(cols, ",") {
			quoted = append(quoted, myIdent(c))
		}
		a.Violations = append(a.Violations, Violation{Privilege: priv + " (" + cols + ")", Object: "table " + schema + "." + table, Via: "granted to " + grantee,
			Fix: fmt.Sprintf("REVOKE %s (%s) ON %s.%s FROM %s;", priv, strings.Join(quoted, ", "), myIdent(schema), myIdent(table), grantee)})
	}
	return rows.Err()
}
