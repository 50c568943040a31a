package querylog

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// genLogs writes n statements over three shapes, with durations and rows known in advance, to
// a JSON query log and a slow log (threshold 0, so both hold every statement), and returns the
// expected totals per query ID.
func genLogs(t *testing.T, n int) (jsonLog, slowLog []byte, want map[string]*expect) {
	t.Helper()
	var js, slow bytes.Buffer
	l := New(Options{JSON: &js, Slow: &slow, Threshold: 0})
	shapes := []struct{ sql, view, class, replica string }{
		{`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 LIMIT $2`, "invoices", "lookup", "erp-a"},
		{`SELECT "id" FROM "v_invoices" WHERE "tenant_id" = $1 AND lower("name") LIKE lower($2) ESCAPE '!' LIMIT $3`, "invoices", "search", "erp-b"},
		{"SELECT `id` FROM `v_orders` WHERE `tenant_id` = ? LIMIT ?", "orders", "lookup", "erp-a"},
	}
	want = map[string]*expect{}
	for i := range n {
		s := shapes[i%len(shapes)]
		// Durations 1..1000 ms in a scrambled order, so the sketch sees a spread.
		d := time.Duration((i*7919)%1000+1) * time.Millisecond
		e := Entry{Time: at.Add(time.Duration(i) * time.Second), RequestID: "r", Tenant: []string{"acme", "globex"}[i%2],
			View: s.view, Class: s.class, Source: "erp", Replica: s.replica, SQL: s.sql, Duration: d, Rows: i % 50}
		l.Log(e)
		id := QueryID(s.sql)
		if want[id] == nil {
			want[id] = &expect{}
		}
		want[id].add(d, int64(e.Rows))
	}
	return js.Bytes(), slow.Bytes(), want
}

type expect struct {
	calls     int64
	total     time.Duration
	max       time.Duration
	rows      int64
	durations []time.Duration
}

func (x *expect) add(d time.Duration, rows int64) {
	x.calls++
	x.total += d
	x.max = max(x.max, d)
	x.rows += rows
	x.durations = append(x.durations, d)
}

// p95 is the exact 95th percentile, as HDR histograms define it (the value at or below which
// 95% of the values fall).
func (x *expect) p95() float64 {
	ds := slices.Clone(x.durations)
	slices.Sort(ds)
	i := int(math.Ceil(0.95*float64(len(ds)))) - 1
	return ds[i].Seconds()
}

func checkDigest(t *testing.T, rep Report, want map[string]*expect) {
	t.Helper()
	if len(rep.Groups) != len(want) {
		t.Fatalf("%d groups, want %d", len(rep.Groups), len(want))
	}
	var total time.Duration
	for _, x := range want {
		total += x.total
	}
	for i, g := range rep.Groups {
		x := want[g.QueryID]
		if x == nil {
			t.Fatalf("unexpected group %s", g.QueryID)
		}
		if i > 0 && g.Total > rep.Groups[i-1].Total {
			t.Errorf("group %d has more total time than the one ranked above it", g.Rank)
		}
		got := []float64{float64(g.Calls), g.Total, g.Max, float64(g.Rows), g.Share}
		exp := []float64{float64(x.calls), x.total.Seconds(), x.max.Seconds(), float64(x.rows), x.total.Seconds() / total.Seconds()}
		if diff := cmp.Diff(exp, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(a)) })); diff != "" {
			t.Errorf("%s calls, total, max, rows, share (-want +got):\n%s", g.QueryID, diff)
		}
		if p := x.p95(); math.Abs(g.P95-p) > p*SketchError+1e-6 {
			t.Errorf("%s p95 = %v, want %v within %v", g.QueryID, g.P95, p, SketchError)
		}
	}
}

