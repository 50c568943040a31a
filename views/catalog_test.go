package views

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadSample(t testing.TB, name string) *Catalog {
	t.Helper()
	c, err := LoadCatalog(filepath.Join("testdata", "catalog", name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogValidSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "catalog", "valid_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid samples: %v", err)
	}
	files = append(files, filepath.Join("testdata", "catalog.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := LoadCatalog(f)
			if err != nil {
				t.Fatal(err)
			}
			// Validating twice changes nothing: defaults are filled in once.
			if err := c.Validate(); err != nil {
				t.Fatalf("second Validate: %v", err)
			}
		})
	}
}

func TestCatalogDefaults(t *testing.T) {
	c := loadSample(t, "valid_minimal.yaml")
	v := c.View("customers")
	if v == nil {
		t.Fatal("view customers not found by its root field")
	}
	if c.View("Customer") != nil {
		t.Error("View looks views up by type name; want by root field only")
	}
	if v.MaxPageSize != DefaultMaxPageSize {
		t.Errorf("MaxPageSize = %d, want %d", v.MaxPageSize, DefaultMaxPageSize)
	}
	var fields []string
	for _, col := range v.Columns {
		fields = append(fields, col.Field)
	}
	if diff := cmp.Diff([]string{"customerId", "displayName"}, fields); diff != "" {
		t.Errorf("default GraphQL fields (-want +got):\n%s", diff)
	}
	key := v.Column("customer_id")
	if key.IsNullable() {
		t.Error("a key column without nullable: is not nullable")
	}
	if !v.Column("display_name").IsNullable() {
		t.Error("a column without nullable: is nullable")
	}
	if got := v.Column("display_name").Index(); got != 1 {
		t.Errorf("Index = %d, want 1", got)
	}
	if v.FieldColumn("displayName") != v.Column("display_name") {
		t.Error("FieldColumn(displayName) is not the display_name column")
	}
	all := loadSample(t, "valid_all_types.yaml").View("things")
	if got := all.Column("street").Field; got != "streetLine" {
		t.Errorf("an explicit field is kept: got %q", got)
	}
}

func TestCamel(t *testing.T) {
	for in, want := range map[string]string{
		"id": "id", "issued_at": "issuedAt", "customer_e_mail": "customerEMail",
		"_private": "private", "a__b": "aB", "Amount": "amount", "trailing_": "trailing",
	} {
		if got := camel(in); got != want {
			t.Errorf("camel(%q) = %q, want %q", in, got, want)
		}
	}
}

