package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// JWTOptions configures bearer JWT validation.
type JWTOptions struct {
	Issuer         string        // the exact iss; also where OIDC discovery looks when JWKSURL is ""
	JWKSURL        string        // "": discovered from Issuer/.well-known/openid-configuration
	Audience       []string      // the token's aud must contain one of these
	Algorithms     []string      // allow-list; default RS256, ES256. none and HS* are refused.
	Skew           time.Duration // leeway for exp, nbf and iat
	TenantClaim    string        // dotted path, e.g. "org.tenant"; "" = no tenant
	RolesClaim     string        // dotted path to an array or a space-separated string; default "roles"
	ScopesClaim    string        // default "scope" (space-separated string or array)
	AcceptIDTokens bool          // accept OIDC ID tokens as access tokens (see isIDToken)
	RefreshLimit   time.Duration // at most one unknown-kid refresh per this; default 30s
	HTTPClient     *http.Client  // fetches discovery and JWKS; nil: a client with a 10s timeout
	Log            *slog.Logger
	Now            func() time.Time
}

// AllowedAlgorithms are the signature algorithms a configuration may list: asymmetric only, so a
// public key can never serve as an HMAC secret.
var AllowedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWT validates bearer JWTs against an issuer's JWKS.
type JWT struct {
	o     JWTOptions
	algs  map[string]jwa.SignatureAlgorithm
	url   string
	cache *jwk.Cache
	set   jwk.CachedSet

	mu          sync.Mutex
	lastRefresh time.Time
	raw         map[jwk.Key]any // exported public keys, so a request does not export again

	vmu      sync.RWMutex
	verified map[[32]byte]*verified // by SHA-256 of the token
}

// verified is a token whose signature and claims were checked: until exp it is accepted again
// without the signature check, as long as the key that verified it is still the one published.
type verified struct {
	p        *Principal
	kid      string
	key      jwk.Key
	exp, nbf time.Time
}

// maxVerified bounds the verified-token cache; when full it starts over.
const maxVerified = 10000

// NewJWT discovers the JWKS URL when none is given, fetches the key set once and keeps it cached
// (refreshed in the background, and on an unknown kid at most once per RefreshLimit). It fails on
// a bad option, a failed discovery or a first fetch that fails. Call Close to stop the refresher.
func NewJWT(ctx context.Context, o JWTOptions) (*JWT, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	j := &JWT{o: o, algs: map[string]jwa.SignatureAlgorithm{}, raw: map[jwk.Key]any{}, verified: map[[32]byte]*verified{}}
	for _, name := range o.Algorithms {
		alg, ok := jwa.LookupSignatureAlgorithm(name)
		if !ok || !slices.Contains(AllowedAlgorithms, name) {
			return nil, fmt.Errorf("jwt: algorithm %q is not allowed (allowed: %s)", name, strings.Join(AllowedAlgorithms, ", "))
		}
		j.algs[name] = alg
	}
	j.url = o.JWKSURL
	if j.url == "" {
		u, err := discover(ctx, o.HTTPClient, o.Issuer)
		if err != nil {
			return nil, err
		}
		j.url = u
	}
	cache, err := jwk.NewCache(context.WithoutCancel(ctx), httprc.NewClient())
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if err := cache.Register(ctx, j.url, jwk.WithHTTPClient(o.HTTPClient), jwk.WithMinInterval(5*time.Minute), jwk.WithMaxInterval(24*time.Hour)); err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("jwt: fetch the JWKS at %s: %w", j.url, err)
	}
	if j.set, err = cache.CachedSet(j.url); err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("jwt: %w", err)
	}
	j.cache = cache
	return j, nil
}

