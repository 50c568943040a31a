package querylog

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLineMatchesSlog: the hand-written line is, byte for byte, what slog's JSON handler
// writes for the same entry.
func TestLineMatchesSlog(t *testing.T) {
	odd := "a\"b\\c\n\r\t\x00\x1f\x7f<>&\u2028\u2029é😀\xff\xfe end"
	base := Entry{
		Time: time.Date(2026, 12, 2, 1, 2, 3, 456789012, time.FixedZone("x", 3600)), RequestID: "req-1",
		Tenant: "acme", Credential: "demo-acme", View: "invoices", Class: "lookup", Source: "erp", Replica: "primary",
		SQL: `SELECT "id" FROM "v" WHERE ("tenant_id" = $1) LIMIT $2`, Duration: 1500 * time.Microsecond, Rows: 50,
	}
	edits := []func(*Entry){
		func(*Entry) {},
		func(e *Entry) { e.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736" },
		func(e *Entry) { e.Bytes, e.ErrorCode = 1234, "TIMEOUT" },
		func(e *Entry) {
			e.Tenant, e.Credential, e.View, e.SQL, e.RequestID, e.Replica = odd, odd, odd, odd, odd, ""
		},
		func(e *Entry) { e.Duration = 0 },
		func(e *Entry) { e.Duration = 1 },
		func(e *Entry) { e.Duration = 3*time.Hour + 7 },
		func(e *Entry) { e.Duration = 123456789 },
		func(e *Entry) { e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		func(e *Entry) { e.Rows = -1 },
	}
	for i, edit := range edits {
		for _, slow := range []bool{false, true} {
			e := base
			edit(&e)
			var want bytes.Buffer
			l := New(Options{JSON: &want})
			if err := l.writeSlog(&e, "0xABC", slow, nil, ""); err != nil {
				t.Fatal(err)
			}
			got := appendLine(nil, &e, "0xABC", slow)
			if diff := cmp.Diff(want.String(), string(got)); diff != "" {
				t.Errorf("entry %d slow %v (-slog +line):\n%s", i, slow, diff)
			}
		}
	}
}

// TestLineAllocations: writing a line costs no allocation once the logger's buffer has grown.
func TestLineAllocations(t *testing.T) {
	var out bytes.Buffer
	l := New(Options{JSON: &out, Threshold: time.Hour})
	e := Entry{Time: time.Now(), RequestID: "r", Tenant: "acme", SQL: "SELECT 1", Duration: time.Millisecond}
	n := testing.AllocsPerRun(100, func() {
		out.Reset()
		_ = l.writeJSON(&e, "0x1", false, nil, "")
	})
	if n > 2 {
		t.Errorf("writeJSON allocates %v times, want at most 2", n)
	}
}
