package export

import (
	"context"
	"testing"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// TestWireHiddenOrderColumn: an export of id alone, ordered by a decimal (or date) column
// that holds NaN (infinity) and so is read but not shown: the generic path refuses the row,
// and the fast path must too, with the same error and the same rows before it (it used to
// write the row and fail only at the checkpoint).
func TestWireHiddenOrderColumn(t *testing.T) {
	r, cat := wireReader(t)
	ctx := auth.NewContext(context.Background(), &auth.Principal{Roles: []string{"r"}})
	for _, field := range []string{"oddsByAmount", "oddsByDay"} {
		v := cat.View(field)
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
			t.Errorf("%s: fast path %q (%v), generic %q (%v); want the same rows and error", field, fast, fastErr, generic, genErr)
		}
	}
}