func (o *JWTOptions) defaults() error {
	if o.Issuer == "" {
		return errors.New("jwt: issuer is required")
	}
	if len(o.Audience) == 0 {
		return errors.New("jwt: audience is required")
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{"RS256", "ES256"}
	}
	if o.RolesClaim == "" {
		o.RolesClaim = "roles"
	}
	if o.ScopesClaim == "" {
		o.ScopesClaim = "scope"
	}
	if o.RefreshLimit == 0 {
		o.RefreshLimit = 30 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Close stops the background refresher.
func (j *JWT) Close() {
	_ = j.cache.Shutdown(context.Background())
}

// JWKSURL returns the key set's URL, configured or discovered.
func (j *JWT) JWKSURL() string { return j.url }

// discover reads the issuer's OpenID configuration and returns its jwks_uri; the document must
// name the same issuer (OpenID Connect Discovery §4.3).
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("jwt: discovery: %w", err)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("jwt: discovery at %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("jwt: discovery at %s: HTTP %d", u, res.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("jwt: discovery at %s: %w", u, err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("jwt: discovery at %s names issuer %q, not %q", u, doc.Issuer, issuer)
	}
	if p, err := url.Parse(doc.JWKSURI); err != nil || (p.Scheme != "https" && p.Scheme != "http") {
		return "", fmt.Errorf("jwt: discovery at %s: jwks_uri %q is not an http(s) URL", u, doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

// LooksLikeJWT reports whether a credential has the shape of a compact JWS (three base64url parts
// with a JSON header); API keys never contain a dot.
func LooksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// header is the part of a JOSE header that decides how a token is verified.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Crit []string `json:"crit"`
}

// Verify returns the principal of a bearer JWT. Failures are ErrMalformed, ErrAlgorithm,
// ErrUnknownKeyID, ErrBadSignature, ErrMissingClaims, ErrWrongIssuer, ErrWrongAudience,
// ErrExpired, ErrNotYetValid or ErrIDToken, possibly wrapped with a caller-safe detail.
//
// A token verified before is accepted from a cache while it is within exp and nbf and its key is
// still the published one, so a client reusing its token costs a hash, not a signature check.
func (j *JWT) Verify(ctx context.Context, token string) (*Principal, error) {
	sum := sha256.Sum256([]byte(token))
	if p := j.fromCache(sum); p != nil {
		return p, nil
	}
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	alg, ok := j.algs[h.Alg]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, truncate(h.Alg, 16))
	}
	jk, key, err := j.key(ctx, h.Kid, alg)
	if err != nil {
		return nil, err
	}
	payload, err := jws.VerifyCompactFast(key, []byte(token), alg)
	if err != nil {
		return nil, ErrBadSignature
	}
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: the payload is not a JSON object", ErrMalformed)
	}
	if err := j.checkClaims(h, claims); err != nil {
		return nil, err
	}
	p := j.principal(claims)
	v := &verified{p: p, kid: h.Kid, key: jk}
	v.exp, _, _ = numericDate(claims, "exp") // checked by checkClaims
	v.nbf, _, _ = numericDate(claims, "nbf")
	j.vmu.Lock()
	if len(j.verified) >= maxVerified {
		clear(j.verified)
	}
	j.verified[sum] = v
	j.vmu.Unlock()
	return p, nil
}

// fromCache returns the principal of a token verified before, if it is still valid now.
func (j *JWT) fromCache(sum [32]byte) *Principal {
	j.vmu.RLock()
	v := j.verified[sum]
	j.vmu.RUnlock()
	if v == nil {
		return nil
	}
	now := j.o.Now()
	if !now.Before(v.exp.Add(j.o.Skew)) || now.Add(j.o.Skew).Before(v.nbf) {
		return nil // the full path gives the precise error
	}
	if k, ok := j.set.LookupKeyID(v.kid); !ok || k != v.key {
		return nil // the key set changed: verify again
	}
	return v.p
}

func parseHeader(token string) (*header, error) {
	parts := strings.Split(token, ".")
	// The signature may be empty here (alg none), and is refused with ErrAlgorithm below.
	if len(parts) != 3 || len(parts[0]) > 4096 || notBase64URL(parts[0]) || notBase64URL(parts[1]) || (parts[2] != "" && notBase64URL(parts[2])) {
		return nil, ErrMalformed
	}
	seg := parts[0]
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: the header is not base64url", ErrMalformed)
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: the header is not JSON", ErrMalformed)
	}
	if len(h.Crit) > 0 {
		return nil, fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	return &h, nil
}

// key returns the published key for kid and its crypto public key, refreshing the key set
// (rate-limited) when kid is unknown.
func (j *JWT) key(ctx context.Context, kid string, alg jwa.SignatureAlgorithm) (jwk.Key, any, error) {
	if kid == "" {
		return nil, nil, fmt.Errorf("%w: the token has no kid", ErrUnknownKeyID)
	}
	k, ok := j.set.LookupKeyID(kid)
	if !ok {
		if !j.refresh(ctx) {
			return nil, nil, ErrUnknownKeyID
		}
		if k, ok = j.set.LookupKeyID(kid); !ok {
			return nil, nil, ErrUnknownKeyID
		}
	}
	if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
		return nil, nil, fmt.Errorf("%w: the key is for %s", ErrAlgorithm, ka)
	}
	raw, err := j.export(k)
	return k, raw, err
}

// refresh fetches the key set again unless that was done within RefreshLimit; it reports whether
// it fetched. The limit keeps tokens with made-up kids from turning into requests to the issuer.
func (j *JWT) refresh(ctx context.Context) bool {
	j.mu.Lock()
	now := j.o.Now()
	if !j.lastRefresh.IsZero() && now.Sub(j.lastRefresh) < j.o.RefreshLimit {
		j.mu.Unlock()
		return false
	}
	j.lastRefresh = now
	j.mu.Unlock()
	if _, err := j.cache.Refresh(ctx, j.url); err != nil {
		j.o.Log.Warn("JWKS refresh failed", "url", j.url, "error", err.Error())
		return false
	}
	return true
}

