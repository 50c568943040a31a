package querylog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Record is one statement read back from a query log or a slow log.
type Record struct {
	Time      time.Time
	RequestID string
	Tenant    string
	View      string
	Class     string
	Source    string
	Replica   string
	SQL       string
	Duration  time.Duration
	Rows      int64
	Error     string
	Plan      json.RawMessage // nil when the entry carries none
}

// maxLine bounds one line of a log (a JSON entry with its plan); longer lines are skipped as malformed.
const maxLine = 16 << 20

// readLog reads the records of one file, plain or gzip-compressed, JSON query log or slow log
// (told apart by the first byte), and hands each to fn; malformed entries are reported to bad.
func readLog(r io.Reader, fn func(*Record), bad func()) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	first, err := firstByte(br)
	if err != nil {
		return err
	}
	lines := &lineReader{r: br}
	if first == '{' {
		return readJSONLog(lines, fn, bad)
	}
	return readSlowLog(lines, fn, bad)
}

// firstByte returns the first byte that is not blank, without consuming it; io.EOF is no error.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if b[0] != ' ' && b[0] != '\n' && b[0] != '\r' && b[0] != '\t' {
			return b[0], nil
		}
		_, _ = br.ReadByte()
	}
}

// lineReader reads lines of any length up to maxLine; longer ones are returned as too long.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
}

// next returns the next line without its newline, whether it was too long, or io.EOF.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf)+len(chunk) <= maxLine {
			l.buf = append(l.buf, chunk...)
		} else {
			tooLong = true
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(l.buf) > 0 || tooLong):
			return bytes.TrimRight(l.buf, "\r\n"), tooLong, nil
		case err != nil:
			return nil, false, err
		}
		return bytes.TrimRight(l.buf, "\r\n"), tooLong, nil
	}
}

// jsonEntry is a query log line as Logger writes it.
type jsonEntry struct {
	Time       time.Time       `json:"time"`
	Msg        string          `json:"msg"`
	RequestID  string          `json:"requestId"`
	Tenant     string          `json:"tenant"`
	View       string          `json:"view"`
	Class      string          `json:"class"`
	Source     string          `json:"source"`
	Replica    string          `json:"replica"`
	SQL        *string         `json:"sql"`
	DurationMs *float64        `json:"durationMs"`
	Rows       int64           `json:"rows"`
	Error      string          `json:"error"`
	Plan       json.RawMessage `json:"plan"`
}

