// Command vgexportbench measures /export against psql's \copy on the peer benchmark's data
// (../shared/peer-bench: 1,000,000 invoices, 100,000 of tenant 3), side by side in one run,
// and with -big the peak memory of a 10,000,000-row export against a 1,000,000-row one.
// It is a benchmark, not a test: run it by hand (README, "Tests, benchmarks, fuzzing").
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vgexportbench:", err)
		os.Exit(1)
	}
}

type options struct {
	pg, admin, bin string
	rounds         int
	big, speed     bool
	bigRows        int
}

const (
	cols      = "id, number, status, currency, amount_cents, issued_at"
	benchKey  = "vgk_exportbench_0123456789abcdef0123"
	benchSecr = "vgexportbench-cursor-secret-0123456789abcdef"
)

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vgexportbench", flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.pg, "pg", "postgres://vgbench:vgbench@127.0.0.1:5432/vgbench", "the peer benchmark's database (setup-data.sh), as its read-only role")
	fs.StringVar(&o.admin, "admin", "postgres://postgres@127.0.0.1:5432/postgres", "a superuser URL, for -big's database")
	fs.StringVar(&o.bin, "bin", "", "the viewgate binary (default: go build ./cmd/viewgate)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; the order of the contenders rotates each round")
	fs.BoolVar(&o.speed, "throughput", true, "measure throughput against psql (false: only -big)")
	fs.BoolVar(&o.big, "big", false, "also measure peak RSS of 1M- and 10M-row exports (creates database vgexport10m once, about 1 GB)")
	fs.IntVar(&o.bigRows, "big-rows", 10_000_000, "rows of -big's table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rounds < 1 || o.rounds > 20 {
		return errors.New("-rounds must be 1..20")
	}
	dir, err := os.MkdirTemp("", "vgexportbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.bin == "" {
		o.bin = filepath.Join(dir, "viewgate")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "github.com/viewgate/viewgate/cmd/viewgate").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	if o.speed {
		if err := throughput(ctx, o, dir, stdout); err != nil {
			return err
		}
	}
	if o.big {
		return memory(ctx, o, dir, stdout)
	}
	return nil
}

// server is a viewgate process serving the benchmark catalog.
type server struct {
	cmd  *exec.Cmd
	url  string
	pid  int
	done chan error
}

