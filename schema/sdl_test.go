package schema

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/graphql-go/graphql"
)

// oddCatalog has descriptions that test the SDL printer's strings: several lines, indented
// lines, quotes, triple quotes, backslashes, a trailing quote, a carriage return, a tab.
const oddCatalog = `views:
  - name: Note
    field: notes
    source: s
    relation: notes
    key: [id]
    max_page_size: 10
    roles: [r]
    description: |
      First line.
        Indented "second" line with \ and """triple""" quotes.

      After a blank line, ends with a quote"
    columns:
      - {name: id, type: int, nullable: false, filter: [eq], sort: true, description: "  leading spaces and a\ttab"}
      - {name: body, type: text, filter: [contains], description: "carriage\r\nreturn"}
      - {name: tag, type: text, filter: [in], description: "\n\nleading blank lines\n  all\n  indented\n"}
`

// TestSDLGraphQLJS checks with graphql-js (the reference implementation) that the SDL parses
// (buildSchema), that the introspection JSON loads (buildClientSchema), that both describe the
// same schema, and that every default value reads back as a value of its type.
func TestSDLGraphQLJS(t *testing.T) {
	dir := graphqlJS(t)
	for name, s := range map[string]graphql.Schema{"demo": demoSchema(t), "odd descriptions": catalogSchema(t, oddCatalog)} {
		t.Run(name, func(t *testing.T) {
			sdl, err := SDL(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			data, err := Introspect(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			sdlFile, jsonFile := filepath.Join(tmp, "schema.graphql"), filepath.Join(tmp, "schema.json")
			if err := os.WriteFile(sdlFile, []byte(sdl), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(jsonFile, js, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "node", "testdata/graphqljs.cjs", dir, sdlFile, jsonFile).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "ok") {
				t.Fatalf("graphql-js: %v\n%s\nSDL:\n%s", err, out, sdl)
			}
		})
	}
}

// graphqlJS returns the npm project holding graphql-js (.ci/js, installed by .ci/run). It skips
// the test when node or the module is missing, unless CI is set.
func graphqlJS(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".ci", "js"))
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat(filepath.Join(dir, "node_modules", "graphql", "package.json"))
	if err := errors.Join(errNode, errMod); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("graphql-js is needed (npm ci --prefix .ci/js): %v", err)
		}
		t.Skipf("no graphql-js (npm ci --prefix .ci/js): %v", err)
	}
	return dir
}

func TestDescription(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"none", "", ""},
		{"one line", `Say "hi" \ bye.`, `  "Say \"hi\" \\ bye."` + "\n"},
		{"lines", "One.\n  Two.\n\nThree.", "  \"\"\"\n  One.\n    Two.\n\n  Three.\n  \"\"\"\n"},
		{"triple quotes", "a\n\"\"\"b\"\"\"", "  \"\"\"\n  a\n  \\\"\"\"b\\\"\"\"\n  \"\"\"\n"},
		{"indented throughout", "  a\n  b", `  "  a\n  b"` + "\n"},
		{"trailing newline", "a\nb\n", `  "a\nb\n"` + "\n"},
		{"carriage return", "a\r\nb", `  "a\r\nb"` + "\n"},
		{"control", "a\x01b\tc", `  "a\u0001b\tc"` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, description("  ", tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSDLShape pins the parts of the demo's SDL that graphql-js cannot tell us are right:
// what is left out, and how a root field with described arguments prints (the last field of
// Query).
func TestSDLShape(t *testing.T) {
	sdl, err := SDL(context.Background(), demoSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"__Schema", "scalar String", "directive @", "schema {", "EncodedConnection"} {
		if strings.Contains(sdl, absent) {
			t.Errorf("SDL has %q", absent)
		}
	}
	want := `  "The product and service catalog, shared by all tenants."
  products(
    "The endCursor of the previous page. A cursor only works with the where, orderBy and search it was issued for."
    after: String
    "Page size, 0 to 500."
    first: Int
    "Sort order; the key is always added last so that paging is stable. Text sorts by Unicode code point."
    orderBy: [ProductOrderBy!]
    "Case-insensitive text search in sku, name."
    search: String
    "Conditions that all hold."
    where: ProductWhere
  ): ProductConnection!
  "Count, sum, average, minimum and maximum of products, overall and by group (quota class report)."
  productsAggregate(
    "The endCursor (or a group's cursor) of the previous page; it only works with the where, search, groupBy and orderBy it was issued for."
    after: String
    "Groups per page, 0 to 100."
    first: Int
    "The dimensions to group by, each at most once."
    groupBy: [ProductGroupBy!]
    "Group order, by keys or aggregates; the keys not named follow, ascending, so that paging is stable. NULLs sort last ascending, first descending."
    orderBy: [ProductGroupOrderBy!]
    "Case-insensitive text search in sku, name."
    search: String
    "Conditions that all hold: only these rows are aggregated."
    where: ProductWhere
  ): ProductAggregate!
  "What is left of your quotas, per class and window; free (it costs nothing and is not charged)."
  rateLimit: RateLimit!
}
`
	if !strings.Contains(sdl, want) {
		t.Errorf("SDL lacks the products field as expected:\n%s", sdl)
	}
}
