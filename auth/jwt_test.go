package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/auth/authtest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newVerifier(t *testing.T, iss *authtest.Issuer, c *clock, mod func(*auth.JWTOptions)) *auth.JWT {
	t.Helper()
	o := auth.JWTOptions{Issuer: iss.URL, Audience: []string{authtest.Audience}, Skew: 30 * time.Second,
		TenantClaim: "org.tenant", RefreshLimit: time.Minute, Now: c.Now}
	if mod != nil {
		mod(&o)
	}
	j, err := auth.NewJWT(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.Close)
	return j
}

func TestJWTDiscoveryAndClaims(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, nil)
	if j.JWKSURL() != iss.URL+"/jwks" {
		t.Errorf("discovered %s", j.JWKSURL())
	}
	for _, kid := range []string{"rsa-1", "ec-1"} {
		t.Run(kid, func(t *testing.T) {
			p, err := j.Verify(context.Background(), iss.Sign(t, kid, iss.Claims(c.Now(), "app-1", "acme", "reporting", "pii"), nil))
			if err != nil {
				t.Fatal(err)
			}
			want := &auth.Principal{Tenant: "acme", CredentialID: "jwt:app-1", Subject: "app-1",
				Roles: []string{"reporting", "pii"}, Scopes: []string{"read:views", "export"}}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJWTClaimMapping(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, func(o *auth.JWTOptions) {
		o.TenantClaim, o.RolesClaim, o.ScopesClaim = "https://viewgate/tenant", "realm_access.roles", "scp"
	})
	cl := iss.Claims(c.Now(), "alice", "")
	cl["https://viewgate/tenant"] = "globex"
	cl["realm_access"] = map[string]any{"roles": "reporting analyst"}
	cl["scp"] = []string{"a", "b"}
	p, err := j.Verify(context.Background(), iss.Sign(t, "rsa-1", cl, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &auth.Principal{Tenant: "globex", CredentialID: "jwt:alice", Subject: "alice", Roles: []string{"reporting", "analyst"}, Scopes: []string{"a", "b"}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
}

// TestJWTFailures checks every way a token is refused, and that the caller-facing description
// is the right one.
func TestJWTFailures(t *testing.T) {
	iss := authtest.NewIssuer(t)
	other := authtest.NewIssuer(t) // a second issuer publishing the same kids, with other keys
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, nil)
	now := c.Now()
	valid := func() map[string]any { return iss.Claims(now, "app", "acme", "reporting") }
	with := func(k string, v any) map[string]any {
		cl := valid()
		if v == nil {
			delete(cl, k)
		} else {
			cl[k] = v
		}
		return cl
	}
	sign := func(cl map[string]any) string { return iss.Sign(t, "rsa-1", cl, nil) }
	year2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	frac := func(sec int64, digits string) json.Number { return json.Number(fmt.Sprintf("%d.%s", sec, digits)) }
	tok := sign(valid())
	cases := []struct {
		name  string
		token string
		err   error
	}{
		{"expired", sign(with("exp", now.Add(-31*time.Second).Unix())), auth.ErrExpired},
		{"expired within skew is fine", sign(with("exp", now.Add(-29*time.Second).Unix())), nil},
		{"not yet valid", sign(with("nbf", now.Add(time.Minute).Unix())), auth.ErrNotYetValid},
		{"issued in the future", sign(with("iat", now.Add(time.Minute).Unix())), auth.ErrNotYetValid},
		{"wrong issuer", sign(with("iss", other.URL)), auth.ErrWrongIssuer},
		{"wrong audience", sign(with("aud", "someone-else")), auth.ErrWrongAudience},
		{"audience list", sign(with("aud", []string{"x", authtest.Audience})), nil},
		{"no exp", sign(with("exp", nil)), auth.ErrMissingClaims},
		{"no aud", sign(with("aud", nil)), auth.ErrMissingClaims},
		{"bad signature", tok[:len(tok)-4] + "AAAA", auth.ErrBadSignature},
		{"payload forged", swapPayloadRaw(tok, with("org", map[string]any{"tenant": "globex"})), auth.ErrBadSignature},
		{"unknown kid", iss.Sign(t, "rsa-1", valid(), map[string]any{"kid": "nope"}), auth.ErrUnknownKeyID},
		{"no kid", iss.Sign(t, "rsa-1", valid(), map[string]any{"kid": ""}), auth.ErrUnknownKeyID},
		{"malformed", "eyJhbGciOi.not-a-jwt.x", auth.ErrMalformed},
		{"malformed header json", "eyJub3QganNvbg.e30.x", auth.ErrMalformed},
		{"alg none", authtest.Unsigned("rsa-1", valid()), auth.ErrAlgorithm},
		{"HS256 with the public key as secret", authtest.HMAC("rsa-1", iss.PublicPEM(t, "rsa-1"), valid()), auth.ErrAlgorithm},
		{"RS256 header on the EC key", iss.Sign(t, "ec-1", valid(), map[string]any{"alg": "RS256"}), auth.ErrAlgorithm},
		{"second issuer, same kid, claims our issuer", other.Sign(t, "rsa-1", valid(), nil), auth.ErrBadSignature},
		{"second issuer, same kid, its own iss", other.Sign(t, "rsa-1", other.Claims(now, "app", "acme", "reporting"), nil), auth.ErrBadSignature},
		{"second issuer, EC key", other.Sign(t, "ec-1", valid(), nil), auth.ErrBadSignature},
		{"id token (nonce)", iss.Sign(t, "rsa-1", with("nonce", "n-0S6"), map[string]any{"typ": "JWT"}), auth.ErrIDToken},
		{"id token (at_hash, no typ)", iss.Sign(t, "rsa-1", with("at_hash", "x"), map[string]any{"typ": nil}), auth.ErrIDToken},
		{"id token (token_use)", iss.Sign(t, "rsa-1", with("token_use", "id"), map[string]any{"typ": "JWT"}), auth.ErrIDToken},
		{"at+jwt with nonce is an access token", iss.Sign(t, "rsa-1", with("nonce", "x"), map[string]any{"typ": "at+jwt"}), nil},
		// NumericDates far from now: time.Duration holds only ±292 years of nanoseconds.
		{"exp past 2262 is valid", sign(with("exp", year2300)), nil},
		{"exp 1e300 is valid", sign(with("exp", json.Number("1e300"))), nil},
		{"exp past float64 is valid", sign(with("exp", json.Number("1e400"))), nil},
		{"nbf past 2262", sign(with("nbf", year2300)), auth.ErrNotYetValid},
		{"nbf 1e300", sign(with("nbf", json.Number("1e300"))), auth.ErrNotYetValid},
		{"nbf past float64", sign(with("nbf", json.Number("1e400"))), auth.ErrNotYetValid},
		{"iat past 2262", sign(with("iat", year2300)), auth.ErrNotYetValid},
		{"iat past float64", sign(with("iat", json.Number("1e400"))), auth.ErrNotYetValid},
		{"exp negative", sign(with("exp", -1)), auth.ErrExpired},
		{"exp before 1678", sign(with("exp", json.Number("-1e300"))), auth.ErrExpired},
		{"exp below float64", sign(with("exp", json.Number("-1e400"))), auth.ErrExpired},
		{"nbf before 1678", sign(with("nbf", json.Number("-1e300"))), nil},
		{"nbf below float64", sign(with("nbf", json.Number("-1e400"))), nil},
		{"nbf a tiny fraction after 1970", sign(with("nbf", json.Number("1e-400"))), nil},
		{"exp fraction within skew", sign(with("exp", frac(now.Unix()-30, "25"))), nil},
		{"exp fraction past skew", sign(with("exp", frac(now.Unix()-31, "75"))), auth.ErrExpired},
		{"nbf fraction within skew", sign(with("nbf", frac(now.Unix()+29, "5"))), nil},
		{"nbf fraction past skew", sign(with("nbf", frac(now.Unix()+30, "5"))), auth.ErrNotYetValid},
		{"exp not a number", sign(with("exp", "2300-01-01")), auth.ErrMalformed},
		{"nbf not a number", sign(with("nbf", fmt.Sprint(now.Add(time.Hour).Unix()))), auth.ErrMalformed},
		{"iat not a number", sign(with("iat", true)), auth.ErrMalformed},
		{"NaN is not JSON", iss.SignPayload(t, "rsa-1", []byte(`{"iss":"`+iss.URL+`","aud":"`+authtest.Audience+`","exp":NaN}`), nil), auth.ErrMalformed},
		{"Infinity is not JSON", iss.SignPayload(t, "rsa-1", []byte(`{"iss":"`+iss.URL+`","aud":"`+authtest.Audience+`","exp":Infinity}`), nil), auth.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := j.Verify(context.Background(), tc.token)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && auth.Description(err) != tc.err.Error() {
				t.Errorf("description = %q, want %q", auth.Description(err), tc.err)
			}
		})
	}
}

// swapPayloadRaw keeps a's header and signature but replaces its claims.
func swapPayloadRaw(a string, claims map[string]any) string {
	parts := splitJWT(a)
	forged := splitJWT(authtest.Unsigned("", claims))
	return parts[0] + "." + forged[1] + "." + parts[2]
}

func splitJWT(s string) [3]string {
	var out [3]string
	i := 0
	start := 0
	for n := 0; n < len(s); n++ {
		if s[n] == '.' {
			out[i] = s[start:n]
			i++
			start = n + 1
		}
	}
	out[i] = s[start:]
	return out
}

func TestJWTIDTokensWhenAccepted(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, func(o *auth.JWTOptions) { o.AcceptIDTokens = true })
	cl := iss.Claims(c.Now(), "alice", "acme", "reporting")
	cl["nonce"] = "abc"
	if _, err := j.Verify(context.Background(), iss.Sign(t, "rsa-1", cl, map[string]any{"typ": "JWT"})); err != nil {
		t.Fatal(err)
	}
}

func TestJWTAlgorithmAllowList(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, func(o *auth.JWTOptions) { o.Algorithms = []string{"ES256"} })
	_, err := j.Verify(context.Background(), iss.Sign(t, "rsa-1", iss.Claims(c.Now(), "a", "acme"), nil))
	if !errors.Is(err, auth.ErrAlgorithm) {
		t.Errorf("RS256 with only ES256 allowed: err = %v", err)
	}
	for _, bad := range []string{"none", "HS256", "HS512"} {
		_, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL, Audience: []string{"a"}, Algorithms: []string{bad}})
		if err == nil {
			t.Errorf("NewJWT accepted algorithm %s", bad)
		}
	}
}

