package views

import (
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFormatDecimal(t *testing.T) {
	cases := []struct {
		in    string
		scale int
		want  string
	}{
		{"12.345", 2, "12.35"},
		{"12.344", 2, "12.34"},
		{"12.3449", 2, "12.34"}, // no double rounding
		{"0.005", 2, "0.01"},
		{"0.0049", 2, "0.00"},
		{"9.995", 2, "10.00"},
		{"999.999", 2, "1000.00"},
		{"99.5", 0, "100"},
		{"0.5", 0, "1"},
		{"0.4", 0, "0"},
		{"1.5", 3, "1.500"},
		{"7", 2, "7.00"},
		{"123", 0, "123"},
		{"-12.345", 2, "-12.35"}, // half away from zero
		{"-12.344", 2, "-12.34"},
		{"-0.5", 0, "-1"},
		{"-0.004", 2, "0.00"}, // no negative zero
		{"-0.001", 0, "0"},
		{"-0", 2, "0.00"},
		{"+5.1", 1, "5.1"},
		{"0", 0, "0"},
		{"0", 3, "0.000"},
		{"000", 2, "0.00"},
		{"00012.3400", 2, "12.34"},
		{"0.000", 0, "0"},
		{strings.Repeat("9", 40) + "." + strings.Repeat("9", 30), 30, strings.Repeat("9", 40) + "." + strings.Repeat("9", 30)},
		{strings.Repeat("9", 40) + ".5", 0, "1" + strings.Repeat("0", 40)},
		{"1." + strings.Repeat("0", 29) + "5", 29, "1." + strings.Repeat("0", 28) + "1"},
		{"12345678901234567890.123456789", 5, "12345678901234567890.12346"},
		{"-99999999999999999999.999", 2, "-100000000000000000000.00"},
	}
	for _, tc := range cases {
		if got := formatDecimal(tc.in, tc.scale); got != tc.want {
			t.Errorf("formatDecimal(%q, %d) = %q, want %q", tc.in, tc.scale, got, tc.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	two, zero := 2, 0
	col := func(ty Type) *Column { return &Column{Name: "c", Type: ty, Scale: &two} }
	cases := []struct {
		name string
		c    *Column
		in   any
		want any
	}{
		{"text", col(Text), "Ab c ", "Ab c "},
		{"text empty", col(Text), "", ""},
		{"int float64", col(Int), 42.0, int64(42)},
		{"int negative", col(Int), -7.0, int64(-7)},
		{"int int", col(Int), 5, int64(5)},
		{"int int64", col(Int), int64(5), int64(5)},
		{"int string", col(Int), "-12", int64(-12)},
		{"bigint string", col(BigInt), "9223372036854775807", "9223372036854775807"},
		{"bigint min", col(BigInt), "-9223372036854775808", "-9223372036854775808"},
		{"bigint number", col(BigInt), 12.0, "12"},
		{"bigint leading zeros", col(BigInt), "007", "7"},
		{"decimal string", col(Decimal), "1.005", "1.005"}, // filter operands keep their precision,
		{"decimal plus", col(Decimal), "+3", "3.00"},
		{"decimal int", col(Decimal), 3, "3.00"},
		{"decimal scale 0", &Column{Name: "c", Type: Decimal, Scale: &zero}, "2.5", "2.5"},
		{"decimal json number", col(Decimal), json.Number("1.5"), "1.50"},
		{"float", col(Float), 1.5, 1.5},
		{"float int", col(Float), 2, 2.0},
		{"float json number", col(Float), json.Number("1e3"), 1000.0},
		{"bool", col(Bool), false, false},
		{"date", col(Date), "2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"timestamp zone", col(Timestamp), "2024-01-02T00:30:00-01:00", time.Date(2024, 1, 2, 1, 30, 0, 0, time.UTC)},
		{"timestamp nanos", col(Timestamp), "2024-01-02T03:04:05.123456789Z", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"uuid upper", col(UUID), "123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"},
	}
	for _, tc := range cases {
		got, err := parseValue(tc.c, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	bad := []struct {
		c  *Column
		in any
	}{
		{col(JSON), "{}"}, {col(Text), nil}, {col(Int), nil}, {col(Date), "2023-02-29"},
		{col(Float), json.Number("x")}, {col(Int), json.Number("1")}, {col(UUID), "123e4567-e89b-12d3-a456-42661417400"},
		{col(Timestamp), "2024-01-02T25:00:00Z"}, {col(Decimal), "1,5"}, {col(Decimal), " 1"}, {col(BigInt), "1e3"},
		{col(Text), []byte("x")}, {col(Bool), nil},
	}
	for _, tc := range bad {
		if v, err := parseValue(tc.c, tc.in); !errors.Is(err, ErrBadValue) {
			t.Errorf("parseValue(%s, %#v) = %v, %v; want ErrBadValue", tc.c.Type, tc.in, v, err)
		}
	}
}

// TestDecimalNumbersMatchStrings: a decimal given as a JSON number must mean what the same number
// written as a string means: same rounding (half away from zero), no "-0.00", same bounds
// (at most 40 integer digits, which isDecimal enforces and Dialect.arg relies on).
func TestDecimalNumbersMatchStrings(t *testing.T) {
	two := 2
	c := &Column{Name: "amount", Type: Decimal, Scale: &two}
	for _, f := range []float64{0, 1, 12.5, -3.25, 0.125, 2.675, -0.001, 1e39, 1e300} {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		fromString, errS := parseValue(c, s)
		fromNumber, errN := parseValue(c, f)
		if (errS == nil) != (errN == nil) || fromString != fromNumber {
			t.Errorf("regression: decimal %s: as a string %v (err %v), as a number %v (err %v)", s, fromString, errS, fromNumber, errN)
		}
	}
}

// TestDecodeOutput scans a driver value into each dialect's destination, decodes it to normal form,
// converts it to its GraphQL value, and parses that back (as a cursor or filter would) to the same normal form.
func TestDecodeOutput(t *testing.T) {
	two := 2
	cet := time.FixedZone("CET", 3600)
	cases := []struct {
		name    string
		c       *Column
		driver  map[*Dialect]any // what the driver hands to Scan, per dialect
		graphql any
	}{
		{"text", &Column{Name: "c", Type: Text}, all("héllo "), "héllo "},
		{"int", &Column{Name: "c", Type: Int}, all(int64(-42)), int64(-42)},
		{"bigint", &Column{Name: "c", Type: BigInt}, all(int64(9007199254740993)), "9007199254740993"},
		{"decimal", &Column{Name: "c", Type: Decimal, Scale: &two},
			map[*Dialect]any{Postgres: "12.50", MySQL: "12.500", SQLite: 12.5}, "12.50"},
		{"decimal rounds", &Column{Name: "c", Type: Decimal, Scale: &two},
			map[*Dialect]any{Postgres: "-0.125", MySQL: "-0.125", SQLite: -0.126}, "-0.13"},
		{"float", &Column{Name: "c", Type: Float}, all(1.25), 1.25},
		{"bool", &Column{Name: "c", Type: Bool}, all(true), true},
		{"date", &Column{Name: "c", Type: Date},
			map[*Dialect]any{Postgres: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), MySQL: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), SQLite: "2024-01-02"}, "2024-01-02"},
		{"timestamp", &Column{Name: "c", Type: Timestamp},
			map[*Dialect]any{Postgres: time.Date(2024, 1, 2, 4, 4, 5, 5e8, cet), MySQL: time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC), SQLite: "2024-01-02 03:04:05.5"},
			"2024-01-02T03:04:05.5Z"},
		{"timestamp rfc3339 text", &Column{Name: "c", Type: Timestamp},
			map[*Dialect]any{SQLite: "2024-01-02T04:04:05+01:00"}, "2024-01-02T03:04:05Z"},
		{"uuid", &Column{Name: "c", Type: UUID}, all("123E4567-E89B-12D3-A456-426614174000"), "123e4567-e89b-12d3-a456-426614174000"},
		{"json", &Column{Name: "c", Type: JSON}, all(`{ "a" : [1, 2.50, "x"], "b": null }`),
			map[string]any{"a": []any{json.Number("1"), json.Number("2.50"), "x"}, "b": nil}},
	}
	for _, tc := range cases {
		for d, driverValue := range tc.driver {
			t.Run(d.Name()+"/"+tc.name, func(t *testing.T) {
				dest := d.dest(tc.c)
				if err := dest.(sql.Scanner).Scan(driverValue); err != nil {
					t.Fatalf("scan %T into %T: %v", driverValue, dest, err)
				}
				v, err := d.decode(tc.c, dest)
				if err != nil {
					t.Fatal(err)
				}
				got := Output(tc.c, v)
				if diff := cmp.Diff(tc.graphql, got); diff != "" {
					t.Errorf("GraphQL value (-want +got):\n%s", diff)
				}
				if tc.c.Type == JSON {
					return // json values are not compared
				}
				back, err := parseValue(tc.c, cursorValue(tc.c, v))
				if err != nil {
					t.Fatalf("parse the cursor form back: %v", err)
				}
				if diff := cmp.Diff(v, back); diff != "" {
					t.Errorf("normal form after a round trip (-want +got):\n%s", diff)
				}
				// NULL decodes to nil whatever the type.
				null := d.dest(tc.c)
				if err := null.(sql.Scanner).Scan(nil); err != nil {
					t.Fatal(err)
				}
				if v, err := d.decode(tc.c, null); v != nil || err != nil {
					t.Errorf("NULL decodes to %v, %v", v, err)
				}
				if Output(tc.c, nil) != nil {
					t.Error("Output(nil) is not nil")
				}
			})
		}
	}
}

func all(v any) map[*Dialect]any { return map[*Dialect]any{Postgres: v, MySQL: v, SQLite: v} }

func TestDecodeErrors(t *testing.T) {
	two := 2
	cases := []struct {
		c    *Column
		dest any
	}{
		{&Column{Name: "amount", Type: Decimal, Scale: &two}, &sql.NullString{String: "NaN", Valid: true}},
		{&Column{Name: "amount", Type: Decimal, Scale: &two}, &sql.NullString{String: "1e5", Valid: true}},
		{&Column{Name: "doc", Type: JSON}, &sql.NullString{String: `{"a":`, Valid: true}},
		{&Column{Name: "at", Type: Timestamp}, &sql.NullString{String: "yesterday", Valid: true}},
		{&Column{Name: "x", Type: Text}, new(int)},
	}
	for _, tc := range cases {
		if v, err := Postgres.decode(tc.c, tc.dest); err == nil || !strings.Contains(err.Error(), tc.c.Name) {
			t.Errorf("decode %s from %#v = %v, %v; want an error naming the column", tc.c.Type, tc.dest, v, err)
		}
	}
	if got := Output(&Column{Type: JSON}, json.RawMessage(`{`)); got != nil {
		t.Errorf("Output of invalid JSON = %v, want nil", got)
	}
}

func TestStatementDecode(t *testing.T) {
	v := things(t)
	for _, d := range []*Dialect{Postgres, MySQL, SQLite} {
		st, err := testBuilder(t, d).Select(&Query{View: v, Fields: []*Column{v.Column("t"), v.Column("b")}, First: 1})
		if err != nil {
			t.Fatal(err)
		}
		dests := st.Dests()
		if len(dests) != 3 {
			t.Fatalf("%d destinations for %d columns", len(dests), len(st.Columns))
		}
		for i, x := range []any{int64(1), "x", nil} {
			if err := dests[i].(sql.Scanner).Scan(x); err != nil {
				t.Fatal(err)
			}
		}
		row, err := st.Decode(dests)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{"1", "x", nil}, row); diff != "" {
			t.Errorf("%s row (-want +got):\n%s", d.Name(), diff)
		}
	}
	if got := Count([]any{int64(7)}); got != 7 {
		t.Errorf("Count = %d", got)
	}
}

// TestDecimalByHand: isDecimal is the regular expression it replaces, and formatDecimal's
// shortcut for text already in form gives what rounding gives, on every string built from
// the characters that matter, up to 6 long.
func TestDecimalByHand(t *testing.T) {
	re := regexp.MustCompile(`^[+-]?[0-9]{1,40}(\.[0-9]{1,30})?$`)
	alphabet := []string{"0", "1", "5", "9", ".", "-", "+", "x"}
	var each func(prefix string, n int)
	each = func(s string, n int) {
		if got, want := IsDecimal(s), re.MatchString(s); got != want {
			t.Errorf("IsDecimal(%q) = %v, the expression says %v", s, got, want)
		}
		if IsDecimal(s) {
			for scale := 0; scale <= 3; scale++ {
				if got, want := formatDecimal(s, scale), roundDecimal(s, scale); got != want {
					t.Errorf("formatDecimal(%q, %d) = %q, rounding gives %q", s, scale, got, want)
				}
			}
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			each(s+c, n-1)
		}
	}
	each("", 6)
	for _, s := range []string{strings.Repeat("1", 40), strings.Repeat("1", 41), "1." + strings.Repeat("2", 30), "1." + strings.Repeat("2", 31), "1\n", "١"} {
		if got, want := IsDecimal(s), re.MatchString(s); got != want {
			t.Errorf("IsDecimal(%q) = %v, the expression says %v", s, got, want)
		}
	}
}

func TestFormatDecimalInFormAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = formatDecimal("-1234.50", 2) }); n != 0 {
		t.Errorf("formatDecimal of text in form: %v allocations, want 0", n)
	}
}
