package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxExpandedNodes bounds the document's size with aliases expanded, so a small file cannot make
// the walk below expand exponentially (a "billion laughs" file).
const maxExpandedNodes = 100000

// decoder walks a YAML node tree by hand, so that every problem can name its key path and all
// problems are collected instead of stopping at the first.
type decoder struct {
	dir      string // directory relative paths are anchored to
	problems []problem
}

// problem is one finding, kept with its line so the report can be ordered like the file.
type problem struct {
	line int
	msg  string
}

// addf records a problem at node n (which may be nil) under the key path.
func (d *decoder) addf(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, problem{line: line, msg: msg})
}

// report returns the problems ordered by line, each prefixed with it.
func (d *decoder) report() []string {
	slices.SortStableFunc(d.problems, func(a, b problem) int { return a.line - b.line })
	out := make([]string, len(d.problems))
	for i, p := range d.problems {
		if p.line > 0 {
			out[i] = fmt.Sprintf("line %d: %s", p.line, p.msg)
		} else {
			out[i] = p.msg
		}
	}
	return out
}

// document parses b as a single YAML document and returns its root node; ok is false after a syntax error.
func (d *decoder) document(b []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.addf(nil, "", "the file is empty")
		} else {
			d.addf(nil, "", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.addf(&next, "", "the file holds more than one YAML document (remove the --- separator)")
	case !errors.Is(err, io.EOF):
		d.addf(nil, "", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, false
	}
	root = &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if isNull(root) {
		d.addf(nil, "", "the file is empty")
		return nil, false
	}
	if expandedSize(root, make(map[*yaml.Node]int)) > maxExpandedNodes {
		d.addf(nil, "", "anchors and aliases expand to more than %d nodes, or an anchor contains itself", maxExpandedNodes)
		return nil, false
	}
	return root, true
}

// expandedSize counts the nodes under n with every alias expanded, stopping past maxExpandedNodes;
// memo holds finished counts, and a node that contains itself counts as too many.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int) int {
	if n = deref(n); n == nil || n.Kind == yaml.AliasNode {
		return 0
	}
	if size, ok := memo[n]; ok {
		return size
	}
	memo[n] = maxExpandedNodes + 1 // until finished, so a cycle reads as too large
	size := 1
	for _, c := range n.Content {
		if size += expandedSize(c, memo); size > maxExpandedNodes {
			break
		}
	}
	memo[n] = min(size, maxExpandedNodes+1)
	return memo[n]
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null, which both mean "not set".
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// join appends key to a dotted key path.
func join(path, key string) string {
	if !isName(key, "") {
		key = strconv.Quote(truncate(key, 40))
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a key path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// isName reports whether s is a plain name: an ASCII letter or digit, then letters, digits, _, - or extra.
func isName(s, extra string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		alnum := c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
		if !alnum && (i == 0 || (c != '_' && c != '-' && !strings.ContainsRune(extra, c))) {
			return false
		}
	}
	return true
}

// entry is one key/value pair of a mapping.
type entry struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

// entries returns the pairs of mapping n in order, applying << merges and reporting duplicate and
// non-string keys; ok is false if n is not a mapping.
func (d *decoder) entries(n *yaml.Node, path string) ([]entry, bool) {
	return d.collect(n, path, 0)
}

func (d *decoder) collect(n *yaml.Node, path string, depth int) ([]entry, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.addf(n, path, "must be a mapping (key: value)")
		return nil, false
	}
	seen := make(map[string]*yaml.Node)
	var out, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.addf(n.Content[i], path, "keys must be plain strings")
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, path, depth)...)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.addf(k, join(path, k.Value), "duplicate key (first set on line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{key: k.Value, keyNode: k, val: v})
	}
	for _, e := range merged {
		if _, dup := seen[e.key]; !dup {
			seen[e.key] = e.keyNode
			out = append(out, e)
		}
	}
	return out, true
}

// merge returns the pairs a << key brings in; earlier mappings in a merged list win, as YAML specifies.
func (d *decoder) merge(v *yaml.Node, path string, depth int) []entry {
	v = deref(v)
	if depth >= 10 {
		d.addf(v, path, "<< merges nest too deeply")
		return nil
	}
	switch {
	case v != nil && v.Kind == yaml.MappingNode:
		es, _ := d.collect(v, path, depth+1)
		return es
	case v != nil && v.Kind == yaml.SequenceNode:
		var out []entry
		for _, item := range v.Content {
			if m := deref(item); m == nil || m.Kind != yaml.MappingNode {
				d.addf(item, path, "<< must merge a mapping or a list of mappings")
				continue
			}
			es, _ := d.collect(item, path, depth+1)
			out = append(out, es...)
		}
		return out
	}
	d.addf(v, path, "<< must merge a mapping or a list of mappings")
	return nil
}

// fields returns the values of mapping n by key, reporting keys outside known; nil if n is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	es, ok := d.entries(n, path)
	if !ok {
		return nil
	}
	m := make(map[string]*yaml.Node, len(es))
	for _, e := range es {
		if !slices.Contains(known, e.key) {
			d.addf(e.keyNode, join(path, e.key), "unknown key (allowed: %s)", strings.Join(known, ", "))
			continue
		}
		m[e.key] = e.val
	}
	return m
}