// TestJWTKeyRotation: a new kid is picked up by a refresh; unknown kids refresh at most once per
// RefreshLimit, so made-up kids cannot hammer the issuer.
func TestJWTKeyRotation(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, nil)
	ctx := context.Background()
	claims := func() map[string]any { return iss.Claims(c.Now(), "app", "acme", "reporting") }
	start := iss.Fetches()

	iss.AddKey(t, "rsa-2", "RS256")
	if _, err := j.Verify(ctx, iss.Sign(t, "rsa-2", claims(), nil)); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if got := iss.Fetches() - start; got != 1 {
		t.Errorf("fetches after the new kid = %d, want 1", got)
	}
	// Old and new keys both work while both are published.
	if _, err := j.Verify(ctx, iss.Sign(t, "rsa-1", claims(), nil)); err != nil {
		t.Errorf("old key: %v", err)
	}
	// A flood of unknown kids within the limit fetches nothing.
	iss.AddKey(t, "rsa-3", "RS256")
	for range 20 {
		if _, err := j.Verify(ctx, iss.Sign(t, "rsa-1", claims(), map[string]any{"kid": "made-up"})); !errors.Is(err, auth.ErrUnknownKeyID) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if _, err := j.Verify(ctx, iss.Sign(t, "rsa-3", claims(), nil)); !errors.Is(err, auth.ErrUnknownKeyID) {
		t.Errorf("rsa-3 within the refresh limit: err = %v, want unknown kid", err)
	}
	if got := iss.Fetches() - start; got != 1 {
		t.Errorf("fetches within the refresh limit = %d, want 1", got)
	}
	// After the limit, the next unknown kid refreshes once more.
	c.Add(time.Minute)
	if _, err := j.Verify(ctx, iss.Sign(t, "rsa-3", claims(), nil)); err != nil {
		t.Errorf("rsa-3 after the refresh limit: %v", err)
	}
	if got := iss.Fetches() - start; got != 2 {
		t.Errorf("fetches = %d, want 2", got)
	}
	// A key the issuer withdrew stops working after the next refresh.
	iss.RemoveKey("rsa-1")
	c.Add(time.Minute)
	_, _ = j.Verify(ctx, iss.Sign(t, "rsa-1", claims(), map[string]any{"kid": "made-up-2"}))
	if _, err := j.Verify(ctx, iss.Sign(t, "rsa-1", claims(), nil)); !errors.Is(err, auth.ErrUnknownKeyID) {
		t.Errorf("withdrawn key: err = %v, want unknown kid", err)
	}
}

