package inspect_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/inspect"
)

// auditCase grants something to a fresh role or user and says what the audit must report:
// every want is a substring of one violation's String(); no want means the audit passes.
type auditCase struct {
	name  string
	grant string // statements, ";"-separated, with {u} for the user
	want  []string
}

func randName(t *testing.T, prefix string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

func execAll(t *testing.T, db *sql.DB, stmts, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range strings.Split(stmts, ";") {
		if s = strings.TrimSpace(strings.ReplaceAll(s, "{u}", user)); s == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func runAudit(t *testing.T, driver, dsn string, schemas []string) *inspect.Audit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := inspect.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.Audit(ctx, schemas)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkAudit(t *testing.T, a *inspect.Audit, want []string) {
	t.Helper()
	var got []string
	for _, v := range a.Violations {
		got = append(got, v.String())
	}
	if len(want) == 0 && len(got) > 0 {
		t.Fatalf("audit of %s should pass, got:\n  %s", a.User, strings.Join(got, "\n  "))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("no violation contains %q; got:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
}

func TestAuditPostgres(t *testing.T) {
	admin := dbtest.Postgres(t)
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Close() })
	const selectViews = "GRANT SELECT ON v_invoices, v_customers, v_products TO {u}"
	cases := []auditCase{
		{"select only", selectViews, nil},
		{"insert", selectViews + "; GRANT INSERT ON erp_invoice TO {u}",
			[]string{"INSERT on table public.erp_invoice (granted to {u}); a DBA should run: REVOKE INSERT ON public.erp_invoice FROM {u};"}},
		{"update", "GRANT UPDATE ON erp_customer TO {u}", []string{"UPDATE on table public.erp_customer", "REVOKE UPDATE ON public.erp_customer FROM {u};"}},
		{"update one column", "GRANT UPDATE (note) ON erp_invoice TO {u}", []string{"UPDATE on table public.erp_invoice (a column grant"}},
		{"delete", "GRANT DELETE ON erp_invoice_line TO {u}", []string{"DELETE on table public.erp_invoice_line", "REVOKE DELETE ON public.erp_invoice_line FROM {u};"}},
		{"truncate", "GRANT TRUNCATE ON erp_product TO {u}", []string{"TRUNCATE on table public.erp_product", "REVOKE TRUNCATE ON public.erp_product FROM {u};"}},
		{"several on a view", "GRANT INSERT, DELETE ON v_products TO {u}", []string{"INSERT, DELETE on view public.v_products", "REVOKE INSERT, DELETE ON public.v_products FROM {u};"}},
		{"to public", "GRANT INSERT ON erp_product TO PUBLIC", []string{"INSERT on table public.erp_product (granted to PUBLIC)", "FROM PUBLIC;"}},
		{"create on schema", "GRANT CREATE ON SCHEMA public TO {u}", []string{"CREATE on schema public", "REVOKE CREATE ON SCHEMA public FROM {u};"}},
		{"superuser", "ALTER ROLE {u} SUPERUSER", []string{"SUPERUSER on role {u}", "ALTER ROLE {u} NOSUPERUSER;"}},
		{"bypassrls", selectViews + "; ALTER ROLE {u} BYPASSRLS", []string{"BYPASSRLS on role {u}", "ALTER ROLE {u} NOBYPASSRLS;"}},
		{"member of a superuser role", "ALTER ROLE {u}_admin SUPERUSER; GRANT {u}_admin TO {u}", []string{"SUPERUSER on role {u} (member of role {u}_admin)", "REVOKE {u}_admin FROM {u};"}},
		{"table owner", "ALTER TABLE erp_product OWNER TO {u}", []string{"OWNER on table public.erp_product (owned by {u})", "ALTER TABLE public.erp_product OWNER TO"}},
		{"inherited through a role", "GRANT DELETE ON erp_invoice TO {u}_writers; GRANT {u}_writers TO {u}",
			[]string{"DELETE on table public.erp_invoice (granted to {u}_writers)", "REVOKE DELETE ON public.erp_invoice FROM {u}_writers;"}},
		// Roles that hold no write privilege on the ERP's tables but can get one, or write
		// elsewhere: each is refused like a write privilege (TestAuditCreateRoleEscalates).
		{"createrole", selectViews + "; ALTER ROLE {u} CREATEROLE", []string{"CREATEROLE on role {u} (it can create roles and, on PostgreSQL 15 and older, grant itself any role",
			"ALTER ROLE {u} NOCREATEROLE;"}},
		{"member of a createrole role", "ALTER ROLE {u}_admin CREATEROLE; GRANT {u}_admin TO {u}",
			[]string{"CREATEROLE on role {u} (member of role {u}_admin: it can create roles", "REVOKE {u}_admin FROM {u};"}},
		{"pg_write_server_files", selectViews + "; GRANT pg_write_server_files TO {u}",
			[]string{"pg_write_server_files on role {u} (member of role pg_write_server_files: writes any file the server can", "REVOKE pg_write_server_files FROM {u};"}},
		{"pg_execute_server_program through a role", "GRANT pg_execute_server_program TO {u}_writers; GRANT {u}_writers TO {u}",
			[]string{"pg_execute_server_program on role {u} (member of role pg_execute_server_program: runs programs", "REVOKE pg_execute_server_program FROM {u}_writers;"}},
		{"pg_read_server_files", "GRANT pg_read_server_files TO {u}", []string{"pg_read_server_files on role {u}", "REVOKE pg_read_server_files FROM {u};"}},
		{"pg_write_all_data", "GRANT pg_write_all_data TO {u}", []string{"pg_write_all_data on role {u} (member of role pg_write_all_data: INSERT, UPDATE and DELETE on every table)",
			"REVOKE pg_write_all_data FROM {u};"}},
		{"pg_read_all_data is reading", selectViews + "; GRANT pg_read_all_data TO {u}", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := randName(t, "vg_audit_")
			execAll(t, adb, "CREATE ROLE {u} LOGIN; CREATE ROLE {u}_admin; CREATE ROLE {u}_writers", role)
			t.Cleanup(func() {
				execAll(t, adb, `REVOKE INSERT ON erp_product FROM PUBLIC; ALTER TABLE erp_product OWNER TO CURRENT_USER;
					DROP OWNED BY {u}, {u}_admin, {u}_writers; DROP ROLE {u}, {u}_admin, {u}_writers`, role)
			})
			execAll(t, adb, tc.grant, role)
			u, _ := url.Parse(admin)
			u.User = url.User(role)
			a := runAudit(t, inspect.Postgres, u.String(), []string{"", "public"})
			for i := range tc.want {
				tc.want[i] = strings.ReplaceAll(tc.want[i], "{u}", role)
			}
			checkAudit(t, a, tc.want)
		})
	}
}

func TestAuditMariaDB(t *testing.T) {
	admin := dbtest.MariaDB(t)
	adb, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Close() })
	cfg, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatal(err)
	}
	db := cfg.DBName
	selectViews := "GRANT SELECT ON " + db + ".v_invoices TO {u}; GRANT SELECT ON " + db + ".v_customers TO {u}; GRANT SELECT ON " + db + ".v_products TO {u}"
	cases := []auditCase{
		{"select only", selectViews, nil},
		{"select on the database", "GRANT SELECT, SHOW VIEW ON " + db + ".* TO {u}", nil},
		{"insert on the database", "GRANT SELECT, INSERT ON " + db + ".* TO {u}",
			[]string{"INSERT on database " + db + ".* (granted to {u}); a DBA should run: REVOKE INSERT ON `" + db + "`.* FROM {u};"}},
		{"update on a table", selectViews + "; GRANT UPDATE ON " + db + ".erp_invoice TO {u}",
			[]string{"UPDATE on table " + db + ".erp_invoice", "REVOKE UPDATE ON `" + db + "`.`erp_invoice` FROM {u};"}},
		{"update on a column", "GRANT UPDATE (note) ON " + db + ".erp_invoice TO {u}",
			[]string{"UPDATE (note) on table " + db + ".erp_invoice", "REVOKE UPDATE (`note`) ON `" + db + "`.`erp_invoice` FROM {u};"}},
		{"delete on a table", "GRANT DELETE ON " + db + ".erp_invoice_line TO {u}", []string{"DELETE on table " + db + ".erp_invoice_line"}},
		{"drop (truncate)", "GRANT DROP ON " + db + ".erp_product TO {u}", []string{"DROP on table " + db + ".erp_product"}},
		{"create on the database", "GRANT CREATE ON " + db + ".* TO {u}", []string{"CREATE on database " + db + ".*", "REVOKE CREATE ON `" + db + "`.* FROM {u};"}},
		{"all on the database", "GRANT ALL ON " + db + ".* TO {u}", []string{"DELETE, DELETE HISTORY, DROP, INDEX, INSERT", "on database " + db + ".*"}},
		{"database pattern", "GRANT INSERT ON `" + strings.ReplaceAll(db[:7], "_", `\_`) + "%`.* TO {u}", []string{"INSERT on database " + strings.ReplaceAll(db[:7], "_", `\_`) + "%.*"}},
		{"global insert", "GRANT INSERT ON *.* TO {u}", []string{"INSERT on *.* (every database) (granted to {u}); a DBA should run: REVOKE INSERT ON *.* FROM {u};"}},
		{"global super", selectViews + "; GRANT SUPER ON *.* TO {u}", []string{"SUPER on *.*"}},
		{"through a role", "CREATE ROLE {r}; GRANT INSERT ON " + db + ".* TO {r}; GRANT SELECT ON " + db + ".* TO {u}; GRANT {r} TO {u}",
			[]string{"INSERT on database " + db + ".* (through role `{r}`); a DBA should run: REVOKE INSERT ON `" + db + "`.* FROM `{r}`; (or REVOKE `{r}` FROM {u};)"}},
		{"through a nested role", "CREATE ROLE {r}; CREATE ROLE {r}x; GRANT UPDATE (note), DELETE ON " + db + ".erp_invoice TO {r}x; GRANT {r}x TO {r}; GRANT {r} TO {u}; GRANT SELECT ON " + db + ".* TO {u}",
			[]string{"UPDATE (`note`), DELETE on table " + db + ".erp_invoice (through role `{r}x`)"}},
		{"role with global all", "CREATE ROLE {r}; GRANT ALL ON *.* TO {r}; GRANT {r} TO {u}; GRANT SELECT ON " + db + ".* TO {u}", []string{"ALL PRIVILEGES on *.* (every database) (through role `{r}`)"}},
		{"role with select only", "CREATE ROLE {r}; GRANT SELECT ON " + db + ".* TO {r}; GRANT {r} TO {u}; SET DEFAULT ROLE {r} FOR {u}", nil},
		{"global all", "GRANT ALL ON *.* TO {u}", []string{"SUPER", "INSERT", "on *.* (every database)", "REVOKE ALL PRIVILEGES, GRANT OPTION FROM {u};"}},
		// Privileges that write nothing in the ERP themselves, but lead there or elsewhere.
		{"file", selectViews + "; GRANT FILE ON *.* TO {u}", []string{"FILE on *.* (every database) (granted to {u}); a DBA should run: REVOKE FILE ON *.* FROM {u};"}},
		{"create user", selectViews + "; GRANT CREATE USER ON *.* TO {u}", []string{"CREATE USER on *.* (every database)", "REVOKE CREATE USER ON *.* FROM {u};"}},
		{"grant option on the database", "GRANT SELECT ON " + db + ".* TO {u} WITH GRANT OPTION",
			[]string{"GRANT OPTION on database " + db + ".* (granted to {u}: it can hand its privileges to other accounts); a DBA should run: REVOKE GRANT OPTION ON `" + db + "`.* FROM {u};"}},
		{"grant option on a view", selectViews + "; GRANT SELECT ON " + db + ".v_products TO {u} WITH GRANT OPTION",
			[]string{"GRANT OPTION on table " + db + ".v_products", "REVOKE GRANT OPTION ON `" + db + "`.`v_products` FROM {u};"}},
		{"grant option on another database", selectViews + "; GRANT SELECT ON mysql.db TO {u} WITH GRANT OPTION", []string{"GRANT OPTION on table mysql.db"}},
		{"global grant option", selectViews + "; GRANT USAGE ON *.* TO {u} WITH GRANT OPTION", []string{"GRANT OPTION on *.* (every database)", "REVOKE GRANT OPTION ON *.* FROM {u};"}},
		{"grant option through a role", selectViews + "; CREATE ROLE {r}; GRANT SELECT ON " + db + ".* TO {r} WITH GRANT OPTION; GRANT {r} TO {u}",
			[]string{"GRANT OPTION on database " + db + ".* (through role `{r}`: it can hand its privileges to other accounts); a DBA should run: REVOKE GRANT OPTION ON `" + db + "`.* FROM `{r}`;"}},
		{"file through a role", selectViews + "; CREATE ROLE {r}; GRANT FILE, CREATE USER ON *.* TO {r}; GRANT {r} TO {u}",
			[]string{"FILE, CREATE USER on *.* (every database) (through role `{r}`)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := randName(t, "vga_")
			user := "'" + name + "'@'%'"
			role := name + "_r"
			execAll(t, adb, "CREATE USER {u} IDENTIFIED BY 'audit-pw'", user)
			t.Cleanup(func() {
				execAll(t, adb, "DROP USER {u}; DROP ROLE IF EXISTS "+role+"; DROP ROLE IF EXISTS "+role+"x", user)
			})
			execAll(t, adb, strings.ReplaceAll(tc.grant, "{r}", role), user)
			c := cfg.Clone()
			c.User, c.Passwd = name, "audit-pw"
			a := runAudit(t, inspect.MySQL, c.FormatDSN(), []string{""})
			if a.User != name+"@%" {
				t.Fatalf("connected as %s, want %s@%%", a.User, name)
			}
			for i := range tc.want {
				tc.want[i] = strings.ReplaceAll(strings.ReplaceAll(tc.want[i], "{u}", user), "{r}", role)
			}
			checkAudit(t, a, tc.want)
		})
	}
}

