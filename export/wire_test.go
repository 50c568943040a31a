package export

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// wireReader returns a reader over a fresh Postgres database holding wireSetup.
func wireReader(t *testing.T) (*reader.Reader, *views.Catalog) {
	t.Helper()
	dsn := dbtest.EdgePostgres(t)
	cat, err := views.ParseCatalog([]byte(dbtest.EdgeCatalog))
	if err != nil {
		t.Fatal(err)
	}
	src, err := replica.Open(context.Background(), replica.Options{Name: "s", Driver: "postgres", DSN: dsn, MaxConns: 2, StatementTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cur, err := views.NewCursors([]byte("wire-test-cursor-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	r := reader.New(reader.Options{PIIKey: []byte("wire-test-pii-key"), DefaultPageSize: 20,
		Sources: map[string]reader.Source{"s": {Runner: src, Builder: &views.Builder{Dialect: views.Postgres, Cursors: cur}}}})
	return r, cat
}

// both exports the view in one format through the fast path (StreamRows and record) and
// through the generic one (Stream, Raw and row), and returns both outputs, each row's wire
// forms, and the cursors after the last row.
func both(t *testing.T, r *reader.Reader, v *views.View, who *auth.Principal, f Format, formulas bool) (fast, generic string, wires []reader.Wire, cursors [2]string, errs [2]error) {
	t.Helper()
	ctx := auth.NewContext(context.Background(), who)
	want := map[string]bool{}
	var cols []Column
	for _, c := range v.Columns {
		want[c.Field] = true
		cols = append(cols, Column{Name: c.Field, Field: c.Field})
	}
	open := func() (*reader.Read, *encoder, []reader.Shown) {
		rd, err := r.OpenExport(ctx, v, reader.Args{}, want, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var show []reader.Shown
		var vcols []*views.Column
		for _, c := range cols {
			sh := rd.Field(c.Field)
			show = append(show, *sh)
			vcols = append(vcols, sh.Col)
		}
		return rd, newEncoder(f, cols, vcols, formulas), show
	}
	rd, enc, show := open()
	var buf []byte
	var kept reader.Kept
	_, errs[0] = rd.StreamRows(ctx, reader.StreamOptions{Class: "export"}, func(row *reader.Row) error {
		var err error
		if buf, err = enc.record(buf, rd, show, row); err != nil {
			return err
		}
		wires = row.Wire
		row.Keep(&kept)
		return nil
	})
	if errs[0] == nil {
		var err error
		if cursors[0], err = rd.CursorOf(&kept); err != nil {
			t.Fatal(err)
		}
	}
	fast = string(buf)

	rd, enc, show = open()
	buf = buf[:0]
	vals := make([]any, len(show))
	var last []any
	_, errs[1] = rd.Stream(ctx, reader.StreamOptions{Class: "export"}, func(row []any) error {
		for i, sh := range show {
			vals[i] = rd.Raw(row, sh)
		}
		buf = enc.row(buf, vals)
		last = append(last[:0], row...)
		return nil
	})
	if errs[1] == nil {
		cursors[1] = rd.Cursor(last)
	}
	return fast, string(buf), wires, cursors, errs
}

// TestWireEqualsGeneric: on Postgres, the fast path's CSV (formula prefix on and off) and
// NDJSON are byte for byte the generic path's on the same rows: NULLs, empty strings,
// quotes, commas, CR and LF, formula starts, non-ASCII, integer limits and ints over 32
// bits, decimals, floats with NaN and infinities, booleans, timestamps with and without a
// zone from year 1 to 9999, dates, UUIDs, JSON, and masked and hashed PII, for a caller
// with and without the pii role; and the cursor after the last row is the same.
func TestWireEqualsGeneric(t *testing.T) {
	r, cat := wireReader(t)
	v := cat.View("edges")
	for _, who := range []*auth.Principal{{Roles: []string{"r"}}, {Roles: []string{"r", "pii"}}} {
		for _, tc := range []struct {
			f        Format
			formulas bool
		}{{CSV, true}, {CSV, false}, {NDJSON, false}} {
			name := string(tc.f) + "/formulas=" + map[bool]string{true: "on", false: "off"}[tc.formulas] + "/roles=" + strings.Join(who.Roles, ",")
			t.Run(name, func(t *testing.T) {
				fast, generic, wires, cursors, errs := both(t, r, v, who, tc.f, tc.formulas)
				if errs[0] != nil || errs[1] != nil {
					t.Fatalf("errors: fast %v, generic %v", errs[0], errs[1])
				}
				if strings.Count(generic, "\n") < 24 {
					t.Fatalf("generic path wrote %d lines, want 24:\n%s", strings.Count(generic, "\n"), generic)
				}
				if diff := cmp.Diff(generic, fast); diff != "" {
					t.Errorf("fast path differs from the generic path (-generic +fast):\n%s", diff)
				}
				if cursors[0] != cursors[1] {
					t.Errorf("cursor after the last row: fast %q, generic %q", cursors[0], cursors[1])
				}
				wantWire := map[string]reader.Wire{"id": reader.WireInt, "small": reader.WireInt, "medium": reader.WireInt,
					"big": reader.WireInt, "narrow": reader.WireInt, "note": reader.WireText, "code": reader.WireText,
					"fixed": reader.WireText, "ratio": reader.WireFloat, "flag": reader.WireBool, "at": reader.WireTime,
					"local": reader.WireTime, "amount": reader.WireDecimal, "loose": reader.WireDecimal,
					"day": reader.WireDate, "ref": reader.WireUUID}
				got := map[string]reader.Wire{}
				for i, c := range v.Columns {
					if i < len(wires) && wires[i] != reader.WireNone {
						got[c.Name] = wires[i]
					}
				}
				if diff := cmp.Diff(wantWire, got); diff != "" {
					t.Errorf("wire forms by column (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestWireNoNormalForm: an infinite timestamp, an infinite date and a numeric NaN, which have
// no normal form, fail the fast path as they fail the generic one, in both formats.
func TestWireNoNormalForm(t *testing.T) {
	r, cat := wireReader(t)
	for _, tc := range []struct{ view, says string }{
		{"infinites", "infinite"}, {"infiniteDays", "scan"}, {"nans", "not a decimal"},
	} {
		for _, f := range []Format{CSV, NDJSON} {
			_, _, _, _, errs := both(t, r, cat.View(tc.view), &auth.Principal{Roles: []string{"r"}}, f, true)
			if errs[0] == nil || errs[1] == nil || errs[0].Error() != errs[1].Error() {
				t.Fatalf("%s %s: errors: fast %v, generic %v; want the same", tc.view, f, errs[0], errs[1])
			}
			if !strings.Contains(errs[0].Error(), tc.says) {
				t.Errorf("%s %s: error %v does not say %q", tc.view, f, errs[0], tc.says)
			}
		}
	}
}

// TestWireFarDates: dates past the year 9999 and before year 1, which the wire form leaves
// to the generic decoding, are exported as the generic path exports them.
func TestWireFarDates(t *testing.T) {
	r, cat := wireReader(t)
	for _, f := range []Format{CSV, NDJSON} {
		fast, generic, _, cursors, errs := both(t, r, cat.View("farDays"), &auth.Principal{Roles: []string{"r"}}, f, true)
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("%s: errors: fast %v, generic %v", f, errs[0], errs[1])
		}
		if diff := cmp.Diff(generic, fast); diff != "" || cursors[0] != cursors[1] {
			t.Errorf("%s: fast path differs (-generic +fast):\n%s\ncursors %q", f, diff, cursors)
		}
		if !strings.Contains(generic, "10000-06-01") {
			t.Errorf("%s: no far date in\n%s", f, generic)
		}
	}
}
