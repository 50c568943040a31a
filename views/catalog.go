package views

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Type is a catalog column type.
type Type string

// The column types a catalog may use.
const (
	Text      Type = "text"
	Int       Type = "int"
	BigInt    Type = "bigint"
	Decimal   Type = "decimal"
	Float     Type = "float"
	Bool      Type = "bool"
	Date      Type = "date"
	Timestamp Type = "timestamp"
	UUID      Type = "uuid"
	JSON      Type = "json"
)

// Types lists every catalog type, in documentation order.
var Types = []Type{Text, Int, BigInt, Decimal, Float, Bool, Date, Timestamp, UUID, JSON}

// Op is a filter operator.
type Op string

// The filter operators.
const (
	Eq         Op = "eq"
	Neq        Op = "neq"
	In         Op = "in"
	NotIn      Op = "notIn"
	Lt         Op = "lt"
	Lte        Op = "lte"
	Gt         Op = "gt"
	Gte        Op = "gte"
	IsNull     Op = "isNull"
	StartsWith Op = "startsWith" // case-insensitive prefix
	Contains   Op = "contains"   // case-insensitive substring
	// StartsWithExact and ContainsExact match byte for byte, as eq compares: case, accents
	// and spaces count (codes, SKUs).
	StartsWithExact Op = "startsWithExact"
	ContainsExact   Op = "containsExact"
)

// Ops lists every operator, in the order they appear in generated filter inputs.
var Ops = []Op{Eq, Neq, In, NotIn, Lt, Lte, Gt, Gte, IsNull, StartsWith, Contains, StartsWithExact, ContainsExact}

// MatchesText reports whether the operator matches part of a text (a prefix or a substring)
// rather than comparing whole values; a filter using one puts a query in the search quota class.
func (o Op) MatchesText() bool {
	switch o {
	case StartsWith, Contains, StartsWithExact, ContainsExact:
		return true
	}
	return false
}

// opsFor says which operators make sense for a type.
func opsFor(t Type) []Op {
	switch t {
	case Text:
		return Ops
	case Bool:
		return []Op{Eq, Neq, IsNull}
	case JSON:
		return []Op{IsNull}
	case UUID:
		return []Op{Eq, Neq, In, NotIn, IsNull}
	default:
		return []Op{Eq, Neq, In, NotIn, Lt, Lte, Gt, Gte, IsNull}
	}
}

// PII says how a column holding personal data is shown to callers without the pii role.
type PII string

// The PII modes.
const (
	PIINone PII = ""
	PIIMask PII = "mask" // a fixed mask for text, null otherwise
	PIINull PII = "null" // always null
	PIIHash PII = "hash" // a keyed hash of the value, stable per tenant, view and column
)

// PIIRole is the role that sees PII columns unmasked.
const PIIRole = "pii"

// DraftRole is the placeholder role viewgate catalog init writes; a catalog holding it is invalid
// until someone names the roles that may read the view.
const DraftRole = "TODO"

// Catalog is the set of views viewgate exposes; nothing outside it is reachable.
type Catalog struct {
	Views []*View `yaml:"views"`
}

// View is one exposed database view.
type View struct {
	Name          string       `yaml:"name"`          // GraphQL type name
	Field         string       `yaml:"field"`         // GraphQL root field
	Source        string       `yaml:"source"`        // source name from the config
	Relation      string       `yaml:"relation"`      // [schema.]name of the view
	AllowTable    bool         `yaml:"allow_table"`   // the relation may be a base table
	Description   string       `yaml:"description"`   // GraphQL description
	TenantColumn  string       `yaml:"tenant_column"` // filtered by the caller's tenant, never exposed
	Key           []string     `yaml:"key"`           // unique, NOT NULL: the keyset tiebreaker
	DefaultOrder  []OrderTerm  `yaml:"default_order"`
	MaxPageSize   int          `yaml:"max_page_size"`
	Roles         []string     `yaml:"roles"`
	Export        bool         `yaml:"export"`
	MaxExportRows int          `yaml:"max_export_rows"` // rows one export may read (default DefaultMaxExportRows)
	Search        []string     `yaml:"search"`
	Aggregate     *Aggregation `yaml:"aggregate"` // nil: the view has no aggregate root field
	Columns       []*Column    `yaml:"columns"`

	byName map[string]*Column
}

