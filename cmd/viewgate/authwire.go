package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/server"
)

// wireAuth builds the authenticator chain: bearer JWTs (auth.jwt), the keys file (auth.keys_file,
// polled for changes), the static api_keys, and allow_anonymous.
func (a *app) wireAuth(ctx context.Context, stderr io.Writer) error {
	keys := make([]auth.Key, len(a.cfg.APIKeys))
	for i, k := range a.cfg.APIKeys {
		keys[i] = auth.Key{ID: k.ID, Tenant: k.Tenant, Roles: k.Roles, Secret: k.Key}
	}
	var err error
	if a.keys, err = auth.NewKeys(keys, nil); err != nil {
		return err
	}
	a.authn = &auth.Chain{Static: a.keys}
	if p := a.cfg.AllowAnonymous; p != nil {
		a.authn.Anonymous = &auth.Principal{Tenant: p.Tenant, CredentialID: "anonymous", Roles: p.Roles}
	}
	log := newLogger(stderr)
	ac := a.cfg.Auth
	if ac.KeysFile != "" {
		store, err := auth.NewKeyStore(auth.KeyStoreOptions{Path: ac.KeysFile, Log: log,
			WarnWithin: time.Duration(ac.ExpiryWarningDays) * 24 * time.Hour})
		if err != nil {
			return err
		}
		a.authn.Store = store
		pollCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		ticker := time.NewTicker(ac.KeysReload)
		done := make(chan struct{})
		go func() {
			defer close(done)
			store.Run(pollCtx, ticker.C)
		}()
		store.Check() // expiry warnings right at start-up
		a.closers = append(a.closers, func() { stop(); ticker.Stop(); <-done })
	}
	if j := ac.JWT; j != nil {
		v, err := auth.NewJWT(ctx, auth.JWTOptions{Issuer: j.Issuer, JWKSURL: j.JWKSURL, Audience: j.Audience,
			Algorithms: j.Algorithms, Skew: j.Skew, TenantClaim: j.TenantClaim, RolesClaim: j.RolesClaim,
			ScopesClaim: j.ScopesClaim, AcceptIDTokens: j.AcceptIDTokens, RefreshLimit: j.RefreshLimit, Log: log})
		if err != nil {
			return err
		}
		a.authn.JWT = v
		a.closers = append(a.closers, v.Close)
	}
	return nil
}

// admin returns the admin routes.
func (a *app) admin(log *slog.Logger) http.Handler {
	o := server.AdminOptions{Auth: a.authn, Role: a.cfg.Auth.AdminRole, Log: log}
	if s := a.authn.Store; s != nil {
		o.ReloadKeys = func(context.Context) (int, error) {
			if err := s.Reload(); err != nil {
				return 0, fmt.Errorf("the previous keys stay in force: %w", err)
			}
			return s.Len(), nil
		}
	}
	return server.Admin(o)
}
