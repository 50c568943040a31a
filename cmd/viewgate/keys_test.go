package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/auth/authtest"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
)

// logBuffer collects the server's log lines while it runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *logBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestKeysLifecycle drives API keys as an operator would, against a running server: create → use
// → rotate (both work) → revoke (401) → expire (401), with the server reloading the keys file by
// itself and through POST /admin/keys/reload; a broken file keeps the keys in force. A bearer JWT
// from a local OIDC issuer works next to the keys.
func TestKeysLifecycle(t *testing.T) {
	dir := t.TempDir()
	if err := demo.CreateSQLite(context.Background(), filepath.Join(dir, "erp.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), demo.Catalog(), 0o600); err != nil {
		t.Fatal(err)
	}
	iss := authtest.NewIssuer(t)
	cfg := `catalog: catalog.yaml
cursor_secret: ${SECRET}
api_keys: [{id: ops-admin, tenant: acme, roles: [admin], key: "${ADMIN_KEY}"}]
auth:
  keys_file: keys.yaml
  keys_reload: 1s
  jwt: {issuer: "` + iss.URL + `", audience: viewgate, tenant_claim: org.tenant}
environments:
  staging:
    sources: {demo: {driver: sqlite, dsn: erp.db}}
`
	cfgPath := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const adminKey = "admin-key-0123456789abcdef"
	env := map[string]string{"VIEWGATE_CONFIG": cfgPath, "SECRET": strings.Repeat("s", 40), "ADMIN_KEY": adminKey}
	getenv := func(k string) string { return env[k] }
	cli := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), args, getenv, &out, io.Discard); err != nil {
			t.Fatalf("viewgate %v: %v", args, err)
		}
		return strings.TrimSpace(out.String())
	}
	key1 := cli("keys", "create", "--tenant", "globex", "--roles", "reporting", "--owner", "billing-app", "--expires", "90d")
	if !strings.HasPrefix(key1, auth.KeyPrefix) {
		t.Fatalf("key %q", key1)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	logs := &logBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-listen", "127.0.0.1:0"}, getenv, w, logs)
		w.Close()
	}()
	base := waitForURL(t, out)
	go func() { _, _ = io.Copy(io.Discard, out) }()

	query := func(h, v string) (int, string) {
		req, _ := http.NewRequest("POST", base+"graphql", strings.NewReader(`{"query":"{ invoices(first: 1) { nodes { number } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(h, v)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("WWW-Authenticate") + " " + string(b)
	}
	// eventually waits for the server's next poll of the keys file.
	eventually := func(what, key string, status int, contains string) {
		t.Helper()
		var code int
		var body string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if code, body = query("X-API-Key", key); code == status && strings.Contains(body, contains) {
				return
			}
		}
		t.Fatalf("%s: got %d %s, want %d with %q", what, code, body, status, contains)
	}
	eventually("first key", key1, 200, `"number":"GLX-`)

	// Rotation: a second key for the same app; both work until the first is revoked.
	key2 := cli("keys", "create", "-tenant", "globex", "-roles", "reporting", "-owner", "billing-app", "-expires", "30d")
	eventually("second key", key2, 200, `"number":"GLX-`)
	if code, body := query("Authorization", "Bearer "+key1); code != 200 {
		t.Fatalf("first key after rotation: %d %s", code, body)
	}
	list := cli("keys", "list")
	f, err := auth.ReadKeysFile(filepath.Join(dir, "keys.yaml"))
	if err != nil || len(f.Keys) != 2 {
		t.Fatalf("keys file: %v %+v", err, f)
	}
	for _, want := range []string{f.Keys[0].ID, f.Keys[1].ID, "billing-app", " 90 ", " 30 ", "active"} {
		if !strings.Contains(list, want) {
			t.Errorf("keys list lacks %q:\n%s", want, list)
		}
	}

	// Revoke the first key, and reload through the admin route instead of waiting.
	cli("keys", "revoke", f.Keys[0].ID)
	reload := func(key string) int {
		req, _ := http.NewRequest("POST", base+"admin/keys/reload", nil)
		req.Header.Set("X-API-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := reload(key2); code != 403 {
		t.Errorf("reload with a reporting key: %d, want 403", code)
	}
	if code := reload(adminKey); code != 200 {
		t.Fatalf("reload with the admin key: %d", code)
	}
	if code, body := query("X-API-Key", key1); code != 401 || !strings.Contains(body, `error_description="the API key has been revoked"`) {
		t.Errorf("revoked key: %d %s", code, body)
	}
	eventually("second key after revoking the first", key2, 200, `"number":"GLX-`)

	// A broken keys file is logged and the keys stay in force.
	good, _ := os.ReadFile(filepath.Join(dir, "keys.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "keys.yaml"), []byte("keys: [ {id: x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "keys file not reloaded") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "keys file not reloaded") {
		t.Error("a broken keys file is not logged")
	}
	eventually("second key with a broken file", key2, 200, `"number":"GLX-`)
	if err := os.WriteFile(filepath.Join(dir, "keys.yaml"), good, 0o600); err != nil {
		t.Fatal(err)
	}

	// Expiry: the file says the second key expired a minute ago.
	f, _ = auth.ReadKeysFile(filepath.Join(dir, "keys.yaml"))
	f.Keys[1].Expires = time.Now().Add(-time.Minute)
	if err := auth.WriteKeysFile(filepath.Join(dir, "keys.yaml"), f); err != nil {
		t.Fatal(err)
	}
	eventually("expired key", key2, 401, `error_description="the API key has expired"`)

	// A bearer JWT from the configured issuer, next to the keys.
	tok := iss.Sign(t, "ec-1", iss.Claims(time.Now(), "svc", "acme", "reporting"), nil)
	if code, body := query("Authorization", "Bearer "+tok); code != 200 || !strings.Contains(body, `"number":"ACM-`) {
		t.Errorf("jwt: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key1, key2, tok, adminKey} {
		if strings.Contains(logs.String(), secret) {
			t.Error("a credential is in the log")
		}
	}
	for _, want := range []string{`"credential":"` + f.Keys[1].ID + `"`, `"credential":"jwt:svc"`, `"tenant":"globex"`, `"authFailure":"key_revoked"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}

func TestKeysCLIErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.yaml")
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keys"}, "usage: viewgate keys"},
		{[]string{"keys", "create", "-file", file}, "needs -roles and -owner"},
		{[]string{"keys", "list", "-file", file}, "keys file " + file + " does not exist"},
		{[]string{"keys", "revoke", "-file", file, "k-nope"}, "keys file " + file + " does not exist"},
		{[]string{"keys", "create", "-file", file, "-tenant", "a", "-roles", "r", "-owner", "o", "-expires", "soon"}, `-expires "soon"`},
		{[]string{"keys", "create", "-tenant", "a", "-roles", "r", "-owner", "o"}, "no keys file"},
		{[]string{"keys", "revoke", "-file", file}, "exactly one key id"},
		{[]string{"keys", "rotate"}, `unknown keys command "rotate"`},
	} {
		err := run(context.Background(), tc.args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestKeysNeedNoServerSecrets: the keys commands read only auth.keys_file from the config, so an
// operator can manage keys without the cursor secret, API keys or DSN passwords the server uses;
// a key may have no tenant; a keys file that does not exist is an error for list and revoke.
func TestKeysNeedNoServerSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := `catalog: catalog.yaml
cursor_secret: ${VIEWGATE_CURSOR_SECRET}
api_keys: [{id: ops, tenant: acme, roles: [admin], key: "${ADMIN_KEY}"}]
auth: {keys_file: "${KEYS_DIR}/keys.yaml"}
environments:
  prod:
    sources: {erp: {driver: postgres, dsn: "file:/run/secrets/erp_dsn"}}
`
	cfgPath := filepath.Join(dir, "viewgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIEWGATE_CONFIG": cfgPath, "KEYS_DIR": dir}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"keys", "list"}, getenv, &out, &errOut); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("keys list before any key: err = %v, want the missing file named", err)
	}
	if err := run(context.Background(), []string{"keys", "create", "-roles", "public", "-owner", "dashboard"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("keys create: %v", err)
	}
	if !strings.Contains(errOut.String(), "created keys file "+filepath.Join(dir, "keys.yaml")) || !strings.Contains(errOut.String(), "no tenant: it reads only views without a tenant_column") {
		t.Errorf("create says:\n%s", errOut.String())
	}
	f, err := auth.ReadKeysFile(filepath.Join(dir, "keys.yaml"))
	if err != nil || len(f.Keys) != 1 || f.Keys[0].Tenant != "" || f.Keys[0].Owner != "dashboard" {
		t.Fatalf("keys file: %v %+v", err, f)
	}
	out.Reset()
	if err := run(context.Background(), []string{"keys", "list"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("keys list: %v", err)
	}
	if !strings.Contains(out.String(), f.Keys[0].ID+"  dashboard  -  ") {
		t.Errorf("keys list:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"keys", "revoke", f.Keys[0].ID}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("keys revoke: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90d":        now.AddDate(0, 0, 90),
		"36h":        now.Add(36 * time.Hour),
		"2027-03-01": time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0d", "9999d", "2020-01-01", "1s", "x"} {
		if _, err := parseExpiry(bad, now); err == nil {
			t.Errorf("parseExpiry(%q) accepted", bad)
		}
	}
}

// TestAlgorithmListsAgree: config validates jwt.algorithms against the list auth enforces.
func TestAlgorithmListsAgree(t *testing.T) {
	if diff := cmp.Diff(auth.AllowedAlgorithms, config.JWTAlgorithms); diff != "" || slices.ContainsFunc(config.JWTAlgorithms, func(a string) bool { return strings.HasPrefix(a, "HS") || a == "none" }) {
		t.Errorf("lists differ or allow a symmetric algorithm (-auth +config):\n%s", diff)
	}
}
