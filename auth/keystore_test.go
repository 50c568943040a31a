package auth_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/viewgate/viewgate/auth"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := auth.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		// vgk_ + 52 base32 characters (256 bits) + _ + 7 checksum characters.
		if !strings.HasPrefix(s, auth.KeyPrefix) || len(s) != 4+52+1+7 || seen[s] {
			t.Fatalf("secret %q: bad shape or repeated", s)
		}
		seen[s] = true
	}
}

// keyFixture writes a keys file with a live, an expired and a revoked key and returns their secrets.
func keyFixture(t *testing.T, now time.Time) (path string, live, expired, revoked string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "keys.yaml")
	f := &auth.KeysFile{}
	add := func(id string, expires time.Time, rev *time.Time) string {
		s, err := auth.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		f.Keys = append(f.Keys, auth.StoredKey{ID: id, Tenant: "acme", Roles: []string{"reporting"}, Owner: "app-" + id,
			Created: now.Add(-time.Hour), Expires: expires, Revoked: rev, SHA256: auth.HashSecret(s)})
		return s
	}
	past := now.Add(-time.Minute)
	live = add("k-live", now.Add(90*24*time.Hour), nil)
	expired = add("k-expired", past, nil)
	revoked = add("k-revoked", now.Add(90*24*time.Hour), &past)
	if err := auth.WriteKeysFile(path, f); err != nil {
		t.Fatal(err)
	}
	return path, live, expired, revoked
}

func TestKeyStoreLookup(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	path, live, expired, revoked := keyFixture(t, c.Now())
	s, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(live)) || bytes.Contains(b, []byte(live[4:20])) {
		t.Fatal("the keys file holds a secret")
	}
	typo := live[:len(live)-1] + "x"
	for _, tc := range []struct {
		name, secret string
		err          error
	}{
		{"live", live, nil},
		{"expired", expired, auth.ErrKeyExpired},
		{"revoked", revoked, auth.ErrKeyRevoked},
		{"checksum typo", typo, auth.ErrUnknownKey},
		{"unknown", "vgk_aaaa", auth.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Lookup(tc.secret)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (p.CredentialID != "k-live" || p.Tenant != "acme" || p.Subject != "app-k-live") {
				t.Errorf("principal = %+v", p)
			}
			if err != nil && strings.Contains(err.Error(), tc.secret) {
				t.Error("the error echoes the key")
			}
		})
	}
	// The live key expires at its time.
	c.Add(91 * 24 * time.Hour)
	if _, err := s.Lookup(live); !errors.Is(err, auth.ErrKeyExpired) {
		t.Errorf("after expiry: %v", err)
	}
}

