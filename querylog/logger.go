// Package querylog records every executed statement for DBAs: the JSON query log, the slow log
// in MySQL's format, plans of slow statements, and the digest that reads them back.
package querylog

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Entry is one executed statement. It has no field for argument values on purpose:
// SQL carries placeholders only, so no PII reaches the log.
type Entry struct {
	Time       time.Time // when the statement started; zero means now
	RequestID  string
	TraceID    string // the W3C trace id of the request, when it came with a traceparent
	Tenant     string
	Credential string
	View       string
	Class      string // quota class: lookup, search, report or export
	Source     string // the catalog source
	Replica    string // the replica (or fallback) of Source that ran the statement; "" when unknown
	SQL        string // with placeholders, never values
	Duration   time.Duration
	Rows       int
	Bytes      int64  // bytes sent of the rows (exports); 0: not logged
	ErrorCode  string // empty on success
	// Explain captures the statement's plan on the replica that ran it, read-only and under
	// ctx's deadline, without any parameter value; nil means no plan can be had. The logger
	// calls it for slow statements only, at most once per query ID per plan interval.
	Explain func(ctx context.Context) (json.RawMessage, error)
}

// Observer receives what the logger sees, for metrics (package metrics implements it).
type Observer interface {
	Statement(e *Entry)
	WriteFailed(file string) // File names: FileQueryLog, FileSlowLog
	Plan(outcome string)     // PlanCaptured, PlanFailed, PlanDropped
}

// Names of the files and plan outcomes an Observer is told about.
const (
	FileQueryLog = "query_log"
	FileSlowLog  = "slow_log"
	PlanCaptured = "captured"
	PlanFailed   = "failed"
	PlanDropped  = "dropped" // over the rate limit or the queue was full
)

// Options configures a Logger.
type Options struct {
	JSON io.Writer // one JSON line per statement; nil discards them
	Slow io.Writer // slow statements in MySQL slow-log format; nil: no slow log
	// Threshold is the default slow threshold: a statement that takes at least this long is
	// slow, so 0 makes every statement slow. ByView (root field) and ByClass override it, in
	// that order.
	Threshold time.Duration
	ByView    map[string]time.Duration
	ByClass   map[string]time.Duration
	Plans     PlanOptions
	Log       *slog.Logger // write failures (rate-limited ERROR lines) and failed plans; nil discards
	Observer  Observer     // nil: none
	Now       func() time.Time
}

// Logger writes one JSON line per Entry and, for slow ones, a MySQL slow-log record.
type Logger struct {
	o     Options
	json  *slog.Logger
	ids   queryIDs
	plans *planner
	fails [2]failures // by file: 0 query log, 1 slow log

	mu sync.Mutex // serialises records on the slow log

	jmu  sync.Mutex // serialises lines on the query log
	line []byte     // the query log line being written, kept for the next one
}

