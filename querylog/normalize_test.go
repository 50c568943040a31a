package querylog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"placeholders kept", "SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE b = ?"},
		{"dollar params", `SELECT "a" FROM "t" WHERE "b" = $1 AND "c" > $12`, `SELECT "a" FROM "t" WHERE "b" = ? AND "c" > ?`},
		{"string literal", "SELECT a FROM t WHERE b = 'O''Brien' AND c = 'x\\'y'", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{"prefixed literals", "SELECT E'a\\n', N'b', X'0F'", "SELECT ?, ?, ?"},
		{"numbers", "SELECT a FROM t1 WHERE b = 42 AND c < 1.5e-3 AND d = .5 AND e = 0xFF LIMIT 10", "SELECT a FROM t1 WHERE b = ? AND c < ? AND d = ? AND e = ? LIMIT ?"},
		{"identifiers with digits", "SELECT col_2, t1.x3 FROM t1", "SELECT col_2, t1.x3 FROM t1"},
		{"quoted identifiers kept", "SELECT \"12\", `7` FROM \"t 'x'\"", "SELECT \"12\", `7` FROM \"t 'x'\""},
		{"whitespace", "  SELECT\n\ta\r\n  FROM   t  ", "SELECT a FROM t"},
		{"comments", "/* view Invoice */ SELECT a -- trailing\nFROM t", "SELECT a FROM t"},
		{"in list", "SELECT a FROM t WHERE b IN (1, 2, 3) AND c in ($1,$2) AND d IN (?)", "SELECT a FROM t WHERE b IN (?+) AND c in (?+) AND d IN (?+)"},
		{"in subquery kept", "SELECT a FROM t WHERE b IN (SELECT c FROM u)", "SELECT a FROM t WHERE b IN (SELECT c FROM u)"},
		{"any array", `SELECT a FROM t WHERE b = ANY($1)`, `SELECT a FROM t WHERE b = ANY(?)`},
		{"postgres operators", `SELECT j #>> '{a,b}' FROM t`, `SELECT j #>> ? FROM t`},
		{"unterminated string", "SELECT 'abc", "SELECT ?"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Normalize(tc.in)); diff != "" {
				t.Errorf("Normalize(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"different literals", "SELECT a FROM t WHERE b = 1", "SELECT a FROM t WHERE b = 99", true},
		{"literal vs placeholder", "SELECT a FROM t WHERE b = 'x'", "SELECT a FROM t WHERE b = $1", true},
		{"in list lengths", "SELECT a FROM t WHERE b IN (?, ?)", "SELECT a FROM t WHERE b IN (?,?,?,?)", true},
		{"layout", "SELECT a\nFROM t", "SELECT  a FROM t /* c */", true},
		{"different column", "SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE c = ?", false},
		{"different table", "SELECT a FROM t1", "SELECT a FROM t2", false},
		{"different operator", "SELECT a FROM t WHERE b > ?", "SELECT a FROM t WHERE b >= ?", false},
		{"quoted identifier vs literal", `SELECT "x" FROM t`, `SELECT 'x' FROM t`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa, fb := Fingerprint(tc.a), Fingerprint(tc.b)
			if len(fa) != 16 {
				t.Fatalf("Fingerprint(%q) = %q, want 16 hex characters", tc.a, fa)
			}
			if (fa == fb) != tc.same {
				t.Errorf("Fingerprint(%q) = %s, Fingerprint(%q) = %s, want same = %v", tc.a, fa, tc.b, fb, tc.same)
			}
		})
	}
}

func BenchmarkFingerprint(b *testing.B) {
	const q = `SELECT "id", "number", "amount" FROM "reporting"."v_invoices_v1" WHERE "tenant_id" = $1 AND "status" = ANY($2) AND ("issued_at", "id") < ($3, $4) ORDER BY "issued_at" DESC, "id" DESC LIMIT $5`
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint(q)
	}
}
