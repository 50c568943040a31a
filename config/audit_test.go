package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuditKeys(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"S": strings.Repeat("s", 40), "DSN": "postgres://vg@db/erp"}[k]
	}
	const base = "catalog: c.yaml\ncursor_secret: ${S}\nenvironments:\n"
	t.Run("parsed", func(t *testing.T) {
		cfg, err := Parse([]byte(base+"  dev:\n    sources: {erp: {driver: postgres, dsn: '${DSN}', erp_schemas: [erp, reporting], allow_write_privileges: true}}\n"), "", "dev", env, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := cfg.Sources["erp"]
		if diff := cmp.Diff([]string{"erp", "reporting"}, s.ERPSchemas); diff != "" || !s.AllowWrite {
			t.Errorf("erp_schemas (-want +got):\n%s allow_write %v", diff, s.AllowWrite)
		}
	})
	cases := []struct{ name, env, want string }{
		{"override in prod", "  prod:\n    sources: {erp: {driver: postgres, dsn: '${DSN}', allow_write_privileges: true}}\n",
			`line 5: environments.prod.sources.erp.allow_write_privileges: is refused in the production environment "prod"`},
		{"override in a production env", "  live:\n    production: true\n    sources: {erp: {driver: postgres, dsn: '${DSN}', allow_write_privileges: true}}\n",
			`environments.live.sources.erp.allow_write_privileges: is refused in the production environment "live"`},
		{"bad schema", "  dev:\n    sources: {erp: {driver: postgres, dsn: '${DSN}', erp_schemas: [erp, 'a b']}}\n",
			`environments.dev.sources.erp.erp_schemas[1]: "a b" must be a plain schema name`},
		{"not a bool", "  dev:\n    sources: {erp: {driver: postgres, dsn: '${DSN}', allow_write_privileges: yes please}}\n",
			`allow_write_privileges: must be true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(base+tc.env), "", "", env, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	// A production override is refused even when another environment is selected.
	_, err := Parse([]byte(base+"  dev:\n    sources: {erp: {driver: postgres, dsn: '${DSN}'}}\n  prod:\n    sources: {erp: {driver: postgres, dsn: '${DSN}', allow_write_privileges: true}}\n"), "", "dev", env, nil)
	if err == nil || !strings.Contains(err.Error(), "allow_write_privileges: is refused") {
		t.Errorf("got %v", err)
	}
}