// Column is one exposed column of a view.
type Column struct {
	Name        string   `yaml:"name"`
	Type        Type     `yaml:"type"`
	Description string   `yaml:"description"`
	Filter      []Op     `yaml:"filter"`
	Sort        bool     `yaml:"sort"`
	Nullable    *bool    `yaml:"nullable"` // default true; false lets Postgres use row comparison
	Scale       *int     `yaml:"scale"`    // decimal places of a decimal column
	PII         PII      `yaml:"pii"`
	Field       string   `yaml:"field"`     // GraphQL field name; defaults to the column name in camelCase
	Measure     []Agg    `yaml:"measure"`   // the aggregates of the column an aggregate query may ask for
	Dimension   bool     `yaml:"dimension"` // an aggregate query may group by the column
	Buckets     []Bucket `yaml:"buckets"`   // a date or timestamp dimension's time buckets; default all

	index int
}

// OrderTerm is one column of an ordering.
type OrderTerm struct {
	Column string `yaml:"column"`
	Desc   bool   `yaml:"desc"`
}

// DefaultMaxPageSize is the page cap of a view that sets none.
const DefaultMaxPageSize = 100

// DefaultMaxExportRows is the export cap of a view that sets none; MaxMaxExportRows bounds it.
const (
	DefaultMaxExportRows = 1_000_000
	MaxMaxExportRows     = 1_000_000_000
)

// Column returns the column named name, or nil.
func (v *View) Column(name string) *Column { return v.byName[name] }

// Index returns the column's position in its view.
func (c *Column) Index() int { return c.index }

// CanFilter reports whether op is configured for the column.
func (c *Column) CanFilter(op Op) bool { return slices.Contains(c.Filter, op) }

// IsNullable reports whether the column may hold NULL.
func (c *Column) IsNullable() bool { return c.Nullable == nil || *c.Nullable }

// View returns the view whose GraphQL root field is field, or nil.
func (c *Catalog) View(field string) *View {
	for _, v := range c.Views {
		if v.Field == field {
			return v
		}
	}
	return nil
}

// LoadCatalog reads and validates the catalog at path; it returns a *ValidationError naming the
// file for every problem in its content.
func LoadCatalog(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return parseCatalog(b, path)
}

// ParseCatalog decodes and validates a YAML catalog; it returns a *ValidationError listing every
// problem (unknown keys included) with its line and key path.
func ParseCatalog(b []byte) (*Catalog, error) { return parseCatalog(b, "") }

// ValidationError lists every problem found in a catalog, each with its key path and, when it
// was parsed from YAML, its line: "line 9: views[0].colums: unknown key (allowed: …)".
type ValidationError struct {
	File     string // the catalog file ("" when parsed from bytes or built in Go)
	Problems []string
}

// Error returns the file name followed by the problems, one per line when there are several.
func (e *ValidationError) Error() string {
	file := e.File
	if file == "" {
		file = "catalog"
	}
	if len(e.Problems) == 1 {
		return file + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n\t%s", file, len(e.Problems), strings.Join(e.Problems, "\n\t"))
}

var (
	graphqlName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	fieldName   = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	identPart   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)
	reserved    = []string{"Query", "Mutation", "Subscription", "PageInfo", "OrderDirection", "RateLimit",
		"BigInt", "Decimal", "DateTime", "Date", "JSON", "UUID", "EncodedConnection", "TimeBucket", "String", "Int", "Float", "Boolean", "ID"}
	// logicFields are the where combinators; a column field of that name would shadow one.
	logicFields = []string{"and", "or", "not"}
)

// Validate checks the catalog and prepares its lookups; it returns a *ValidationError naming every problem.
func (c *Catalog) Validate() error {
	if p := c.validate(); len(p) > 0 {
		return &ValidationError{Problems: p.strings(nil)}
	}
	return nil
}

func (c *Catalog) validate() problems {
	var p problems
	if len(c.Views) == 0 {
		p.add("views", "at least one view is required")
	}
	names, fields := map[string]bool{}, map[string]bool{"rateLimit": true}
	for i, v := range c.Views {
		at := fmt.Sprintf("views[%d]", i)
		if v == nil {
			p.add(at, "empty view")
			continue
		}
		if !graphqlName.MatchString(v.Name) || slices.Contains(reserved, v.Name) {
			p.add(at+".name", "%q must be a PascalCase GraphQL type name (letters and digits) and not a reserved name", v.Name)
		} else if names[v.Name] {
			p.add(at+".name", "duplicate view name %q", v.Name)
		}
		names[v.Name] = true
		if !fieldName.MatchString(v.Field) {
			p.add(at+".field", "%q must be a camelCase GraphQL field name", v.Field)
		} else if fields[v.Field] {
			p.add(at+".field", "duplicate or reserved root field %q", v.Field)
		}
		fields[v.Field] = true
		v.validate(at, &p)
	}
	c.validateAggregateFields(&p, fields)
	c.checkGeneratedNames(&p)
	return p
}

