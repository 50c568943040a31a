package views

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxCatalogNodes bounds the nodes the walk visits with aliases expanded, so a small file cannot
// make it, or the decode after it, expand without end (a "billion laughs" file). A catalog of
// 1,000 views of 50 columns is about 400,000.
const maxCatalogNodes = 1000000

// maxCatalogProblems bounds the problems one walk records.
const maxCatalogProblems = 1000

// parseCatalog decodes and validates a YAML catalog, reporting every problem with its line and
// key path in a *ValidationError that names file ("" for bytes of unknown origin).
func parseCatalog(b []byte, file string) (*Catalog, error) {
	fail := func(msg string) error { return &ValidationError{File: file, Problems: []string{msg}} }
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fail("invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root.Kind == 0 || root.ShortTag() == "!!null" {
		return nil, fail("the file is empty")
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(fmt.Sprintf("line %d: must be a mapping (key: value)", root.Line))
	}
	w := &walker{lines: map[string]int{}, budget: maxCatalogNodes}
	w.walk(root, reflect.TypeFor[Catalog](), "")
	if w.budget < 0 {
		return nil, &ValidationError{File: file, Problems: w.problems.strings(w.line)}
	}
	var c Catalog
	// With problems found, the decode is partial (yaml.v3 skips what does not fit) and its own
	// error repeats them; validating the rest still reports everything else at once.
	if err := root.Decode(&c); err != nil && len(w.problems) == 0 {
		return nil, fail("decode catalog: " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	all := append(w.problems, c.validate()...)
	if len(all) > 0 {
		return nil, &ValidationError{File: file, Problems: all.strings(w.line)}
	}
	return &c, nil
}

// walker checks a YAML node tree against the Go types it decodes into: unknown and duplicate
// keys, and values of the wrong kind, each at its line and key path. It records the line of
// every path it meets, so that validation problems can name theirs.
type walker struct {
	lines    map[string]int
	problems problems
	budget   int
}

func (w *walker) add(n *yaml.Node, path, format string, args ...any) {
	if len(w.problems) >= maxCatalogProblems {
		return
	}
	w.problems = append(w.problems, problem{path: path, msg: fmt.Sprintf(format, args...), line: n.Line})
}

// line returns the line of path, or of its nearest ancestor that was written; 0 if none was.
func (w *walker) line(path string) int {
	for {
		if l, ok := w.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return 0
		}
		path = path[:i]
	}
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if w.budget--; w.budget < 0 {
		if w.budget == -1 {
			w.problems.add("", "anchors and aliases expand to more than %d nodes", maxCatalogNodes)
		}
		return
	}
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || n.ShortTag() == "!!null" {
		return // unset
	}
	switch t.Kind() {
	case reflect.Struct:
		w.mapping(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.add(n, path, "must be a list")
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.lines[p] = item.Line
			w.walk(item, t.Elem(), p)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.add(n, path, "must be %s", kindName(t))
		} else if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.add(n, path, "must be %s, got %q", kindName(t), truncate(n.Value, 40))
		}
	}
}

// mapping checks the keys of n against the yaml tags of struct type t.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.add(n, path, "must be a mapping (key: value)")
		return
	}
	names, types := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			w.merge(v, t, path)
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.add(k, p, "duplicate key (first set on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := types[k.Value]
		if !ok {
			w.add(k, p, "unknown key (allowed: %s)", strings.Join(names, ", "))
			continue
		}
		w.lines[p] = k.Line
		w.walk(v, ft, p)
	}
}

// merge checks what a << key merges in: a mapping or a list of mappings.
func (w *walker) merge(v *yaml.Node, t reflect.Type, path string) {
	for i := 0; v != nil && v.Kind == yaml.AliasNode && i < 100; i++ {
		v = v.Alias
	}
	if v != nil && v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			w.walk(item, t, path)
		}
		return
	}
	w.walk(v, t, path)
}

// yamlFields returns the yaml keys of struct type t in declaration order, and their types.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		names = append(names, name)
		types[name] = f.Type
	}
	return names, types
}

// kindName says what a scalar of type t looks like in YAML.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// join appends key to a dotted key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
