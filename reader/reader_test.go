package reader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/dbtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/querylog"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/replica"
	"github.com/viewgate/viewgate/views"
)

// newReader reads the demo catalog on a fresh demo SQLite database; qlog gets the query log.
func newReader(t *testing.T) (*reader.Reader, *views.Catalog, *bytes.Buffer) {
	t.Helper()
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	src, err := replica.Open(context.Background(), replica.Options{Name: demo.SourceName, Driver: "sqlite", DSN: dbtest.SQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	cur, err := views.NewCursors([]byte("reader-test-cursor-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	qlog := &bytes.Buffer{}
	r := reader.New(reader.Options{
		Sources:         map[string]reader.Source{demo.SourceName: {Runner: src, Builder: &views.Builder{Dialect: views.SQLite, Cursors: cur}}},
		Log:             querylog.New(qlog, time.Hour, nil),
		DefaultPageSize: 20, PIIKey: []byte("k"),
	})
	return r, cat, qlog
}

func view(t *testing.T, cat *views.Catalog, field string) *views.View {
	t.Helper()
	for _, v := range cat.Views {
		if v.Field == field {
			return v
		}
	}
	t.Fatalf("no view %s", field)
	return nil
}

var acme = &auth.Principal{Tenant: demo.TenantAcme, CredentialID: "acme", Roles: []string{"reporting"}}

// TestOpenRefuses: no principal, or one whose roles do not reach the view.
func TestOpenRefuses(t *testing.T) {
	r, cat, _ := newReader(t)
	v := view(t, cat, "invoices")
	want := map[string]bool{"number": true}
	if _, err := r.Open(context.Background(), v, nil, want); !errors.Is(err, reader.ErrUnauthenticated) {
		t.Errorf("no principal: %v", err)
	}
	nobody := auth.NewContext(context.Background(), &auth.Principal{Tenant: demo.TenantAcme, Roles: []string{"public"}})
	if _, err := r.Open(nobody, v, nil, want); !errors.Is(err, reader.ErrForbidden) {
		t.Errorf("ungranted: %v", err)
	}
}

// TestStreamAgreesWithPages: a stream holds the pages' rows in order, masked alike; a callback
// error stops it there, and the query log names the class, rows and bytes given.
func TestStreamAgreesWithPages(t *testing.T) {
	r, cat, qlog := newReader(t)
	v := view(t, cat, "invoices")
	ctx := auth.NewContext(context.Background(), acme)
	want := map[string]bool{"number": true, "amount": true, "customerEmail": true, "issuedAt": true}
	pg, err := r.Open(ctx, v, reader.Args{"first": 50}, want)
	if err != nil {
		t.Fatal(err)
	}
	rows, hasNext, err := pg.Page(ctx)
	if err != nil || !hasNext || len(rows) != 50 {
		t.Fatalf("page: %d rows, next %v, %v", len(rows), hasNext, err)
	}
	present := func(rd *reader.Read, row []any) string {
		vals := []any{}
		for _, s := range rd.Show {
			vals = append(vals, rd.Value(row, s))
		}
		b, _ := json.Marshal(vals)
		return string(b)
	}
	var fromPage []string
	for _, row := range rows {
		fromPage = append(fromPage, present(pg, row))
	}
	st, err := r.OpenExport(ctx, v, nil, want, 100000)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	var streamed []string
	n, err := st.Stream(ctx, reader.StreamOptions{Class: "export", Bytes: func() int64 { return 1234 }}, func(row []any) error {
		if len(streamed) == 50 {
			return stop
		}
		streamed = append(streamed, present(st, row))
		return nil
	})
	if !errors.Is(err, stop) || n != 50 {
		t.Fatalf("stream: %d rows, %v", n, err)
	}
	if diff := cmp.Diff(fromPage, streamed); diff != "" {
		t.Errorf("stream vs page (-want +got):\n%s", diff)
	}
	if !bytes.Contains(qlog.Bytes(), []byte(`"class":"export"`)) || !bytes.Contains(qlog.Bytes(), []byte(`"rows":50,"bytes":1234`)) {
		t.Errorf("query log:\n%s", qlog)
	}
	if !bytes.Contains([]byte(streamed[0]), []byte(`"****"`)) {
		t.Errorf("customerEmail is not masked without the pii role: %s", streamed[0])
	}
}