// catalogCases lists every invalid sample with the substrings its problems must contain, one
// per problem, so that every problem is reported together and none is spurious.
var catalogCases = []struct {
	file  string
	bug   string // a known gap in validation: the test is expected to fail until it is fixed
	wants []string
}{
	{file: "invalid_unknown_key.yaml", wants: []string{
		"line 9: views[0].colums: unknown key (allowed: name, field, source, relation, allow_table, description, tenant_column, key, default_order, max_page_size, roles, export, max_export_rows, search, aggregate, columns)",
		"line 11: views[0].columns[0].filters: unknown key (allowed: name, type, description, filter, sort, nullable, scale, pii, field, measure, dimension, buckets)",
	}},
	{file: "invalid_yaml_types.yaml", wants: []string{
		"line 7: views[0].key: must be a list",
		`line 9: views[0].max_page_size: must be an integer, got "lots"`,
		`line 11: views[0].columns[0].sort: must be true or false, got "maybe"`,
		"line 11: views[0].columns[0].nullable: must be true or false",
		"line 12: views[1]: must be a mapping (key: value)",
		"line 7: views[0].key: required",
	}},
	{file: "invalid_types.yaml", wants: []string{
		`views[0].columns[1].type: "money" is not one of text, int, bigint, decimal, float, bool, date, timestamp, uuid, json`,
		`views[0].columns[2].filter[1]: operator "lt" does not apply to bool; allowed: eq, neq, isNull`,
		`views[0].columns[3].filter[0]: operator "eq" does not apply to json`,
		`views[0].columns[3].sort: json columns cannot be sorted`,
		`views[0].columns[4].filter[1]: operator "startsWith" does not apply to uuid`,
		`views[0].columns[5].scale: decimal columns need a scale`,
		`views[0].columns[6].filter[0]: operator "contains" does not apply to int`,
		`views[0].columns[6].scale: scale applies to decimal columns only`,
		`views[0].columns[7].scale: scale applies to decimal columns only, 0..30`,
		`views[0].columns[8].pii: "redact" is not one of mask, null, hash`,
		`views[0].columns[9].filter[0]: operator "like" does not apply to float`,
	}},
	{file: "invalid_pii.yaml", wants: []string{
		`views[0].columns[2]: PII column "phone" cannot be filtered or sorted`,
		`views[0].columns[3]: PII column "birth" cannot be filtered or sorted`,
		`views[0].key[0]: key column "email" cannot be PII`,
		`views[0].search[1]: column "phone" is PII and cannot be searched`,
	}},
	{file: "invalid_key.yaml", wants: []string{
		`views[0].key: required`,
		`views[1].key[0]: unknown column "missing"`,
		`views[1].key[1]: key column "maybe" is declared nullable`,
		`views[1].key[2]: key column "doc" is json`,
		`views[1].key[3]: key column "score" is float`,
		`views[1].key[4]: key column "secret" cannot be PII`,
	}},
	{file: "invalid_order.yaml", wants: []string{
		`views[0].default_order[0].column: column "status" is not sortable`,
		`views[0].default_order[1].column: unknown column "nope"`,
	}},
	{file: "invalid_names.yaml", wants: []string{
		`views[1].name: duplicate view name "Invoice"`,
		`views[1].field: duplicate or reserved root field "invoices"`,
		`views[2].name: "Query" must be a PascalCase GraphQL type name`,
		`views[2].field: duplicate or reserved root field "rateLimit"`,
		`views[3].name: "PageInfo" must be a PascalCase GraphQL type name`,
		`views[3].field: "Pages" must be a camelCase GraphQL field name`,
		`views[4].name: "my_view" must be a PascalCase`,
		`views[4].columns[1].name: duplicate column "id"`,
		`views[4].columns[1].field: duplicate GraphQL field "id"`,
		`views[4].columns[2].field: duplicate GraphQL field "id"`,
		`views[4].columns[3].name: "bad name" is not a plain identifier`,
		`views[4].columns[3].field: "bad name" is not a camelCase GraphQL field name`,
		`views[4].columns[4].field: "X_y" is not a camelCase GraphQL field name`,
	}},
	{file: "invalid_relation.yaml", wants: []string{
		`views[0].relation: "\"reporting\".v_invoices": "\"reporting\"" is not a plain identifier`,
		`views[1].relation: "v invoices": "v invoices" is not a plain identifier`,
		`views[2].relation: "v_invoices;drop_table": "v_invoices;drop_table" is not a plain identifier`,
		`views[3].relation: "erp.reporting.v_invoices": at most schema.name`,
		`views[4].relation: required`,
		`views[5].relation: "reporting.": "" is not a plain identifier`,
		`views[6].source: required`,
		`views[6].relation: "v-invoices": "v-invoices" is not a plain identifier`,
	}},
	{file: "invalid_draft_roles.yaml", bug: "a drafted catalog's roles: [TODO] passed check and served a role named TODO", wants: []string{
		`views[0].roles[0]: "TODO" is the placeholder of a drafted catalog`,
		`views[1].roles[1]: "todo" is the placeholder of a drafted catalog`,
	}},
	{file: "invalid_roles.yaml", wants: []string{
		`views[0].roles: at least one role is required`,
		`views[1].roles: at least one role is required`,
	}},
	{file: "invalid_search.yaml", wants: []string{
		`views[0].search[0]: column "amount" is decimal; only text columns are searchable`,
		`views[0].search[1]: unknown column "nope"`,
	}},
	{file: "invalid_tenant.yaml", wants: []string{
		`views[0].columns[1].name: the tenant column "tenant_id" is never exposed`,
		`views[1].tenant_column: "tenant id" is not a plain identifier`,
	}},
	{file: "invalid_page_size.yaml", wants: []string{
		`views[0].max_page_size: -1 is out of range 1..10000`,
		`views[1].max_page_size: 10001 is out of range 1..10000`,
	}},
	{file: "invalid_export_rows.yaml", wants: []string{
		`views[0].max_export_rows: -1 is out of range 1..1000000000`,
		`views[1].max_export_rows: 1000000001 is out of range 1..1000000000`,
	}},
	{file: "invalid_no_views.yaml", wants: []string{
		`views: at least one view is required`,
	}},
	{file: "invalid_empty_parts.yaml", wants: []string{
		`views[0]: empty view`,
		`views[1].columns: at least one column is required`,
		`views[1].key[0]: unknown column "id"`,
		`views[2].columns[0]: empty column`,
	}},
	{file: "invalid_aggregate.yaml", wants: []string{
		`views[0].aggregate.max_groups: 10001 is out of range 1..10000`,
		`views[0].columns[1]: PII column "email" cannot be a measure or a dimension`,
		`views[0].columns[2]: PII column "salary" cannot be a measure or a dimension`,
		`views[0].columns[3].measure[0]: sum does not apply to text; allowed: min, max`,
		`views[0].columns[3].buckets: buckets apply to date and timestamp dimensions only`,
		`views[0].columns[4].measure[0]: avg does not apply to float; allowed: min, max`,
		`views[0].columns[4].measure[2]: max is named twice`,
		`views[0].columns[4].dimension: float columns cannot be grouped by`,
		`views[0].columns[5].measure: json columns offer no aggregates`,
		`views[0].columns[5].dimension: json columns cannot be grouped by`,
		`views[0].columns[6].buckets[1]: "decade" is not one of day, week, month, quarter, year`,
		`views[0].columns[6].buckets[2]: month is named twice`,
		`views[0].columns[7].measure[0]: "count" is not one of sum, avg, min, max (count needs no measure)`,
		`views[0].columns[7].measure[1]: "median" is not one of sum, avg, min, max`,
		`views[0].columns[8].name: group sort value COUNT is taken`,
		`views[1].columns[0]: column "id" is a measure or dimension of a view without aggregate:`,
		`views[1].columns[1]: column "region" is a measure or dimension of a view without aggregate:`,
		`views[2].aggregate.max_groups: -1 is out of range 1..10000`,
		`views[2].aggregate.scan_cost: 1001 is out of range 1..1000`,
		`views[0].aggregate.field: "Invoices_Agg" must be a camelCase GraphQL field name`,
		`views[2].aggregate.field: duplicate or reserved root field "invoices"`,
		`views[3].name: "InvoiceTotals" is a type the schema generates for view Invoice`,
	}},
	{file: "invalid_builtin_type_names.yaml", bug: "reserved lacks the GraphQL built-in scalars and viewgate's UUID scalar", wants: []string{
		`views[0].name: "String"`,
		`views[1].name: "Int"`,
		`views[2].name: "Float"`,
		`views[3].name: "Boolean"`,
		`views[4].name: "ID"`,
		`views[5].name: "UUID"`,
	}},
	{file: "invalid_generated_type_names.yaml", bug: "a view name may equal a type schema generates for another view", wants: []string{
		`views[1].name: "InvoiceConnection"`,
	}},
	{file: "invalid_logic_field_names.yaml", bug: "column fields and, or, not collide with the Where combinators", wants: []string{
		`views[0].columns[1].`,
		`views[0].columns[2].`,
	}},
	{file: "invalid_duplicate_default_order.yaml", bug: "default_order may name a column twice; every default query then fails with ErrBadOrder", wants: []string{
		`views[0].default_order[1].column`,
	}},
	{file: "invalid_duplicate_key.yaml", bug: "key may name a column twice", wants: []string{
		`views[0].key[1]`,
	}},
	{file: "invalid_sort_enum_names.yaml", bug: "sortable columns whose upper-cased names collide share one sort enum value", wants: []string{
		`views[0].columns[2]`,
	}},
}

func TestCatalogInvalidSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "catalog", "invalid_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, tc := range catalogCases {
		listed = append(listed, filepath.Join("testdata", "catalog", tc.file))
	}
	slices.Sort(files)
	slices.Sort(listed)
	if diff := cmp.Diff(files, listed); diff != "" {
		t.Errorf("every invalid sample needs a case (-files +cases):\n%s", diff)
	}
	for _, tc := range catalogCases {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "catalog", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseCatalog(b)
			if tc.bug != "" && err == nil {
				t.Fatalf("regression: %s: the catalog is accepted; want problems %q", tc.bug, tc.wants)
			}
			if err == nil {
				t.Fatal("the catalog is accepted")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T %v, want *ValidationError", err, err)
			}
			checkProblems(t, ve.Problems, tc.wants)
			if !strings.HasPrefix(err.Error(), "catalog: ") {
				t.Errorf("Error() = %q, want it to start with the file", err)
			}
			for _, p := range ve.Problems {
				if !strings.HasPrefix(p, "line ") {
					t.Errorf("problem %q names no line", p)
				}
			}
		})
	}
}

// checkProblems wants exactly one problem per substring, in order.
func checkProblems(t *testing.T, got, wants []string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("%d problems, want %d:\n  %s", len(got), len(wants), strings.Join(got, "\n  "))
	}
	for i, w := range wants {
		if i >= len(got) {
			t.Errorf("missing problem %d: %q", i, w)
			continue
		}
		if !strings.Contains(got[i], w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
		}
	}
}

