package querylog

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 11, 28, 15, 4, 5, 123456000, time.UTC)

func entry(d time.Duration, errCode string) Entry {
	return Entry{
		Time: at, RequestID: "req-1", Tenant: "acme", Credential: "key-7", View: "Invoice",
		Class: "lookup", Source: "erp-replica-1", Duration: d, Rows: 50, ErrorCode: errCode,
		SQL: `SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
	}
}

func TestLogJSONLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Entry
		slow time.Duration
		want map[string]any
	}{
		{
			name: "fast success",
			e:    entry(1500*time.Microsecond, ""),
			slow: 500 * time.Millisecond,
			want: map[string]any{
				"time": "2026-11-28T15:04:05.123456Z", "level": "INFO", "msg": "query",
				"requestId": "req-1", "tenant": "acme", "credential": "key-7", "view": "Invoice",
				"class": "lookup", "source": "erp-replica-1",
				"fingerprint": Fingerprint(`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = ? LIMIT ?`),
				"sql":         `SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
				"durationMs":  1.5, "rows": 50.0, "slow": false,
			},
		},
		{
			name: "slow failure",
			e:    entry(500*time.Millisecond, "TIMEOUT"),
			slow: 500 * time.Millisecond,
			want: map[string]any{
				"time": "2026-11-28T15:04:05.123456Z", "level": "INFO", "msg": "query",
				"requestId": "req-1", "tenant": "acme", "credential": "key-7", "view": "Invoice",
				"class": "lookup", "source": "erp-replica-1",
				"fingerprint": Fingerprint(`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = ? LIMIT ?`),
				"sql":         `SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
				"durationMs":  500.0, "rows": 50.0, "error": "TIMEOUT", "slow": true,
			},
		},
		{
			name: "threshold zero is never slow",
			e:    entry(time.Hour, ""),
			want: map[string]any{
				"time": "2026-11-28T15:04:05.123456Z", "level": "INFO", "msg": "query",
				"requestId": "req-1", "tenant": "acme", "credential": "key-7", "view": "Invoice",
				"class": "lookup", "source": "erp-replica-1",
				"fingerprint": Fingerprint(`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = ? LIMIT ?`),
				"sql":         `SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
				"durationMs":  3600000.0, "rows": 50.0, "slow": false,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			New(&out, tc.slow, nil).Log(tc.e)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1:\n%s", len(lines), out.String())
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatalf("decode %q: %v", lines[0], err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogSlowRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Entry
		want string
	}{
		{
			name: "slow entry",
			e:    entry(512345*time.Microsecond, ""),
			want: `# Time: 2026-11-28T15:04:05.123456Z
# User@Host: key-7[acme] @ viewgate []  Id: 0
# Request_id: req-1  View: Invoice  Class: lookup  Source: erp-replica-1  Error: -
# Query_time: 0.512345  Lock_time: 0.000000 Rows_sent: 50  Rows_examined: 0
SET timestamp=1795878245;
SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2;
`,
		},
		{
			name: "fields that would break the format",
			e: Entry{Time: at, Credential: "key 7]@x", Tenant: "a[b", RequestID: "r 1", Duration: time.Second,
				ErrorCode: "TIMEOUT", SQL: "SELECT a\n# Time: 1\nFROM t;"},
			want: `# Time: 2026-11-28T15:04:05.123456Z
# User@Host: key_7__x[a_b] @ viewgate []  Id: 0
# Request_id: r_1  View: -  Class: -  Source: -  Error: TIMEOUT
# Query_time: 1.000000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0
SET timestamp=1795878245;
SELECT a # Time: 1 FROM t;
`,
		},
		{name: "fast entry", e: entry(499*time.Millisecond, ""), want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, slow bytes.Buffer
			New(&out, 500*time.Millisecond, &slow).Log(tc.e)
			if diff := cmp.Diff(tc.want, slow.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestLogConcurrent is meant for -race: every line stays whole and valid JSON.
func TestLogConcurrent(t *testing.T) {
	var out, slow bytes.Buffer
	var slowMu sync.Mutex
	l := New(lockedWriter{&out, new(sync.Mutex)}, time.Millisecond, lockedWriter{&slow, &slowMu})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				l.Log(entry(time.Duration(i%3)*time.Millisecond, ""))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	for _, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("invalid JSON line %q", line)
		}
	}
	if got := strings.Count(slow.String(), "# Time: "); got != 8*66 {
		t.Errorf("got %d slow records, want %d", got, 8*66)
	}
}

// lockedWriter lets the test read the buffer the logger writes; the logger itself
// serialises its writes.
type lockedWriter struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestSlowLogReadByPtQueryDigest feeds the slow log to pt-query-digest when installed.
func TestSlowLogReadByPtQueryDigest(t *testing.T) {
	pt, err := exec.LookPath("pt-query-digest")
	if err != nil {
		t.Skip("pt-query-digest not installed")
	}
	var slow bytes.Buffer
	l := New(&bytes.Buffer{}, time.Millisecond, &slow)
	for i, q := range []string{
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
		`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`,
		`SELECT "id" FROM "v_orders" WHERE "tenant_id" = $1 AND "status" = ANY($2) LIMIT $3`,
	} {
		e := entry(time.Duration(i+1)*100*time.Millisecond, "")
		e.SQL = q
		l.Log(e)
	}
	path := filepath.Join(t.TempDir(), "slow.log")
	if err := os.WriteFile(path, slow.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	report, err := exec.Command(pt, "--group-by", "View", "--limit", "100%", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pt-query-digest: %v\n%s", err, report)
	}
	for _, want := range []string{"3 total", "Invoice"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
