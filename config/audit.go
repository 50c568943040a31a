package config

import (
	"go.yaml.in/yaml/v3"
)

// auditKeys decodes a source's privilege-audit keys into s: erp_schemas and allow_write_privileges.
// It returns the allow_write_privileges node when the override is on, so production can refuse it.
func (d *decoder) auditKeys(m map[string]*yaml.Node, path string, s *Source) *yaml.Node {
	p := join(path, "erp_schemas")
	for i, name := range d.strList(m["erp_schemas"], p) {
		if !isName(name, "$") {
			d.addf(m["erp_schemas"], index(p, i), "%q must be a plain schema name (letters, digits, _, - and $)", truncate(name, 40))
			continue
		}
		s.ERPSchemas = append(s.ERPSchemas, name)
	}
	if d.setBool(m, path, "allow_write_privileges", &s.AllowWrite) && s.AllowWrite {
		return m["allow_write_privileges"]
	}
	return nil
}

// refuseWriteOverride reports allow_write_privileges in a production environment: the override
// exists for development databases, where the local account is often a superuser.
func (r *resolver) refuseWriteOverride(e *rawEnv) {
	for _, s := range e.sources {
		if s.allowWrite != nil {
			r.addf(s.allowWrite, join(join(join("environments", e.name), "sources"), s.src.Name)+".allow_write_privileges",
				"is refused in the production environment %q: give the source a read-only account instead", e.name)
		}
	}
}
