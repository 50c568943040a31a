package bench_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/viewgate/viewgate/demo"
)

// TestSlowReadersRSS measures, on the built binary, what clients that ask for the largest answer
// the default budget allows and never read do to the server's RSS. It is a measurement, not a
// check: it runs only with VIEWGATE_BENCH_RSS=N (the number of clients) and prints the figures.
//
//	VIEWGATE_BENCH_RSS=1000 go test ./bench -run TestSlowReadersRSS -v
func TestSlowReadersRSS(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("VIEWGATE_BENCH_RSS"))
	if n <= 0 {
		t.Skip("a measurement: set VIEWGATE_BENCH_RSS to the number of slow clients")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "viewgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/viewgate").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if err := demo.CreateSQLite(context.Background(), filepath.Join(dir, "erp.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := 100
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: 127.0.0.1:0\ncatalog: catalog.yaml\ncursor_secret: %q\nquota: {enabled: false}\nquery_log: {path: /dev/null}\napi_keys:\n", strings.Repeat("s", 40))
	for i := range keys {
		fmt.Fprintf(&cfg, "  - {id: k%d, tenant: acme, roles: [reporting], key: \"bench-key-%04d-0123456789\"}\n", i, i)
	}
	cfg.WriteString("environments:\n  dev:\n    sources: {demo: {driver: sqlite, dsn: erp.db, max_conns: 4}}\n")
	if err := os.WriteFile(filepath.Join(dir, "viewgate.yaml"), []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-config", filepath.Join(dir, "viewgate.yaml"))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr := ""
	sc := bufio.NewScanner(out)
	for addr == "" && sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "listening on http://"); ok {
			addr, _, _ = strings.Cut(rest, "/")
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	rss := func() int {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		_, v, _ := strings.Cut(string(b), "VmRSS:")
		kb, _ := strconv.Atoi(strings.Fields(v)[0])
		return kb >> 10
	}
	var q strings.Builder
	q.WriteString("{")
	for i := range 20 {
		fmt.Fprintf(&q, " a%d: invoices(first: 250) { nodes { id number status amount issuedAt dueDate customerName note } }", i)
	}
	body, _ := json.Marshal(map[string]string{"query": q.String() + " }"})
	t.Logf("before: %d MiB", rss())
	var conns []net.Conn
	for i := range n {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: bench-key-%04d-0123456789\r\nContent-Length: %d\r\n\r\n%s", i%keys, len(body), body)
		conns = append(conns, c)
	}
	peak := 0
	for deadline := time.Now().Add(12 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		peak = max(peak, rss())
	}
	t.Logf("%d slow readers over %d keys: peak %d MiB", n, keys, peak)
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(3 * time.Second)
	t.Logf("after they closed: %d MiB", rss())
}
