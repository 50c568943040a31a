package export_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/export"
	"github.com/viewgate/viewgate/gateway"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withRowsPerDay turns quotas on with an export budget of n rows per day, on clk.
func withRowsPerDay(n int64, clk *clock) func(*config.Config, *gateway.Options) {
	return func(c *config.Config, o *gateway.Options) {
		c.Quota = config.DefaultQuota()
		p := c.Quota.Plans[config.StandardPlan]
		ex := p["export"]
		ex.RowsPerDay = n
		p["export"] = ex
		o.Now = clk.Now
	}
}

// TestExportQuotaMidStream: a rows budget that runs out mid-stream ends the stream cleanly with
// a resumable checkpoint; the next export is refused up front with 429 until the day ends; in
// the next window the export resumes, and the pieces make the whole export, no row lost or
// repeated. Without checkpoints NDJSON ends with an @error line that carries the resume token.
func TestExportQuotaMidStream(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	s := newStack(t, "sqlite", "", nil, withRowsPerDay(1000, clk))
	whole := newStack(t, "sqlite", "", nil, nil)
	q := `{ invoices { nodes { number amount customerName } } }`
	want := whole.export(t, demo.KeyAcme, q, nil, "format=csv", nil).body

	first := s.export(t, demo.KeyAcme, q, nil, "format=csv&checkpoints=true", nil)
	data, last := split(t, first.body)
	if last.Kind != export.KindQuota || last.Rows != 1000 || last.RetryAfter != 12*3600 {
		t.Fatalf("first part ends with %+v, want a quota line at 1000 rows, retry in 12h", last)
	}
	if first.trailer.Get(export.TrailerStatus) != "quota" || first.trailer.Get(export.TrailerResume) != last.Token {
		t.Errorf("trailers %v", first.trailer)
	}
	refused := s.export(t, demo.KeyAcme, q, nil, "format=csv", nil)
	if refused.status != http.StatusTooManyRequests || refused.header.Get("Retry-After") != strconv.Itoa(12*3600) ||
		!strings.Contains(string(refused.body), "rows_per_day") {
		t.Fatalf("an export with the budget spent: %d %v %s", refused.status, refused.header.Get("Retry-After"), refused.body)
	}
	clk.advance(12 * time.Hour)
	second := s.export(t, demo.KeyAcme, q, nil, "format=csv&checkpoints=true", map[string]string{"Viewgate-Resume": last.Token})
	rest, end := split(t, second.body)
	if end.Kind != export.KindEnd || end.Rows <= 1000 {
		t.Fatalf("resumed part ends with %+v", end)
	}
	if got := append(data, rest...); !bytes.Equal(got, want) {
		t.Errorf("the two parts (%d bytes) are not the whole export (%d bytes)", len(got), len(want))
	}

	clk.advance(24 * time.Hour)
	if cut := s.export(t, demo.KeyAcme, q, nil, "format=csv", nil); cut.status != 200 || cut.err == nil {
		t.Errorf("a CSV export over the budget without checkpoints: %d, read error %v; want the body cut", cut.status, cut.err)
	}
	clk.advance(24 * time.Hour)
	nd := s.export(t, demo.KeyAcme, q, nil, "format=ndjson", nil)
	lines := strings.Split(strings.TrimSuffix(string(nd.body), "\n"), "\n")
	if n := len(lines); n != 1001 || !strings.HasPrefix(lines[1000], `{"@error":{"message":"the export rows budget is spent`) ||
		!strings.Contains(lines[1000], `"code":"RATE_LIMITED","rows":1000,"resume":"`) {
		t.Fatalf("NDJSON over the budget: %d lines, last %.200s", n, lines[n-1])
	}
}

// split separates an export with checkpoints into its data and its last control line.
func split(t *testing.T, body []byte) ([]byte, export.Control) {
	t.Helper()
	var data bytes.Buffer
	var last export.Control
	sp := &export.Splitter{Data: &data, Format: export.CSV, OnControl: func(c export.Control) error { last = c; return nil }}
	if _, err := sp.Write(body); err != nil {
		t.Fatal(err)
	}
	return data.Bytes(), last
}

// TestExportCostIgnoresRows: an export's request cost is its class weight once, whatever its
// first: rows are the rows budget's business.
func TestExportCostIgnoresRows(t *testing.T) {
	s := newStack(t, "sqlite", "", nil, func(c *config.Config, _ *gateway.Options) { c.Quota = config.DefaultQuota() })
	a := s.export(t, demo.KeyAcme, `{ invoices(first: 900000) { nodes { number } } }`, nil, "format=csv", nil)
	if a.status != 200 || !strings.Contains(a.header.Get("RateLimit"), `"export-tenant-burst";r=90;`) {
		t.Fatalf("%d %q %.200s", a.status, a.header.Get("RateLimit"), a.body)
	}
}

// TestExportFailureAfterFirstByte: a view holding more rows than its max_export_rows fails at
// that row, after the status went out: NDJSON ends with an error line (no resume: resuming
// cannot help), CSV's chunked body is aborted, and with checkpoints a control line says so.
func TestExportFailureAfterFirstByte(t *testing.T) {
	catalog := bytes.Replace(demo.Catalog(), []byte("    export: true\n"), []byte("    export: true\n    max_export_rows: 100\n"), 1)
	s := newStack(t, "sqlite", "", catalog, nil)
	q := `{ invoices { nodes { number } } }`
	nd := s.export(t, demo.KeyAcme, q, nil, "format=ndjson", nil)
	lines := strings.Split(strings.TrimSuffix(string(nd.body), "\n"), "\n")
	if nd.status != 200 || len(lines) != 101 || !strings.HasPrefix(lines[100], `{"@error":{"message":"the export is over the view's max_export_rows`) ||
		!strings.Contains(lines[100], `"code":"QUERY_TOO_COMPLEX","rows":100}}`) || nd.trailer.Get(export.TrailerStatus) != "error" {
		t.Errorf("NDJSON: %d, %d lines, last %s, trailers %v", nd.status, len(lines), lines[len(lines)-1], nd.trailer)
	}
	c := s.export(t, demo.KeyAcme, q, nil, "format=csv", nil)
	if c.status != 200 || c.err == nil {
		t.Errorf("CSV: %d, body read error %v; want the body cut", c.status, c.err)
	}
	cp := s.export(t, demo.KeyAcme, q, nil, "format=csv&checkpoints=true", nil)
	if _, last := split(t, cp.body); last.Kind != export.KindError || last.Code != "QUERY_TOO_COMPLEX" || last.Token != "-" || last.Rows != 100 {
		t.Errorf("with checkpoints: last control %+v", last)
	}
	if first := s.export(t, demo.KeyAcme, `{ invoices(first: 100) { nodes { number } } }`, nil, "format=ndjson", nil); strings.Count(string(first.body), "\n") != 100 ||
		first.trailer.Get(export.TrailerStatus) != "complete" {
		t.Errorf("first: 100 is a whole export: %q", first.trailer)
	}
	if !strings.Contains(s.log.String(), `"exportStatus":"error"`) || !strings.Contains(s.log.String(), "export failed after its first row") {
		t.Errorf("the failure is not logged:\n%s", s.log)
	}
}