// checkGeneratedNames refuses a view name that equals a type the schema generates for another
// view (InvoiceConnection, InvoiceWhere, InvoiceAmountFilter…).
func (c *Catalog) checkGeneratedNames(p *problems) {
	generated := map[string]string{}
	for _, v := range c.Views {
		if v == nil {
			continue
		}
		for _, suffix := range append([]string{"Connection", "Edge", "Where", "OrderBy", "SortField"}, v.aggregateTypeSuffixes()...) {
			generated[v.Name+suffix] = v.Name
		}
		for _, col := range v.Columns {
			if col != nil && len(col.Filter) > 0 && col.Field != "" {
				generated[v.Name+strings.ToUpper(col.Field[:1])+col.Field[1:]+"Filter"] = v.Name
			}
		}
	}
	for i, v := range c.Views {
		if v == nil {
			continue
		}
		if owner, ok := generated[v.Name]; ok {
			p.add(fmt.Sprintf("views[%d].name", i), "%q is a type the schema generates for view %s; choose another name", v.Name, owner)
		}
	}
}

// problem is one finding at a key path ("" for the whole file), on line when that is known.
type problem struct {
	path, msg string
	line      int
}

type problems []problem

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, problem{path: path, msg: fmt.Sprintf(format, args...)})
}

// strings formats each problem as "line N: path: msg"; a problem without its own line takes
// line(path) (line nil: none).
func (p problems) strings(line func(string) int) []string {
	out := make([]string, len(p))
	for i, pr := range p {
		s := pr.msg
		if pr.path != "" {
			s = pr.path + ": " + s
		}
		if pr.line == 0 && line != nil {
			pr.line = line(pr.path)
		}
		if pr.line > 0 {
			s = fmt.Sprintf("line %d: %s", pr.line, s)
		}
		out[i] = s
	}
	return out
}

func (v *View) validate(at string, p *problems) {
	if v.Source == "" {
		p.add(at+".source", "required: the name of a source in the config")
	}
	if err := checkRelation(v.Relation); err != nil {
		p.add(at+".relation", "%v", err)
	}
	if v.MaxPageSize == 0 {
		v.MaxPageSize = DefaultMaxPageSize
	} else if v.MaxPageSize < 1 || v.MaxPageSize > 10000 {
		p.add(at+".max_page_size", "%d is out of range 1..10000", v.MaxPageSize)
	}
	if v.MaxExportRows == 0 {
		v.MaxExportRows = DefaultMaxExportRows
	} else if v.MaxExportRows < 1 || v.MaxExportRows > MaxMaxExportRows {
		p.add(at+".max_export_rows", "%d is out of range 1..%d", v.MaxExportRows, MaxMaxExportRows)
	}
	if len(v.Roles) == 0 {
		p.add(at+".roles", "at least one role is required (least privilege: name who may read this view)")
	}
	for k, r := range v.Roles {
		switch {
		case strings.TrimSpace(r) == "":
			p.add(fmt.Sprintf("%s.roles[%d]", at, k), "empty role name")
		case strings.EqualFold(r, DraftRole):
			p.add(fmt.Sprintf("%s.roles[%d]", at, k), "%q is the placeholder of a drafted catalog: name the roles that may read this view", r)
		}
	}
	if len(v.Columns) == 0 {
		p.add(at+".columns", "at least one column is required")
	}
	v.byName = map[string]*Column{}
	gqlFields, sortEnums := map[string]bool{}, map[string]bool{}
	for j, col := range v.Columns {
		cat := fmt.Sprintf("%s.columns[%d]", at, j)
		if col == nil {
			p.add(cat, "empty column")
			continue
		}
		col.index = j
		if v.byName[col.Name] != nil {
			p.add(cat+".name", "duplicate column %q", col.Name)
		}
		v.byName[col.Name] = col
		col.validate(cat, p)
		if gqlFields[col.Field] {
			p.add(cat+".field", "duplicate GraphQL field %q", col.Field)
		}
		gqlFields[col.Field] = true
		if slices.Contains(logicFields, col.Field) {
			p.add(cat+".field", "%q is a where combinator (and, or, not); set field: to another name", col.Field)
		}
		if col.Sort {
			enum := strings.ToUpper(col.Name)
			if sortEnums[enum] {
				p.add(cat+".name", "sort value %s is taken by another sortable column (names differ only in case)", enum)
			}
			sortEnums[enum] = true
		}
		if col.Name == v.TenantColumn && v.TenantColumn != "" {
			p.add(cat+".name", "the tenant column %q is never exposed; remove it from columns", col.Name)
		}
	}
	if v.TenantColumn != "" && !identPart.MatchString(v.TenantColumn) {
		p.add(at+".tenant_column", "%q is not a plain identifier", v.TenantColumn)
	}
	v.validateKey(at, p)
	v.validateOrder(at, p)
	for k, s := range v.Search {
		col := v.byName[s]
		switch {
		case col == nil:
			p.add(fmt.Sprintf("%s.search[%d]", at, k), "unknown column %q", s)
		case col.Type != Text:
			p.add(fmt.Sprintf("%s.search[%d]", at, k), "column %q is %s; only text columns are searchable", s, col.Type)
		case col.PII != PIINone:
			p.add(fmt.Sprintf("%s.search[%d]", at, k), "column %q is PII and cannot be searched", s)
		}
	}
	v.validateAggregate(at, p)
}

