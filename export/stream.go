package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/viewgate/viewgate/fault"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/server"
	"github.com/viewgate/viewgate/views"
)

// Trailers every export stream declares: how it ended, its rows, and where to resume when it
// did not complete (an HTTP client reads them after the body; a cut connection has none).
const (
	TrailerStatus = "Viewgate-Status" // complete, quota or error
	TrailerRows   = "Viewgate-Rows"
	TrailerResume = "Viewgate-Resume"
)

var errGone = fault.New(fault.Cancelled, "the client went away")

// stream is one export being written.
type stream struct {
	h    *Handler
	w    http.ResponseWriter
	r    *http.Request
	req  *request
	rd   *reader.Read
	enc  *encoder
	show []reader.Shown
	sig  signer
	doc  string
	from Checkpoint // where a resumed export starts

	limit   int64 // rows this request may send
	capped  bool  // a row past limit means the view holds more than max_export_rows
	subject quota.Subject
	budget  quota.RowBudget
	left    int64  // rows the budget allows before the next charge
	release func() // gives the tenant's export slot back
	cause   error  // what the row callback stopped the statement with
	pending int64  // rows sent and not yet charged

	started bool
	wire    *wireWriter
	gz      *gzip.Writer
	out     *bufio.Writer
	sent    int64       // rows this request
	last    reader.Kept // the last row sent, for its cursor
	buf     []byte
}

func (h *Handler) newStream(w http.ResponseWriter, r *http.Request, req *request, rd *reader.Read, cols []Column, sig signer, doc string, from Checkpoint) *stream {
	s := &stream{h: h, w: w, r: r, req: req, rd: rd, sig: sig, doc: doc, from: from}
	vcols := make([]*views.Column, len(cols))
	for i, c := range cols {
		sh := rd.Field(c.Field)
		s.show = append(s.show, *sh)
		vcols[i] = sh.Col
	}
	s.enc = newEncoder(req.format, cols, vcols, req.formulas)
	return s
}

// run streams the rows and ends the stream as it must; the error it returns is one to answer
// with a status (nothing was sent).
func (s *stream) run(ctx context.Context) error {
	n, err := s.rd.StreamRows(ctx, reader.StreamOptions{Timeout: s.h.o.StatementTimeout, Class: "export",
		Bytes: func() int64 { return s.wireBytes() }}, s.row)
	// The statement is over: give the tenant's export slot back before the last line, so a
	// client that resumes as soon as it reads it finds the slot free.
	s.release()
	s.logAttrs(ctx, n)
	if m := s.h.o.Metrics; m != nil {
		defer func() { m.Export(string(s.req.format), n, s.wireBytes()) }() // after the last bytes, even on an abort
	}
	switch {
	case err == nil:
		if !s.started {
			if err := s.start(); err != nil {
				return nil
			}
		}
		s.finish(ctx)
		return nil
	case !s.started && !errors.Is(err, errGone):
		return err
	}
	s.fail(ctx, err)
	return nil
}

func (s *stream) wireBytes() int64 {
	if s.wire == nil {
		return 0
	}
	return s.wire.n
}

// row writes one row; it charges the rows budget every CheckpointRows rows, and stops when the
// budget is spent or the view holds more than it may export. Its error is kept as the cause,
// which the stream reports without the layers that wrap it on its way back.
func (s *stream) row(row *reader.Row) error {
	err := s.write(row)
	if err != nil {
		s.cause = err
	}
	return err
}

