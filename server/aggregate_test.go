package server_test

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
)

const aggregateQuery = `{"query":"{ invoicesAggregate(groupBy: [{field: STATUS}]) { totals { count } groups { key { status } count } } }"}`

// TestAggregateReportClass: an aggregate is planned as the report class at weight(report) ×
// scan_cost (5 × 1 in the demo), charged to the report windows, logged with class report, and
// held to the report concurrency cap while it runs.
func TestAggregateReportClass(t *testing.T) {
	src := openSource(t, "sqlite", "", 5*time.Second)
	gate := &gatedSource{Source: src, entered: make(chan struct{}, 1), release: make(chan struct{})}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newStackConfig(t, src, demo.Catalog(), nil, func(o *gateway.Options) {
		q := config.DemoQuota()
		report := q.Plans[config.StandardPlan]["report"]
		report.Concurrency = 1
		q.Plans[config.StandardPlan]["report"] = report
		o.Config.Quota = q
		o.Now = func() time.Time { return now }
		o.Sources = map[string]gateway.Source{demo.SourceName: gate}
	})
	post := func() (int, string, string) {
		rec := s.do(t, "POST", "application/json", "acme", strings.NewReader(aggregateQuery), "")
		return rec.Code, rec.Header().Get("RateLimit"), rec.Body.String()
	}
	done := make(chan string)
	go func() {
		code, _, body := post()
		done <- strconv.Itoa(code) + " " + body
	}()
	select {
	case <-gate.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first aggregate never reached the database")
	}
	// The first holds the tenant's one report slot: the second is refused before any SQL.
	if code, _, body := post(); code != 429 || !strings.Contains(body, "report") {
		t.Errorf("a second concurrent aggregate: %d %s, want 429 for the report class", code, body)
	}
	close(gate.release)
	first := <-done
	if !strings.HasPrefix(first, "200 ") || !strings.Contains(first, `"class":"report"`) || !strings.Contains(first, `"requested":5}`) {
		t.Fatalf("first aggregate: %s", first)
	}
	// 20 report units per 10 s, 5 an aggregate. The refusal at the cap burnt nothing (the slot is
	// taken before the charge), so 15 are left: three more pass, then 429.
	for i := range 3 {
		if code, limit, body := post(); code != 200 || !strings.Contains(limit, `"report-tenant-burst";r=`+strconv.Itoa(10-5*i)) {
			t.Fatalf("aggregate %d: %d RateLimit %q %s", i+2, code, limit, body)
		}
	}
	if code, _, _ := post(); code != 429 {
		t.Errorf("the sixth aggregate in the window: %d, want 429", code)
	}
	var logged int
	for _, line := range strings.Split(strings.TrimSpace(s.qlog.String()), "\n") {
		var e struct{ View, Class, SQL string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("query log: %v: %s", err, line)
		}
		if e.Class != "report" || e.View != "invoices" || !strings.Contains(e.SQL, "GROUP BY") {
			t.Errorf("query log entry class %q view %q: %s", e.Class, e.View, e.SQL)
		}
		logged++
	}
	if logged != 4 {
		t.Errorf("%d statements logged, want 4 (one per answered aggregate)", logged)
	}
}

// gatedSource holds its first statement until release is closed, after saying so on entered.
type gatedSource struct {
	*replica.Source
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedSource) Query(ctx context.Context, sql string, args []any, fn func(replica.Rows) error) error {
	g.once.Do(func() {
		g.entered <- struct{}{}
		<-g.release
	})
	return g.Source.Query(ctx, sql, args, fn)
}

// TestAggregateSumsExact checks the agg_float_sums golden against the demo data: its sums are
// the exact sums of the rows, where adding the same values as float64 goes wrong, so the case
// shows what it is meant to.
func TestAggregateSumsExact(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "agg_float_sums", "response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Body struct {
			Data struct {
				Pair struct {
					Totals struct{ Sum struct{ Amount string } }
				}
				Quarters2024 struct {
					Groups []struct {
						Key struct{ IssuedAt time.Time }
						Sum struct{ Amount string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	d := demo.Generate()
	var pair []demo.Cents
	quarters := map[time.Time][]demo.Cents{}
	for _, inv := range d.Invoices {
		if inv.TenantID != demo.TenantAcme {
			continue
		}
		if inv.ID == 1 || inv.ID == 4 {
			pair = append(pair, inv.Amount)
		}
		if inv.IssuedAt.Year() == 2024 {
			q := time.Date(2024, time.Month((int(inv.IssuedAt.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
			quarters[q] = append(quarters[q], inv.Amount)
		}
	}
	checkSum(t, "pair", pair, g.Body.Data.Pair.Totals.Sum.Amount)
	if len(g.Body.Data.Quarters2024.Groups) != 4 {
		t.Fatalf("%d quarters in the golden", len(g.Body.Data.Quarters2024.Groups))
	}
	for _, q := range g.Body.Data.Quarters2024.Groups {
		if n := len(quarters[q.Key.IssuedAt]); n < 100 {
			t.Errorf("quarter %s has %d values, want a few hundred", q.Key.IssuedAt, n)
		}
		checkSum(t, q.Key.IssuedAt.Format("2006-01"), quarters[q.Key.IssuedAt], q.Sum.Amount)
	}
}

// checkSum wants got to be the exact sum of vals (math/big), and the float64 sum to differ.
func checkSum(t *testing.T, name string, vals []demo.Cents, got string) {
	t.Helper()
	exact, f := new(big.Rat), 0.0
	for _, v := range vals {
		r, _ := new(big.Rat).SetString(v.String())
		exact.Add(exact, r)
		x, _ := strconv.ParseFloat(v.String(), 64)
		f += x
	}
	if want := exact.FloatString(2); got != want {
		t.Errorf("%s: sum %s, want the exact %s", name, got, want)
	}
	if fs := strconv.FormatFloat(f, 'f', -1, 64); fs == strings.TrimRight(strings.TrimRight(exact.FloatString(2), "0"), ".") {
		t.Errorf("%s: float64 addition gives %s too; the case shows nothing", name, fs)
	}
}