func (v *View) validateKey(at string, p *problems) {
	if len(v.Key) == 0 {
		p.add(at+".key", "required: the unique, NOT NULL column(s) used as the pagination tiebreaker")
	}
	for k, name := range v.Key {
		col := v.byName[name]
		switch {
		case slices.Contains(v.Key[:k], name):
			p.add(fmt.Sprintf("%s.key[%d]", at, k), "column %q is named twice", name)
		case col == nil:
			p.add(fmt.Sprintf("%s.key[%d]", at, k), "unknown column %q", name)
		case col.IsNullable() && col.Nullable != nil:
			p.add(fmt.Sprintf("%s.key[%d]", at, k), "key column %q is declared nullable", name)
		case col.PII != PIINone:
			p.add(fmt.Sprintf("%s.key[%d]", at, k), "key column %q cannot be PII (cursors carry key values)", name)
		case col.Type == JSON || col.Type == Float:
			p.add(fmt.Sprintf("%s.key[%d]", at, k), "key column %q is %s; a key must compare exactly", name, col.Type)
		default:
			f := false
			col.Nullable = &f
		}
	}
}

func (v *View) validateOrder(at string, p *problems) {
	for k, o := range v.DefaultOrder {
		col := v.byName[o.Column]
		switch {
		case slices.ContainsFunc(v.DefaultOrder[:k], func(prev OrderTerm) bool { return prev.Column == o.Column }):
			p.add(fmt.Sprintf("%s.default_order[%d].column", at, k), "column %q is named twice", o.Column)
		case col == nil:
			p.add(fmt.Sprintf("%s.default_order[%d].column", at, k), "unknown column %q", o.Column)
		case !col.Sort && !slices.Contains(v.Key, o.Column):
			p.add(fmt.Sprintf("%s.default_order[%d].column", at, k), "column %q is not sortable (set sort: true)", o.Column)
		}
	}
}

func (c *Column) validate(at string, p *problems) {
	if !identPart.MatchString(c.Name) {
		p.add(at+".name", "%q is not a plain identifier (letters, digits, _)", c.Name)
	}
	if c.Field == "" {
		c.Field = camel(c.Name)
	}
	if !fieldName.MatchString(c.Field) {
		p.add(at+".field", "%q is not a camelCase GraphQL field name", c.Field)
	}
	if !slices.Contains(Types, c.Type) {
		p.add(at+".type", "%q is not one of %s", c.Type, joinTypes())
		return
	}
	allowed := opsFor(c.Type)
	for k, op := range c.Filter {
		if !slices.Contains(allowed, op) {
			p.add(fmt.Sprintf("%s.filter[%d]", at, k), "operator %q does not apply to %s; allowed: %s", op, c.Type, joinOps(allowed))
		}
	}
	if c.Sort && (c.Type == JSON) {
		p.add(at+".sort", "json columns cannot be sorted")
	}
	switch c.PII {
	case PIINone, PIIMask, PIINull, PIIHash:
	default:
		p.add(at+".pii", "%q is not one of mask, null, hash", c.PII)
	}
	if c.PII != PIINone && (len(c.Filter) > 0 || c.Sort) {
		p.add(at, "PII column %q cannot be filtered or sorted (it would let callers probe masked values)", c.Name)
	}
	if c.Scale != nil && (c.Type != Decimal || *c.Scale < 0 || *c.Scale > 30) {
		p.add(at+".scale", "scale applies to decimal columns only, 0..30")
	}
	if c.Type == Decimal && c.Scale == nil {
		p.add(at+".scale", "decimal columns need a scale (digits after the point), so every engine prints them alike")
	}
}

func checkRelation(rel string) error {
	if rel == "" {
		return errors.New("required: the [schema.]name of the view")
	}
	parts := strings.Split(rel, ".")
	if len(parts) > 2 {
		return fmt.Errorf("%q: at most schema.name", rel)
	}
	for _, part := range parts {
		if !identPart.MatchString(part) {
			return fmt.Errorf("%q: %q is not a plain identifier", rel, part)
		}
	}
	return nil
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	var b strings.Builder
	for i, part := range parts {
		if part == "" {
			continue
		}
		if i == 0 || b.Len() == 0 {
			b.WriteString(strings.ToLower(part[:1]) + part[1:])
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func joinTypes() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func joinOps(ops []Op) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}