func TestLoadCatalogErrorsNameTheFile(t *testing.T) {
	path := filepath.Join("testdata", "catalog", "invalid_roles.yaml")
	_, err := LoadCatalog(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": 2 problems:\n\tline 2: views[0].roles: at least one role") {
		t.Errorf("LoadCatalog error = %v, want it to start with the path", err)
	}
	if _, err := LoadCatalog(filepath.Join("testdata", "catalog", "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
	// Aliases multiply along views × columns × filter: 200 × 100 × 100 nodes from a short file.
	repeat := func(s string, n int) string { return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ") }
	bomb := "c: &c {name: id, type: text, filter: [" + repeat("eq", 100) + "]}\n" +
		"v: &v {name: A, field: a, source: s, relation: r, key: [id], roles: [r], columns: [" + repeat("*c", 100) + "]}\n" +
		"views: [" + repeat("*v", 200) + "]\n"
	for in, want := range map[string]string{
		bomb:                   "catalog: 3 problems:\n\tline 1: c: unknown key (allowed: views)\n\tline 2: v: unknown key (allowed: views)\n\tanchors and aliases expand to more than 1000000 nodes",
		"views: {name: x}":     "catalog: 2 problems:\n\tline 1: views: must be a list\n\tline 1: views: at least one view is required",
		"views: [\n  {name: x": "catalog: invalid YAML: line 1: did not find expected ',' or '}'",
		"":                     "catalog: the file is empty",
		"# nothing\n":          "catalog: the file is empty",
		"- a\n- b\n":           "catalog: line 1: must be a mapping (key: value)",
		"views: []\nviews: []": "catalog: 2 problems:\n\tline 2: views: duplicate key (first set on line 1)\n\tline 1: views: at least one view is required",
	} {
		if _, err := ParseCatalog([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("ParseCatalog(%q):\n got %v\nwant %s", in, err, want)
		}
	}
}

func TestDialectFor(t *testing.T) {
	for name, want := range map[string]*Dialect{"postgres": Postgres, "postgresql": Postgres, "pgx": Postgres,
		"mysql": MySQL, "mariadb": MySQL, "sqlite": SQLite, "sqlite3": SQLite} {
		if got, err := DialectFor(name); err != nil || got != want {
			t.Errorf("DialectFor(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := DialectFor("oracle"); err == nil || !strings.Contains(err.Error(), "allowed: postgres, mysql, mariadb, sqlite") {
		t.Errorf("DialectFor(oracle) error = %v", err)
	}
}

func TestQuote(t *testing.T) {
	cases := []struct {
		d         *Dialect
		in, want  string
		rel, wrel string
	}{
		{Postgres, `a"b`, `"a""b"`, "s.v", `"s"."v"`},
		{SQLite, `x`, `"x"`, "v", `"v"`},
		{MySQL, "a`b", "`a``b`", "s.v", "`s`.`v`"},
	}
	for _, tc := range cases {
		if got := tc.d.Quote(tc.in); got != tc.want {
			t.Errorf("%s Quote(%q) = %q, want %q", tc.d.Name(), tc.in, got, tc.want)
		}
		if got := tc.d.QuoteRelation(tc.rel); got != tc.wrel {
			t.Errorf("%s QuoteRelation(%q) = %q, want %q", tc.d.Name(), tc.rel, got, tc.wrel)
		}
	}
}