func start(ctx context.Context, o *options, dir, dsn, catalog string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(catalog), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
catalog: catalog.yaml
cursor_secret: %s
api_keys:
  - {id: bench, tenant: "3", roles: [reporting], key: %s}
quota: {enabled: false}
query_log: {path: %s}
environments:
  dev:
    sources:
      erp: {driver: postgres, dsn: %q, max_conns: 4, statement_timeout: 5s, require_replica: false}
`, port, benchSecr, benchKey, filepath.Join(dir, "query.log"), dsn)
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.bin, "serve", "-config", path)
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), pid: cmd.Process.Pid, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	for range 200 {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("viewgate exited: %v\n%s", err, errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, errors.New("viewgate did not start in 10s")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cpu returns the user+system CPU time of process pid so far (Linux /proc).
func cpu(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func peakRSS(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// result is one timed run.
type result struct {
	wall, cpu time.Duration
	rows      int64
	bytes     int64
}

// exportOnce downloads one export and counts its lines.
func exportOnce(ctx context.Context, s *server, query, format string, gzip bool) (result, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/export?format="+format, bytes.NewReader(body))
	if err != nil {
		return result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", benchKey)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	c0, t0 := cpu(s.pid), time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return result{}, fmt.Errorf("export: %d %s", resp.StatusCode, b)
	}
	var r result
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		r.bytes += int64(n)
		r.rows += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			break
		}
		if err != nil {
			return r, err
		}
	}
	r.wall, r.cpu = time.Since(t0), cpu(s.pid)-c0
	if format == "csv" && !gzip {
		r.rows-- // the header row
	}
	return r, nil
}

// psqlOnce runs psql \copy of sql to /dev/null; cpu is psql's own.
func psqlOnce(ctx context.Context, url, sql string) (result, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", url, "-c", `\copy (`+sql+`) to '/dev/null' csv`)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("psql: %v %s", err, out)
	}
	u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	c := time.Duration(u.Utime.Nano() + u.Stime.Nano())
	return result{wall: time.Since(t0), cpu: c}, nil
}

// contender is one way to get a set of rows out.
type contender struct {
	name string
	run  func(ctx context.Context) (result, error)
}

func throughput(ctx context.Context, o *options, dir string, stdout io.Writer) error {
	catalog := `views:
  - name: Invoice
    field: invoices
    source: erp
    relation: reporting.v_invoices
    tenant_column: tenant_id
    key: [id]
    default_order: [{column: issued_at, desc: true}]
    roles: [reporting]
    export: true
    max_export_rows: 2000000
    columns: &cols
      - {name: id, type: bigint, nullable: false}
      - {name: number, type: text, nullable: false}
      - {name: status, type: text, nullable: false}
      - {name: currency, type: text, nullable: false}
      - {name: amount_cents, type: bigint, nullable: false}
      - {name: issued_at, type: timestamp, nullable: false, sort: true}
  - name: AnyInvoice
    field: allInvoices
    source: erp
    relation: reporting.v_invoices
    key: [id]
    default_order: [{column: id}]
    roles: [reporting]
    export: true
    max_export_rows: 2000000
    columns: *cols
`
	s, err := start(ctx, o, dir, o.pg, catalog)
	if err != nil {
		return err
	}
	defer s.stop()
	sel := "{ nodes { id number status currency amountCents issuedAt } }"
	q3, qall := "{ invoices "+sel+" }", "{ allInvoices "+sel+" }"
	sql3 := "SELECT " + cols + " FROM reporting.v_invoices WHERE tenant_id=3"
	sqlAll := "SELECT " + cols + " FROM reporting.v_invoices"
	sets := []struct {
		name     string
		rows     int64
		q        string
		sql, ord string
	}{
		{"tenant 3", 100_000, q3, sql3, sql3 + " ORDER BY issued_at DESC, id DESC"},
		{"whole view", 1_000_000, qall, sqlAll, sqlAll + " ORDER BY id"},
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "set\tcontender\trows/s (median)\tratio to psql \\copy\tCPU µs/row (median)\tbytes\n")
	for _, set := range sets {
		cs := []contender{
			{name: `psql \copy (anchor's SQL)`, run: func(ctx context.Context) (result, error) { return psqlOnce(ctx, o.pg, set.sql) }},
			{name: `psql \copy (viewgate's ordered SQL)`, run: func(ctx context.Context) (result, error) { return psqlOnce(ctx, o.pg, set.ord) }},
			{name: "viewgate csv", run: func(ctx context.Context) (result, error) { return exportOnce(ctx, s, set.q, "csv", false) }},
			{name: "viewgate ndjson", run: func(ctx context.Context) (result, error) { return exportOnce(ctx, s, set.q, "ndjson", false) }},
			{name: "viewgate csv+gzip", run: func(ctx context.Context) (result, error) { return exportOnce(ctx, s, set.q, "csv", true) }},
		}
		res := make([][]result, len(cs))
		for round := range o.rounds + 1 { // round 0 warms up
			for k := range cs {
				i := (k + round) % len(cs)
				r, err := cs[i].run(ctx)
				if err != nil {
					return fmt.Errorf("%s %s: %w", set.name, cs[i].name, err)
				}
				if (i == 2 || i == 3) && r.rows != set.rows { // uncompressed viewgate answers: count the lines
					return fmt.Errorf("%s %s: %d rows, want %d", set.name, cs[i].name, r.rows, set.rows)
				}
				if round > 0 {
					res[i] = append(res[i], r)
				}
			}
		}
		anchor := median(res[0], func(r result) float64 { return r.wall.Seconds() })
		for i, c := range cs {
			wall := median(res[i], func(r result) float64 { return r.wall.Seconds() })
			cpuRow := median(res[i], func(r result) float64 { return float64(r.cpu.Microseconds()) / float64(set.rows) })
			b := median(res[i], func(r result) float64 { return float64(r.bytes) })
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.0f\n", set.name, c.name, float64(set.rows)/wall, anchor/wall, cpuRow, b)
		}
	}
	return tw.Flush()
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// memory exports 1M and then 10M rows of a big table, each from a fresh viewgate process, and
// reports each process's peak RSS.
func memory(ctx context.Context, o *options, dir string, stdout io.Writer) error {
	if err := bigDatabase(ctx, o); err != nil {
		return err
	}
	dsn, err := withDatabase(o.pg, "vgexport10m")
	if err != nil {
		return err
	}
	catalog := `views:
  - name: Big
    field: big
    source: erp
    relation: v_big
    key: [id]
    default_order: [{column: id}]
    roles: [reporting]
    export: true
    max_export_rows: 1000000000
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: number, type: text, nullable: false}
      - {name: status, type: text, nullable: false}
      - {name: amount, type: decimal, scale: 2, nullable: false}
      - {name: issued_at, type: timestamp, nullable: false, sort: true}
`
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "export\trows\tpeak RSS (MB)\trows/s\tbytes\n")
	for _, tc := range []struct {
		name string
		rows int
	}{{"csv", 1_000_000}, {"csv", o.bigRows}, {"ndjson+gzip", 1_000_000}, {"ndjson+gzip", o.bigRows}} {
		s, err := start(ctx, o, dir, dsn, catalog)
		if err != nil {
			return err
		}
		format, gz := strings.CutSuffix(tc.name, "+gzip")
		q := fmt.Sprintf("{ big(first: %d) { nodes { id number status amount issuedAt } } }", tc.rows)
		r, err := exportOnce(ctx, s, q, format, gz)
		peak := peakRSS(s.pid)
		s.stop()
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%d\n", tc.name, tc.rows, float64(peak)/(1<<20), float64(tc.rows)/r.wall.Seconds(), r.bytes)
	}
	return tw.Flush()
}