// scalar returns n as a scalar node, reporting anything else.
func (d *decoder) scalar(n *yaml.Node, path, want string) (*yaml.Node, bool) {
	s := deref(n)
	if s == nil || s.Kind != yaml.ScalarNode {
		d.addf(n, path, "must be %s", want)
		return nil, false
	}
	return s, true
}

// str returns the text of scalar n; null is "".
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	s, ok := d.scalar(n, path, "a string")
	if !ok {
		return "", false
	}
	return s.Value, true
}

// field records the string at m[key] with where it was written; an absent or null key is unset.
func (d *decoder) field(m map[string]*yaml.Node, parent *yaml.Node, path, key string) field {
	f := field{node: parent, path: join(path, key)}
	n, ok := m[key]
	if !ok || isNull(n) {
		return f
	}
	raw, ok := d.str(n, f.path)
	f.node, f.set, f.raw, f.bad = n, true, raw, !ok
	return f
}

// strList returns the strings of sequence n, reporting empty items.
func (d *decoder) strList(n *yaml.Node, path string) []string {
	if isNull(n) {
		return nil
	}
	items := d.seq(n, path, "a list of strings")
	out := make([]string, 0, len(items))
	for i, item := range items {
		p := index(path, i)
		if s, ok := d.str(item, p); ok && s == "" {
			d.addf(item, p, "must not be empty")
		} else if ok {
			out = append(out, s)
		}
	}
	return out
}

// seq returns the items of sequence n, reporting anything else.
func (d *decoder) seq(n *yaml.Node, path, want string) []*yaml.Node {
	s := deref(n)
	if s == nil || s.Kind != yaml.SequenceNode {
		d.addf(n, path, "must be %s", want)
		return nil
	}
	return s.Content
}

// setInt stores m[key] in dst if it is an integer in lo..hi; an absent key leaves the default.
func (d *decoder) setInt(m map[string]*yaml.Node, path, key string, lo, hi int, dst *int) {
	n, p := m[key], join(path, key)
	if isNull(n) {
		return
	}
	s, ok := d.scalar(n, p, "an integer")
	if !ok {
		return
	}
	var v int
	if s.ShortTag() != "!!int" || s.Decode(&v) != nil {
		d.addf(n, p, "must be an integer from %d to %d, got %q", lo, hi, truncate(s.Value, 40))
		return
	}
	if v < lo || v > hi {
		d.addf(n, p, "must be from %d to %d, got %d", lo, hi, v)
		return
	}
	*dst = v
}

// setDuration stores m[key] in dst if it is a Go duration in lo..hi; an absent key leaves the default.
func (d *decoder) setDuration(m map[string]*yaml.Node, path, key string, lo, hi time.Duration, dst *time.Duration) {
	n, p := m[key], join(path, key)
	if isNull(n) {
		return
	}
	s, ok := d.scalar(n, p, "a duration like 5s")
	if !ok {
		return
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		d.addf(n, p, "must be a duration like 500ms, 5s or 1m, got %q", truncate(s.Value, 40))
		return
	}
	if v < lo || v > hi {
		d.addf(n, p, "must be from %s to %s, got %s", lo, hi, v)
		return
	}
	*dst = v
}

// setBytes stores m[key] in dst if it is a byte size in lo..hi; an absent key leaves the default.
func (d *decoder) setBytes(m map[string]*yaml.Node, path, key string, lo, hi int64, dst *int64) {
	n, p := m[key], join(path, key)
	if isNull(n) {
		return
	}
	s, ok := d.scalar(n, p, "a byte size like 1MiB")
	if !ok {
		return
	}
	v, err := parseBytes(s.Value)
	if err != nil {
		d.addf(n, p, "must be a byte count or a size like 512KiB or 1MiB, got %q", truncate(s.Value, 40))
		return
	}
	if v < lo || v > hi {
		d.addf(n, p, "must be from %s to %s, got %d", formatBytes(lo), formatBytes(hi), v)
		return
	}
	*dst = v
}

// setBool stores m[key] in dst if it is true or false.
func (d *decoder) setBool(m map[string]*yaml.Node, path, key string, dst *bool) (set bool) {
	n, p := m[key], join(path, key)
	if isNull(n) {
		return false
	}
	s, ok := d.scalar(n, p, "true or false")
	if !ok {
		return false
	}
	if s.ShortTag() != "!!bool" || s.Decode(dst) != nil {
		d.addf(n, p, "must be true or false, got %q", truncate(s.Value, 40))
		return false
	}
	return true
}

// byteUnit returns the multiplier of a size suffix; KB, MB and GB are decimal, KiB, MiB and GiB binary.
func byteUnit(suffix string) (int64, bool) {
	switch strings.ToLower(suffix) {
	case "", "b":
		return 1, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "kb":
		return 1000, true
	case "mb":
		return 1000 * 1000, true
	case "gb":
		return 1000 * 1000 * 1000, true
	}
	return 0, false
}

// parseBytes returns the byte count of s ("1048576", "512KiB", "1 MiB"), or an error if it is not one.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("no digits")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	mult, ok := byteUnit(strings.TrimSpace(s[i:]))
	if !ok {
		return 0, errors.New("unknown unit")
	}
	if n > (1<<63-1)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// formatBytes writes n in the largest binary unit that divides it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}