func TestKeyStoreReload(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	path, live, _, _ := keyFixture(t, c.Now())
	var logBuf bytes.Buffer
	s, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path, Now: c.Now, Log: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Rotation: add a second key; both work.
	f, _ := auth.ReadKeysFile(path)
	second, _ := auth.NewSecret()
	f.Keys = append(f.Keys, auth.StoredKey{ID: "k-new", Tenant: "acme", Roles: []string{"reporting"}, Owner: "app",
		Created: c.Now(), Expires: c.Now().Add(time.Hour * 24 * 90), SHA256: auth.HashSecret(second)})
	writeNewer(t, path, f)
	s.Check()
	for _, k := range []string{live, second} {
		if _, err := s.Lookup(k); err != nil {
			t.Errorf("after rotation: %v", err)
		}
	}
	// A broken file keeps the old keys and logs once.
	if err := os.WriteFile(path, []byte("keys: [ {id: broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	bump(t, path)
	s.Check()
	s.Check()
	if _, err := s.Lookup(second); err != nil {
		t.Errorf("after a bad file: %v", err)
	}
	if n := strings.Count(logBuf.String(), "keys file not reloaded"); n != 1 {
		t.Errorf("bad file logged %d times, want 1:\n%s", n, logBuf.String())
	}
	// Revocation through the file.
	now := c.Now()
	f.Keys[0].Revoked = &now
	writeNewer(t, path, f)
	s.Check()
	if _, err := s.Lookup(live); !errors.Is(err, auth.ErrKeyRevoked) {
		t.Errorf("after revoke: %v", err)
	}
}

// writeNewer writes f and moves the file's mtime forward, so a poll sees a change even within the
// file system's timestamp granularity.
func writeNewer(t *testing.T, path string, f *auth.KeysFile) {
	t.Helper()
	if err := auth.WriteKeysFile(path, f); err != nil {
		t.Fatal(err)
	}
	bump(t, path)
}

var bumps = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func bump(t *testing.T, path string) {
	t.Helper()
	bumps = bumps.Add(time.Second)
	if err := os.Chtimes(path, bumps, bumps); err != nil {
		t.Fatal(err)
	}
}

func TestKeyStoreExpiryWarnings(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "keys.yaml")
	s1, _ := auth.NewSecret()
	err := auth.WriteKeysFile(path, &auth.KeysFile{Keys: []auth.StoredKey{
		{ID: "k-soon", Tenant: "acme", Owner: "bob", Created: c.Now(), Expires: c.Now().Add(3 * 24 * time.Hour), SHA256: auth.HashSecret(s1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	s, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path, Now: c.Now, WarnWithin: 7 * 24 * time.Hour, Log: slog.New(slog.NewJSONHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // many ticks on one day: one warning
		s.Check()
		c.Add(time.Hour)
	}
	c.Add(24 * time.Hour) // the next day: one more
	s.Check()
	s.Check()
	if n := strings.Count(logBuf.String(), "API key expires soon"); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), `"daysLeft":3`) || strings.Contains(logBuf.String(), s1) {
		t.Errorf("warning lacks daysLeft or holds the key:\n%s", logBuf.String())
	}
}

func TestParseKeysFileRejects(t *testing.T) {
	h := strings.Repeat("a", 64)
	for name, in := range map[string]string{
		"unknown field": "keys: [{id: a, tenant: t, expires: 2027-01-01T00:00:00Z, sha256: " + h + ", secret: x}]",
		"bad hash":      "keys: [{id: a, tenant: t, expires: 2027-01-01T00:00:00Z, sha256: xyz}]",
		"no expiry":     "keys: [{id: a, tenant: t, sha256: " + h + "}]",
		"duplicate id":  "keys: [{id: a, tenant: t, expires: 2027-01-01T00:00:00Z, sha256: " + h + "}, {id: a, tenant: t, expires: 2027-01-01T00:00:00Z, sha256: " + strings.Repeat("b", 64) + "}]",
	} {
		if _, err := auth.ParseKeysFile([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKeysFileWithoutTenant: a key may name no tenant; its principal reads only untenanted views.
func TestKeysFileWithoutTenant(t *testing.T) {
	s, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.yaml")
	in := "keys: [{id: k-dash, roles: [public], owner: dashboard, expires: 2099-01-01T00:00:00Z, sha256: " + auth.HashSecret(s) + "}]"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.Lookup(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != "" || p.CredentialID != "k-dash" {
		t.Errorf("principal %+v, want k-dash without a tenant", p)
	}
}

func TestChain(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	path, live, _, revoked := keyFixture(t, c.Now())
	store, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: path, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	static, err := auth.NewKeys([]auth.Key{{ID: "static", Tenant: "globex", Secret: "static-key-0123456789"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	chain := &auth.Chain{Static: static, Store: store}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		id      string
		err     error
	}{
		{"file key in X-API-Key", map[string]string{"X-API-Key": live}, "k-live", nil},
		{"file key as bearer", map[string]string{"Authorization": "bearer " + live}, "k-live", nil},
		{"static key", map[string]string{"Authorization": "Bearer static-key-0123456789"}, "static", nil},
		{"revoked", map[string]string{"X-API-Key": revoked}, "", auth.ErrKeyRevoked},
		{"unknown", map[string]string{"X-API-Key": "vgk_nope"}, "", auth.ErrUnknownKey},
		{"none", nil, "", auth.ErrNoCredentials},
		{"jwt without jwt configured", map[string]string{"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}, "", auth.ErrJWTDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/graphql?api_key="+live, nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			p, err := chain.Authenticate(r)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if p != nil && p.CredentialID != tc.id {
				t.Errorf("credential = %s, want %s", p.CredentialID, tc.id)
			}
		})
	}
}

func TestFailureLogRateLimit(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	fl := auth.NewFailureLog(slog.New(slog.NewJSONHandler(&buf, nil)), 3, time.Second, c.Now)
	r := httptest.NewRequest("GET", "/", nil)
	for range 1000 {
		fl.Failed(r.Context(), auth.ErrUnknownKey, "10.0.0.1:1234")
	}
	fl.Failed(r.Context(), auth.ErrExpired, "10.0.0.1:1234") // another reason has its own budget
	if n := strings.Count(buf.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
	c.Add(time.Second)
	buf.Reset()
	fl.Failed(r.Context(), auth.ErrUnknownKey, "10.0.0.1:1234")
	if !strings.Contains(buf.String(), `"suppressed":997`) || !strings.Contains(buf.String(), `"reason":"unknown_key"`) {
		t.Errorf("summary line: %s", buf.String())
	}
}
