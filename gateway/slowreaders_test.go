package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/gateway"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// bigQuery asks for 100 × 500 invoices, an answer of about 9 MB: more than the kernel's socket
// buffers hold, so that writing it blocks on a client that does not read.
var bigQuery = func() string {
	var b strings.Builder
	b.WriteString(`{"query":"{`)
	for i := range 100 {
		fmt.Fprintf(&b, " a%d: invoices(first: 500) { nodes { id number status amount issuedAt dueDate customerName note } }", i)
	}
	return b.String() + ` }"}`
}()

// slowReader connects with a tiny receive buffer, sends the big request and never reads.
func slowReader(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s", acmeKey, len(bigQuery), bigQuery)
	return c
}

// TestSlowReaders: clients that ask for a big answer and never read hold at most max_in_flight
// handlers, each until write_timeout; the others are refused at once, so the heap stays within
// max_in_flight answers (104 answers of 9 MB would be 900 MB), and once the deadline has passed
// the server serves again. (40 such clients took the RSS from 79 MiB to 856 MiB before.)
func TestSlowReaders(t *testing.T) {
	src, err := replica.Open(context.Background(), replica.Options{Name: demo.SourceName, Driver: "sqlite", DSN: dbtest.SQLite(t), MaxConns: 4, StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Env: "test", CursorSecret: strings.Repeat("s", 32), Limits: config.DefaultLimits(),
		APIKeys: []config.APIKey{{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting"}, Key: acmeKey}}}
	cfg.Limits.MaxInFlight, cfg.Limits.MaxInFlightPerPrincipal, cfg.Limits.WriteTimeout = 4, 100, 2*time.Second
	// The budget would refuse the big answer; this test is about what writing it holds.
	cfg.Limits.MaxRows, cfg.Limits.MaxRootFields, cfg.Limits.MaxCost, cfg.Limits.MaxFields, cfg.Limits.RequestDBTime = 50000, 100, 100000, 2000, time.Minute
	g, err := gateway.New(context.Background(), gateway.Options{Config: cfg, Catalog: cat, Stderr: io.Discard,
		Sources: map[string]gateway.Source{demo.SourceName: src}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, ln, g.Handler(), gateway.NewLogger(io.Discard), 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-served })
	addr := ln.Addr().String()

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var conns []net.Conn
	for range 4 {
		conns = append(conns, slowReader(t, addr))
	}
	// Wait until the four hold every slot: then a fresh request is refused with 503 at once. The
	// probe asks for no rows: one that waited for a database connection behind the four would
	// hold a slot meanwhile, and the fourth reader, refused, would never fill it.
	busy := false
	for i := 0; i < 200 && !busy; i++ {
		busy = status(t, addr, probeQuery) == 503
		if !busy {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !busy {
		t.Fatal("four slow readers never filled the four slots")
	}
	for range 100 {
		conns = append(conns, slowReader(t, addr))
	}
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("heap in use grew by %d KiB with 104 slow readers", grown>>10)
	if grown > 160<<20 {
		t.Errorf("heap grew by %d MiB with 4 answers of 9 MB in flight", grown>>20)
	}
	// After write_timeout the held handlers give up, and the server answers again (bounded at
	// a minute: under -race, running the hundred statements takes a while too).
	ok := false
	for i := 0; i < 1200 && !ok; i++ {
		ok = status(t, addr, smallQuery) == 200
		if !ok {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ok {
		t.Error("the server did not serve again after write_timeout")
	}
	for _, c := range conns {
		c.Close()
	}
}

// probeQuery reads no rows; smallQuery reads one.
const (
	probeQuery = `{"query":"{ __typename }"}`
	smallQuery = `{"query":"{ invoices(first: 1) { nodes { id } } }"}`
)

// status sends body as a GraphQL request and returns its status.
func status(t *testing.T, addr, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", acmeKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