func (s *stream) write(row *reader.Row) error {
	if s.sent == s.limit {
		if s.capped {
			return fmt.Errorf("%w: %s exports at most %d rows; narrow the export with where", ErrTooManyRows, s.rd.View.Field, s.rd.View.MaxExportRows)
		}
		return nil // first: 0 still reads one row (LIMIT is at least 1)
	}
	if s.left <= 0 {
		if err := s.charge(); err != nil {
			return err
		}
		if s.left <= 0 {
			return errStop
		}
	}
	if !s.started {
		if err := s.start(); err != nil {
			return err
		}
	}
	var err error
	if s.buf, err = s.enc.record(s.buf[:0], s.rd, s.show, row); err != nil {
		return err
	}
	if _, err := s.out.Write(s.buf); err != nil {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	s.sent++
	s.left--
	s.pending++
	row.Keep(&s.last) // the reader reuses row
	if s.pending >= int64(s.h.o.CheckpointRows) {
		return s.checkpoint()
	}
	return nil
}

// charge charges the rows sent since the last charge and learns what the budget has left.
func (s *stream) charge() error {
	if s.h.o.Quota == nil {
		s.left, s.pending = math.MaxInt64, 0
		return nil
	}
	b, err := s.h.o.Quota.ExportRows(s.r.Context(), s.subject, s.pending)
	if err != nil {
		return err
	}
	s.pending, s.budget = 0, b
	s.left = b.Remaining
	return nil
}

// checkpoint charges the rows, writes a checkpoint line when asked for, and flushes.
func (s *stream) checkpoint() error {
	if err := s.charge(); err != nil {
		return err
	}
	if s.req.checkpoints {
		tok, err := s.token()
		if err != nil {
			return err
		}
		if _, err := s.out.Write(controlLine(Control{Kind: KindCheckpoint, Token: tok, Rows: s.rows()})); err != nil {
			return fmt.Errorf("%w: %v", errGone, err)
		}
	}
	return s.flush()
}

func (s *stream) rows() int64 { return s.from.Rows + s.sent }

// token returns the checkpoint after the last row sent.
func (s *stream) token() (string, error) {
	after := s.from.After
	if !s.last.Empty() {
		var err error
		if after, err = s.rd.CursorOf(&s.last); err != nil {
			return "", err
		}
	}
	return s.sig.token(Checkpoint{After: after, Rows: s.rows(), Doc: s.doc}), nil
}

// start sends the status and headers and, for a CSV export that is not resumed, the header row.
func (s *stream) start() error {
	s.started = true
	hdr := s.w.Header()
	hdr.Set("Content-Type", s.req.format.MediaType())
	hdr.Set("Content-Disposition", `attachment; filename="`+filename(s.rd.View, s.req.format, s.h.o.Now())+`"`)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Vary", "Accept-Encoding")
	hdr.Set("Trailer", TrailerStatus+", "+TrailerRows+", "+TrailerResume)
	if s.req.gzip {
		hdr.Set("Content-Encoding", "gzip")
	}
	s.w.WriteHeader(http.StatusOK)
	s.wire = &wireWriter{w: s.w, rc: http.NewResponseController(s.w), idle: s.h.o.IdleTimeout}
	var dst io.Writer = s.wire
	if s.req.gzip {
		s.gz, _ = gzip.NewWriterLevel(s.wire, gzip.BestSpeed)
		dst = s.gz
	}
	s.out = bufio.NewWriterSize(dst, 256<<10)
	if s.req.resume == "" {
		if _, err := s.out.Write(s.enc.header(nil)); err != nil {
			return fmt.Errorf("%w: %v", errGone, err)
		}
	}
	return nil
}

// filename is the attachment's name: the view's field and the UTC date.
func filename(v *views.View, f Format, now time.Time) string {
	return v.Field + "-" + now.UTC().Format("2006-01-02") + "." + string(f)
}

// flush sends what is buffered, through gzip, to the client.
func (s *stream) flush() error {
	if err := s.out.Flush(); err != nil {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	if s.gz != nil {
		if err := s.gz.Flush(); err != nil {
			return fmt.Errorf("%w: %v", errGone, err)
		}
	}
	if err := s.wire.rc.Flush(); err != nil {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	return nil
}

// close ends the body: the gzip footer, and the trailers.
func (s *stream) close(status string, resume bool) {
	err := s.flush()
	if s.gz != nil && err == nil {
		err = s.gz.Close()
	}
	if err != nil {
		s.h.o.Log.InfoContext(s.r.Context(), "export not delivered", "error", err.Error())
		return
	}
	hdr := s.w.Header()
	hdr.Set(TrailerStatus, status)
	hdr.Set(TrailerRows, strconv.FormatInt(s.rows(), 10))
	if resume {
		if tok, err := s.token(); err == nil {
			hdr.Set(TrailerResume, tok)
		}
	}
}

// finish ends a complete export.
func (s *stream) finish(ctx context.Context) {
	if err := s.charge(); err != nil {
		s.h.o.Log.WarnContext(ctx, "export rows not charged", "error", err.Error())
	}
	if s.req.checkpoints {
		_, _ = s.out.Write(controlLine(Control{Kind: KindEnd, Rows: s.rows()}))
	}
	server.SetLogAttrs(ctx, slog.String("exportStatus", "complete"))
	s.close("complete", false)
}

// fail ends a stream that could not complete, so that no client takes it for a whole file:
// with checkpoints a control line (then a clean end); NDJSON an error line; CSV without
// checkpoints aborts the chunked body (no terminating chunk, no gzip footer).
func (s *stream) fail(ctx context.Context, err error) {
	if s.cause != nil && errors.Is(err, s.cause) {
		err = s.cause
	}
	if s.pending > 0 {
		if cerr := s.charge(); cerr != nil {
			s.h.o.Log.WarnContext(ctx, "export rows not charged", "error", cerr.Error())
		}
	}
	quotaStop := errors.Is(err, errStop)
	status := "error"
	if quotaStop {
		status = "quota"
	}
	server.SetLogAttrs(ctx, slog.String("exportStatus", status))
	if errors.Is(err, errGone) || ctx.Err() != nil {
		server.SetLogAttrs(ctx, slog.String("exportStatus", "client_gone"))
		s.h.o.Log.InfoContext(ctx, "export: client went away", "rows", s.rows(), "error", err.Error())
		return
	}
	resumable := !errors.Is(err, ErrTooManyRows)
	if quotaStop {
		err = s.budget.Exceeded()
	} else {
		s.h.o.Log.WarnContext(ctx, "export failed after its first row", "rows", s.rows(), "error", err.Error())
	}
	tok := "-"
	if t, terr := s.token(); resumable && terr == nil {
		tok = t
	} else {
		resumable = false
	}
	switch {
	case s.req.checkpoints && quotaStop:
		_, _ = s.out.Write(controlLine(Control{Kind: KindQuota, Token: tok, Rows: s.rows(), RetryAfter: retrySeconds(s.budget)}))
	case s.req.checkpoints:
		_, _ = s.out.Write(controlLine(Control{Kind: KindError, Code: string(fault.CodeOf(err)), Token: tok, Rows: s.rows()}))
	case s.req.format == NDJSON:
		_, _ = s.out.Write(s.errorLine(err, tok, quotaStop))
	default:
		_ = s.flush()
		panic(http.ErrAbortHandler)
	}
	s.close(status, resumable)
}

func retrySeconds(b quota.RowBudget) int {
	return int(b.Exceeded().RetryAfter / time.Second)
}

// errorLine is NDJSON's last line of a failed export: {"@error": {message, code, rows,
// resume, …}}; "@" cannot start a GraphQL field name, so no data line has that key.
func (s *stream) errorLine(err error, tok string, quotaStop bool) []byte {
	msg, ext := s.h.o.Front.ErrorEntry(s.r.Context(), err)
	buf := []byte(`{"@error":{"message":`)
	buf = reader.AppendJSONString(buf, msg)
	code, _ := ext["code"].(fault.Code)
	buf = append(buf, `,"code":`...)
	buf = reader.AppendJSONString(buf, string(code))
	buf = append(buf, `,"rows":`...)
	buf = strconv.AppendInt(buf, s.rows(), 10)
	if tok != "-" {
		buf = append(buf, `,"resume":`...)
		buf = reader.AppendJSONString(buf, tok)
	}
	if quotaStop {
		buf = append(buf, `,"retryAfterSeconds":`...)
		buf = strconv.AppendInt(buf, int64(retrySeconds(s.budget)), 10)
	}
	return append(buf, "}}\n"...)
}

func (s *stream) logAttrs(ctx context.Context, n int64) {
	server.SetLogAttrs(ctx, slog.String("view", s.rd.View.Field), slog.String("format", string(s.req.format)),
		slog.Int64("rows", n), slog.Bool("gzip", s.req.gzip), slog.Bool("resumed", s.req.resume != ""))
}

// wireWriter writes the body to the client, counting bytes and moving the write deadline
// forward before every write, so a client that stops reading is cut after the idle timeout.
type wireWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
	n    int64
}

func (ww *wireWriter) Write(p []byte) (int, error) {
	if ww.idle > 0 {
		_ = ww.rc.SetWriteDeadline(time.Now().Add(ww.idle)) // recorders without deadlines ignore it
	}
	n, err := ww.w.Write(p)
	ww.n += int64(n)
	return n, err
}