// readJSONLog reads JSON lines; lines of other messages (the service log may share the file)
// are passed over, and lines that are not JSON or lack sql and durationMs are malformed.
func readJSONLog(lines *lineReader, fn func(*Record), bad func()) error {
	for {
		line, tooLong, err := lines.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tooLong {
			bad()
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e jsonEntry
		if err := json.Unmarshal(line, &e); err != nil {
			bad()
			continue
		}
		if e.Msg != "query" {
			continue
		}
		if e.SQL == nil || e.DurationMs == nil || *e.DurationMs < 0 {
			bad()
			continue
		}
		fn(&Record{Time: e.Time, RequestID: e.RequestID, Tenant: e.Tenant, View: e.View, Class: e.Class,
			Source: e.Source, Replica: e.Replica, SQL: *e.SQL, Rows: e.Rows, Error: e.Error, Plan: e.Plan,
			Duration: time.Duration(*e.DurationMs * float64(time.Millisecond))})
	}
}

// slowAttr matches the "Key: value" pairs of a slow-log header line, as pt-query-digest reads them.
var slowAttr = regexp.MustCompile(`(\w+):\s+(\S+)`)

// slowEvent is a slow-log record being read.
type slowEvent struct {
	rec      Record
	header   bool // a header line was read
	timed    bool // Query_time was read
	bad      bool
	sql      []string
	stamp    int64 // SET timestamp=
	hasStamp bool
}

// readSlowLog reads MySQL slow-log records: "#" header lines, then SET/use lines, then the
// statement up to a line ending in ";" that the next "#" line follows. A record without a
// valid Query_time or statement is malformed.
func readSlowLog(lines *lineReader, fn func(*Record), bad func()) error {
	ev := &slowEvent{}
	flush := func() {
		if ev.header || len(ev.sql) > 0 {
			if r, ok := ev.finish(); ok {
				fn(r)
			} else {
				bad()
			}
		}
		ev = &slowEvent{}
	}
	for {
		raw, tooLong, err := lines.next()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		if tooLong {
			ev.bad = true
			continue
		}
		line := string(raw)
		if strings.HasPrefix(line, "#") {
			if n := len(ev.sql); n > 0 && strings.HasSuffix(ev.sql[n-1], ";") {
				flush()
			}
			if len(ev.sql) == 0 {
				ev.headerLine(line)
				continue
			}
		}
		if len(ev.sql) == 0 && ev.preamble(line) {
			continue
		}
		ev.sql = append(ev.sql, line)
	}
}

// headerLine reads one "#" line of a record.
func (ev *slowEvent) headerLine(line string) {
	ev.header = true
	switch {
	case strings.HasPrefix(line, "# Time: "):
		if t, ok := slowTime(strings.TrimSpace(line[len("# Time: "):])); ok {
			ev.rec.Time = t
		}
		return
	case strings.HasPrefix(line, "# User@Host: "):
		user, _, _ := strings.Cut(line[len("# User@Host: "):], " @ ")
		if _, tenant, ok := strings.Cut(user, "["); ok { // credential[tenant], as writeSlow writes it
			ev.rec.Tenant = dash(strings.TrimSuffix(tenant, "]"))
		}
		return
	case strings.HasPrefix(line, "# plan: "):
		p := json.RawMessage(line[len("# plan: "):])
		if json.Valid(p) {
			ev.rec.Plan = p
		}
		return
	}
	for _, m := range slowAttr.FindAllStringSubmatch(line, -1) {
		ev.attr(m[1], m[2])
	}
}

func (ev *slowEvent) attr(key, val string) {
	switch key {
	case "Query_time":
		secs, err := strconv.ParseFloat(val, 64)
		if err != nil || secs < 0 {
			ev.bad = true
			return
		}
		ev.rec.Duration, ev.timed = time.Duration(secs*float64(time.Second)), true
	case "Rows_sent":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			ev.bad = true
			return
		}
		ev.rec.Rows = n
	case "Request_id":
		ev.rec.RequestID = dash(val)
	case "View":
		ev.rec.View = dash(val)
	case "Class":
		ev.rec.Class = dash(val)
	case "Source":
		ev.rec.Source = dash(val)
	case "Replica":
		ev.rec.Replica = dash(val)
	case "Error":
		ev.rec.Error = dash(val)
	}
}

// preamble reads the SET timestamp and use lines between the header and the statement.
func (ev *slowEvent) preamble(line string) bool {
	if s, ok := strings.CutPrefix(line, "SET timestamp="); ok {
		if n, err := strconv.ParseInt(strings.TrimSuffix(s, ";"), 10, 64); err == nil {
			ev.stamp, ev.hasStamp = n, true
		}
		return true
	}
	return strings.HasPrefix(line, "use ") && strings.HasSuffix(line, ";")
}

func (ev *slowEvent) finish() (*Record, bool) {
	sql := strings.TrimSuffix(strings.TrimSpace(strings.Join(ev.sql, "\n")), ";")
	if ev.bad || !ev.timed || sql == "" {
		return nil, false
	}
	ev.rec.SQL = sql
	if ev.rec.Time.IsZero() && ev.hasStamp {
		ev.rec.Time = time.Unix(ev.stamp, 0).UTC()
	}
	return &ev.rec, true
}

// slowTime parses the "# Time:" of viewgate and MySQL 5.7+ (RFC 3339), or of MySQL 5.6 and
// MariaDB ("YYMMDD HH:MM:SS", the hour possibly padded with a blank).
func slowTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("060102 15:04:05", strings.Join(strings.Fields(s), " ")); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// dash reads "-" as empty, as writeSlow writes it.
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