// TestDigestKnownTotals: on generated logs, JSON and slow log alike, the digest's counts, sums
// and maxima are exact and its p95 is within the sketch's error.
func TestDigestKnownTotals(t *testing.T) {
	js, slow, want := genLogs(t, 3000)
	for name, data := range map[string][]byte{"json": js, "slow": slow} {
		t.Run(name, func(t *testing.T) {
			d, _ := NewDigest(DigestOptions{})
			if err := d.ReadLog(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if d.Skipped != 0 || d.Counted != 3000 {
				t.Fatalf("counted %d, skipped %d; want 3000, 0", d.Counted, d.Skipped)
			}
			checkDigest(t, d.Report(0), want)
		})
	}
}

// TestDigestRotatedGzip: a rotated set (two gzipped, one plain, the live file) named in any
// order is read oldest first and sums to the same totals as the whole log.
func TestDigestRotatedGzip(t *testing.T) {
	_, slow, want := genLogs(t, 1200)
	recs := strings.SplitAfter(string(slow), ";\n# Time: ")
	dir := t.TempDir()
	names := []string{"slow.log.3.gz", "slow.log.2.gz", "slow.log.1", "slow.log"}
	per := len(recs) / len(names)
	for i, name := range names {
		part := recs[i*per:]
		if i < len(names)-1 {
			part = recs[i*per : (i+1)*per]
		}
		text := strings.Join(part, "")
		// Each piece must start a record: put back the "# Time: " the split left on the previous one.
		text = strings.TrimSuffix(text, "# Time: ")
		if i > 0 {
			text = "# Time: " + text
		}
		if i < len(names)-1 {
			text += "\n"
		}
		data := []byte(text)
		if strings.HasSuffix(name, ".gz") {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(data)
			_ = zw.Close()
			data = b.Bytes()
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, n := range []string{"slow.log", "slow.log.1", "slow.log.3.gz", "slow.log.2.gz"} {
		paths = append(paths, filepath.Join(dir, n))
	}
	d, _ := NewDigest(DigestOptions{})
	if err := d.ReadFiles(paths); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range d.Files {
		order = append(order, filepath.Base(f))
	}
	if diff := cmp.Diff(names, order); diff != "" {
		t.Errorf("read order (-want +got):\n%s", diff)
	}
	if d.Skipped != 0 || d.Counted != 1200 {
		t.Fatalf("counted %d, skipped %d; want 1200, 0", d.Counted, d.Skipped)
	}
	checkDigest(t, d.Report(0), want)
	if !d.First.Equal(at) || !d.Last.Equal(at.Add(1199*time.Second)) {
		t.Errorf("span %v .. %v, want %v .. %v", d.First, d.Last, at, at.Add(1199*time.Second))
	}
}

// TestDigestMalformed: broken lines and records are skipped and counted, the rest is read.
func TestDigestMalformed(t *testing.T) {
	js, slow, _ := genLogs(t, 30)
	lines := strings.SplitAfter(string(js), "\n")
	brokenJSON := strings.Join(lines[:10], "") + "{not json\n" + `{"msg":"query","sql":"SELECT 1"}` + "\n" +
		`{"time":"2026-11-28T15:04:05Z","level":"INFO","msg":"request","path":"/graphql"}` + "\n" + strings.Join(lines[10:], "")
	brokenSlow := strings.Replace(string(slow), "# Query_time: 0.", "# Query_time: x.", 1) + "garbage without a header\n"
	for _, tc := range []struct {
		name            string
		data            string
		counted, broken int
	}{
		{"json", brokenJSON, 30, 2},
		{"slow", brokenSlow, 29, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := NewDigest(DigestOptions{})
			if err := d.ReadLog(strings.NewReader(tc.data)); err != nil {
				t.Fatalf("a malformed entry is fatal: %v", err)
			}
			if d.Counted != tc.counted || d.Skipped != tc.broken {
				t.Errorf("counted %d, skipped %d; want %d, %d", d.Counted, d.Skipped, tc.counted, tc.broken)
			}
		})
	}
}

// TestDigestFilters: -since, -until and -min-time select statements; grouping by view, tenant,
// class or replica keys the groups by that field.
func TestDigestFilters(t *testing.T) {
	js, _, _ := genLogs(t, 300)
	slow := 0 // statements of at least 500 ms, by genLogs's formula
	for i := range 300 {
		if (i*7919)%1000+1 >= 500 {
			slow++
		}
	}
	for _, tc := range []struct {
		name    string
		o       DigestOptions
		counted int
		keys    []string
	}{
		{"since until", DigestOptions{GroupBy: ByClass, Since: at.Add(100 * time.Second), Until: at.Add(200 * time.Second)}, 100, []string{"lookup", "search"}},
		{"min time", DigestOptions{GroupBy: ByView, MinTime: 500 * time.Millisecond}, slow, []string{"invoices", "orders"}},
		{"tenant", DigestOptions{GroupBy: ByTenant}, 300, []string{"acme", "globex"}},
		{"replica", DigestOptions{GroupBy: ByReplica}, 300, []string{"erp-a", "erp-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := NewDigest(tc.o)
			if err := d.ReadLog(bytes.NewReader(js)); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, g := range d.Report(0).Groups {
				keys = append(keys, g.Key)
			}
			slices.Sort(keys)
			if d.Counted != tc.counted || !slices.Equal(keys, tc.keys) {
				t.Errorf("counted %d, keys %v; want %d, %v", d.Counted, keys, tc.counted, tc.keys)
			}
		})
	}
}

// TestDigestText: the text report fits 100 columns and shows the latest plan of a query ID.
func TestDigestText(t *testing.T) {
	var js bytes.Buffer
	l := New(Options{JSON: &js, Threshold: 0})
	e := entry(20*time.Millisecond, "")
	for i, plan := range []string{
		`[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "invoices", "Total Cost": 10.5, "Plan Rows": 3}}]`,
		`[{"Plan": {"Node Type": "Limit", "Total Cost": 4.2, "Plan Rows": 51, "Plans": [{"Node Type": "Index Scan", "Index Name": "inv_tenant", "Relation Name": "invoices", "Total Cost": 4.1, "Plan Rows": 51}]}}]`,
	} {
		e.Time = at.Add(time.Duration(i) * time.Minute)
		l.write(&e, QueryID(e.SQL), true, []byte(plan), "")
	}
	d, _ := NewDigest(DigestOptions{})
	if err := d.ReadLog(&js); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := d.Report(20).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if n := len([]rune(line)); n > textWidth {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	for _, want := range []string{QueryID(testSQL), "Limit  (cost 4.20, rows 51)", "  Index Scan using inv_tenant on invoices", "plan on erp-a at 2026-11-28T15:05:05Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Seq Scan") {
		t.Errorf("report shows an older plan:\n%s", out.String())
	}
}

func TestRotationOrder(t *testing.T) {
	got := RotationOrder([]string{"q.log", "slow.log", "slow.log.1", "q.log-20261128.gz", "slow.log.10.gz", "slow.log.2.gz", "q.log-20261127.gz"})
	want := []string{"q.log-20261127.gz", "q.log-20261128.gz", "q.log", "slow.log.10.gz", "slow.log.2.gz", "slow.log.1", "slow.log"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
