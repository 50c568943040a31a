package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/server"
)

// wireAuth builds the authenticator chain: bearer JWTs (auth.jwt), the keys file (auth.keys_file,
// polled for changes), the static api_keys, and allow_anonymous. Options.Auth replaces it.
func (g *Gateway) wireAuth(ctx context.Context) error {
	if g.o.Auth != nil {
		g.authn = g.o.Auth
		return nil
	}
	keys := make([]auth.Key, len(g.cfg.APIKeys))
	for i, k := range g.cfg.APIKeys {
		keys[i] = auth.Key{ID: k.ID, Tenant: k.Tenant, Roles: k.Roles, Secret: k.Key}
	}
	static, err := auth.NewKeys(keys, nil)
	if err != nil {
		return err
	}
	chain := &auth.Chain{Static: static}
	g.authn = chain
	if p := g.cfg.AllowAnonymous; p != nil {
		chain.Anonymous = &auth.Principal{Tenant: p.Tenant, CredentialID: "anonymous", Roles: p.Roles}
	}
	ac := g.cfg.Auth
	if ac.KeysFile != "" {
		store, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: ac.KeysFile, Log: g.log,
			WarnWithin: time.Duration(ac.ExpiryWarningDays) * 24 * time.Hour})
		if err != nil {
			return err
		}
		chain.Store, g.store = store, store
		pollCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		ticker := time.NewTicker(ac.KeysReload)
		done := make(chan struct{})
		go func() {
			defer close(done)
			store.Run(pollCtx, ticker.C)
		}()
		store.Check() // expiry warnings right at start-up
		g.closers = append(g.closers, func() { stop(); ticker.Stop(); <-done })
	}
	if j := ac.JWT; j != nil {
		v, err := auth.NewJWT(ctx, auth.JWTOptions{Issuer: j.Issuer, JWKSURL: j.JWKSURL, Audience: j.Audience,
			Algorithms: j.Algorithms, Skew: j.Skew, TenantClaim: j.TenantClaim, RolesClaim: j.RolesClaim,
			ScopesClaim: j.ScopesClaim, AcceptIDTokens: j.AcceptIDTokens, RefreshLimit: j.RefreshLimit, Log: g.log})
		if err != nil {
			return err
		}
		chain.JWT = v
		g.closers = append(g.closers, v.Close)
	}
	return nil
}

// admin returns the admin routes.
func (g *Gateway) admin() http.Handler {
	o := server.AdminOptions{Auth: g.authn, Role: g.cfg.Auth.AdminRole, Log: g.log, Observer: g.observer(),
		Details: func() any { return readiness(g.routers).Details() }}
	if s := g.store; s != nil {
		o.ReloadKeys = func(context.Context) (int, error) {
			if err := s.Reload(); err != nil {
				return 0, fmt.Errorf("the previous keys stay in force: %w", err)
			}
			return s.Len(), nil
		}
	}
	return server.Admin(o)
}
