package export

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/viewgate/viewgate/fault"
)

// ErrBadCheckpoint is wrapped by the error of a resume token that is malformed, tampered with,
// or issued for another export.
var ErrBadCheckpoint = fault.New(fault.BadUserInput, "bad resume checkpoint")

// Checkpoint is a resume point: the export's rows so far, and the cursor after the last one.
type Checkpoint struct {
	After string `json:"a"` // the signed cursor of the last row sent ("" before the first)
	Rows  int64  `json:"r"` // rows sent before this point, resumed ones included
	Doc   string `json:"d"` // the export it belongs to (docHash)
}

// signer signs and checks checkpoints with a key of their own.
type signer struct{ key []byte }

func (s signer) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// token returns c as an opaque token: base64url JSON, a dot, and its HMAC.
func (s signer) token(c Checkpoint) string {
	b, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + s.mac(p)
}

// parse checks a token and that it belongs to the export doc.
func (s signer) parse(tok, doc string) (Checkpoint, error) {
	var c Checkpoint
	p, mac, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 4096 || !hmac.Equal([]byte(mac), []byte(s.mac(p))) {
		return c, fmt.Errorf("%w: it is malformed or was not issued by this server", ErrBadCheckpoint)
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Rows < 0 {
		return c, fmt.Errorf("%w: it is malformed", ErrBadCheckpoint)
	}
	if c.Doc != doc {
		return c, fmt.Errorf("%w: it belongs to another export (the query, operation, variables and format must be those of the first request)", ErrBadCheckpoint)
	}
	return c, nil
}

// docHash identifies an export: its document, operation, variables and format.
func docHash(query, operation string, vars map[string]any, f Format) string {
	v, _ := json.Marshal(vars) // map keys sorted: stable
	h := sha256.New()
	for _, part := range []string{query, operation, string(v), string(f)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// Control lines. With checkpoints asked for, the stream carries lines that start with
// ControlPrefix between records; no data line can start with '#' (CSV quotes such a field,
// NDJSON lines are objects).
const (
	ControlPrefix  = "#viewgate "
	KindCheckpoint = "checkpoint" // #viewgate checkpoint <token> <rows>
	KindEnd        = "end"        // #viewgate end <rows>: the export is whole
	KindQuota      = "quota"      // #viewgate quota <token> <rows> <retry-after seconds>: the rows budget is spent
	KindError      = "error"      // #viewgate error <code> <token> <rows>: the export failed after its first row
)

// Control is a parsed control line.
type Control struct {
	Kind       string
	Token      string // resume token (checkpoint, quota, error)
	Rows       int64
	RetryAfter int    // seconds (quota)
	Code       string // error code (error)
}

func controlLine(c Control) []byte {
	var parts []string
	switch c.Kind {
	case KindCheckpoint:
		parts = []string{c.Token, strconv.FormatInt(c.Rows, 10)}
	case KindEnd:
		parts = []string{strconv.FormatInt(c.Rows, 10)}
	case KindQuota:
		parts = []string{c.Token, strconv.FormatInt(c.Rows, 10), strconv.Itoa(c.RetryAfter)}
	case KindError:
		parts = []string{c.Code, c.Token, strconv.FormatInt(c.Rows, 10)}
	}
	return []byte(ControlPrefix + c.Kind + " " + strings.Join(parts, " ") + "\n")
}

// ParseControl parses a control line (without its newline).
func ParseControl(line string) (Control, error) {
	f := strings.Fields(strings.TrimPrefix(line, ControlPrefix))
	bad := fmt.Errorf("not a control line: %.60q", line)
	if !strings.HasPrefix(line, ControlPrefix) || len(f) < 2 {
		return Control{}, bad
	}
	c := Control{Kind: f[0]}
	var err error
	num := func(s string) int64 {
		n, e := strconv.ParseInt(s, 10, 64)
		err = errors.Join(err, e)
		return n
	}
	switch {
	case c.Kind == KindCheckpoint && len(f) == 3:
		c.Token, c.Rows = f[1], num(f[2])
	case c.Kind == KindEnd && len(f) == 2:
		c.Rows = num(f[1])
	case c.Kind == KindQuota && len(f) == 4:
		c.Token, c.Rows, c.RetryAfter = f[1], num(f[2]), int(num(f[3]))
	case c.Kind == KindError && len(f) == 4:
		c.Code, c.Token, c.Rows = f[1], f[2], num(f[3])
	default:
		return Control{}, bad
	}
	if err != nil {
		return Control{}, bad
	}
	return c, nil
}

// Splitter separates an export stream with checkpoints into data, written to Data, and control
// lines, handed to OnControl; it knows CSV's quoting, so a quoted field spanning lines is data.
type Splitter struct {
	Data      io.Writer
	OnControl func(Control) error
	Format    Format

	lineStart bool
	inQuote   bool
	control   []byte // a control line being read
	inControl bool
	started   bool
}

// Write consumes stream bytes; it returns the first error of Data or OnControl, or a malformed
// control line.
func (s *Splitter) Write(p []byte) (int, error) {
	if !s.started {
		s.started, s.lineStart = true, true
	}
	n := len(p)
	for len(p) > 0 {
		if s.inControl {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				s.control = append(s.control, p...)
				return n, nil
			}
			s.control = append(s.control, p[:i]...)
			p = p[i+1:]
			s.inControl, s.lineStart = false, true
			c, err := ParseControl(string(s.control))
			s.control = s.control[:0]
			if err != nil {
				return n, err
			}
			if err := s.OnControl(c); err != nil {
				return n, err
			}
			continue
		}
		if s.lineStart && p[0] == '#' {
			s.inControl = true
			continue
		}
		i := s.dataEnd(p)
		if _, err := s.Data.Write(p[:i]); err != nil {
			return n, err
		}
		p = p[i:]
	}
	return n, nil
}

// dataEnd returns how much of p is data before the next line that may be a control line, and
// updates the quote state over it.
func (s *Splitter) dataEnd(p []byte) int {
	for i, b := range p {
		s.lineStart = false
		switch {
		case b == '"' && s.Format == CSV:
			s.inQuote = !s.inQuote
		case b == '\n' && !s.inQuote:
			if i+1 < len(p) && p[i+1] == '#' {
				s.lineStart = true
				return i + 1
			}
			if i+1 == len(p) {
				s.lineStart = true
			}
		}
	}
	return len(p)
}
