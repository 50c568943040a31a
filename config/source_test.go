package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseSource resolves one source without the catalog, the cursor secret, the API keys or
// the other sources' secrets; the file's structure is still checked.
func TestParseSource(t *testing.T) {
	const file = `cursor_secret: ${UNSET_SECRET}
api_keys:
  - {id: app, tenant: acme, roles: [reporting], key: "${UNSET_KEY}"}
environments:
  dev:
    sources:
      erp: {driver: postgres, dsn: "postgres://viewgate:${ERP_PW}@db:5432/erp", erp_schemas: [erp]}
      shop: {driver: mysql, dsn: "${UNSET_DSN}"}
`
	getenv := func(k string) string { return map[string]string{"ERP_PW": "pw"}[k] }
	cases := []struct {
		name, file, source string
		want               string // the DSN of the source, or a substring of the error
	}{
		{"the named source", file, "erp", "postgres://viewgate:pw@db:5432/erp"},
		{"an unset reference of that source", file, "shop", "environments.dev.sources.shop.dsn: environment variable UNSET_DSN is not set or empty"},
		{"an unknown source", file, "nope", `environments.dev.sources: no source "nope" (available: erp, shop)`},
		{"no source with two", file, "", "environments.dev.sources: name one with -source (available: erp, shop)"},
		{"the only source", "environments: {dev: {sources: {erp: {driver: sqlite, dsn: /tmp/x.db}}}}", "", "/tmp/x.db"},
		{"an unknown key", strings.Replace(file, "api_keys:", "api_keyz:", 1), "erp", "api_keyz: unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseSource([]byte(tc.file), "", "", tc.source, getenv, nil)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q lacks %q", err, tc.want)
				}
				return
			}
			if len(cfg.Sources) != 1 {
				t.Fatalf("sources %v, want one", cfg.Sources)
			}
			for _, s := range cfg.Sources {
				if diff := cmp.Diff(tc.want, s.DSN); diff != "" {
					t.Errorf("DSN (-want +got):\n%s", diff)
				}
			}
			if cfg.Env != "dev" {
				t.Errorf("env %q", cfg.Env)
			}
		})
	}
}
