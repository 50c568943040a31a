package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/auth/authtest"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/server"
)

// authFixture is a full authenticator chain (keys file, static keys, JWT issuer) on a clock.
type authFixture struct {
	chain *auth.Chain
	store *auth.KeyStore
	iss   *authtest.Issuer
	now   time.Time
	keys  map[string]string // name → secret of keys in the keys file
	path  string
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	f := &authFixture{iss: authtest.NewIssuer(t), now: now, keys: map[string]string{}, path: filepath.Join(t.TempDir(), "keys.yaml")}
	file := &auth.KeysFile{}
	add := func(name, tenant string, expires time.Time, revoked *time.Time, roles ...string) {
		s, err := auth.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		f.keys[name] = s
		file.Keys = append(file.Keys, auth.StoredKey{ID: "k-" + name, Tenant: tenant, Roles: roles, Owner: name,
			Created: now.Add(-time.Hour), Expires: expires, Revoked: revoked, SHA256: auth.HashSecret(s)})
	}
	later, past := now.Add(30*24*time.Hour), now.Add(-time.Minute)
	add("admin", demo.TenantAcme, later, nil, "admin")
	add("acme-analyst", demo.TenantAcme, later, nil, "analyst")
	add("globex", demo.TenantGlobex, later, nil, "reporting")
	add("expired", demo.TenantAcme, past, nil, "reporting")
	add("revoked", demo.TenantAcme, later, &past, "reporting")
	if err := auth.WriteKeysFile(f.path, file); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.store, err = auth.NewKeyStore(auth.KeyStoreOptions{Path: f.path}); err != nil {
		t.Fatal(err)
	}
	static, err := auth.NewKeys([]auth.Key{
		{ID: "acme", Tenant: demo.TenantAcme, Roles: []string{"reporting", "analyst", "pii"}, Secret: testKeys["acme"]},
		{ID: "public", Tenant: demo.TenantAcme, Roles: []string{"public"}, Secret: testKeys["public"]},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: f.iss.URL, Audience: []string{authtest.Audience},
		TenantClaim: "org.tenant", Skew: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.Close)
	f.chain = &auth.Chain{Static: static, Store: f.store, JWT: j}
	return f
}

// token returns a valid RS256 access token for tenant with roles.
func (f *authFixture) token(t *testing.T, tenant string, roles ...string) string {
	return f.iss.Sign(t, "rsa-1", f.iss.Claims(time.Now(), "app-"+tenant, tenant, roles...), nil)
}

type gqlReply struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends query with headers through h.
func post(t *testing.T, h http.Handler, headers map[string]string, query string) (*httptest.ResponseRecorder, gqlReply) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r gqlReply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	return rec, r
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
func apiKey(k string) map[string]string   { return map[string]string{"X-API-Key": k} }

// TestAuthFailures: every authentication failure is a 401 with an RFC 6750 challenge naming the
// problem, a GraphQL-shaped body with UNAUTHENTICATED, and no trace of the credential.
func TestAuthFailures(t *testing.T) {
	f := newAuthFixture(t)
	s := newStackAuth(t, openSource(t, "sqlite", "", 10*time.Second), demo.Catalog(), f.chain)
	other := authtest.NewIssuer(t)
	now := time.Now()
	claims := func(k string, v any) map[string]any {
		c := f.iss.Claims(now, "app", demo.TenantAcme, "reporting")
		c[k] = v
		return c
	}
	sign := func(c map[string]any) string { return f.iss.Sign(t, "rsa-1", c, nil) }
	valid := f.token(t, demo.TenantAcme, "reporting")
	cases := []struct {
		name    string
		headers map[string]string
		err     error // nil: no credential
	}{
		{"missing", nil, nil},
		{"malformed token", bearer("eyJhbGciOiJSUzI1NiJ9.bm9w+ZQ.x"), auth.ErrMalformed},
		{"expired", bearer(sign(claims("exp", now.Add(-time.Hour).Unix()))), auth.ErrExpired},
		{"not yet valid", bearer(sign(claims("nbf", now.Add(time.Hour).Unix()))), auth.ErrNotYetValid},
		{"wrong issuer", bearer(sign(claims("iss", other.URL))), auth.ErrWrongIssuer},
		{"wrong audience", bearer(sign(claims("aud", "billing"))), auth.ErrWrongAudience},
		{"bad signature", bearer(valid[:len(valid)-6] + "AAAAAA"), auth.ErrBadSignature},
		{"unknown kid", bearer(f.iss.Sign(t, "rsa-1", claims("x", 1), map[string]any{"kid": "gone"})), auth.ErrUnknownKeyID},
		{"alg none", bearer(authtest.Unsigned("rsa-1", claims("x", 1))), auth.ErrAlgorithm},
		{"HS256 keyed with the public key", bearer(authtest.HMAC("rsa-1", f.iss.PublicPEM(t, "rsa-1"), claims("x", 1))), auth.ErrAlgorithm},
		{"second issuer with the same kid", bearer(other.Sign(t, "rsa-1", claims("x", 1), nil)), auth.ErrBadSignature},
		{"id token", bearer(f.iss.Sign(t, "rsa-1", claims("nonce", "n"), map[string]any{"typ": "JWT"})), auth.ErrIDToken},
		{"unknown API key", apiKey("vgk_" + strings.Repeat("a", 52) + "_aaaaaaa"), auth.ErrUnknownKey},
		{"expired API key", apiKey(f.keys["expired"]), auth.ErrKeyExpired},
		{"revoked API key", bearer(f.keys["revoked"]), auth.ErrKeyRevoked},
		{"API key and bearer token", map[string]string{"X-API-Key": f.keys["globex"], "Authorization": "Bearer " + valid}, auth.ErrTwoCredentials},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, r := post(t, s.h, tc.headers, `{ products(first: 1) { nodes { id } } }`)
			if rec.Code != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || r.Data != nil {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			want := `Bearer realm="viewgate"`
			if tc.err != nil {
				want += `, error="invalid_token", error_description="` + strings.ReplaceAll(tc.err.Error(), `"`, "'") + `"`
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, want)
			}
			for _, cred := range tc.headers {
				secret := strings.TrimPrefix(cred, "Bearer ")
				if strings.Contains(rec.Body.String(), secret[len(secret)-12:]) || strings.Contains(s.log.String(), secret[len(secret)-12:]) {
					t.Error("the credential is echoed in the body or the log")
				}
			}
		})
	}
	if !strings.Contains(s.log.String(), `"reason":"expired"`) || !strings.Contains(s.log.String(), `"authFailure":"key_revoked"`) {
		t.Errorf("the log lacks failure reasons:\n%s", s.log)
	}
}

