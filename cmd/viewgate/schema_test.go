package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/viewgate/viewgate/demo"
)

// TestSchemaCommand: with no config, schema prints the demo's schema: the standard
// introspection result by default, SDL with -format sdl; the same bytes on every run.
func TestSchemaCommand(t *testing.T) {
	cases := []struct {
		args  []string
		check func(t *testing.T, out string)
	}{
		{[]string{"schema"}, func(t *testing.T, out string) {
			var res struct {
				Schema struct {
					QueryType struct{ Name string } `json:"queryType"`
					Types     []struct {
						Name   string
						Fields []struct {
							Name string
							Args []struct{ Name, Description string }
						}
					}
					Directives []struct{ Name string }
				} `json:"__schema"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			var args []string
			for _, ty := range res.Schema.Types {
				for _, f := range ty.Fields {
					if ty.Name == "Query" && f.Name == "invoices" {
						for _, a := range f.Args {
							args = append(args, a.Name)
						}
					}
				}
			}
			if res.Schema.QueryType.Name != "Query" || strings.Join(args, ",") != "after,first,orderBy,search,where" || len(res.Schema.Directives) != 3 {
				t.Errorf("query type %q, invoices arguments %v, %d directives", res.Schema.QueryType.Name, args, len(res.Schema.Directives))
			}
		}},
		{[]string{"schema", "-format", "json"}, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "{\n  \"__schema\": {") {
				t.Errorf("%.100s", out)
			}
		}},
		{[]string{"schema", "-format", "sdl"}, func(t *testing.T, out string) {
			for _, want := range []string{"type Query {", "  invoices(\n", "    where: InvoiceWhere\n  ): InvoiceConnection!", "enum OrderDirection {"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in the SDL", want)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var first string
			for i := range 5 {
				out := runSchema(t, tc.args, func(string) string { return "" })
				if i == 0 {
					first = out
					tc.check(t, out)
				} else if out != first {
					t.Fatalf("run %d printed other bytes than the first", i)
				}
			}
		})
	}
}

// TestSchemaNeedsNoDatabase: schema reads the config and the catalog only; a source nobody
// can reach does not stop it.
func TestSchemaNeedsNoDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `catalog: catalog.yaml
cursor_secret: ${SECRET}
environments:
  dev:
    sources: {demo: {driver: postgres, dsn: "postgres://viewgate@127.0.0.1:1/nowhere?connect_timeout=1"}}
`
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SECRET": strings.Repeat("s", 40)}
	got := runSchema(t, []string{"schema", "-config", path}, func(k string) string { return env[k] })
	if want := runSchema(t, []string{"schema"}, func(string) string { return "" }); got != want {
		t.Errorf("the config's schema differs from the demo's, on the same catalog")
	}
}

func runSchema(t *testing.T, args []string, getenv func(string) string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	return stdout.String()
}