// bigDatabase creates vgexport10m with a big table and view readable by the vgbench role,
// once (a finished load is stamped in the table's comment).
func bigDatabase(ctx context.Context, o *options) error {
	admin := func(db, sql string) (string, error) {
		u, err := withDatabase(o.admin, db)
		if err != nil {
			return "", err
		}
		out, err := exec.CommandContext(ctx, "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", u, "-c", sql).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if n, _ := admin("postgres", "SELECT 1 FROM pg_database WHERE datname = 'vgexport10m'"); n != "1" {
		if out, err := admin("postgres", "CREATE DATABASE vgexport10m"); err != nil {
			return fmt.Errorf("create database: %v %s", err, out)
		}
	}
	stamp := fmt.Sprintf("vgexportbench rows=%d", o.bigRows)
	if got, _ := admin("vgexport10m", "SELECT obj_description('big'::regclass, 'pg_class')"); got == stamp {
		return nil
	}
	fmt.Fprintf(os.Stderr, "vgexportbench: loading %d rows into vgexport10m.big (once)…\n", o.bigRows)
	load := fmt.Sprintf(`DROP TABLE IF EXISTS big CASCADE;
CREATE TABLE big AS SELECT g::bigint AS id, 'INV-' || lpad(g::text, 9, '0') AS number,
  (ARRAY['draft','open','paid','void'])[1 + g %% 4] AS status, ((g::bigint * 7919) %% 1000000) / 100.0 AS amount,
  timestamptz '2020-01-01' + g * interval '1 second' AS issued_at FROM generate_series(1, %d) g;
ALTER TABLE big ADD PRIMARY KEY (id);
CREATE VIEW v_big AS SELECT id, number, status, amount::numeric(12,2) AS amount, issued_at FROM big;
GRANT SELECT ON v_big TO vgbench;
GRANT CONNECT ON DATABASE vgexport10m TO vgbench;
ANALYZE big;
COMMENT ON TABLE big IS '%s';`, o.bigRows, stamp)
	if out, err := admin("vgexport10m", load); err != nil {
		return fmt.Errorf("load: %v %s", err, out)
	}
	return nil
}

// withDatabase returns the Postgres URL u naming database db instead.
func withDatabase(u, db string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("bad URL: %v", err)
	}
	p.Path = "/" + db
	return p.String(), nil
}
