package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const authBase = `
catalog: catalog.yaml
cursor_secret: ${VIEWGATE_CURSOR_SECRET}
environments:
  dev:
    sources:
      erp: {driver: sqlite, dsn: erp.db}
`

func TestAuthSection(t *testing.T) {
	in := authBase + `
auth:
  keys_file: keys.yaml
  keys_reload: 5s
  expiry_warning_days: 7
  admin_role: ops
  jwt:
    issuer: https://login.example.com/realms/erp
    audience: viewgate
    algorithms: [RS256, ES384]
    skew: 10s
    tenant_claim: org.tenant
    roles_claim: realm_access.roles
    accept_id_tokens: true
`
	cfg, err := Parse([]byte(in), "/etc/viewgate/viewgate.yaml", "", fakeEnv(testEnvVars), fakeFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{KeysFile: "/etc/viewgate/keys.yaml", KeysReload: 5 * time.Second, ExpiryWarningDays: 7, AdminRole: "ops",
		JWT: &JWT{Issuer: "https://login.example.com/realms/erp", Audience: []string{"viewgate"}, Algorithms: []string{"RS256", "ES384"},
			Skew: 10 * time.Second, TenantClaim: "org.tenant", RolesClaim: "realm_access.roles", ScopesClaim: "scope",
			AcceptIDTokens: true, RefreshLimit: 30 * time.Second}}
	if diff := cmp.Diff(want, cfg.Auth); diff != "" {
		t.Errorf("auth (-want +got):\n%s", diff)
	}
}

func TestAuthDefaults(t *testing.T) {
	cfg, err := Parse([]byte(authBase), "", "", fakeEnv(testEnvVars), fakeFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultAuth(), cfg.Auth); diff != "" {
		t.Errorf("auth (-want +got):\n%s", diff)
	}
}

func TestAuthSectionInvalid(t *testing.T) {
	for _, tc := range []struct{ name, section, want string }{
		{"no issuer", "jwt: {audience: [a]}", "auth.jwt.issuer: is required"},
		{"no audience", "jwt: {issuer: https://idp.example.com}", "auth.jwt.audience: is required"},
		{"alg none", "jwt: {issuer: https://idp.example.com, audience: a, algorithms: [none]}", `auth.jwt.algorithms[0]: "none" is not allowed`},
		{"hs256", "jwt: {issuer: https://idp.example.com, audience: a, algorithms: [RS256, HS256]}", `auth.jwt.algorithms[1]: "HS256" is not allowed`},
		{"http issuer", "jwt: {issuer: http://idp.example.com, audience: a}", "must be https"},
		{"bad claim", "jwt: {issuer: https://idp.example.com, audience: a, tenant_claim: 'org..x'}", "auth.jwt.tenant_claim"},
		{"skew", "jwt: {issuer: https://idp.example.com, audience: a, skew: 1h}", "auth.jwt.skew: must be from"},
		{"unknown key", "keyfile: x", "auth.keyfile: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := authBase + "auth:\n  " + tc.section + "\n"
			_, err := Parse([]byte(in), "", "", fakeEnv(testEnvVars), fakeFiles(nil))
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAuthLoopbackHTTPIssuer(t *testing.T) {
	in := authBase + "auth:\n  jwt: {issuer: 'http://127.0.0.1:9999', audience: [a, b]}\n"
	cfg, err := Parse([]byte(in), "", "", fakeEnv(testEnvVars), fakeFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, cfg.Auth.JWT.Audience); diff != "" {
		t.Error(diff)
	}
}
