package resolvers

import (
	"strconv"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/viewgate/viewgate/reader"
	"github.com/viewgate/viewgate/views"
)

// The fast path: a connection is written as JSON straight from its rows, in the order the
// query selected its fields, with aliases, fragments, @skip/@include and __typename honoured.
// The result is byte for byte what graphql-go's completion of Connection's maps gives; the
// golden tests run both paths and compare.

// planField is one response key of a selection set, with the merged sub-selections of every
// field that shares the key.
type planField struct {
	key, name string
	sub       []*ast.SelectionSet
}

// plan returns the response keys of sets in selection order.
func (w walker) plan(sets []*ast.SelectionSet) []planField {
	var out []planField
	at := map[string]int{}
	for _, set := range sets {
		w.each(set, func(f *ast.Field) {
			key := f.Name.Value
			if f.Alias != nil {
				key = f.Alias.Value
			}
			i, ok := at[key]
			if !ok {
				i = len(out)
				at[key] = i
				out = append(out, planField{key: key, name: f.Name.Value})
			}
			if f.SelectionSet != nil {
				out[i].sub = append(out[i].sub, f.SelectionSet)
			}
		})
	}
	return out
}

// encode appends the connection of pg as JSON.
func (r *Resolvers) encode(buf []byte, pg *page, info graphql.ResolveInfo) []byte {
	w := walker{info: info, seen: map[string]bool{}}
	var sets []*ast.SelectionSet
	for _, f := range info.FieldASTs {
		sets = append(sets, f.SelectionSet)
	}
	buf = append(buf, '{')
	for i, f := range w.plan(sets) {
		buf = appendKey(buf, i, f.key)
		switch f.name {
		case "nodes":
			buf = r.appendNodes(buf, pg, w.plan(f.sub))
		case "edges":
			buf = r.appendEdges(buf, pg, w, w.plan(f.sub))
		case "pageInfo":
			buf = r.appendPageInfo(buf, pg, w.plan(f.sub))
		case "totalCount":
			buf = strconv.AppendInt(buf, int64(pg.total), 10)
		case "__typename":
			buf = appendString(buf, pg.rd.View.Name+"Connection")
		default:
			buf = append(buf, "null"...) // validation admits no other field
		}
	}
	return append(buf, '}')
}

// nodeField is a planned node field with its column resolved once for all rows.
type nodeField struct {
	key  []byte        // the field's key as appendKey writes it, quoted once per page, not per row
	show *reader.Shown // nil for __typename
}

func (r *Resolvers) nodePlan(pg *page, plan []planField) []nodeField {
	out := make([]nodeField, len(plan))
	var keys []byte
	for i, f := range plan {
		at := len(keys)
		keys = appendKey(keys, i, f.key)
		out[i].key = keys[at:len(keys):len(keys)]
		out[i].show = pg.rd.Field(f.name)
	}
	return out
}

func (r *Resolvers) appendNodes(buf []byte, pg *page, plan []planField) []byte {
	fields := r.nodePlan(pg, plan)
	buf = append(buf, '[')
	for i := range pg.len() {
		if i > 0 {
			buf = append(buf, ',')
		}
		if pg.wired {
			buf = r.appendNode(buf, pg, nil, &pg.wire[i], fields)
		} else {
			buf = r.appendNode(buf, pg, pg.rows[i], nil, fields)
		}
	}
	return append(buf, ']')
}

// appendNode appends the node of a decoded row, or of wire, a row of reader.PageRows.
func (r *Resolvers) appendNode(buf []byte, pg *page, row []any, wire *reader.Row, fields []nodeField) []byte {
	buf = append(buf, '{')
	for _, f := range fields {
		buf = append(buf, f.key...)
		switch {
		case f.show == nil:
			buf = appendString(buf, pg.rd.View.Name)
		case wire != nil:
			buf = pg.rd.AppendRowJSON(buf, wire, f.show)
		default:
			buf = pg.rd.AppendJSON(buf, row, f.show)
		}
	}
	return append(buf, '}')
}

func (r *Resolvers) appendEdges(buf []byte, pg *page, w walker, plan []planField) []byte {
	var node []nodeField
	for _, f := range plan {
		if f.name == "node" {
			node = r.nodePlan(pg, w.plan(f.sub))
		}
	}
	buf = append(buf, '[')
	for i, row := range pg.rows {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '{')
		for j, f := range plan {
			buf = appendKey(buf, j, f.key)
			switch f.name {
			case "cursor":
				buf = appendString(buf, pg.rd.Stmt.Cursor(row))
			case "node":
				buf = r.appendNode(buf, pg, row, nil, node)
			case "__typename":
				buf = appendString(buf, pg.rd.View.Name+"Edge")
			default:
				buf = append(buf, "null"...)
			}
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

func (r *Resolvers) appendPageInfo(buf []byte, pg *page, plan []planField) []byte {
	start, end := r.bounds(pg)
	buf = append(buf, '{')
	for i, f := range plan {
		buf = appendKey(buf, i, f.key)
		switch f.name {
		case "hasNextPage":
			buf = strconv.AppendBool(buf, pg.hasNext)
		case "hasPreviousPage":
			buf = strconv.AppendBool(buf, pg.rd.Query.After != "")
		case "startCursor":
			buf = appendValue(buf, nil, start)
		case "endCursor":
			buf = appendValue(buf, nil, end)
		case "__typename":
			buf = appendString(buf, "PageInfo")
		default:
			buf = append(buf, "null"...)
		}
	}
	return append(buf, '}')
}

func appendKey(buf []byte, i int, key string) []byte {
	if i > 0 {
		buf = append(buf, ',')
	}
	buf = appendString(buf, key)
	return append(buf, ':')
}

// appendValue appends a presented value as graphql-go would serialize it (reader.AppendJSON).
func appendValue(buf []byte, c *views.Column, v any) []byte { return reader.AppendJSON(buf, c, v) }

// appendFloat formats like encoding/json.
func appendFloat(buf []byte, f float64) []byte { return reader.AppendJSONFloat(buf, f) }

// appendString quotes s exactly as encoding/json does with HTML escaping on.
func appendString(buf []byte, s string) []byte { return reader.AppendJSONString(buf, s) }
