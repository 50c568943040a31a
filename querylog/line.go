package querylog

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendLine appends e's query log line as slog's JSON handler writes it (time, level, msg,
// then the attributes in writeSlog's order, and a newline), for an entry with no plan. slog's
// record and attribute values cost a tenth of a list request's allocations;
// TestLineMatchesSlog holds the two to the same bytes.
func appendLine(b []byte, e *Entry, id string, slow bool) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"query"`...)
	b = appendField(b, "requestId", e.RequestID)
	if e.TraceID != "" {
		b = appendField(b, "traceId", e.TraceID)
	}
	b = appendField(b, "tenant", e.Tenant)
	b = appendField(b, "credential", e.Credential)
	b = appendField(b, "view", e.View)
	b = appendField(b, "class", e.Class)
	b = appendField(b, "source", e.Source)
	b = appendField(b, "replica", e.Replica)
	b = appendField(b, "queryId", id)
	b = appendField(b, "sql", e.SQL)
	b = append(b, `,"durationMs":`...)
	b = appendFloat(b, float64(e.Duration)/float64(time.Millisecond))
	b = append(b, `,"rows":`...)
	b = strconv.AppendInt(b, int64(e.Rows), 10)
	if e.Bytes > 0 {
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, e.Bytes, 10)
	}
	if e.ErrorCode != "" {
		b = appendField(b, "error", e.ErrorCode)
	}
	b = append(b, `,"slow":`...)
	b = strconv.AppendBool(b, slow)
	return append(b, '}', '\n')
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = appendEscaped(b, value)
	return append(b, '"')
}

// appendFloat formats f as encoding/json does, which slog calls for floats.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendEscaped escapes s as slog's JSON handler does: no HTML escaping, \n \r \t by name,
// other control characters as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
