package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Violation is one way the credentials could change the ERP database.
type Violation struct {
	Privilege string `json:"privilege"` // "INSERT, UPDATE", "CREATE", "SUPERUSER", "OWNER"…
	Object    string `json:"object"`    // "table erp.invoice", "schema erp", "role viewgate", "*.*"
	Via       string `json:"via,omitempty"`
	Fix       string `json:"fix"` // the statement a DBA should run
}

// String says what is wrong and how to fix it, in one line.
func (v Violation) String() string {
	s := v.Privilege + " on " + v.Object
	if v.Via != "" {
		s += " (" + v.Via + ")"
	}
	return s + "; a DBA should run: " + v.Fix
}

// Audit is what the privilege audit found for one set of credentials.
type Audit struct {
	User    string   `json:"user"`
	Schemas []string `json:"schemas"`           // the schemas (MySQL: databases) audited
	Missing []string `json:"missing,omitempty"` // requested schemas that do not exist
	// Invisible are MySQL databases the user cannot see, which means it holds no privilege on
	// them or anything in them; they are audited all the same (privileges held through roles
	// included), and a misspelt name looks the same, so Missing lists them too when the user
	// may SHOW DATABASES.
	Invisible  []string    `json:"invisible,omitempty"`
	Relations  int         `json:"relations"` // tables and views in the audited schemas that the user can see
	Violations []Violation `json:"violations,omitempty"`
}

// Covered says what the audit looked at: "schemas erp, reporting (42 tables and views)", then
// the databases the user cannot see.
func (a *Audit) Covered() string {
	var visible []string
	for _, s := range a.Schemas {
		if !slices.Contains(a.Invisible, s) {
			visible = append(visible, s)
		}
	}
	var parts []string
	if len(visible) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s (%d %s)", plural(len(visible), "schema"), strings.Join(visible, ", "), a.Relations, plural(a.Relations, "table or view")))
	}
	if len(a.Invisible) > 0 {
		parts = append(parts, fmt.Sprintf("%s, which %s cannot see, so it holds no privilege there", strings.Join(a.Invisible, ", "), a.User))
	}
	if len(parts) == 0 {
		return "no schema"
	}
	return strings.Join(parts, "; ")
}

// PrivilegeError is returned when credentials can write to the ERP database.
type PrivilegeError struct {
	Target string // which source or replica, with its DSN redacted
	Audit  *Audit
}

func (e *PrivilegeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the database user %s can change the ERP database (%d %s); viewgate needs a read-only account:",
		e.Target, e.Audit.User, len(e.Audit.Violations), plural(len(e.Audit.Violations), "finding"))
	for _, v := range e.Audit.Violations {
		b.WriteString("\n  - ")
		b.WriteString(v.String())
	}
	return b.String()
}

// Audit lists what the connection's credentials could write in schemas (MySQL: databases; "" means
// the connection's current schema or database) and whether they are a superuser or bypass
// row-level security. SQLite, which viewgate opens read-only, has nothing to audit.
func (d *DB) Audit(ctx context.Context, schemas []string) (*Audit, error) {
	var a *Audit
	var err error
	switch d.engine {
	case Postgres:
		a, err = d.pgAudit(ctx, schemas)
	case MySQL:
		a, err = d.myAudit(ctx, schemas)
	default:
		return &Audit{User: "(sqlite, read-only file)"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect: privilege audit: %w", err)
	}
	return a, nil
}

// resolveSchemas replaces "" by current (when there is one) and removes duplicates.
func resolveSchemas(schemas []string, current string) []string {
	var out []string
	for _, s := range schemas {
		if s == "" {
			s = current
		}
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// plural returns word, with an s unless n is 1 ("table or view" becomes "tables and views").
func plural(n int, word string) string {
	switch {
	case n == 1:
		return word
	case word == "table or view":
		return "tables and views"
	}
	return word + "s"
}