func TestJWTDiscoveryIssuerMismatch(t *testing.T) {
	iss := authtest.NewIssuer(t)
	_, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL + "/other", Audience: []string{"a"}})
	if err == nil {
		t.Fatal("discovery of a wrong issuer succeeded")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{"eyJhbGciOiJSUzI1NiJ9.e30.sig": true, "vgk_abc_def": false, "eyJx": false, "a.b.c": false} {
		if auth.LooksLikeJWT(s) != want {
			t.Errorf("LooksLikeJWT(%q) = %v", s, !want)
		}
	}
}

// TestJWTVerifiedCache: a token accepted once is not accepted past its exp, nor after its key
// is withdrawn, even though it is served from the cache in between.
func TestJWTVerifiedCache(t *testing.T) {
	iss := authtest.NewIssuer(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j := newVerifier(t, iss, c, func(o *auth.JWTOptions) { o.RefreshLimit = time.Second })
	ctx := context.Background()
	tok := iss.Sign(t, "rsa-1", iss.Claims(c.Now(), "app", "acme", "reporting"), nil)
	for range 3 {
		if _, err := j.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(time.Hour + time.Minute)
	if _, err := j.Verify(ctx, tok); !errors.Is(err, auth.ErrExpired) {
		t.Errorf("cached token past exp: %v", err)
	}
	c.Add(-time.Hour)
	if _, err := j.Verify(ctx, tok); err != nil {
		t.Fatalf("back in time: %v", err)
	}
	iss.RemoveKey("rsa-1")
	c.Add(2 * time.Second)
	_, _ = j.Verify(ctx, iss.Sign(t, "rsa-1", iss.Claims(c.Now(), "x", "acme"), map[string]any{"kid": "unknown"})) // triggers a refresh
	if _, err := j.Verify(ctx, tok); !errors.Is(err, auth.ErrUnknownKeyID) {
		t.Errorf("cached token after its key was withdrawn: %v", err)
	}
}

// FuzzVerify: whatever the bearer token, Verify does not panic, fails only with one of the
// authentication errors, and accepts nothing but the claims the issuer signed.
//
//	go test ./auth -run '^$' -fuzz FuzzVerify -fuzztime 60s
func FuzzVerify(f *testing.F) {
	iss := authtest.NewIssuer(f)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	j, err := auth.NewJWT(context.Background(), auth.JWTOptions{Issuer: iss.URL, Audience: []string{authtest.Audience},
		TenantClaim: "org.tenant", RefreshLimit: time.Hour, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(j.Close)
	claims := iss.Claims(c.Now(), "app", "acme", "reporting")
	for _, seed := range []string{
		iss.Sign(f, "rsa-1", claims, nil), iss.Sign(f, "ec-1", claims, nil), authtest.Unsigned("rsa-1", claims),
		authtest.HMAC("rsa-1", iss.PublicPEM(f, "rsa-1"), claims), "eyJ.e30.", "eyJhbGciOiJub25lIn0..", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := j.Verify(context.Background(), token)
		if err != nil {
			if auth.Reason(err) == "other" {
				t.Fatalf("error outside the vocabulary: %v", err)
			}
			return
		}
		if p.Tenant != "acme" || p.Subject != "app" || p.CredentialID != "jwt:app" {
			t.Fatalf("accepted a token with other claims: %+v", p)
		}
	})
}
