package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Failure kinds of a download, each its own exit code in `viewgate export`.
const (
	FailUsage  = "usage"  // the request is wrong (400, 404, 406, 413): retrying cannot help
	FailAuth   = "auth"   // 401 or 403
	FailQuota  = "quota"  // 429 (or the rows budget) with a wait over the client's limit, or too many 429s
	FailServer = "server" // 5xx, an error in the stream, or connection failures past the attempts
)

// ClientError is why a download gave up.
type ClientError struct {
	Kind    string // FailUsage, FailAuth, FailQuota or FailServer
	Status  int    // the HTTP status, 0 for connection and stream failures
	Message string // the server's message, or the failure
	Resume  string // where a later run can resume ("" when it cannot)
}

func (e *ClientError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("export failed (%s, HTTP %d): %s", e.Kind, e.Status, e.Message)
	}
	return fmt.Sprintf("export failed (%s): %s", e.Kind, e.Message)
}

// Job is one export to download.
type Job struct {
	Query         string
	OperationName string
	Variables     map[string]any
	Format        Format
	Resume        string // a checkpoint token to start from ("" from the start)
}

// Client downloads exports with checkpoints: it writes only data a checkpoint covers, retries
// 429, 503 and connection failures with exponential backoff and full jitter (honouring
// Retry-After up to MaxRetryAfter), and resumes a cut stream from its last checkpoint.
type Client struct {
	URL  string // the server's base URL; /export is added
	Key  string // the API key (X-API-Key)
	HTTP *http.Client

	MaxAttempts   int           // attempts in a row without progress before giving up (default 8)
	BaseDelay     time.Duration // first backoff ceiling (default 500ms)
	MaxDelay      time.Duration // largest backoff ceiling (default 30s)
	MaxRetryAfter time.Duration // the longest Retry-After waited for (default 5m); longer is FailQuota

	Sleep        func(ctx context.Context, d time.Duration) error // the clock (tests inject one)
	Jitter       func() float64                                   // in [0, 1) (tests inject one)
	OnCheckpoint func(token string, rows int64) error             // after data up to a checkpoint was written
	OnRows       func(rows int64, bytes int64)                    // progress, at every checkpoint
}

func (c *Client) defaults() {
	if c.HTTP == nil {
		c.HTTP = http.DefaultClient
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 500 * time.Millisecond
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 30 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 5 * time.Minute
	}
	if c.Sleep == nil {
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
}

// attempt is the outcome of one request.
type attempt struct {
	done       bool
	progress   bool          // a checkpoint came in
	retryAfter time.Duration // the server asked to wait (429, 503, quota line)
	err        *ClientError  // nil with done: complete; retryable when fatal is false
	fatal      bool
}

// Download writes the export's data to w and returns the rows it holds; errors are
// *ClientError, or ctx's error.
func (c *Client) Download(ctx context.Context, job Job, w io.Writer) (rows int64, err error) {
	c.defaults()
	token, failures := job.Resume, 0
	var wrote int64
	for {
		a := c.once(ctx, job, token, w, &rows, &wrote, &token)
		if a.done {
			return rows, nil
		}
		if ctx.Err() != nil {
			return rows, ctx.Err()
		}
		if a.err != nil {
			a.err.Resume = token
		}
		if a.fatal {
			return rows, a.err
		}
		if a.progress {
			failures = 0
		}
		failures++
		if failures >= c.MaxAttempts {
			return rows, a.err
		}
		wait := c.backoff(failures)
		if a.retryAfter > 0 {
			if a.retryAfter > c.MaxRetryAfter {
				a.err.Kind, a.err.Message = FailQuota, a.err.Message+fmt.Sprintf(" (the server asks to wait %v, more than %v)", a.retryAfter, c.MaxRetryAfter)
				return rows, a.err
			}
			wait = a.retryAfter
		}
		if err := c.Sleep(ctx, wait); err != nil {
			return rows, err
		}
	}
}

// backoff is exponential backoff with full jitter: a uniform wait up to min(MaxDelay,
// BaseDelay·2^(n-1)).
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.BaseDelay << min(n-1, 30)
	if ceiling > c.MaxDelay || ceiling <= 0 {
		ceiling = c.MaxDelay
	}
	return time.Duration(c.Jitter() * float64(ceiling))
}

