// Package auth decides who is asking: it turns a request's credentials into a Principal.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Principal is the authenticated caller: everything downstream (tenant filter, roles, logs) uses it.
type Principal struct {
	Tenant       string   // "" when the credential names none: tenant-scoped views then answer 403
	CredentialID string   // the API key id, "jwt:<sub>", or "anonymous"; safe to log
	Subject      string   // who the credential stands for: the key's owner or the token's sub
	Roles        []string // what the principal may read (views' roles, pii, admin)
	Scopes       []string // OAuth2 scopes of a bearer token; informational, roles decide access
}

// HasRole reports whether the principal holds role.
func (p *Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasAny reports whether the principal holds at least one of roles.
func (p *Principal) HasAny(roles []string) bool {
	return slices.ContainsFunc(roles, p.HasRole)
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the request's principal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Key is a static API key.
type Key struct {
	ID     string
	Tenant string
	Roles  []string
	Secret string
}

// Keys authenticates requests by static API key; the keys are held only as SHA-256 hashes.
type Keys struct {
	byHash    map[[32]byte]*Principal
	anonymous *Principal
}

// NewKeys indexes keys; anonymous, when not nil, is the principal of requests without a key.
// It fails if two keys share an id or a secret.
func NewKeys(keys []Key, anonymous *Principal) (*Keys, error) {
	k := &Keys{byHash: map[[32]byte]*Principal{}, anonymous: anonymous}
	ids := map[string]bool{}
	for _, key := range keys {
		h := sha256.Sum256([]byte(key.Secret))
		if ids[key.ID] || k.byHash[h] != nil {
			return nil, fmt.Errorf("api key %q: duplicate id or secret", key.ID)
		}
		ids[key.ID] = true
		k.byHash[h] = &Principal{Tenant: key.Tenant, CredentialID: key.ID, Roles: slices.Clone(key.Roles)}
	}
	return k, nil
}

// Authenticate returns the principal for the request's key (X-API-Key, or Authorization: Bearer);
// it returns ErrNoCredentials or ErrUnknownKey otherwise. Keys in the URL are never read.
func (k *Keys) Authenticate(r *http.Request) (*Principal, error) {
	secret := Credential(r)
	if secret == "" && CredentialSent(r) {
		return nil, ErrBadHeader
	}
	if secret == "" {
		if k.anonymous != nil {
			return k.anonymous, nil
		}
		return nil, ErrNoCredentials
	}
	return k.Lookup(secret)
}

// Lookup returns the principal of a static key, or ErrUnknownKey.
func (k *Keys) Lookup(secret string) (*Principal, error) {
	h := sha256.Sum256([]byte(secret))
	var found *Principal
	for stored, p := range k.byHash {
		// Compare against every key so that the time taken says nothing about which matched.
		if subtle.ConstantTimeCompare(stored[:], h[:]) == 1 {
			found = p
		}
	}
	if found == nil {
		return nil, ErrUnknownKey
	}
	return found, nil
}

// CredentialSent reports whether the request carries an Authorization or X-API-Key header at all,
// readable or not: a request that tried to authenticate is never anonymous.
func CredentialSent(r *http.Request) bool {
	return len(r.Header.Values("X-API-Key")) > 0 || r.Header.Get("Authorization") != ""
}

// Credential returns the request's credential: the X-API-Key header, else an Authorization: Bearer
// token (the scheme is case-insensitive), else "". The URL is never read, so a key cannot end up
// in access logs, proxies or browser history.
func Credential(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("X-API-Key")); k != "" {
		return k
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