// export returns the crypto public key of k, cached per key object.
func (j *JWT) export(k jwk.Key) (any, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if raw, ok := j.raw[k]; ok {
		return raw, nil
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("%w: the issuer's key cannot be used", ErrUnknownKeyID)
	}
	if len(j.raw) > 256 { // the set was refreshed many times: drop old keys
		clear(j.raw)
	}
	j.raw[k] = raw
	return raw, nil
}

// checkClaims checks iss, aud, exp, nbf and iat (with Skew) and refuses ID tokens unless allowed.
func (j *JWT) checkClaims(h *header, c map[string]any) error {
	iss, _ := c["iss"].(string)
	exp, hasExp, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	nbf, _, err := numericDate(c, "nbf")
	if err != nil {
		return err
	}
	iat, _, err := numericDate(c, "iat")
	if err != nil {
		return err
	}
	if iss == "" || !hasExp || c["aud"] == nil {
		return ErrMissingClaims
	}
	if iss != j.o.Issuer {
		return ErrWrongIssuer
	}
	if !slices.ContainsFunc(audiences(c["aud"]), func(a string) bool { return slices.Contains(j.o.Audience, a) }) {
		return ErrWrongAudience
	}
	now := j.o.Now()
	if !now.Before(exp.Add(j.o.Skew)) {
		return ErrExpired
	}
	if now.Add(j.o.Skew).Before(nbf) { // an absent nbf is the zero time
		return ErrNotYetValid
	}
	if now.Add(j.o.Skew).Before(iat) {
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	if !j.o.AcceptIDTokens && isIDToken(h, c) {
		return ErrIDToken
	}
	return nil
}

// isIDToken reports whether a token is an OIDC ID token rather than an access token: its header
// typ is not at+jwt (RFC 9068) and it carries an ID-token marker: token_use "id" (Cognito), typ
// claim "ID" (Keycloak), or a nonce or at_hash claim (OpenID Connect Core §2, §3.1.3.6).
func isIDToken(h *header, c map[string]any) bool {
	if strings.EqualFold(h.Typ, "at+jwt") || strings.EqualFold(h.Typ, "application/at+jwt") {
		return false
	}
	if use, _ := c["token_use"].(string); use == "id" {
		return true
	}
	if typ, _ := c["typ"].(string); strings.EqualFold(typ, "ID") {
		return true
	}
	_, nonce := c["nonce"]
	_, atHash := c["at_hash"]
	return nonce || atHash
}

// maxNumericDate bounds a NumericDate, in seconds either side of 1970: about 31,700 years, far
// beyond any real expiry, and small enough that adding the skew cannot overflow a time.Time.
const maxNumericDate = 1e12

// numericDate reads the NumericDate claim name (RFC 7519 §2: seconds since 1970, fractions
// allowed); set is false when the claim is absent or null. A value that is not a JSON number is
// ErrMalformed. Values past ±maxNumericDate seconds, including those beyond a float64's range,
// read as that bound, so a far-future nbf stays in the future and a far-future exp never passes.
func numericDate(c map[string]any, name string) (t time.Time, set bool, err error) {
	v := c[name]
	if v == nil {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, fmt.Errorf("%w: the %s claim is not a number", ErrMalformed, name)
	}
	// Past a float64's range ParseFloat returns ±Inf (or 0 below it) with ErrRange: clamped below.
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return time.Time{}, true, fmt.Errorf("%w: the %s claim is not a number", ErrMalformed, name)
	}
	f = max(-maxNumericDate, min(f, maxNumericDate))
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))), true, nil
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// principal maps claims to a principal by the configured claim paths.
func (j *JWT) principal(c map[string]any) *Principal {
	sub, _ := c["sub"].(string)
	p := &Principal{Subject: sub, CredentialID: "jwt:" + truncate(sub, 128)}
	if j.o.TenantClaim != "" {
		switch t := claim(c, j.o.TenantClaim).(type) {
		case string:
			p.Tenant = t
		case json.Number:
			p.Tenant = t.String()
		}
	}
	p.Roles = words(claim(c, j.o.RolesClaim))
	p.Scopes = words(claim(c, j.o.ScopesClaim))
	return p
}

// claim follows a dotted path through nested objects; nil when any step is missing.
func claim(c map[string]any, path string) any {
	var v any = c
	for _, step := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[step]
	}
	return v
}

// words returns a string list claim, or the words of a space-separated string claim.
func words(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// notBase64URL reports whether a token segment is empty or holds a character outside base64url.
func notBase64URL(seg string) bool {
	if seg == "" {
		return true
	}
	for _, c := range seg {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
