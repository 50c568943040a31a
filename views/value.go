package views

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/viewgate/viewgate/fault"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// Values travel inside viewgate in one normal form per type, whatever the engine:
// text, uuid, bigint, decimal → string; int → int64; float → float64; bool → bool;
// date, timestamp → time.Time in UTC; json → json.RawMessage (compact); NULL → nil.

// ErrBadValue is wrapped by every error about a filter or cursor value of the wrong shape.
var ErrBadValue = fault.New(fault.BadUserInput, "bad value")

var (
	bigintRe = regexp.MustCompile(`^-?[0-9]{1,19}$`)
	uuidRe   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// maxTextValue bounds a text value in a filter or cursor.
const maxTextValue = 4096

// checkText refuses text that some engine cannot take as a parameter: a NUL character
// (Postgres text cannot hold one: SQLSTATE 22021) or invalid UTF-8. Every text operand and
// the search term pass here, so the answer is the same 400 on every engine.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: text cannot contain NUL characters", ErrBadValue)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: text must be valid UTF-8", ErrBadValue)
	}
	return nil
}

// parseValue converts a GraphQL or JSON input value to the column's normal form.
func parseValue(c *Column, v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: null is not a %s (use isNull to match NULL)", ErrBadValue, c.Type)
	}
	switch c.Type {
	case Text:
		s, ok := v.(string)
		if !ok || len(s) > maxTextValue {
			return nil, fmt.Errorf("%w: want a string of at most %d bytes", ErrBadValue, maxTextValue)
		}
		if err := checkText(s); err != nil {
			return nil, err
		}
		return s, nil
	case Int, BigInt:
		return parseInteger(c.Type, v)
	case Decimal:
		return parseDecimal(v, *c.Scale)
	case Float:
		f, ok := number(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: want a finite number", ErrBadValue)
		}
		return f, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%w: want true or false", ErrBadValue)
		}
		return b, nil
	case Date:
		return parseTime(v, "2006-01-02", "a date YYYY-MM-DD")
	case Timestamp:
		return parseTime(v, time.RFC3339Nano, "an RFC 3339 timestamp like 2024-05-01T12:00:00Z")
	case UUID:
		s, ok := v.(string)
		if !ok || !uuidRe.MatchString(s) {
			return nil, fmt.Errorf("%w: want a UUID like 123e4567-e89b-12d3-a456-426614174000", ErrBadValue)
		}
		return strings.ToLower(s), nil
	}
	return nil, fmt.Errorf("%w: %s columns cannot be compared", ErrBadValue, c.Type)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func parseInteger(t Type, v any) (any, error) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("%w: want a whole number", ErrBadValue)
		}
		n = int64(x)
	case string:
		if !bigintRe.MatchString(x) {
			return nil, fmt.Errorf("%w: want a whole number", ErrBadValue)
		}
		var err error
		if n, err = strconv.ParseInt(x, 10, 64); err != nil {
			return nil, fmt.Errorf("%w: %q is out of the 64-bit range", ErrBadValue, x)
		}
	default:
		return nil, fmt.Errorf("%w: want a whole number", ErrBadValue)
	}
	if t == BigInt {
		return strconv.FormatInt(n, 10), nil
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d is outside the 32-bit range of an int column", ErrBadValue, n)
	}
	return n, nil
}

func parseDecimal(v any, scale int) (any, error) {
	switch x := v.(type) {
	case string:
		if !IsDecimal(x) {
			return nil, fmt.Errorf("%w: want a decimal number as a string, like \"12.50\"", ErrBadValue)
		}
		// Exact: a filter operand with more places than the column compares at full precision
		// (4.994 is not equal to 4.99); only output is rounded to the scale.
		_, frac, _ := strings.Cut(x, ".")
		return formatDecimal(x, max(scale, len(frac))), nil
	default:
		f, ok := number(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: want a decimal number as a string, like \"12.50\"", ErrBadValue)
		}
		// The shortest text that round-trips, then the same rounding as a string gets.
		return parseDecimal(strconv.FormatFloat(f, 'f', -1, 64), scale)
	}
}