// TestAuthAccepted: a JWT and a keys-file key authenticate, and the access log line names tenant
// and credential.
func TestAuthAccepted(t *testing.T) {
	f := newAuthFixture(t)
	s := newStackAuth(t, openSource(t, "sqlite", "", 10*time.Second), demo.Catalog(), f.chain)
	for name, h := range map[string]map[string]string{
		"jwt":         bearer(f.token(t, demo.TenantGlobex, "reporting")),
		"ec jwt":      bearer(f.iss.Sign(t, "ec-1", f.iss.Claims(time.Now(), "app-globex", demo.TenantGlobex, "reporting"), nil)),
		"keys file":   apiKey(f.keys["globex"]),
		"file bearer": bearer(f.keys["globex"]),
	} {
		t.Run(name, func(t *testing.T) {
			rec, r := post(t, s.h, h, `{ invoices(first: 2) { nodes { id } } }`)
			if rec.Code != 200 || len(r.Errors) > 0 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	for _, want := range []string{`"credential":"jwt:app-globex"`, `"credential":"k-globex"`, `"tenant":"globex"`} {
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("access log lacks %s", want)
		}
	}
}

// TestAuthorization: a view not granted is refused with 403 (and stays visible in introspection),
// PII is masked without the pii role, and a principal without a tenant reads only views without a
// tenant column.
func TestAuthorization(t *testing.T) {
	f := newAuthFixture(t)
	s := newStackAuth(t, openSource(t, "sqlite", "", 10*time.Second), demo.Catalog(), f.chain)
	views := map[string]string{
		"invoices":  `{ invoices(first: 1) { nodes { id } } }`,
		"customers": `{ customers(first: 1) { nodes { id } } }`,
		"products":  `{ products(first: 1) { nodes { id } } }`,
	}
	cases := []struct {
		name    string
		headers map[string]string
		granted map[string]bool
	}{
		{"public key", apiKey(testKeys["public"]), map[string]bool{"products": true}},
		{"jwt without roles", bearer(f.token(t, demo.TenantAcme)), map[string]bool{}},
		{"jwt with reporting", bearer(f.token(t, demo.TenantAcme, "reporting")), map[string]bool{"invoices": true, "customers": true, "products": true}},
		{"admin only", apiKey(f.keys["admin"]), map[string]bool{}},
		{"jwt without a tenant claim", bearer(f.iss.Sign(t, "rsa-1", map[string]any{"iss": f.iss.URL, "aud": authtest.Audience, "sub": "x",
			"exp": time.Now().Add(time.Hour).Unix(), "roles": []string{"reporting"}}, nil)), map[string]bool{"products": true}},
	}
	for _, tc := range cases {
		for view, q := range views {
			t.Run(tc.name+"/"+view, func(t *testing.T) {
				rec, r := post(t, s.h, tc.headers, q)
				if tc.granted[view] {
					if rec.Code != 200 || len(r.Errors) > 0 {
						t.Fatalf("%d %s", rec.Code, rec.Body)
					}
					return
				}
				if rec.Code != http.StatusForbidden || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
					t.Fatalf("want 403 FORBIDDEN, got %d %s", rec.Code, rec.Body)
				}
			})
		}
	}
	t.Run("introspection shows ungranted views", func(t *testing.T) {
		rec, r := post(t, s.h, apiKey(testKeys["public"]), `{ __type(name: "Invoice") { name fields { name } } q: __schema { queryType { fields { name } } } }`)
		if rec.Code != 200 || !strings.Contains(string(r.Data["__type"]), `"customerEmail"`) || !strings.Contains(string(r.Data["q"]), `"invoices"`) {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("pii", func(t *testing.T) {
		q := `{ customers(first: 3, orderBy: [{field: ID}]) { nodes { email phone } } }`
		for name, tc := range map[string]struct {
			h     map[string]string
			clear bool
		}{
			"jwt reporting":       {bearer(f.token(t, demo.TenantAcme, "reporting")), false},
			"jwt reporting+pii":   {bearer(f.token(t, demo.TenantAcme, "reporting", "pii")), true},
			"file key no pii":     {apiKey(f.keys["globex"]), false},
			"static key pii":      {apiKey(testKeys["acme"]), true},
			"analyst without pii": {apiKey(f.keys["acme-analyst"]), false},
		} {
			rec, r := post(t, s.h, tc.h, q)
			body := string(r.Data["customers"])
			masked := strings.Contains(body, `"email":"****"`)
			if rec.Code != 200 || masked == tc.clear || (tc.clear && !strings.Contains(body, "@")) {
				t.Errorf("%s: %d %s", name, rec.Code, body)
			}
		}
	})
}

// TestAdminRoutes: /admin/keys/reload needs the admin role (401 without credentials, 403 without
// the role) and reloads the keys file.
func TestAdminRoutes(t *testing.T) {
	f := newAuthFixture(t)
	var logBuf bytes.Buffer
	h := server.Admin(server.AdminOptions{Auth: f.chain, Log: slog.New(slog.NewJSONHandler(&logBuf, nil)),
		ReloadKeys: func(context.Context) (int, error) { return f.store.Len(), f.store.Reload() }})
	do := func(method string, headers map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/admin/keys/reload", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		status  int
		code    string
	}{
		{"no credentials", "POST", nil, 401, "UNAUTHENTICATED"},
		{"bad key", "POST", apiKey("vgk_x"), 401, "UNAUTHENTICATED"},
		{"not admin", "POST", apiKey(f.keys["globex"]), 403, "FORBIDDEN"},
		{"jwt not admin", "POST", bearer(f.token(t, demo.TenantAcme, "reporting")), 403, "FORBIDDEN"},
		{"admin key", "POST", apiKey(f.keys["admin"]), 200, ""},
		{"admin jwt", "POST", bearer(f.token(t, demo.TenantAcme, "admin")), 200, ""},
		{"admin GET", "GET", apiKey(f.keys["admin"]), 405, "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(tc.method, tc.headers)
			b, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.status || (tc.code != "" && !strings.Contains(string(b), `"code":"`+tc.code+`"`)) {
				t.Fatalf("got %d %s", rec.Code, b)
			}
			if tc.status == 200 && !strings.Contains(string(b), `"reloaded":true`) {
				t.Errorf("body %s", b)
			}
		})
	}
}
