package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/viewgate/viewgate/views"
)

// Finding is one result of comparing the catalog with a database.
type Finding struct {
	Level   Level  `json:"level"`
	Source  string `json:"source,omitempty"`
	Target  string `json:"target,omitempty"` // the replica or DSN checked, redacted
	View    string `json:"view,omitempty"`   // the catalog view's GraphQL name
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Compare checks catalog view v against relation r of engine: r must be a view (or a table when
// v allows it), and every catalog, tenant and key column must exist with a compatible type.
// Columns the catalog does not expose are notes; nothing is returned when all is well.
func Compare(engine string, v *views.View, r *Relation) []Finding {
	var out []Finding
	add := func(l Level, col, format string, args ...any) {
		out = append(out, Finding{Level: l, View: v.Name, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case r.Kind == Table && !v.AllowTable:
		add(Error, "", "%s is a base table, not a view; expose a view, or set allow_table: true in the catalog", r.QualifiedName())
	case r.Kind == Other:
		add(Error, "", "%s is neither a view nor a table", r.QualifiedName())
	}
	var notNull []string
	for _, c := range v.Columns {
		dc := r.Column(c.Name)
		if dc == nil {
			add(Error, c.Name, "column %s is in the catalog but not in %s (dropped or renamed?)", c.Name, r.QualifiedName())
			continue
		}
		if l, why := Compatible(engine, c.Type, c.Scale, *dc); l != "" {
			add(l, c.Name, "column %s: %s", c.Name, why)
		}
		if !c.IsNullable() && dc.Nullable {
			notNull = append(notNull, c.Name)
		}
	}
	switch {
	case len(notNull) == 0:
	case engine == MySQL || r.Kind == Table:
		add(Warning, "", "columns declared nullable: false (or key) in the catalog may be NULL, the database says: %s; a NULL there breaks paging or the non-null GraphQL type",
			strings.Join(notNull, ", "))
	default:
		// Postgres and SQLite views never carry NOT NULL: the catalog's nullable: false is the
		// DBA's word for it, and asking again on every check would only train people to ignore it.
		add(Note, "", "nullable: false (or key) is taken on the catalog's word for %s: views on this engine do not say whether a column may be NULL",
			strings.Join(notNull, ", "))
	}
	if t := v.TenantColumn; t != "" && r.Column(t) == nil {
		add(Error, t, "tenant column %s is not in %s: every query filters on it", t, r.QualifiedName())
	}
	var extra []string
	for _, dc := range r.Columns {
		if v.Column(dc.Name) == nil && dc.Name != v.TenantColumn {
			extra = append(extra, dc.Name)
		}
	}
	if len(extra) > 0 {
		add(Note, "", "columns of %s not exposed by the catalog: %s", r.QualifiedName(), strings.Join(extra, ", "))
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return rank(a.Level) - rank(b.Level) })
	return out
}

func rank(l Level) int {
	switch l {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Drift compares each of vs with its live relation (Compare); a relation that does not exist or
// whose columns cannot be read is an error finding. It returns nil when all is well.
func (d *DB) Drift(ctx context.Context, vs []*views.View) []Finding {
	var out []Finding
	for _, v := range vs {
		r, err := d.Relation(ctx, v.Relation)
		switch {
		case errors.Is(err, ErrNotFound):
			out = append(out, Finding{Level: Error, View: v.Name,
				Message: fmt.Sprintf("relation %s does not exist (dropped or renamed?), or the user cannot see it", v.Relation)})
		case err != nil:
			out = append(out, Finding{Level: Error, View: v.Name, Message: err.Error()})
		default:
			out = append(out, Compare(d.engine, v, r)...)
		}
	}
	return out
}
