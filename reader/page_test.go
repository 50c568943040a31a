package reader_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// edgeReader returns a reader over a fresh Postgres database holding dbtest.EdgeSQL, and the
// query log it writes.
func edgeReader(t *testing.T) (*reader.Reader, *views.Catalog, *bytes.Buffer) {
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
	cur, err := views.NewCursors([]byte("page-test-cursor-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	qlog := &bytes.Buffer{}
	r := reader.New(reader.Options{PIIKey: []byte("page-test-pii-key"), DefaultPageSize: 20,
		Log:     querylog.New(querylog.Options{JSON: qlog, Threshold: time.Hour}),
		Sources: map[string]reader.Source{"s": {Runner: src, Builder: &views.Builder{Dialect: views.Postgres, Cursors: cur}}}})
	return r, cat, qlog
}

// pageBoth reads one page through Page, formatting it with AppendJSON, and through PageRows,
// formatting it with AppendRowJSON, and returns both, with the cursors of the first and last
// rows; wired counts PageRows' rows that kept their bytes.
func pageBoth(t *testing.T, r *reader.Reader, v *views.View, who *auth.Principal, args reader.Args) (generic, wire string, cursors [2][2]string, wired, whole int, errs [2]error) {
	t.Helper()
	ctx := auth.NewContext(context.Background(), who)
	want := map[string]bool{}
	for _, c := range v.Columns {
		want[c.Field] = true
	}
	open := func() *reader.Read {
		rd, err := r.Open(ctx, v, args, want)
		if err != nil {
			t.Fatal(err)
		}
		return rd
	}
	rd := open()
	rows, hasNext, err := rd.Page(ctx)
	errs[0] = err
	var buf []byte
	for _, row := range rows {
		for i := range rd.Show {
			buf = append(rd.AppendJSON(buf, row, &rd.Show[i]), ' ')
		}
		buf = append(buf, '\n')
	}
	if len(rows) > 0 {
		cursors[0] = [2]string{rd.Cursor(rows[0]), rd.Cursor(rows[len(rows)-1])}
	}
	generic = fmt.Sprintf("hasNext %v\n%s", hasNext, buf)

	rd = open()
	pg, err := rd.PageRows(ctx)
	errs[1] = err
	buf = buf[:0]
	if pg != nil {
		for i := range pg.Rows {
			row := &pg.Rows[i]
			if row.Raw != nil {
				wired++
			} else {
				whole++
			}
			for j := range rd.Show {
				buf = append(rd.AppendRowJSON(buf, row, &rd.Show[j]), ' ')
			}
			buf = append(buf, '\n')
		}
		if n := len(pg.Rows); n > 0 {
			first, err1 := rd.RowCursor(&pg.Rows[0])
			last, err2 := rd.RowCursor(&pg.Rows[n-1])
			if err1 != nil || err2 != nil {
				t.Fatalf("cursors: %v, %v", err1, err2)
			}
			cursors[1] = [2]string{first, last}
		}
		wire = fmt.Sprintf("hasNext %v\n%s", pg.HasNext, buf)
	}
	return generic, wire, cursors, wired, whole, errs
}

// TestPageRowsEqualsPage: a page read with its bytes kept and formatted from them is the page
// Page reads and AppendJSON formats, byte for byte, with the same cursors and hasNext: text
// with escapes and non-ASCII, integers at their limits and ints over 32 bits, floats with
// NaN and infinities, booleans, timestamps and dates from year 1 to 9999, decimals of the
// column's scale and of others (rounded), UUIDs, and the columns without a wire form (JSON,
// masked and hashed PII), for callers with and without the pii role; rows with timestamps or
// dates past 9999 or before year 1 are decoded whole, and the query log counts the rows
// read alike.
func TestPageRowsEqualsPage(t *testing.T) {
	r, cat, qlog := edgeReader(t)
	cases := []struct {
		view      string
		args      reader.Args
		wholeRows bool // some rows are decoded whole
	}{
		{view: "edges", args: reader.Args{"first": 30}},
		{view: "edges", args: reader.Args{"first": 5}},
		{view: "fars", args: reader.Args{"first": 10}, wholeRows: true},
		// Decimal and date order columns: their cursor values are decoded from their bytes
		// after the rows, by plans that never consult the connection's type map.
		{view: "fars", args: reader.Args{"first": 3, "orderBy": []any{map[string]any{"field": "price", "direction": "DESC"}, map[string]any{"field": "id"}}}, wholeRows: true},
		{view: "fars", args: reader.Args{"first": 8, "orderBy": []any{map[string]any{"field": "due", "direction": "DESC"}, map[string]any{"field": "id"}}}, wholeRows: true},
		{view: "farDays", args: reader.Args{"first": 10}, wholeRows: true},
		{view: "edges", args: reader.Args{"first": 0}},
	}
	for _, who := range []*auth.Principal{{Roles: []string{"r"}}, {Roles: []string{"r", "pii"}}} {
		for _, tc := range cases {
			name := fmt.Sprintf("%s/%v/roles=%s", tc.view, tc.args, strings.Join(who.Roles, ","))
			t.Run(name, func(t *testing.T) {
				qlog.Reset()
				generic, wire, cursors, wired, whole, errs := pageBoth(t, r, cat.View(tc.view), who, tc.args)
				if errs[0] != nil || errs[1] != nil {
					t.Fatalf("errors: Page %v, PageRows %v", errs[0], errs[1])
				}
				if diff := cmp.Diff(generic, wire); diff != "" {
					t.Errorf("PageRows differs from Page (-Page +PageRows):\n%s", diff)
				}
				if cursors[0] != cursors[1] {
					t.Errorf("first and last cursors: Page %q, PageRows %q", cursors[0], cursors[1])
				}
				if first := tc.args["first"].(int); first > 0 && wired == 0 {
					t.Errorf("no row kept its bytes (%d decoded whole)", whole)
				}
				if tc.wholeRows != (whole > 0) {
					t.Errorf("%d rows decoded whole, %d kept their bytes", whole, wired)
				}
				lines := strings.Split(strings.TrimSpace(qlog.String()), "\n")
				if len(lines) != 2 {
					t.Fatalf("query log has %d lines, want 2:\n%s", len(lines), qlog)
				}
				if a, b := rowsOf(lines[0]), rowsOf(lines[1]); a != b {
					t.Errorf("query log rows: Page %s, PageRows %s", a, b)
				}
			})
		}
	}
}

func rowsOf(line string) string {
	i := strings.Index(line, `"rows":`)
	if i < 0 {
		return "none"
	}
	return strings.SplitN(line[i:], ",", 2)[0]
}

// TestPageRowsNoNormalForm: an infinite timestamp, an infinite date and a numeric NaN, which
// have no normal form, fail PageRows as they fail Page.
func TestPageRowsNoNormalForm(t *testing.T) {
	r, cat, _ := edgeReader(t)
	for _, tc := range []struct{ view, says string }{
		{"infinites", "infinite"}, {"infiniteDays", "scan"}, {"nans", "not a decimal"},
		{"oddsByAmount", "scan"}, {"oddsByDay", "scan"}, // in the order column (the date fails first)
	} {
		_, _, _, _, _, errs := pageBoth(t, r, cat.View(tc.view), &auth.Principal{Roles: []string{"r"}}, reader.Args{})
		if errs[0] == nil || errs[1] == nil || errs[0].Error() != errs[1].Error() {
			t.Fatalf("%s: errors: Page %v, PageRows %v; want the same", tc.view, errs[0], errs[1])
		}
		if !strings.Contains(errs[1].Error(), tc.says) {
			t.Errorf("%s: error %v does not say %q", tc.view, errs[1], tc.says)
		}
	}
}

// TestPageRowsOtherEngines: off Postgres, PageRows decodes every row whole, as Page does.
func TestPageRowsOtherEngines(t *testing.T) {
	r, cat, _ := newReader(t)
	for _, args := range []reader.Args{{"first": 3}, {"first": 50}} {
		generic, wire, cursors, wired, _, errs := pageBoth(t, r, view(t, cat, "invoices"), acme, args)
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errors: Page %v, PageRows %v", errs[0], errs[1])
		}
		if generic != wire || cursors[0] != cursors[1] || wired != 0 {
			t.Errorf("%v: PageRows %q (cursors %q, %d kept bytes), Page %q (cursors %q)", args, wire, cursors[1], wired, generic, cursors[0])
		}
	}
}
