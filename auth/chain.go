package auth

import (
	"errors"
	"net/http"
)

// Chain authenticates a request by its one credential: a bearer JWT when it looks like one and
// JWT is configured, else an API key from the keys file, then from the static list. A request
// without a credential is Anonymous when that is set, else ErrNoCredentials; a request with two
// (X-API-Key and Authorization, or either twice) is ErrTwoCredentials.
type Chain struct {
	Static    *Keys     // api_keys from the config; may be nil
	Store     *KeyStore // the keys file; may be nil
	JWT       *JWT      // bearer JWTs; nil refuses them with ErrJWTDisabled
	Anonymous *Principal
}

// Authenticate returns the request's principal, or one of the errors in Unauthenticated.
func (c *Chain) Authenticate(r *http.Request) (*Principal, error) {
	cred, err := credential(r)
	switch {
	case errors.Is(err, ErrNoCredentials) && c.Anonymous != nil:
		return c.Anonymous, nil
	case err != nil:
		return nil, err
	case LooksLikeJWT(cred):
		if c.JWT == nil {
			return nil, ErrJWTDisabled
		}
		return c.JWT.Verify(r.Context(), cred)
	}
	err = ErrUnknownKey
	if c.Store != nil {
		var p *Principal
		if p, err = c.Store.Lookup(cred); err == nil {
			return p, nil
		}
	}
	if c.Static != nil {
		if p, serr := c.Static.Lookup(cred); serr == nil {
			return p, nil
		}
	}
	return nil, err
}