// IsDecimal reports whether s is a plain decimal: an optional sign, 1 to 40 digits, and
// optionally a point and 1 to 30 digits (^[+-]?[0-9]{1,40}(\.[0-9]{1,30})?$, by hand: the
// regular expression was a tenth of the CPU of reading a page with a decimal column).
func IsDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intPart, frac, point := strings.Cut(s, ".")
	if !digitsOnly(intPart, 40) {
		return false
	}
	return !point || digitsOnly(frac, 30)
}

// digitsOnly reports whether s is 1 to max ASCII digits.
func digitsOnly(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatDecimal returns a decimal's text as a column of scale presents it, as decoding it
// does (see formatDecimal); ok is false when s is not a plain decimal (NaN, an infinity).
func FormatDecimal(s string, scale int) (_ string, ok bool) {
	if !IsDecimal(s) {
		return "", false
	}
	return formatDecimal(s, scale), true
}

// formatDecimal rewrites a plain decimal string with exactly scale digits after the point,
// rounding half away from zero. Text already in that form (what a database sends for a
// column of that scale) is returned as is, without allocating.
func formatDecimal(s string, scale int) string {
	if canonicalDecimal(s, scale) {
		return s
	}
	return roundDecimal(s, scale)
}

// canonicalDecimal reports whether roundDecimal(s, scale) is s: digits with no leading zero
// (but a lone 0), exactly scale digits after a point, and a minus sign only on a non-zero value.
func canonicalDecimal(s string, scale int) bool {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac, point := strings.Cut(s, ".")
	if point != (scale > 0) || len(frac) != scale || intPart == "" || (intPart[0] == '0' && len(intPart) > 1) {
		return false
	}
	zero := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
		case c < '0' || c > '9':
			return false
		case c != '0':
			zero = false
		}
	}
	return !(neg && zero)
}

// roundDecimal is formatDecimal for any plain decimal string.
func roundDecimal(s string, scale int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	digits := []byte(intPart + frac + strings.Repeat("0", max(0, scale-len(frac))))
	keep := len(intPart) + scale
	if len(digits) > keep {
		roundUp := digits[keep] >= '5'
		digits = digits[:keep]
		for i := keep - 1; roundUp && i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
				continue
			}
			digits[i]++
			roundUp = false
		}
		if roundUp {
			digits = append([]byte{'1'}, digits...)
		}
	}
	whole, fracDigits := string(digits[:len(digits)-scale]), string(digits[len(digits)-scale:])
	if whole == "" {
		whole = "0"
	}
	out := whole
	if scale > 0 {
		out += "." + fracDigits
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

func parseTime(v any, layout, want string) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: want %s", ErrBadValue, want)
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return nil, fmt.Errorf("%w: want %s", ErrBadValue, want)
	}
	// Years 0001..9999 in UTC are what every engine and driver can bind (go-sql-driver refuses
	// year 0000; an offset can move a year-0001 or year-9999 value outside).
	if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
		return nil, fmt.Errorf("%w: want %s with a year from 0001 to 9999 (in UTC)", ErrBadValue, want)
	}
	return t, nil
}

// sqliteTime is how the SQLite demo stores timestamps: text that sorts chronologically.
const sqliteTime = "2006-01-02 15:04:05.999999999"

// arg converts a normal-form value to what the dialect's driver binds.
func (d *Dialect) arg(c *Column, v any) any {
	switch c.Type {
	case Decimal:
		switch d {
		case Postgres:
			var n pgtype.Numeric
			_ = n.Scan(v.(string)) // the value passed IsDecimal
			return n
		case SQLite:
			f, _ := strconv.ParseFloat(v.(string), 64)
			return f
		}
	case BigInt:
		n, _ := strconv.ParseInt(v.(string), 10, 64)
		return n
	case Date:
		if d == SQLite {
			return v.(time.Time).Format("2006-01-02")
		}
	case Timestamp:
		if d == SQLite {
			return v.(time.Time).Format(sqliteTime)
		}
	case UUID:
		if d == Postgres {
			var u pgtype.UUID
			_ = u.Scan(v.(string)) // the value matched uuidRe
			return u
		}
	}
	return v
}

// placeholder returns the placeholder for one value of the column.
func (d *Dialect) placeholder(c *Column) string {
	if d == MySQL && c.Type == Decimal {
		// A string compared with a DECIMAL would otherwise be compared as a double.
		return "CAST(? AS DECIMAL(65,30))"
	}
	return "?"
}