// once sends one request from token and reads its answer.
func (c *Client) once(ctx context.Context, job Job, from string, w io.Writer, rows, wrote *int64, token *string) attempt {
	req, err := c.request(ctx, job, from)
	if err != nil {
		return attempt{err: &ClientError{Kind: FailUsage, Message: err.Error()}, fatal: true}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return attempt{err: &ClientError{Kind: FailServer, Message: err.Error()}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return refused(resp)
	}
	r := &reading{c: c, w: w, rows: rows, wrote: wrote, token: token}
	sp := &Splitter{Data: &r.pending, Format: job.Format, OnControl: r.control}
	_, err = io.Copy(sp, resp.Body)
	switch {
	case r.end:
		return attempt{done: true}
	case r.stop != nil:
		return *r.stop
	case err == nil:
		err = io.ErrUnexpectedEOF // a body that ends without its end line is cut
	}
	return attempt{progress: r.progress, err: &ClientError{Kind: FailServer, Message: "the stream was cut: " + err.Error()}}
}

func (c *Client) request(ctx context.Context, job Job, from string) (*http.Request, error) {
	body, err := json.Marshal(map[string]any{"query": job.Query, "operationName": job.OperationName, "variables": job.Variables})
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(c.URL, "/") + "/export?checkpoints=true&format=" + string(job.Format)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", c.Key)
	if from != "" {
		req.Header.Set("Viewgate-Resume", from)
	}
	return req, nil
}

// refused reads a non-200 answer.
func refused(resp *http.Response) attempt {
	var body struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		msg = body.Errors[0].Message
	}
	e := &ClientError{Status: resp.StatusCode, Message: msg}
	a := attempt{err: e}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind, a.retryAfter = FailQuota, retryAfterHeader(resp)
		if a.retryAfter == 0 {
			a.retryAfter = time.Second
		}
	case s == http.StatusServiceUnavailable:
		e.Kind, a.retryAfter = FailServer, retryAfterHeader(resp)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e.Kind, a.fatal = FailAuth, true
	case s >= 500:
		e.Kind, a.fatal = FailServer, true
	default:
		e.Kind, a.fatal = FailUsage, true
	}
	return a
}

func retryAfterHeader(resp *http.Response) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// reading is one response being read: data waits in pending until a checkpoint covers it.
type reading struct {
	c        *Client
	w        io.Writer
	pending  bytes.Buffer
	rows     *int64
	wrote    *int64
	token    *string
	progress bool
	end      bool
	stop     *attempt
}

func (r *reading) commit(c Control) error {
	n, err := r.w.Write(r.pending.Bytes())
	*r.wrote += int64(n)
	r.pending.Reset()
	if err != nil {
		return err
	}
	*r.rows = c.Rows
	if c.Token != "" && c.Token != "-" {
		*r.token = c.Token
		if r.c.OnCheckpoint != nil {
			if err := r.c.OnCheckpoint(c.Token, c.Rows); err != nil {
				return err
			}
		}
	}
	if r.c.OnRows != nil {
		r.c.OnRows(c.Rows, *r.wrote)
	}
	r.progress = true
	return nil
}

var errStopReading = errors.New("export: control line ends the stream")

func (r *reading) control(c Control) error {
	if err := r.commit(c); err != nil {
		return err
	}
	switch c.Kind {
	case KindEnd:
		r.end = true
		return errStopReading
	case KindQuota:
		r.stop = &attempt{progress: true, retryAfter: time.Duration(max(c.RetryAfter, 1)) * time.Second,
			err: &ClientError{Kind: FailQuota, Message: "the export rows budget is spent"}}
		return errStopReading
	case KindError:
		fatal := c.Code != "UNAVAILABLE" && c.Code != "TIMEOUT" || c.Token == "-"
		r.stop = &attempt{progress: true, fatal: fatal, err: &ClientError{Kind: FailServer, Message: "the server failed mid-export: " + c.Code}}
		if c.Code == "QUERY_TOO_COMPLEX" {
			r.stop.err.Kind, r.stop.err.Message = FailUsage, "the export is over the view's max_export_rows; narrow it with where"
		}
		return errStopReading
	}
	return nil
}
