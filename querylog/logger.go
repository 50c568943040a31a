// Package querylog records every executed statement for DBAs.
package querylog

import (
	"context"
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
	Tenant     string
	Credential string
	View       string
	Class      string // quota class: lookup, search or export
	Source     string // source (replica) that ran it
	SQL        string // with placeholders, never values
	Duration   time.Duration
	Rows       int
	Bytes      int64  // bytes sent of the rows (exports); 0: not logged
	ErrorCode  string // empty on success
}

// Logger writes one JSON line per Entry and, for slow ones, a MySQL slow-log record.
type Logger struct {
	json *slog.Logger
	slow time.Duration
	now  func() time.Time

	mu      sync.Mutex // serialises records on slowLog
	slowLog io.Writer
}

// New returns a Logger writing JSON lines to w and entries that take at least slow
// to slowLog; slow 0 or a nil slowLog disables the slow log (the flag still follows slow).
func New(w io.Writer, slow time.Duration, slowLog io.Writer) *Logger {
	return &Logger{
		json:    slog.New(slog.NewJSONHandler(w, nil)),
		slow:    slow,
		now:     time.Now,
		slowLog: slowLog,
	}
}

// Log records e; it is safe for concurrent use and drops what it cannot write, as
// slog does, because a failing log must not fail the query.
func (l *Logger) Log(e Entry) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	slow := l.slow > 0 && e.Duration >= l.slow
	l.writeJSON(e, slow)
	if slow && l.slowLog != nil {
		l.writeSlow(e)
	}
}

func (l *Logger) writeJSON(e Entry, slow bool) {
	r := slog.NewRecord(e.Time.UTC(), slog.LevelInfo, "query", 0)
	r.AddAttrs(
		slog.String("requestId", e.RequestID),
		slog.String("tenant", e.Tenant),
		slog.String("credential", e.Credential),
		slog.String("view", e.View),
		slog.String("class", e.Class),
		slog.String("source", e.Source),
		slog.String("fingerprint", Fingerprint(e.SQL)),
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
	_ = l.json.Handler().Handle(context.Background(), r) // see Log: dropped on failure
}

// writeSlow writes e in the MySQL slow query log format that pt-query-digest reads;
// the "# Request_id: ..." line is parsed by it as extra attributes (they must start
// with an upper-case letter to be recognised).
func (l *Logger) writeSlow(e Entry) {
	var b strings.Builder
	t := e.Time.UTC()
	b.WriteString("# Time: " + t.Format("2006-01-02T15:04:05.000000Z") + "\n")
	b.WriteString("# User@Host: " + hostField(e.Credential) + "[" + hostField(e.Tenant) + "] @ viewgate []  Id: 0\n")
	b.WriteString("# Request_id: " + attr(e.RequestID) + "  View: " + attr(e.View) +
		"  Class: " + attr(e.Class) + "  Source: " + attr(e.Source) + "  Error: " + attr(e.ErrorCode) + "\n")
	b.WriteString("# Query_time: " + strconv.FormatFloat(e.Duration.Seconds(), 'f', 6, 64) +
		"  Lock_time: 0.000000 Rows_sent: " + strconv.Itoa(e.Rows) + "  Rows_examined: 0\n")
	b.WriteString("SET timestamp=" + strconv.FormatInt(t.Unix(), 10) + ";\n")
	b.WriteString(slowSQL(e.SQL) + ";\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.slowLog, b.String()) // see Log: dropped on failure
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
