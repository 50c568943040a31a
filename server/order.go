package server

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
)

// graphql-go returns data as Go maps, which lose the order of the query's fields; the GraphQL
// spec wants response keys in selection order, so the response is encoded by walking the
// operation's selection sets alongside the data.

// orderedJSON encodes data with object keys in the order the operation selected them.
func orderedJSON(doc *ast.Document, opName string, data any) ([]byte, error) {
	o := orderer{frags: map[string]*ast.FragmentDefinition{}}
	var root []*ast.SelectionSet
	for _, def := range doc.Definitions {
		switch d := def.(type) {
		case *ast.FragmentDefinition:
			o.frags[d.Name.Value] = d
		case *ast.OperationDefinition:
			if opName == "" || (d.Name != nil && d.Name.Value == opName) {
				root = append(root, d.SelectionSet)
			}
		}
	}
	var buf bytes.Buffer
	if m, ok := data.(map[string]any); ok {
		// Connections arrive encoded already: size the buffer for them once.
		n := 2
		for k, v := range m {
			n += len(k) + 4
			if raw, ok := v.(json.RawMessage); ok {
				n += len(raw)
			}
		}
		buf.Grow(n)
	}
	if err := o.encode(&buf, data, root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type orderer struct {
	frags map[string]*ast.FragmentDefinition
}

func (o orderer) encode(buf *bytes.Buffer, v any, sets []*ast.SelectionSet) error {
	switch x := v.(type) {
	case json.RawMessage:
		buf.Write(x) // a connection the resolvers encoded in selection order already
		return nil
	case map[string]any:
		if len(sets) == 0 {
			break // a JSON scalar's object: keys sorted, as encoding/json does
		}
		keys, subs := o.keys(sets)
		for k := range x {
			if _, ok := subs[k]; !ok {
				keys = append(keys, k) // not expected; keep the data rather than drop it
				sort.Strings(keys[len(keys)-1:])
			}
		}
		buf.WriteByte('{')
		n := 0
		for _, k := range keys {
			val, ok := x[k]
			if !ok {
				continue
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			buf.Write(reader.AppendJSONString(buf.AvailableBuffer(), k))
			buf.WriteByte(':')
			if err := o.encode(buf, val, subs[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := o.encode(buf, item, sets); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// keys returns the response keys of sets in selection order, each with its merged sub-selections.
// Fragments are expanded whatever their type condition: the data already holds only the fields
// that applied, and a key absent from the data is skipped.
func (o orderer) keys(sets []*ast.SelectionSet) ([]string, map[string][]*ast.SelectionSet) {
	var keys []string
	subs := map[string][]*ast.SelectionSet{}
	seen := map[string]bool{}
	var walk func(set *ast.SelectionSet)
	walk = func(set *ast.SelectionSet) {
		if set == nil {
			return
		}
		for _, sel := range set.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				k := s.Name.Value
				if s.Alias != nil {
					k = s.Alias.Value
				}
				if _, ok := subs[k]; !ok {
					keys = append(keys, k)
					subs[k] = nil
				}
				if s.SelectionSet != nil {
					subs[k] = append(subs[k], s.SelectionSet)
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := o.frags[s.Name.Value]; f != nil && !seen[s.Name.Value] {
					seen[s.Name.Value] = true // cycles were rejected before execution; this guards anyway
					walk(f.SelectionSet)
				}
			}
		}
	}
	for _, set := range sets {
		walk(set)
	}
	return keys, subs
}
