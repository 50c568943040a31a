package inspect

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// information_schema shows a MySQL or MariaDB user only its own grants, not those of the roles it
// may SET ROLE to, and SHOW GRANTS FOR a role needs read access to the mysql database. So myRoles
// enables each applicable role on a connection of its own and reads SHOW GRANTS, which then lists
// the role's grants and those of the roles granted to it; the connection is discarded afterwards.

var grantOn = regexp.MustCompile("^GRANT (.+?) ON (?:TABLE )?(\\*|`(?:[^`]|``)*`)\\.(\\*|`(?:[^`]|``)*`) TO (`(?:[^`]|``)*`)(@`[^`]*`)?")

// myRoles adds the violations held through roles the user may enable.
func (d *DB) myRoles(ctx context.Context, a *Audit, grantee string) error {
	roles, err := applicableRoles(ctx, d.db)
	if err != nil || len(roles) == 0 {
		return err
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the connection: its role changed
	seen := map[string]bool{}
	for _, role := range roles {
		if _, err := conn.ExecContext(ctx, "SET ROLE "+role); err != nil {
			var me *mysql.MySQLError
			if errors.As(err, &me) && me.Number == 1959 {
				continue // granted to a role, not to the user: its grants show under that role
			}
			return fmt.Errorf("set role %s: %w", role, err)
		}
		rows, err := conn.QueryContext(ctx, "SHOW GRANTS")
		if err != nil {
			return fmt.Errorf("show grants with role %s: %w", role, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err
			}
			lines = append(lines, line)
		}
		rows.Close()
		for _, line := range lines {
			m := grantOn.FindStringSubmatch(line)
			if m == nil || m[5] != "" || seen[line] { // m[5]: a user@host grantee, covered by information_schema
				continue
			}
			seen[line] = true
			a.roleGrant(m[4], grantee, splitPrivs(m[1]), unquote(m[2]), unquote(m[3]), strings.HasSuffix(line, " WITH GRANT OPTION"))
		}
	}
	return nil
}

// applicableRoles lists the roles the user may enable, quoted for SHOW GRANTS. The columns differ:
// MariaDB has ROLE_NAME, MySQL 8 adds ROLE_HOST.
func applicableRoles(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM information_schema.APPLICABLE_ROLES`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var name, host string
		for i, c := range cols {
			switch strings.ToUpper(c) {
			case "ROLE_NAME":
				name = vals[i].String
			case "ROLE_HOST":
				host = vals[i].String
			}
		}
		role := myIdent(name)
		if host != "" {
			role += "@" + myIdent(host)
		}
		if !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out, rows.Err()
}

// roleGrant records the write privileges in one GRANT … ON schema.table TO role line, and
// its GRANT OPTION wherever it is.
func (a *Audit) roleGrant(role, grantee string, privs []string, schema, table string, grantOption bool) {
	obj, on := myObject(schema, table)
	if grantOption {
		a.Violations = append(a.Violations, Violation{Privilege: "GRANT OPTION", Object: obj, Via: "through role " + role + ": " + grantOptionWhy,
			Fix: fmt.Sprintf("REVOKE GRANT OPTION ON %s FROM %s; (or REVOKE %s FROM %s;)", on, role, role, grantee)})
	}
	writes := myWrites
	if schema == "*" {
		writes = append(slices.Clone(myWrites), myGlobalExtra...)
	}
	var bad []string
	for _, p := range privs {
		name, _, _ := strings.Cut(p, " (")
		if name == "ALL PRIVILEGES" || name == "ALL" || slices.Contains(writes, name) {
			bad = append(bad, p)
		}
	}
	if len(bad) == 0 || schema != "*" && !slices.ContainsFunc(a.Schemas, func(s string) bool { return likeMatch(schema, s) }) {
		return
	}
	list := strings.Join(bad, ", ")
	a.Violations = append(a.Violations, Violation{Privilege: list, Object: obj, Via: "through role " + role,
		Fix: fmt.Sprintf("REVOKE %s ON %s FROM %s; (or REVOKE %s FROM %s;)", list, on, role, role, grantee)})
}

// splitPrivs splits "SELECT, UPDATE (`a`, `b`), INSERT" at the commas outside parentheses.
func splitPrivs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// unquote removes MySQL backquotes; * stays *.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// likeMatch reports whether name matches a grant's database pattern, where % and _ are
// wildcards and a backslash escapes them, as MySQL reads database names in GRANT.
func likeMatch(pattern, name string) bool {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			re.WriteString(regexp.QuoteMeta(string(pattern[i])))
		case c == '%':
			re.WriteString(".*")
		case c == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	ok, _ := regexp.MatchString(re.String()+"$", name)
	return ok
}
