package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a load run measured; results of several rounds add up with Add.
type Result struct {
	Requests  int             // answered 200
	Errors    int             // transport errors and other statuses
	Elapsed   time.Duration   // wall time, summed over rounds
	Latencies []time.Duration // one per answered request
}

// Add returns the sum of r and o.
func (r Result) Add(o Result) Result {
	return Result{
		Requests: r.Requests + o.Requests, Errors: r.Errors + o.Errors, Elapsed: r.Elapsed + o.Elapsed,
		Latencies: append(slices.Clip(r.Latencies), o.Latencies...),
	}
}

// RPS returns the answered requests per second of wall time.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency at or below which a fraction p (0..1] of answered requests
// completed (nearest rank), or 0 when none was answered.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	rank := int(p*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// Load is a closed-loop load run: Clients goroutines, each sending the next request as soon as
// the previous answer is read, over keep-alive connections.
type Load struct {
	URL      string        // a loopback URL; Run refuses others
	Clients  int           // concurrent clients
	Duration time.Duration // how long Run sends requests
	Max      int           // stop after this many requests even before Duration ends
}

// NewClient returns a keep-alive HTTP client holding one connection per load client.
func NewClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true,
		},
	}
}

// Run sends Query to l.URL with client until l.Duration passes, l.Max requests have been sent
// or ctx ends; it returns an error wrapping ErrNotLoopback for a URL off this machine.
func (l Load) Run(ctx context.Context, client *http.Client) (Result, error) {
	if err := CheckLoopback(l.URL); err != nil {
		return Result{}, err
	}
	if l.Clients < 1 || l.Duration <= 0 || l.Max < 1 {
		return Result{}, fmt.Errorf("load: want clients, duration and max above zero, got %d, %s, %d", l.Clients, l.Duration, l.Max)
	}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var sent atomic.Int64
	results := make([]Result, l.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range results {
		wg.Go(func() { results[i] = l.client(ctx, client, &sent) })
	}
	wg.Wait()
	total := Result{}
	for _, r := range results {
		total = total.Add(r)
	}
	total.Elapsed = time.Since(start)
	return total, nil
}

func (l Load) client(ctx context.Context, client *http.Client, sent *atomic.Int64) Result {
	var r Result
	for ctx.Err() == nil && sent.Add(1) <= int64(l.Max) {
		t0 := time.Now()
		err := l.one(ctx, client)
		switch {
		case err == nil:
			r.Requests++
			r.Latencies = append(r.Latencies, time.Since(t0))
		case ctx.Err() == nil:
			r.Errors++ // a request cut off by the end of the run is not an error
		}
	}
	return r
}

// one sends a request and reads the whole answer, so that the connection is reused.
func (l Load) one(ctx context.Context, client *http.Client) error {
	req, err := NewRequest(ctx, l.URL)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
