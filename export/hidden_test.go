package export

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

const hiddenCatalog = `views:
  - name: Odd
    field: odds
    source: s
    relation: v_odd
    key: [id]
    default_order: [{column: %s}, {column: id}]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: amount, type: decimal, scale: 2, sort: true}
      - {name: day, type: date, sort: true}
`

// TestWireHiddenOrderColumn: an export of id alone, ordered by a decimal (or date) column
// that holds NaN (infinity) and so is read but not shown: the generic path refuses the row,
// and the fast path must too, with the same error and the same rows before it (it used to
// write the row and fail only at the checkpoint).
func TestWireHiddenOrderColumn(t *testing.T) {
	dsn := dbtest.Postgres(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `CREATE VIEW v_odd AS SELECT g::bigint AS id,
	  (CASE WHEN g = 2 THEN 'NaN' ELSE g::text END)::numeric AS amount,
	  (CASE WHEN g = 2 THEN 'infinity' ELSE '2024-01-0' || g END)::date AS day
	  FROM generate_series(1, 3) g`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	src, err := replica.Open(context.Background(), replica.Options{Name: "s", Driver: "postgres", DSN: dsn, MaxConns: 2, StatementTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cur, err := views.NewCursors([]byte("wire-test-cursor-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []string{"amount", "day"} {
		cat, err := views.ParseCatalog([]byte(fmt.Sprintf(hiddenCatalog, order)))
		if err != nil {
			t.Fatal(err)
		}
		r := reader.New(reader.Options{DefaultPageSize: 20,
			Sources: map[string]reader.Source{"s": {Runner: src, Builder: &views.Builder{Dialect: views.Postgres, Cursors: cur}}}})
		ctx := auth.NewContext(context.Background(), &auth.Principal{Roles: []string{"r"}})
		v := cat.View("odds")
		open := func() (*reader.Read, *encoder, []reader.Shown) {
			rd, err := r.OpenExport(ctx, v, reader.Args{}, map[string]bool{"id": true}, 1000)
			if err != nil {
				t.Fatal(err)
			}
			sh := rd.Field("id")
			return rd, newEncoder(CSV, []Column{{Name: "id", Field: "id"}}, []*views.Column{sh.Col}, false), []reader.Shown{*sh}
		}
		rd, enc, show := open()
		var fast []byte
		_, fastErr := rd.StreamRows(ctx, reader.StreamOptions{Class: "export"}, func(row *reader.Row) error {
			var err error
			fast, err = enc.record(fast, rd, show, row)
			return err
		})
		rd, enc, show = open()
		var generic []byte
		_, genErr := rd.Stream(ctx, reader.StreamOptions{Class: "export"}, func(row []any) error {
			generic = enc.row(generic, []any{rd.Raw(row, show[0])})
			return nil
		})
		if fastErr == nil || genErr == nil || fastErr.Error() != genErr.Error() || string(fast) != string(generic) {
			t.Errorf("order by %s: fast path %q (%v), generic %q (%v); want the same rows and error", order, fast, fastErr, generic, genErr)
		}
	}
}
