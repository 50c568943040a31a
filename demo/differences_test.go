package demo_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
)

// checkDifferences pins where the engines disagree on the same SQL over the same data, so
// viewgate's dialect code knows what it must even out (or document). MariaDB's database uses
// utf8mb4_general_ci on purpose: case- and accent-insensitive, trailing spaces ignored.
func checkDifferences(t *testing.T, db *sql.DB, engine string) {
	cases := []struct {
		name, sql string
		want      map[string][][]string // by engine
	}{
		{
			name: "equality ignores case and trailing space on MariaDB",
			sql:  `SELECT id FROM v_customers WHERE tenant_id = 'acme' AND name = 'hansen' ORDER BY id`,
			want: map[string][][]string{"sqlite": nil, "postgres": nil, "mariadb": {{"2"}, {"3"}}},
		},
		{
			name: "equality ignores accents on MariaDB",
			sql:  `SELECT id FROM v_customers WHERE tenant_id = 'acme' AND name = 'Muller' ORDER BY id`,
			want: map[string][][]string{"sqlite": {{"8"}}, "postgres": {{"8"}}, "mariadb": {{"6"}, {"8"}}},
		},
		{
			name: "LIKE is case-insensitive for ASCII on SQLite and MariaDB",
			sql:  `SELECT id FROM v_customers WHERE tenant_id = 'acme' AND name LIKE 'acme%' ORDER BY id`,
			want: map[string][][]string{"sqlite": {{"14"}, {"15"}}, "postgres": {{"14"}}, "mariadb": {{"14"}, {"15"}}},
		},
		{
			name: "backslash escapes in LIKE on MariaDB and Postgres only",
			sql:  `SELECT note FROM v_invoices WHERE note LIKE '%back\slash%'`,
			want: map[string][][]string{"sqlite": {{`back\slash`}}, "postgres": {{"backslash"}}, "mariadb": {{"backslash"}}},
		},
		{
			name: "ORDER BY name: code points on SQLite and Postgres (C.UTF-8), folded on MariaDB",
			sql:  `SELECT id FROM v_customers WHERE id <= 15 ORDER BY name, id`,
			want: map[string][][]string{
				"sqlite":   col("15", "2", "3", "1", "7", "8", "6", "13", "10", "9", "14", "5", "11", "4", "12"),
				"postgres": col("15", "2", "3", "1", "7", "8", "6", "13", "10", "9", "14", "5", "11", "4", "12"),
				"mariadb":  col("14", "15", "5", "11", "12", "1", "2", "3", "7", "6", "8", "13", "9", "10", "4"),
			},
		},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want[engine], queryRows(t, db, tc.sql, "s")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func col(vals ...string) [][]string {
	out := make([][]string, len(vals))
	for i, v := range vals {
		out[i] = []string{v}
	}
	return out
}

// checkUTF8MB3 pins the MariaDB demo's utf8mb3 columns (codes and names, as in many real
// ERPs) and why viewgate cannot compare them naively: a plain comparison with a character
// outside the Basic Multilingual Plane fails with 1267 or 1270 ("Illegal mix of collations")
// where Postgres and SQLite find nothing.
func checkUTF8MB3(t *testing.T, db *sql.DB) {
	got := queryRows(t, db, `SELECT CONCAT(table_name, '.', column_name), collation_name FROM information_schema.columns
		WHERE table_schema = DATABASE() AND character_set_name = 'utf8mb3' AND table_name LIKE 'erp%' ORDER BY 1`, "ss")
	want := [][]string{
		{"erp_customer.name", "utf8mb3_general_ci"}, {"erp_customer.tenant_id", "utf8mb3_general_ci"},
		{"erp_invoice.currency", "utf8mb3_general_ci"}, {"erp_invoice.number", "utf8mb3_general_ci"},
		{"erp_invoice.status", "utf8mb3_general_ci"}, {"erp_invoice.tenant_id", "utf8mb3_general_ci"},
		{"erp_product.name", "utf8mb3_unicode_ci"}, {"erp_product.sku", "utf8mb3_unicode_ci"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("utf8mb3 columns (-want +got):\n%s", diff)
	}
	for stmt, code := range map[string]uint16{
		"SELECT id FROM v_customers WHERE name = ?":         1267,
		"SELECT id FROM v_customers WHERE name IN (?, 'a')": 1270,
	} {
		rows, err := db.Query(stmt, "\U0001F600")
		if err == nil {
			rows.Close()
		}
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != code {
			t.Errorf("%s with an emoji: %v, want error %d", stmt, err, code)
		}
	}
}
