// Package auth decides who is asking: it turns a request's credentials into a Principal.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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
// it returns ErrNoCredentials, ErrTwoCredentials, ErrBadHeader or ErrUnknownKey otherwise. Keys
// in the URL are never read.
func (k *Keys) Authenticate(r *http.Request) (*Principal, error) {
	secret, err := credential(r)
	switch {
	case errors.Is(err, ErrNoCredentials) && k.anonymous != nil:
		return k.anonymous, nil
	case err != nil:
		return nil, err
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

// KeyHeader is the X-API-Key header, spelled as net/http canonicalizes it, so looking it up
// costs no allocation.
const KeyHeader = "X-Api-Key"

// credential returns the request's one credential: the X-API-Key header, or an Authorization:
// Bearer token (the scheme is case-insensitive). It returns ErrNoCredentials when there is none,
// ErrTwoCredentials when there are both headers or one of them twice, and ErrBadHeader when the
// one sent is blank or another scheme: a request that tried to authenticate is never anonymous.
// The URL is never read, so a key cannot end up in access logs, proxies or browser history.
//
// Refusing two credentials matters behind a proxy that injects Authorization: were one of them
// preferred, a client could send its own and pick its identity.
func credential(r *http.Request) (string, error) {
	keys := r.Header.Values(KeyHeader)
	authz := slices.DeleteFunc(slices.Clone(r.Header.Values("Authorization")), func(v string) bool { return v == "" })
	switch n := len(keys) + len(authz); {
	case n == 0:
		return "", ErrNoCredentials
	case n > 1:
		return "", ErrTwoCredentials
	case len(keys) == 1:
		if k := strings.TrimSpace(keys[0]); k != "" {
			return k, nil
		}
		return "", ErrBadHeader
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
	if token = strings.TrimSpace(token); !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", ErrBadHeader
	}
	return token, nil
}
