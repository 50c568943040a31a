package reader

import (
	"testing"
	"time"

	"github.com/viewgate/viewgate/views"
)

// TestReadAppendJSON: the shortcut for dates and timestamps writes what the presented value
// (Read.Value) encodes to, and other values go the usual way.
func TestReadAppendJSON(t *testing.T) {
	rd := &Read{}
	ts := &views.Column{Name: "at", Type: views.Timestamp}
	date := &views.Column{Name: "on", Type: views.Date}
	text := &views.Column{Name: "s", Type: views.Text}
	for _, tc := range []struct {
		col *views.Column
		v   any
	}{
		{ts, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{ts, time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC)},
		{ts, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		{ts, time.Date(12345, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{date, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{ts, nil},
		{text, "a<b>\"c\""},
	} {
		s := Shown{Col: tc.col, Mode: views.PIINone, At: 0}
		row := []any{tc.v}
		want := string(AppendJSON(nil, s.Col, rd.Value(row, s)))
		if got := string(rd.AppendJSON(nil, row, &s)); got != want {
			t.Errorf("AppendJSON(%v) = %s, want %s", tc.v, got, want)
		}
	}
	masked := Shown{Col: ts, Mode: views.PIIMask, At: -1}
	if got := string(rd.AppendJSON(nil, []any{}, &masked)); got != "null" {
		t.Errorf("masked timestamp = %s, want null", got)
	}
}