// New returns a Logger; Close stops its plan worker.
func New(o Options) *Logger {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JSON == nil {
		o.JSON = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	l := &Logger{o: o, json: slog.New(slog.NewJSONHandler(o.JSON, nil))}
	l.fails[0].name, l.fails[1].name = FileQueryLog, FileSlowLog
	l.plans = newPlanner(o.Plans, o.Now, l.capture)
	return l
}

// Close waits for plans being captured and writes their entries; Log must not be called afterwards.
func (l *Logger) Close() { l.plans.close() }

// threshold returns the slow threshold of e.
func (l *Logger) threshold(e *Entry) time.Duration {
	if d, ok := l.o.ByView[e.View]; ok {
		return d
	}
	if d, ok := l.o.ByClass[e.Class]; ok {
		return d
	}
	return l.o.Threshold
}

// Log records e; it is safe for concurrent use. A write that fails is counted and reported,
// never returned: a failing log must not fail the query. A slow entry whose plan is due is
// written once the plan is captured, in the background.
func (l *Logger) Log(e Entry) {
	if e.Time.IsZero() {
		e.Time = l.o.Now()
	}
	if l.o.Observer != nil {
		l.o.Observer.Statement(&e)
	}
	slow := e.Duration >= l.threshold(&e)
	id := l.ids.get(e.SQL)
	if slow && e.Explain != nil && l.plans.offer(id, e) {
		return
	}
	l.write(&e, id, slow, nil, "")
}

// capture runs in the plan worker: it captures e's plan and writes e with it.
func (l *Logger) capture(ctx context.Context, id string, e Entry) {
	plan, err := e.Explain(ctx)
	outcome, why := PlanCaptured, ""
	if err != nil {
		outcome, why, plan = PlanFailed, "plan capture failed", nil
		l.o.Log.Warn("plan capture failed", "queryId", id, "view", e.View, "source", e.Source, "replica", e.Replica, "error", err.Error())
	}
	if l.o.Observer != nil {
		l.o.Observer.Plan(outcome)
	}
	l.write(&e, id, true, plan, why)
}

func (l *Logger) write(e *Entry, id string, slow bool, plan json.RawMessage, planErr string) {
	if err := l.writeJSON(e, id, slow, plan, planErr); err != nil {
		l.failed(0, err)
	}
	if slow && l.o.Slow != nil {
		if err := l.writeSlow(e, plan); err != nil {
			l.failed(1, err)
		}
	}
}

func (l *Logger) writeJSON(e *Entry, id string, slow bool, plan json.RawMessage, planErr string) error {
	l.jmu.Lock()
	defer l.jmu.Unlock()
	if y := e.Time.UTC().Year(); plan == nil && planErr == "" && !e.Time.IsZero() && y >= 0 && y < 10000 {
		l.line = appendLine(l.line[:0], e, id, slow)
		_, err := l.o.JSON.Write(l.line)
		if cap(l.line) > maxKeptLine {
			l.line = nil
		}
		return err
	}
	return l.writeSlog(e, id, slow, plan, planErr)
}

// maxKeptLine bounds the line buffer the logger keeps between entries.
const maxKeptLine = 64 << 10

// writeSlog writes the line through slog's JSON handler, whose format appendLine copies:
// lines with a plan, and times slog itself refuses, take this way.
func (l *Logger) writeSlog(e *Entry, id string, slow bool, plan json.RawMessage, planErr string) error {
	r := slog.NewRecord(e.Time.UTC(), slog.LevelInfo, "query", 0)
	r.AddAttrs(slog.String("requestId", e.RequestID))
	if e.TraceID != "" {
		r.AddAttrs(slog.String("traceId", e.TraceID))
	}
	r.AddAttrs(
		slog.String("tenant", e.Tenant),
		slog.String("credential", e.Credential),
		slog.String("view", e.View),
		slog.String("class", e.Class),
		slog.String("source", e.Source),
		slog.String("replica", e.Replica),
		slog.String("queryId", id),
		slog.String("sql", e.SQL),
		slog.Float64("durationMs", float64(e.Duration)/float64(time.Millisecond)),
		slog.Int("rows", e.Rows),
	)
	if e.Bytes > 0 {
		r.AddAttrs(slog.Int64("bytes", e.Bytes))
	}
	if e.ErrorCode != "" {
		r.AddAttrs(slog.String("error", e.ErrorCode))
	}
	r.AddAttrs(slog.Bool("slow", slow))
	if plan != nil {
		r.AddAttrs(slog.Any("plan", plan))
	}
	if planErr != "" {
		r.AddAttrs(slog.String("planError", planErr))
	}
	return l.json.Handler().Handle(context.Background(), r)
}

// writeSlow writes e in the MySQL slow query log format that pt-query-digest reads. The
// "# Request_id: ..." line is parsed by it as extra attributes (they must start with an
// upper-case letter to be recognised). Lock_time and Rows_examined are not known, so they are
// left out rather than written as 0. The plan goes on a "# plan:" line, which pt-query-digest
// skips because the key is lower case.
func (l *Logger) writeSlow(e *Entry, plan json.RawMessage) error {
	var b strings.Builder
	t := e.Time.UTC()
	b.WriteString("# Time: " + t.Format("2006-01-02T15:04:05.000000Z") + "\n")
	b.WriteString("# User@Host: " + hostField(e.Credential) + "[" + hostField(e.Tenant) + "] @ viewgate []  Id: 0\n")
	b.WriteString("# Request_id: " + attr(e.RequestID))
	if e.TraceID != "" {
		b.WriteString("  Trace_id: " + attr(e.TraceID))
	}
	b.WriteString("  View: " + attr(e.View) + "  Class: " + attr(e.Class) + "  Source: " + attr(e.Source) +
		"  Replica: " + attr(e.Replica) + "  Error: " + attr(e.ErrorCode) + "\n")
	b.WriteString("# Query_time: " + strconv.FormatFloat(e.Duration.Seconds(), 'f', 6, 64) +
		"  Rows_sent: " + strconv.Itoa(e.Rows) + "\n")
	if plan != nil {
		b.WriteString("# plan: " + planLine(plan) + "\n")
	}
	b.WriteString("SET timestamp=" + strconv.FormatInt(t.Unix(), 10) + ";\n")
	b.WriteString(slowSQL(e.SQL) + ";\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := io.WriteString(l.o.Slow, b.String())
	return err
}

// planLine is a plan as one line of compact JSON in which no ";" can end a line (";\n#" ends a
// record for pt-query-digest): a semicolon can only be inside a JSON string, where \u003b is
// the same character.
func planLine(plan json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, plan); err != nil {
		return `{"error":"plan is not JSON"}`
	}
	return strings.ReplaceAll(b.String(), ";", `\u003b`)
}

// hostField keeps a User@Host part parseable: no blanks, brackets or '@'.
func hostField(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '[', ']', '@':
			return '_'
		}
		return r
	}, s)
}

// attr keeps a "Key: value" attribute one token; "-" stands for empty.
func attr(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, s)
}

// slowSQL puts the statement on one line, so no line of it can pass for a header, and
// drops a trailing semicolon the record adds back.
func slowSQL(sql string) string {
	return strings.TrimRight(strings.Join(strings.Fields(sql), " "), ";")
}

// queryIDs caches QueryID by statement text: statements come in few shapes, and the
// fingerprint's regular expressions cost tens of microseconds.
type queryIDs struct {
	mu sync.Mutex
	m  map[string]string
}

const maxCachedIDs = 10000

func (c *queryIDs) get(sql string) string {
	c.mu.Lock()
	id, ok := c.m[sql]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = QueryID(sql)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedIDs {
		c.m = make(map[string]string)
	}
	c.m[sql] = id
	c.mu.Unlock()
	return id
}
