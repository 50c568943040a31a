package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/printer"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/viewgate/viewgate/export"
)

// Exit codes of viewgate export (documented in the README).
const (
	exitLocal  = 1 // a local failure: the output file cannot be written
	exitUsage  = 2 // bad flags, or the server refused the request as wrong (400, 406, …)
	exitAuth   = 3 // 401 or 403
	exitQuota  = 4 // the quota stayed exhausted longer than -max-wait (or too many 429s)
	exitServer = 5 // the server failed or could not be reached, past the retries
)

// exitError is an error with the process exit code main uses for it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// APIKeyEnvVar holds the API key of viewgate export.
const APIKeyEnvVar = "VIEWGATE_API_KEY"

// vars collects -var name=value flags.
type vars map[string]any

func (v vars) String() string { return "" }

// Set takes name=value; a value that is JSON (a number, true, an object…) is used as such,
// anything else as a string.
func (v vars) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want name=value")
	}
	var j any
	if err := json.Unmarshal([]byte(val), &j); err == nil {
		v[name] = j
	} else {
		v[name] = val
	}
	return nil
}

type exportFlags struct {
	url, query, queryFile, format, out, keyFile, operation string
	resume                                                 bool
	maxWait                                                time.Duration
	attempts                                               int
	vars                                                   vars
}

func parseExportFlags(args []string, stdout io.Writer) (*exportFlags, error) {
	f := &exportFlags{vars: vars{}}
	fs := newFlags("export", "viewgate export -url URL (-query 'GraphQL' | -query-file FILE) [-var name=value …] [-format csv|ndjson] -o FILE [-resume]\n\n"+
		"Downloads an export into FILE, through FILE.partial, renamed when it is whole. The API key comes from\n"+
		"$"+APIKeyEnvVar+" or -key-file, never from a flag value. Exit codes: 0 done, 1 local error, 2 usage or\n"+
		"bad request, 3 authentication or permission, 4 quota exhausted, 5 server error or unreachable.")
	fs.StringVar(&f.url, "url", "", "the server's base URL, as http://127.0.0.1:8080")
	fs.StringVar(&f.query, "query", "", "the GraphQL document: one connection's nodes { … }")
	fs.StringVar(&f.queryFile, "query-file", "", "read the document from this file")
	fs.StringVar(&f.operation, "operation", "", "the operation to run, when the document has several")
	fs.Var(f.vars, "var", "a variable, name=value (JSON values as such, else a string); repeatable")
	fs.StringVar(&f.format, "format", "", "csv or ndjson (default: from -o's extension, else csv)")
	fs.StringVar(&f.out, "o", "", "the output file (required)")
	fs.BoolVar(&f.resume, "resume", false, "continue FILE.partial from its last checkpoint")
	fs.StringVar(&f.keyFile, "key-file", "", "read the API key from this file instead of $"+APIKeyEnvVar)
	fs.DurationVar(&f.maxWait, "max-wait", 5*time.Minute, "the longest Retry-After to wait for before giving up (exit 4)")
	fs.IntVar(&f.attempts, "attempts", 8, "attempts in a row without progress before giving up")
	if err := parse(fs, args, stdout); err != nil {
		if errors.Is(err, errHelp) {
			return nil, err
		}
		return nil, &exitError{code: exitUsage, err: err}
	}
	if fs.NArg() > 0 {
		return nil, exitf(exitUsage, "unexpected argument %q (run \"viewgate export -h\" for the flags)", fs.Arg(0))
	}
	return f, f.check()
}

func (f *exportFlags) check() error {
	switch {
	case f.url == "":
		return exitf(exitUsage, "-url is required")
	case f.out == "":
		return exitf(exitUsage, "-o is required")
	case (f.query == "") == (f.queryFile == ""):
		return exitf(exitUsage, "give one of -query and -query-file")
	}
	if f.format == "" {
		f.format = "csv"
		if ext := strings.ToLower(filepath.Ext(f.out)); ext == ".ndjson" || ext == ".jsonl" {
			f.format = "ndjson"
		}
	}
	if f.format != "csv" && f.format != "ndjson" {
		return exitf(exitUsage, "-format must be csv or ndjson, got %q", f.format)
	}
	if f.queryFile != "" {
		b, err := os.ReadFile(f.queryFile)
		if err != nil {
			return exitf(exitUsage, "read -query-file: %v", err)
		}
		f.query = string(b)
	}
	return nil
}

// apiKey reads the key from -key-file or the environment.
func apiKey(f *exportFlags, getenv func(string) string) (string, error) {
	if f.keyFile != "" {
		b, err := os.ReadFile(f.keyFile)
		if err != nil {
			return "", exitf(exitUsage, "read -key-file: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if k := strings.TrimSpace(getenv(APIKeyEnvVar)); k != "" {
		return k, nil
	}
	return "", exitf(exitUsage, "no API key: set $%s or give -key-file", APIKeyEnvVar)
}

// exportDeps are what the command takes from its caller: tests inject the clock and client.
type exportDeps struct {
	http   *http.Client
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
}

func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runExport(ctx, args, getenv, stdout, stderr, exportDeps{})
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, deps exportDeps) error {
	f, err := parseExportFlags(args, stdout)
	if err != nil {
		return err
	}
	key, err := apiKey(f, getenv)
	if err != nil {
		return err
	}
	out, err := openPartial(f.out, f.resume)
	if err != nil {
		return err
	}
	defer out.file.Close()
	c := &export.Client{URL: f.url, Key: key, HTTP: deps.http, MaxAttempts: f.attempts, MaxRetryAfter: f.maxWait,
		Sleep: deps.sleep, Jitter: deps.jitter, OnCheckpoint: out.checkpoint}
	job := export.Job{Query: f.query, OperationName: f.operation, Variables: f.vars, Format: export.Format(f.format), Resume: out.token}
	bar := progress(ctx, c, job, stderr)
	rows, err := c.Download(ctx, job, out)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return downloadFailed(f.out, err)
	}
	if err := out.done(f.out); err != nil {
		return &exitError{code: exitLocal, err: err}
	}
	if bar != nil {
		fmt.Fprintf(stderr, "%s: %d rows\n", f.out, rows)
	}
	return nil
}

