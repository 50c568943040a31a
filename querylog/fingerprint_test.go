package querylog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fingerprintCases are statements whose fingerprints pt-query-digest computes the same way
// (TestPtQueryDigestAgrees feeds every one of them to it).
var fingerprintCases = []struct{ name, sql, want string }{
	{"postgres page", `SELECT "id", "number" FROM "reporting"."v_invoices_v1" WHERE "tenant_id" = $1 AND ("issued_at", "id") < ($2, $3) ORDER BY "issued_at" DESC, "id" DESC LIMIT $4`,
		`select ?, ? from ?? where ? = $? and (?, ?) < ($?, $?) order by ? desc, ? desc limit $?`},
	{"mariadb page", "SELECT `id`, `amount` FROM `v_invoices` WHERE `tenant_id` = ? AND `status` IN (?, ?, ?) AND CAST(`number` AS BINARY) = ? ORDER BY `issued_at` IS NULL ASC, `issued_at` ASC LIMIT ?",
		"select `id`, `amount` from `v_invoices` where `tenant_id` = ? and `status` in(?+) and cast(`number` as binary) = ? order by `issued_at` is ?, `issued_at` limit ?"},
	{"numbers in identifiers", "SELECT col_2, t1.x3, sub1 FROM t1 WHERE a = 0xFF AND b = -1.5e3 AND c = 'it''s' AND d = \"q\"",
		"select col_?, t?, su? from t? where a = ?ff and b = ? and c = ?? and d = ?"},
	{"comments and blanks", "/* view Invoice */ SELECT a\nFROM   t\n\tWHERE b = TRUE OR c IS NULL # hash",
		"select a from t where b = ? or c is ? "},
	// The slow log holds a statement on one line, so a line comment runs to its end.
	{"line comment", "SELECT a -- trailing\nFROM t", "select a "},
	{"limit offset", "SELECT a FROM t LIMIT 10 OFFSET 20", "select a from t limit ?"},
	{"limit comma", "SELECT a FROM t LIMIT 5, 10", "select a from t limit ?"},
	{"values list", "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "insert into t (a, b) values(?+)"},
	{"union", "SELECT a FROM t WHERE b = 1 UNION ALL SELECT a FROM t WHERE b = 2", "select a from t where b = ? /*repeat union all*/"},
	{"call", "CALL proc(1, 2)", "call proc"},
	{"any array", `SELECT a FROM t WHERE b = ANY($1) AND lower(c) LIKE lower($2) ESCAPE '!'`, "select a from t where b = any($?) and lower(c) like lower($?) escape ?"},
	{"ascending names", "SELECT a FROM t ORDER BY ascii_col ASC, b ASC", "select a from t order by ascii_col, b"},
}

func TestFingerprint(t *testing.T) {
	for _, tc := range fingerprintCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Fingerprint(tc.sql)); diff != "" {
				t.Errorf("Fingerprint(%q) (-want +got):\n%s", tc.sql, diff)
			}
		})
	}
}

// TestQueryIDStable pins query IDs: they must never change between releases, since DBAs keep
// them in tickets and compare them with pt-query-digest's.
func TestQueryIDStable(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`, "0xEFB664D364E6DFF85C411547197BC4E0"},
		{"SELECT `id` FROM `v_invoices` WHERE `tenant_id` = ? LIMIT ?", "0xAFF206B9A10C79835BF3A1CD018C17E8"},
	} {
		if got := QueryID(tc.sql); got != tc.want {
			t.Errorf("QueryID(%q) = %s, want %s", tc.sql, got, tc.want)
		}
	}
}

func BenchmarkQueryID(b *testing.B) {
	const q = `SELECT "id", "number", "amount" FROM "reporting"."v_invoices_v1" WHERE "tenant_id" = $1 AND "status" = ANY($2) AND ("issued_at", "id") < ($3, $4) ORDER BY "issued_at" DESC, "id" DESC LIMIT $5`
	b.ReportAllocs()
	for b.Loop() {
		QueryID(q)
	}
}
