// Package authtest is a local OpenID Connect issuer for tests: discovery, a JWKS with real RSA and
// EC keys, key rotation, and tokens signed right or wrong.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Audience is the aud of the tokens Claims makes.
const Audience = "viewgate"

// Issuer serves /.well-known/openid-configuration and /jwks, and signs tokens.
type Issuer struct {
	URL     string // the issuer identifier (the server's base URL)
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*signer
	order   []string // published kids, in order
	fetches atomic.Int32
}

type signer struct {
	alg  string
	priv crypto.Signer
}

// NewIssuer starts an issuer that publishes an RSA key "rsa-1" (RS256) and an EC key "ec-1" (ES256).
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{keys: map[string]*signer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": i.URL, "jwks_uri": i.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		i.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.JWKS())
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.URL = i.srv.URL
	i.AddKey(t, "rsa-1", "RS256")
	i.AddKey(t, "ec-1", "ES256")
	return i
}

// Fetches returns how many times the JWKS was served.
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// AddKey generates and publishes a key: alg RS256 (RSA 2048) or ES256 (P-256).
func (i *Issuer) AddKey(t testing.TB, kid, alg string) {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("authtest: unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid] = &signer{alg: alg, priv: priv}
	i.order = append(i.order, kid)
}

// RemoveKey stops publishing kid (it can still sign).
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.order {
		if k == kid {
			i.order = append(i.order[:n:n], i.order[n+1:]...)
		}
	}
}

// JWKS returns the published key set.
func (i *Issuer) JWKS() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	var keys []map[string]any
	for _, kid := range i.order {
		s := i.keys[kid]
		k := map[string]any{"kid": kid, "use": "sig", "alg": s.alg}
		switch pub := s.priv.Public().(type) {
		case *rsa.PublicKey:
			k["kty"], k["n"], k["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			b, _ := pub.Bytes() // 0x04 || X || Y
			k["kty"], k["crv"], k["x"], k["y"] = "EC", "P-256", b64(b[1:33]), b64(b[33:65])
		}
		keys = append(keys, k)
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// PublicPEM returns the PEM of kid's public key, as an attacker could download it.
func (i *Issuer) PublicPEM(t testing.TB, kid string) []byte {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(i.keys[kid].priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Claims returns valid access-token claims for sub at now: iss, aud, iat, nbf, exp (+1h), the
// tenant under org.tenant, roles, and scope.
func (i *Issuer) Claims(now time.Time, sub, tenant string, roles ...string) map[string]any {
	return map[string]any{"iss": i.URL, "aud": Audience, "sub": sub, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "org": map[string]any{"tenant": tenant}, "roles": roles, "scope": "read:views export"}
}

// Sign returns a compact JWS of claims signed with kid's key and alg header; header adds or
// overrides header fields (typ, kid, alg).
func (i *Issuer) Sign(t testing.TB, kid string, claims map[string]any, header map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return i.SignPayload(t, kid, b, header)
}

// SignPayload is Sign with the payload given as raw bytes, which need not be valid JSON.
func (i *Issuer) SignPayload(t testing.TB, kid string, payload []byte, header map[string]any) string {
	t.Helper()
	i.mu.Lock()
	s := i.keys[kid]
	i.mu.Unlock()
	if s == nil {
		t.Fatalf("authtest: no key %s", kid)
	}
	h := map[string]any{"alg": s.alg, "kid": kid, "typ": "at+jwt"}
	for k, v := range header {
		h[k] = v
	}
	input := segment(h) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch p := s.priv.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		var r, ss *big.Int
		if r, ss, err = ecdsa.Sign(rand.Reader, p, digest[:]); err == nil {
			sig = append(pad32(r.Bytes()), pad32(ss.Bytes())...)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// Unsigned returns an alg "none" token of claims.
func Unsigned(kid string, claims map[string]any) string {
	return segment(map[string]any{"alg": "none", "kid": kid, "typ": "JWT"}) + "." + segment(claims) + "."
}

// HMAC returns an HS256 token of claims keyed with secret (for example a public key's PEM).
func HMAC(kid string, secret []byte, claims map[string]any) string {
	input := segment(map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + segment(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad32(b []byte) []byte {
	if len(b) >= 32 {
		return b
	}
	return append(make([]byte, 32-len(b)), b...)
}