func downloadFailed(out string, err error) error {
	var ce *export.ClientError
	if !errors.As(err, &ce) {
		return &exitError{code: exitLocal, err: err}
	}
	code := map[string]int{export.FailUsage: exitUsage, export.FailAuth: exitAuth, export.FailQuota: exitQuota, export.FailServer: exitServer}[ce.Kind]
	if ce.Resume != "" {
		err = fmt.Errorf("%w; %s.partial holds what arrived: run again with -resume to continue", err, out)
	}
	return &exitError{code: code, err: err}
}

// partial is FILE.partial and its checkpoint file, FILE.partial.checkpoint ("token size rows").
type partial struct {
	file  *os.File
	path  string
	size  int64
	token string
}

func openPartial(out string, resume bool) (*partial, error) {
	p := &partial{path: out + ".partial"}
	if !resume {
		f, err := os.OpenFile(p.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, &exitError{code: exitLocal, err: err}
		}
		_ = os.Remove(p.path + ".checkpoint")
		p.file = f
		return p, nil
	}
	b, err := os.ReadFile(p.path + ".checkpoint")
	if err != nil {
		return nil, exitf(exitUsage, "-resume: no checkpoint to resume from (%v)", err)
	}
	parts := strings.Fields(string(b))
	if len(parts) != 3 {
		return nil, exitf(exitUsage, "-resume: %s.checkpoint is malformed", p.path)
	}
	p.token = parts[0]
	if p.size, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return nil, exitf(exitUsage, "-resume: %s.checkpoint is malformed", p.path)
	}
	f, err := os.OpenFile(p.path, os.O_WRONLY, 0o644)
	if err != nil {
		return nil, &exitError{code: exitLocal, err: err}
	}
	// Data past the checkpoint was never covered by one: drop it.
	if err := f.Truncate(p.size); err != nil {
		f.Close()
		return nil, &exitError{code: exitLocal, err: err}
	}
	if _, err := f.Seek(p.size, io.SeekStart); err != nil {
		f.Close()
		return nil, &exitError{code: exitLocal, err: err}
	}
	p.file = f
	return p, nil
}

func (p *partial) Write(b []byte) (int, error) {
	n, err := p.file.Write(b)
	p.size += int64(n)
	return n, err
}

// checkpoint records where a later -resume continues: written to a temporary file and renamed,
// so it is always whole.
func (p *partial) checkpoint(token string, rows int64) error {
	tmp := p.path + ".checkpoint.tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%s %d %d\n", token, p.size, rows), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p.path+".checkpoint")
}

// done renames FILE.partial to FILE and removes the checkpoint.
func (p *partial) done(out string) error {
	if err := p.file.Close(); err != nil {
		return err
	}
	if err := os.Rename(p.path, out); err != nil {
		return err
	}
	_ = os.Remove(p.path + ".checkpoint")
	return nil
}

// progress returns a progress bar on stderr when it is a terminal (nil otherwise), with an
// ETA when the export's totalCount can be asked for first.
func progress(ctx context.Context, c *export.Client, job export.Job, stderr io.Writer) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	total := totalCount(ctx, c, job)
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("export"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
		progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionThrottle(200*time.Millisecond))
	c.OnRows = func(rows, bytes int64) {
		bar.Describe(fmt.Sprintf("export %s", humanBytes(bytes)))
		_ = bar.Set64(rows)
	}
	return bar
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
}

// totalCount asks /graphql for the export's totalCount, with the root connection's selection
// replaced by totalCount; -1 when that fails.
func totalCount(ctx context.Context, c *export.Client, job export.Job) int64 {
	doc, err := parser.Parse(parser.ParseParams{Source: job.Query})
	if err != nil {
		return -1
	}
	key := ""
	for _, def := range doc.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok || (job.OperationName != "" && (op.Name == nil || op.Name.Value != job.OperationName)) {
			continue
		}
		for _, sel := range op.SelectionSet.Selections {
			if f, ok := sel.(*ast.Field); ok && key == "" {
				key = f.Name.Value
				if f.Alias != nil {
					key = f.Alias.Value
				}
				f.SelectionSet = ast.NewSelectionSet(&ast.SelectionSet{Selections: []ast.Selection{
					ast.NewField(&ast.Field{Name: ast.NewName(&ast.Name{Value: "totalCount"})})}})
			}
		}
	}
	if key == "" {
		return -1
	}
	q, _ := printer.Print(doc).(string)
	vars := map[string]any{}
	for k, v := range job.Variables {
		if k != "first" && k != "after" {
			vars[k] = v
		}
	}
	body, _ := json.Marshal(map[string]any{"query": q, "operationName": job.OperationName, "variables": vars})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/graphql", bytes.NewReader(body))
	if err != nil {
		return -1
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", c.Key)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var out struct {
		Data map[string]struct {
			TotalCount int64 `json:"totalCount"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil || out.Data == nil {
		return -1
	}
	return out.Data[key].TotalCount
}

var _ flag.Value = vars(nil)