// TestAuditCreateRoleEscalates shows why CREATEROLE is refused: on PostgreSQL 15 and older such
// a role grants itself pg_write_all_data and then writes, with no write privilege of its own
// beforehand. The audit must refuse it before it does.
func TestAuditCreateRoleEscalates(t *testing.T) {
	admin := dbtest.Postgres(t)
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Close() })
	role := randName(t, "vg_cr_")
	execAll(t, adb, "CREATE ROLE {u} LOGIN CREATEROLE; GRANT SELECT ON v_invoices, v_customers, v_products TO {u}", role)
	t.Cleanup(func() { execAll(t, adb, "DROP OWNED BY {u}; DROP ROLE {u}", role) })
	u, _ := url.Parse(admin)
	u.User = url.User(role)
	checkAudit(t, runAudit(t, inspect.Postgres, u.String(), []string{""}), []string{"CREATEROLE on role " + role})
	var version int
	if err := adb.QueryRow("SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version >= 160000 {
		t.Logf("PostgreSQL %d: CREATEROLE can no longer grant roles it does not administer", version)
		return
	}
	rdb, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	execAll(t, rdb, "GRANT pg_write_all_data TO {u}; INSERT INTO erp_product (id, sku, name, unit_price, active) VALUES (999999, 'X-0', 'x', 1, true)", role)
}
