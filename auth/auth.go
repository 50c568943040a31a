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
	Tenant       string
	CredentialID string
	Roles        []string
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

// Errors of authentication; each means 401.
var (
	ErrNoCredentials = errors.New("no credentials: send an API key in the X-API-Key header")
	ErrUnknownKey    = errors.New("unknown API key")
)

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
	secret := r.Header.Get("X-API-Key")
	if secret == "" {
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secret = strings.TrimSpace(bearer)
		}
	}
	if secret == "" {
		if k.anonymous != nil {
			return k.anonymous, nil
		}
		return nil, ErrNoCredentials
	}
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
