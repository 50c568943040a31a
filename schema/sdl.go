package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/graphql-go/graphql"
)

// SDL prints s in the schema definition language, from its introspection and so in the same
// order: what graphql-js's buildSchema reads back as the schema Introspect describes. Like
// graphql-js's printSchema it leaves out the built-in scalars, the specified directives and
// the introspection types. It fails only if the introspection does.
func SDL(ctx context.Context, s graphql.Schema) (string, error) {
	data, err := Introspect(ctx, s)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(data["__schema"])
	if err != nil {
		return "", fmt.Errorf("sdl: %w", err)
	}
	var in introspection
	if err := json.Unmarshal(raw, &in); err != nil {
		return "", fmt.Errorf("sdl: %w", err)
	}
	return in.sdl(), nil
}

// introspection is the __schema of IntrospectionQuery's answer.
type introspection struct {
	QueryType        *typeRef    `json:"queryType"`
	MutationType     *typeRef    `json:"mutationType"`
	SubscriptionType *typeRef    `json:"subscriptionType"`
	Types            []fullType  `json:"types"`
	Directives       []directive `json:"directives"`
}

type fullType struct {
	Kind          string       `json:"kind"`
	Name          string       `json:"name"`
	Description   string       `json:"description"`
	Fields        []field      `json:"fields"`
	InputFields   []inputValue `json:"inputFields"`
	Interfaces    []typeRef    `json:"interfaces"`
	EnumValues    []enumValue  `json:"enumValues"`
	PossibleTypes []typeRef    `json:"possibleTypes"`
}

type field struct {
	Name              string       `json:"name"`
	Description       string       `json:"description"`
	Args              []inputValue `json:"args"`
	Type              typeRef      `json:"type"`
	IsDeprecated      bool         `json:"isDeprecated"`
	DeprecationReason *string      `json:"deprecationReason"`
}

type inputValue struct {
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	Type         typeRef `json:"type"`
	DefaultValue *string `json:"defaultValue"` // a GraphQL literal
}

type enumValue struct {
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type directive struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Locations   []string     `json:"locations"`
	Args        []inputValue `json:"args"`
}

type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

func (t typeRef) String() string {
	switch {
	case t.Kind == "NON_NULL" && t.OfType != nil:
		return t.OfType.String() + "!"
	case t.Kind == "LIST" && t.OfType != nil:
		return "[" + t.OfType.String() + "]"
	}
	return t.Name
}

var (
	builtinScalars      = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	specifiedDirectives = map[string]bool{"include": true, "skip": true, "deprecated": true, "specifiedBy": true, "oneOf": true}
)

func (in *introspection) sdl() string {
	var blocks []string
	if def := in.schemaDefinition(); def != "" {
		blocks = append(blocks, def)
	}
	for _, d := range in.Directives {
		if !specifiedDirectives[d.Name] {
			blocks = append(blocks, description("", d.Description)+"directive @"+d.Name+args(d.Args, "")+" on "+strings.Join(d.Locations, " | "))
		}
	}
	for _, t := range in.Types {
		if strings.HasPrefix(t.Name, "__") || builtinScalars[t.Name] {
			continue
		}
		blocks = append(blocks, description("", t.Description)+t.definition())
	}
	return strings.Join(blocks, "\n\n") + "\n"
}

// schemaDefinition is empty when the root types have their conventional names.
func (in *introspection) schemaDefinition() string {
	roots := []struct {
		op   string
		t    *typeRef
		name string
	}{{"query", in.QueryType, "Query"}, {"mutation", in.MutationType, "Mutation"}, {"subscription", in.SubscriptionType, "Subscription"}}
	conventional, lines := true, []string{}
	for _, r := range roots {
		if r.t != nil {
			conventional = conventional && r.t.Name == r.name
			lines = append(lines, "  "+r.op+": "+r.t.Name)
		}
	}
	if conventional {
		return ""
	}
	return "schema {\n" + strings.Join(lines, "\n") + "\n}"
}

