package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

// TestCheckPrincipals: check warns about roles no view grants (with the near miss when only the
// case differs) and about principals without a tenant whose roles grant tenant-scoped views.
func TestCheckPrincipals(t *testing.T) {
	cat, err := views.ParseCatalog(demo.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	keysFile := filepath.Join(t.TempDir(), "keys.yaml")
	now := time.Now().UTC()
	err = auth.WriteKeysFile(keysFile, &auth.KeysFile{Keys: []auth.StoredKey{
		{ID: "k-live", Tenant: "acme", Roles: []string{"reporting", "ghost"}, Owner: "app", Created: now, Expires: now.Add(time.Hour), SHA256: strings.Repeat("a", 64)},
		{ID: "k-gone", Tenant: "acme", Roles: []string{"ghost"}, Owner: "app", Created: now, Expires: now.Add(time.Hour), Revoked: &now, SHA256: strings.Repeat("b", 64)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		APIKeys: []config.APIKey{
			{ID: "shouty", Tenant: "acme", Roles: []string{"PII", "reporting"}},
			{ID: "dash", Roles: []string{"public"}},
			{ID: "wide", Roles: []string{"reporting", "admin"}},
		},
		AllowAnonymous: &config.Principal{Roles: []string{"Public"}},
		Auth:           config.Auth{AdminRole: "admin", KeysFile: keysFile},
	}
	r := &checkReport{}
	checkPrincipals(cfg, cat, now, r)
	want := []inspect.Finding{
		{Level: inspect.Warning, Message: `api_keys id shouty: role "PII" is granted by no view and is not pii or the admin role (admin); roles are case-sensitive`, Fix: `write "pii"`},
		{Level: inspect.Warning, Message: "api_keys id wide has no tenant, so the tenant-scoped views its roles grant answer it 403: Customer, Invoice", Fix: "give the key a tenant, or leave those views to tenanted keys"},
		{Level: inspect.Warning, Message: `allow_anonymous: role "Public" is granted by no view and is not pii or the admin role (admin); roles are case-sensitive`, Fix: `write "public"`},
		{Level: inspect.Warning, Message: `keys file key k-live: role "ghost" is granted by no view and is not pii or the admin role (admin)`, Fix: "grant it in a view's roles, or remove it from the key"},
	}
	if diff := cmp.Diff(want, r.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.Warnings != len(want) {
		t.Errorf("%d warnings counted, want %d", r.Warnings, len(want))
	}
}

// TestCheckWarnsAboutKeyRoles runs check on a config whose key has a misspelt role.
func TestCheckWarnsAboutKeyRoles(t *testing.T) {
	e := freshDB(t, "sqlite")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`catalog: catalog.yaml
cursor_secret: %s
api_keys: [{id: acme, tenant: acme, roles: [PII, reporting], key: %s}]
environments:
  dev:
    sources:
      demo: {driver: sqlite, dsn: %q}
`, strings.Repeat("s", 40), strings.Repeat("k", 20), e.dsn)
	path := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCheck(t, "-config", path)
	if err != nil {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.Contains(out, `  warning api_keys id acme: role "PII" is granted by no view`) || !strings.Contains(out, `fix: write "pii"`) {
		t.Errorf("no warning about the role:\n%s", out)
	}
}
