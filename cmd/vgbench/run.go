package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/viewgate/viewgate/bench"
)

// defaultPG is the local test server dbtest uses; $VIEWGATE_TEST_PG_DSN overrides it, as there.
const defaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// setupTimeout bounds creating, loading and dropping the database.
const setupTimeout = 2 * time.Minute

type options struct {
	pg               string
	clients, conns   int
	rounds, max      int
	duration, warmup time.Duration
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("vgbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	pg := getenv("VIEWGATE_TEST_PG_DSN")
	if pg == "" {
		pg = defaultPG
	}
	fs.StringVar(&o.pg, "pg", pg, "loopback Postgres server URL; a fresh database is created on it and dropped at the end")
	fs.IntVar(&o.clients, "c", 8, "concurrent closed-loop clients per handler")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured load time per handler, split over the rounds")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per handler; the order alternates each round")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load per handler before the rounds")
	fs.IntVar(&o.conns, "conns", bench.DefaultConns, "database connections per handler")
	fs.IntVar(&o.max, "max", 1_000_000, "at most this many requests per handler and round")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.clients < 1 || o.clients > 256:
		return nil, fmt.Errorf("-c must be between 1 and 256, got %d", o.clients)
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return nil, fmt.Errorf("-d must be above 0 and at most 10m, got %s", o.duration)
	case o.rounds < 1 || o.rounds > 20:
		return nil, fmt.Errorf("-rounds must be between 1 and 20, got %d", o.rounds)
	case o.warmup < 0 || o.warmup > time.Minute:
		return nil, fmt.Errorf("-warmup must be between 0 and 1m, got %s", o.warmup)
	case o.conns < 1 || o.max < 1:
		return nil, errors.New("-conns and -max must be above 0")
	}
	return o, bench.CheckLoopback(o.pg)
}

// target is one handler under load.
type target struct {
	name   string
	url    string
	client *http.Client
	total  bench.Result
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Everything below is bounded: setup, warm-up, the rounds, teardown.
	ctx, cancel := context.WithTimeout(ctx, 2*setupTimeout+2*(o.warmup+o.duration+time.Minute))
	defer cancel()
	setup, cancelSetup := context.WithTimeout(ctx, setupTimeout)
	defer cancelSetup()
	dsn, drop, err := bench.CreatePostgres(setup, o.pg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), setupTimeout)
		defer cancel()
		if err := drop(dctx); err != nil {
			fmt.Fprintln(stderr, "vgbench: drop database:", err)
		}
	}()
	vg, err := start(setup, "viewgate", o.clients, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.Viewgate(ctx, "postgres", dsn, o.conns)
	})
	if err != nil {
		return err
	}
	defer vg.stop()
	mini, err := start(setup, "minimal", o.clients, func(ctx context.Context) (http.Handler, func(), error) {
		return bench.Minimal(ctx, dsn, o.conns)
	})
	if err != nil {
		return err
	}
	defer mini.stop()
	if err := same(setup, vg.target, mini.target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vgbench: %s, GOMAXPROCS %d, %d clients, %d DB connections each, %s per handler in %d alternating rounds, %s warm-up\n",
		bench.Query, runtime.GOMAXPROCS(0), o.clients, o.conns, o.duration, o.rounds, o.warmup)
	if err := drive(ctx, o, vg.target, mini.target); err != nil {
		return err
	}
	report(stdout, vg.target, mini.target)
	return nil
}

// drive warms both handlers up, then loads them one at a time, alternating which goes first.
func drive(ctx context.Context, o *options, vg, mini *target) error {
	if o.warmup > 0 {
		for _, t := range []*target{vg, mini} {
			if _, err := t.load(ctx, o, o.warmup); err != nil {
				return err
			}
		}
	}
	per := o.duration / time.Duration(o.rounds)
	for i := range o.rounds {
		order := []*target{vg, mini}
		if i%2 == 1 {
			order = []*target{mini, vg}
		}
		for _, t := range order {
			r, err := t.load(ctx, o, per)
			if err != nil {
				return err
			}
			t.total = t.total.Add(r)
		}
	}
	return ctx.Err()
}

func (t *target) load(ctx context.Context, o *options, d time.Duration) (bench.Result, error) {
	l := bench.Load{URL: t.url, Clients: o.clients, Duration: d, Max: o.max}
	r, err := l.Run(ctx, t.client)
	if err != nil {
		return r, fmt.Errorf("%s: %w", t.name, err)
	}
	return r, nil
}

// same checks that both handlers answer over HTTP with the same rows.
func same(ctx context.Context, vg, mini *target) error {
	var bodies [2][]byte
	for i, t := range []*target{vg, mini} {
		req, err := bench.NewRequest(ctx, t.url)
		if err != nil {
			return err
		}
		resp, err := t.client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		bodies[i], err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %s: %.200s", t.name, resp.Status, bodies[i])
		}
	}
	return bench.Same(bodies[0], bodies[1])
}

func report(w io.Writer, vg, mini *target) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "handler\trequests\treq/s\tp50\tp99\terrors\t")
	for _, t := range []*target{vg, mini} {
		r := t.total
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%d\t\n", t.name, r.Requests, r.RPS(), ms(r.Percentile(0.50)), ms(r.Percentile(0.99)), r.Errors)
	}
	tw.Flush()
	ratio := 0.0
	if rps := mini.total.RPS(); rps > 0 {
		ratio = vg.total.RPS() / rps
	}
	verdict := "meets"
	if ratio < 0.5 {
		verdict = "misses"
	}
	fmt.Fprintf(w, "ratio viewgate/minimal throughput: %.2f (%s the target of 0.50)\n", ratio, verdict)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// server is a handler served on 127.0.0.1:0.
type server struct {
	*target
	srv   *http.Server
	close func()
}

func start(ctx context.Context, name string, clients int, open func(context.Context) (http.Handler, func(), error)) (*server, error) {
	h, closeFn, err := open(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeFn()
		return nil, fmt.Errorf("%s: listen: %w", name, err)
	}
	s := &server{
		target: &target{name: name, url: "http://" + ln.Addr().String() + bench.Path, client: bench.NewClient(clients)},
		srv:    &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second},
		close:  closeFn,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *server) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.client.CloseIdleConnections()
	s.close()
}