// arrayArg builds the typed slice Postgres binds for "= ANY(?)".
func (d *Dialect) arrayArg(c *Column, vals []any) any {
	switch c.Type {
	case Int, BigInt:
		out := make([]int64, len(vals))
		for i, v := range vals {
			out[i] = d.arg(c, v).(int64)
		}
		return out
	case Float:
		out := make([]float64, len(vals))
		for i, v := range vals {
			out[i] = v.(float64)
		}
		return out
	case Date, Timestamp:
		out := make([]time.Time, len(vals))
		for i, v := range vals {
			out[i] = v.(time.Time)
		}
		return out
	case Decimal:
		out := make([]pgtype.Numeric, len(vals))
		for i, v := range vals {
			out[i] = d.arg(c, v).(pgtype.Numeric)
		}
		return out
	case UUID:
		out := make([]pgtype.UUID, len(vals))
		for i, v := range vals {
			out[i] = d.arg(c, v).(pgtype.UUID)
		}
		return out
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.(string)
	}
	return out
}

// dest returns a fresh scan destination for the column.
func (d *Dialect) dest(c *Column) any {
	if d == Postgres {
		if dest := pgDest(c); dest != nil {
			return dest
		}
	}
	switch c.Type {
	case Int, BigInt:
		return new(sql.NullInt64)
	case Float:
		return new(sql.NullFloat64)
	case Bool:
		return new(sql.NullBool)
	case Decimal:
		if d == SQLite {
			return new(sql.NullFloat64)
		}
	case Date, Timestamp:
		if d != SQLite {
			return new(sql.NullTime)
		}
	}
	return new(sql.NullString)
}

// decode turns a scanned destination into the column's normal form.
func (d *Dialect) decode(c *Column, dest any) (any, error) {
	if d == Postgres {
		if v, ok, err := pgDecode(c, dest); ok {
			return v, err
		}
	}
	switch x := dest.(type) {
	case *sql.NullInt64:
		if !x.Valid {
			return nil, nil
		}
		if c.Type == BigInt {
			return strconv.FormatInt(x.Int64, 10), nil
		}
		return x.Int64, nil
	case *sql.NullFloat64:
		if !x.Valid {
			return nil, nil
		}
		if c.Type == Decimal {
			return strconv.FormatFloat(x.Float64, 'f', *c.Scale, 64), nil
		}
		return x.Float64, nil
	case *sql.NullBool:
		if !x.Valid {
			return nil, nil
		}
		return x.Bool, nil
	case *sql.NullTime:
		if !x.Valid {
			return nil, nil
		}
		return x.Time.UTC(), nil
	case *sql.NullString:
		if !x.Valid {
			return nil, nil
		}
		return decodeString(c, x.String)
	}
	return nil, fmt.Errorf("decode %s: unexpected destination %T", c.Name, dest)
}

func decodeString(c *Column, s string) (any, error) {
	switch c.Type {
	case Decimal:
		if !IsDecimal(s) {
			return nil, fmt.Errorf("decode %s: the value is not a decimal", c.Name) // never quote data: it may be PII
		}
		return formatDecimal(s, *c.Scale), nil
	case UUID:
		return strings.ToLower(s), nil
	case JSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			return nil, fmt.Errorf("decode %s: invalid JSON: %w", c.Name, err)
		}
		return json.RawMessage(buf.Bytes()), nil
	case Date, Timestamp:
		for _, layout := range []string{sqliteTime, "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("decode %s: the value is not a date or timestamp", c.Name)
	}
	return s, nil
}

// Output converts a normal-form value to its GraphQL representation.
func Output(c *Column, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if c.Type == Date {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	case json.RawMessage:
		var out any
		dec := json.NewDecoder(bytes.NewReader(x))
		dec.UseNumber()
		if dec.Decode(&out) != nil {
			return nil
		}
		return out
	}
	return v
}

// cursorValue converts a normal-form value to its JSON form inside a cursor.
func cursorValue(c *Column, v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return strconv.FormatFloat(f, 'g', -1, 64) // "NaN", "+Inf", "-Inf": JSON has no such numbers
	}
	if t, ok := v.(time.Time); ok {
		if c.Type == Date {
			return t.Format("2006-01-02")
		}
		return t.Format(time.RFC3339Nano)
	}
	return v
}