func (t *fullType) definition() string {
	switch t.Kind {
	case "SCALAR":
		return "scalar " + t.Name
	case "OBJECT", "INTERFACE":
		head := "type "
		if t.Kind == "INTERFACE" {
			head = "interface "
		}
		return head + t.Name + implements(t.Interfaces) + block(len(t.Fields), func(i int) string { return t.Fields[i].sdl() })
	case "UNION":
		names := make([]string, len(t.PossibleTypes))
		for i, p := range t.PossibleTypes {
			names[i] = p.Name
		}
		return "union " + t.Name + " = " + strings.Join(names, " | ")
	case "ENUM":
		return "enum " + t.Name + block(len(t.EnumValues), func(i int) string {
			v := t.EnumValues[i]
			return description("  ", v.Description) + "  " + v.Name + deprecated(v.IsDeprecated, v.DeprecationReason)
		})
	case "INPUT_OBJECT":
		return "input " + t.Name + block(len(t.InputFields), func(i int) string {
			return description("  ", t.InputFields[i].Description) + "  " + t.InputFields[i].sdl()
		})
	}
	return "# unknown kind " + t.Kind + " of " + t.Name
}

func implements(ifaces []typeRef) string {
	if len(ifaces) == 0 {
		return ""
	}
	names := make([]string, len(ifaces))
	for i, t := range ifaces {
		names[i] = t.Name
	}
	return " implements " + strings.Join(names, " & ")
}

// block prints n members in braces, one a line; none prints nothing (valid SDL).
func block(n int, member func(int) string) string {
	if n == 0 {
		return ""
	}
	lines := make([]string, n)
	for i := range lines {
		lines[i] = member(i)
	}
	return " {\n" + strings.Join(lines, "\n") + "\n}"
}

func (f *field) sdl() string {
	return description("  ", f.Description) + "  " + f.Name + args(f.Args, "  ") + ": " + f.Type.String() + deprecated(f.IsDeprecated, f.DeprecationReason)
}

func (v *inputValue) sdl() string {
	s := v.Name + ": " + v.Type.String()
	if v.DefaultValue != nil {
		s += " = " + *v.DefaultValue
	}
	return s
}

// args prints arguments on one line when none has a description, else one a line (as
// graphql-js does).
func args(list []inputValue, indent string) string {
	if len(list) == 0 {
		return ""
	}
	described := false
	parts := make([]string, len(list))
	for i := range list {
		parts[i] = list[i].sdl()
		described = described || list[i].Description != ""
	}
	if !described {
		return "(" + strings.Join(parts, ", ") + ")"
	}
	for i := range list {
		parts[i] = description(indent+"  ", list[i].Description) + indent + "  " + parts[i]
	}
	return "(\n" + strings.Join(parts, "\n") + "\n" + indent + ")"
}

func deprecated(is bool, reason *string) string {
	switch {
	case !is:
		return ""
	case reason == nil || *reason == "" || *reason == "No longer supported":
		return " @deprecated"
	}
	return " @deprecated(reason: " + quote(*reason) + ")"
}

// description prints a description on the lines before a definition: a block string when it
// spans lines and reads back unchanged, else a quoted string. graphql-go reports a missing
// description as "", which prints nothing.
func description(indent, d string) string {
	if d == "" {
		return ""
	}
	if strings.Contains(d, "\n") && !strings.Contains(d, "\r") {
		if lines := strings.Split(d, "\n"); strings.Join(dedentBlock(append(append([]string{""}, lines...), "")), "\n") == d {
			var b strings.Builder
			b.WriteString(indent + `"""` + "\n")
			for _, l := range lines {
				if l != "" {
					b.WriteString(indent + strings.ReplaceAll(l, `"""`, `\"""`))
				}
				b.WriteString("\n")
			}
			b.WriteString(indent + `"""` + "\n")
			return b.String()
		}
	}
	return indent + quote(d) + "\n"
}

// dedentBlock is the GraphQL spec's BlockStringValue over the lines between the quotes, as
// graphql-js's dedentBlockStringLines computes it (the indentation our printing adds is the
// same on every line, so it is left out on both sides of the comparison).
func dedentBlock(lines []string) []string {
	common, first, last := -1, -1, -1
	for i, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if n == len(l) {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		if i > 0 && (common < 0 || n < common) {
			common = n
		}
	}
	if first < 0 {
		return nil
	}
	out := make([]string, 0, last-first+1)
	for i := first; i <= last; i++ {
		l := lines[i]
		if i > 0 && common > 0 {
			l = l[min(common, len(l)):]
		}
		out = append(out, l)
	}
	return out
}

// quote writes s as a GraphQL string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
