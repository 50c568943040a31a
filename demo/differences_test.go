package demo_test

import (
	"database/sql"
	"testing"

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
