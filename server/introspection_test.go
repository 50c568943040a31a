package server_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStandardIntrospection: the full standard introspection query (graphql-js
// getIntrospectionQuery, what GraphiQL sends) answers under the default limits, with the
// root fields, their arguments, default values and the directives GraphiQL's docs show.
func TestStandardIntrospection(t *testing.T) {
	s := newStack(t, "sqlite")
	q, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": string(q), "operationName": "IntrospectionQuery"})
	req := newRequest("POST", "/graphql", string(body))
	req.Header.Set("Accept", "application/graphql-response+json")
	rec := serve(s, req)
	type typeRef struct {
		Kind   string   `json:"kind"`
		Name   *string  `json:"name"`
		OfType *typeRef `json:"ofType"`
	}
	type inputValue struct {
		Name         string  `json:"name"`
		DefaultValue *string `json:"defaultValue"`
		Type         typeRef `json:"type"`
	}
	var res struct {
		Data struct {
			Schema struct {
				QueryType struct{ Name string } `json:"queryType"`
				Types     []struct {
					Name        string       `json:"name"`
					Description *string      `json:"description"`
					InputFields []inputValue `json:"inputFields"`
					Fields      []struct {
						Name string       `json:"name"`
						Args []inputValue `json:"args"`
					} `json:"fields"`
				} `json:"types"`
				Directives []struct{ Name string } `json:"directives"`
			} `json:"__schema"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 || len(res.Errors) > 0 {
		t.Fatalf("status %d: %.500s (%v)", rec.Code, rec.Body.String(), err)
	}
	sch := res.Data.Schema
	got := map[string][]string{}
	for _, typ := range sch.Types {
		switch typ.Name {
		case sch.QueryType.Name:
			for _, f := range typ.Fields {
				got["Query"] = append(got["Query"], f.Name)
				if f.Name == "invoices" {
					for _, a := range f.Args {
						got["invoices args"] = append(got["invoices args"], a.Name)
					}
				}
			}
		case "InvoiceOrderBy":
			for _, f := range typ.InputFields {
				if f.DefaultValue != nil {
					// None is declared: graphql-go would write the enum default as a string
					// ("ASC") that clients discard, so the description says ASC instead.
					got["InvoiceOrderBy defaults"] = append(got["InvoiceOrderBy defaults"], f.Name)
				}
			}
		}
	}
	for _, d := range sch.Directives {
		got["directives"] = append(got["directives"], d.Name)
	}
	for _, k := range []string{"Query", "invoices args", "directives"} {
		slices.Sort(got[k])
	}
	want := map[string][]string{
		"Query":         {"customers", "customersAggregate", "invoices", "invoicesAggregate", "products", "productsAggregate", "rateLimit"},
		"invoices args": {"after", "first", "orderBy", "search", "where"},
		"directives":    {"deprecated", "include", "skip"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("introspection (-want +got):\n%s", diff)
	}
}
