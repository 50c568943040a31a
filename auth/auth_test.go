package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeysAuthenticate(t *testing.T) {
	keys, err := NewKeys([]Key{
		{ID: "a", Tenant: "acme", Roles: []string{"reporting"}, Secret: "secret-a-0123456789"},
		{ID: "b", Tenant: "globex", Roles: []string{"analyst", "pii"}, Secret: "secret-b-0123456789"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := NewKeys(nil, &Principal{Tenant: "demo", CredentialID: "anonymous", Roles: []string{"public"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		keys    *Keys
		headers map[string]string
		url     string
		want    *Principal
		err     error
	}{
		{"x-api-key", keys, map[string]string{"X-API-Key": "secret-a-0123456789"}, "/", &Principal{Tenant: "acme", CredentialID: "a", Roles: []string{"reporting"}}, nil},
		{"bearer", keys, map[string]string{"Authorization": "Bearer secret-b-0123456789"}, "/", &Principal{Tenant: "globex", CredentialID: "b", Roles: []string{"analyst", "pii"}}, nil},
		{"unknown key", keys, map[string]string{"X-API-Key": "secret-c-0123456789"}, "/", nil, ErrUnknownKey},
		{"prefix of a key", keys, map[string]string{"X-API-Key": "secret-a-012345678"}, "/", nil, ErrUnknownKey},
		{"no key", keys, nil, "/", nil, ErrNoCredentials},
		{"basic auth is not a key", keys, map[string]string{"Authorization": "Basic c2VjcmV0"}, "/", nil, ErrBadHeader},
		{"a malformed credential is never anonymous", anon, map[string]string{"Authorization": "Bearer "}, "/", nil, ErrBadHeader},
		{"a blank X-API-Key is never anonymous", anon, map[string]string{"X-API-Key": "   "}, "/", nil, ErrBadHeader},
		{"basic auth is never anonymous", anon, map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, "/", nil, ErrBadHeader},
		{"key in the url is ignored", keys, nil, "/?api_key=secret-a-0123456789&key=secret-a-0123456789", nil, ErrNoCredentials},
		{"anonymous allowed", anon, nil, "/", &Principal{Tenant: "demo", CredentialID: "anonymous", Roles: []string{"public"}}, nil},
		{"a wrong key is not anonymous", anon, map[string]string{"X-API-Key": "nope-nope-nope-nope"}, "/", nil, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got, err := tc.keys.Authenticate(r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewKeysRejectsDuplicates(t *testing.T) {
	for _, keys := range [][]Key{
		{{ID: "a", Secret: "one-0123456789abc"}, {ID: "a", Secret: "two-0123456789abc"}},
		{{ID: "a", Secret: "one-0123456789abc"}, {ID: "b", Secret: "one-0123456789abc"}},
	} {
		if _, err := NewKeys(keys, nil); err == nil {
			t.Errorf("NewKeys(%v) accepted a duplicate", keys)
		}
	}
}

func TestPrincipalRoles(t *testing.T) {
	p := &Principal{Roles: []string{"reporting", "pii"}}
	if !p.HasRole("pii") || p.HasRole("admin") || !p.HasAny([]string{"analyst", "reporting"}) || p.HasAny([]string{"analyst"}) || p.HasAny(nil) {
		t.Error("role checks are wrong")
	}
}

func TestChainMalformedIsNotAnonymous(t *testing.T) {
	c := &Chain{Anonymous: &Principal{Tenant: "demo", CredentialID: "anonymous"}}
	for _, h := range []map[string]string{
		{"Authorization": "Bearer"}, {"Authorization": "Token vgk_abc"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"X-API-Key": ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for k, v := range h {
			r.Header[http.CanonicalHeaderKey(k)] = []string{v}
		}
		if p, err := c.Authenticate(r); !errors.Is(err, ErrBadHeader) {
			t.Errorf("%v: got %v %v, want ErrBadHeader", h, p, err)
		}
	}
	if p, err := c.Authenticate(httptest.NewRequest("GET", "/", nil)); err != nil || p.CredentialID != "anonymous" {
		t.Errorf("no headers: got %v %v, want the anonymous principal", p, err)
	}
}

// TestTwoCredentials: a request carrying more than one credential is refused, whichever would
// have matched, so a client cannot pick its identity next to one a proxy injects.
func TestTwoCredentials(t *testing.T) {
	const secret = "secret-a-0123456789"
	keys, err := NewKeys([]Key{{ID: "a", Tenant: "acme", Roles: []string{"reporting"}, Secret: secret}}, &Principal{CredentialID: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	chain := &Chain{Static: keys, Anonymous: &Principal{CredentialID: "anonymous"}}
	for name, h := range map[string]http.Header{
		"key and bearer":     {"X-Api-Key": {secret}, "Authorization": {"Bearer " + secret}},
		"key and basic":      {"X-Api-Key": {secret}, "Authorization": {"Basic dXNlcjpwYXNz"}},
		"two keys":           {"X-Api-Key": {secret, "secret-b-0123456789"}},
		"the same key twice": {"X-Api-Key": {secret, secret}},
		"two bearers":        {"Authorization": {"Bearer " + secret, "Bearer eyJh.eyJ.x"}},
	} {
		for authn, a := range map[string]interface {
			Authenticate(*http.Request) (*Principal, error)
		}{"chain": chain, "keys": keys} {
			t.Run(name+"/"+authn, func(t *testing.T) {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header = h.Clone()
				p, err := a.Authenticate(r)
				if !errors.Is(err, ErrTwoCredentials) || p != nil {
					t.Fatalf("got %v %v, want ErrTwoCredentials", p, err)
				}
				if Reason(err) != "two_credentials" || Description(err) != ErrTwoCredentials.Error() {
					t.Errorf("reason %q, description %q", Reason(err), Description(err))
				}
			})
		}
	}
}
