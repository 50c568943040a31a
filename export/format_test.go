package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/views"
)

// TestCSVEdgeCases: cells that need quoting, NULL against the empty string, and the formula
// prefix on and off, parsed back with encoding/csv.
func TestCSVEdgeCases(t *testing.T) {
	text := &views.Column{Name: "t", Type: views.Text}
	dec := &views.Column{Name: "d", Type: views.Decimal}
	js := &views.Column{Name: "j", Type: views.JSON}
	cols := []Column{{Name: "t", Field: "t"}, {Name: "d", Field: "d"}, {Name: "j", Field: "j"}}
	cases := []struct {
		name     string
		vals     []any
		formulas bool
		raw      string   // the record's bytes
		want     []string // parsed back
	}{
		{"plain", []any{"abc", "12.50", map[string]any{"a": json.Number("1")}}, true, `abc,12.50,"{""a"":1}"` + "\r\n", []string{"abc", "12.50", `{"a":1}`}},
		{"quotes", []any{`say "hi"`, nil, nil}, true, `"say ""hi""",,` + "\r\n", []string{`say "hi"`, "", ""}},
		{"comma", []any{"a,b", nil, nil}, true, `"a,b",,` + "\r\n", []string{"a,b", "", ""}},
		{"newline", []any{"line1\nline2", nil, nil}, true, "\"line1\nline2\",,\r\n", []string{"line1\nline2", "", ""}},
		{"cr", []any{"a\rb", nil, nil}, true, "\"a\rb\",,\r\n", []string{"a\rb", "", ""}},
		{"empty_vs_null", []any{"", nil, nil}, true, `"",,` + "\r\n", []string{"", "", ""}},
		{"hash_start", []any{"#viewgate end 1", nil, nil}, true, `"#viewgate end 1",,` + "\r\n", []string{"#viewgate end 1", "", ""}},
		{"formula_on", []any{"=SUM(A1:A9)", "-12.50", nil}, true, `'=SUM(A1:A9),-12.50,` + "\r\n", []string{"'=SUM(A1:A9)", "-12.50", ""}},
		{"formula_off", []any{"=SUM(A1:A9)", "-12.50", nil}, false, `=SUM(A1:A9),-12.50,` + "\r\n", []string{"=SUM(A1:A9)", "-12.50", ""}},
		{"formula_quoted", []any{"+1,2", nil, nil}, true, `"'+1,2",,` + "\r\n", []string{"'+1,2", "", ""}},
		{"formula_at_tab", []any{"@cmd", nil, nil}, true, "'@cmd,,\r\n", []string{"'@cmd", "", ""}},
		{"formula_tab", []any{"\tx", nil, nil}, true, "'\tx,,\r\n", []string{"'\tx", "", ""}},
		{"formula_cr", []any{"\rx", nil, nil}, true, "\"'\rx\",,\r\n", []string{"'\rx", "", ""}},
		{"json_string", []any{"x", nil, "=1"}, true, `x,,"""=1"""` + "\r\n", []string{"x", "", `"=1"`}},
		{"non_ascii", []any{"Hämäläinen 🙂", nil, nil}, true, "Hämäläinen 🙂,,\r\n", []string{"Hämäläinen 🙂", "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEncoder(CSV, cols, []*views.Column{text, dec, js}, tc.formulas)
			raw := e.row(nil, tc.vals)
			if diff := cmp.Diff(tc.raw, string(raw)); diff != "" {
				t.Errorf("bytes (-want +got):\n%s", diff)
			}
			file := append(e.header(nil), raw...)
			recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]string{{"t", "d", "j"}, tc.want}, recs); diff != "" {
				t.Errorf("parsed back (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNDJSONRow: keys in column order, values as GraphQL encodes them.
func TestNDJSONRow(t *testing.T) {
	cols := []Column{{Name: "b", Field: "b"}, {Name: "a", Field: "a"}, {Name: "n", Field: "n"}}
	e := newEncoder(NDJSON, cols, []*views.Column{{Type: views.Text}, {Type: views.Int}, {Type: views.Int}}, true)
	got := string(e.row(nil, []any{"<x>", int64(3), int64(1) << 40}))
	if want := `{"b":"\u003cx\u003e","a":3,"n":null}` + "\n"; got != want {
		t.Errorf("row %s, want %s", got, want)
	}
}

// TestSplitter: control lines are found between records in any chunking, never inside a
// quoted CSV field, and the data passes through unchanged.
func TestSplitter(t *testing.T) {
	stream := "a,b\r\n\"x\n#viewgate end 9\",1\r\n#viewgate checkpoint tok 1\n\"#not\",2\r\n#viewgate end 2\n"
	for size := 1; size <= len(stream); size++ {
		var data bytes.Buffer
		var got []Control
		sp := &Splitter{Data: &data, Format: CSV, OnControl: func(c Control) error { got = append(got, c); return nil }}
		for i := 0; i < len(stream); i += size {
			if _, err := sp.Write([]byte(stream[i:min(i+size, len(stream))])); err != nil {
				t.Fatal(err)
			}
		}
		want := []Control{{Kind: KindCheckpoint, Token: "tok", Rows: 1}, {Kind: KindEnd, Rows: 2}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("chunks of %d: controls (-want +got):\n%s", size, diff)
		}
		if wantData := "a,b\r\n\"x\n#viewgate end 9\",1\r\n\"#not\",2\r\n"; data.String() != wantData {
			t.Fatalf("chunks of %d: data %q", size, data.String())
		}
	}
}

// TestCheckpointToken: a token round-trips, and a tampered one or one of another export is refused.
func TestCheckpointToken(t *testing.T) {
	s := signer{key: []byte("k")}
	doc := docHash("{ q }", "", map[string]any{"a": 1}, CSV)
	tok := s.token(Checkpoint{After: "cur", Rows: 42, Doc: doc})
	c, err := s.parse(tok, doc)
	if err != nil || c.After != "cur" || c.Rows != 42 {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	other := docHash("{ q }", "", map[string]any{"a": 2}, CSV)
	for name, tc := range map[string]struct{ tok, doc string }{
		"tampered":   {strings.Replace(tok, tok[:4], "AAAA", 1), doc},
		"other_doc":  {tok, other},
		"other_key":  {signer{key: []byte("x")}.token(Checkpoint{Doc: doc}), doc},
		"no_mac":     {"abc", doc},
		"other_form": {tok, docHash("{ q }", "", map[string]any{"a": 1}, NDJSON)},
	} {
		if _, err := s.parse(tc.tok, tc.doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNegotiate: format= wins, then Accept by q; anything else is not acceptable.
func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		param, accept string
		want          Format
		ok            bool
	}{
		{"", "", CSV, true}, {"ndjson", "text/csv", NDJSON, true}, {"", "application/x-ndjson", NDJSON, true},
		{"", "text/csv;q=0.2, application/x-ndjson;q=0.8", NDJSON, true}, {"", "*/*", CSV, true},
		{"", "application/pdf", "", false}, {"json", "", "", false},
	} {
		got, err := negotiate(tc.param, tc.accept)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("negotiate(%q, %q) = %q, %v", tc.param, tc.accept, got, err)
		}
	}
}
