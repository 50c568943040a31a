package main

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/inspect"
	"github.com/viewgate/viewgate/views"
)

// checkedPrincipal is a configured identity whose roles and tenant check can judge: a static
// key, allow_anonymous, or a live key of the keys file (JWT roles are only known per token).
type checkedPrincipal struct {
	name   string // how the report names it, e.g. "api_keys id acme"
	tenant string
	roles  []string
}

// checkPrincipals warns about roles that no view grants and that are neither pii nor the admin
// role (usually a typo such as PII for pii, which fails closed and silently), and about
// principals without a tenant whose roles grant tenant-scoped views, which answer them 403.
// Keys of the keys file count while they are live at now.
func checkPrincipals(cfg *config.Config, cat *views.Catalog, now time.Time, r *checkReport) {
	ps, err := principalsOf(cfg, now)
	if err != nil {
		r.add(inspect.Finding{Level: inspect.Error, Message: err.Error()})
	}
	granted := map[string]bool{views.PIIRole: true, cfg.Auth.AdminRole: true}
	for _, v := range cat.Views {
		for _, role := range v.Roles {
			granted[role] = true
		}
	}
	for _, p := range ps {
		for _, role := range p.roles {
			if !granted[role] {
				r.add(unknownRole(p, role, granted, cfg.Auth.AdminRole))
			}
		}
		if p.tenant == "" {
			if scoped := tenantScoped(cat, p.roles); len(scoped) > 0 {
				r.add(inspect.Finding{Level: inspect.Warning,
					Message: fmt.Sprintf("%s has no tenant, so the tenant-scoped views its roles grant answer it 403: %s", p.name, strings.Join(scoped, ", ")),
					Fix:     "give the key a tenant, or leave those views to tenanted keys"})
			}
		}
	}
}

// unknownRole is the warning about a role nothing grants, naming the role it differs from only
// in case when there is one.
func unknownRole(p checkedPrincipal, role string, granted map[string]bool, adminRole string) inspect.Finding {
	f := inspect.Finding{Level: inspect.Warning,
		Message: fmt.Sprintf("%s: role %q is granted by no view and is not %s or the admin role (%s)", p.name, role, views.PIIRole, adminRole),
		Fix:     "grant it in a view's roles, or remove it from the key"}
	for known := range granted {
		if strings.EqualFold(known, role) {
			f.Message += "; roles are case-sensitive"
			f.Fix = fmt.Sprintf("write %q", known)
		}
	}
	return f
}

// tenantScoped returns the names of the views with a tenant column that roles grant, sorted.
func tenantScoped(cat *views.Catalog, roles []string) []string {
	var out []string
	for _, v := range cat.Views {
		if v.TenantColumn != "" && slices.ContainsFunc(v.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			out = append(out, v.Name)
		}
	}
	slices.Sort(out)
	return out
}

// principalsOf lists the static keys, allow_anonymous and the keys file's live keys; a keys file
// that does not exist yet holds none, one that does not parse is an error (serve refuses it too).
func principalsOf(cfg *config.Config, now time.Time) ([]checkedPrincipal, error) {
	var ps []checkedPrincipal
	for _, k := range cfg.APIKeys {
		ps = append(ps, checkedPrincipal{"api_keys id " + k.ID, k.Tenant, k.Roles})
	}
	if a := cfg.AllowAnonymous; a != nil {
		ps = append(ps, checkedPrincipal{"allow_anonymous", a.Tenant, a.Roles})
	}
	if cfg.Auth.KeysFile == "" {
		return ps, nil
	}
	f, err := auth.ReadKeysFile(cfg.Auth.KeysFile)
	if errors.Is(err, fs.ErrNotExist) {
		return ps, nil
	}
	if err != nil {
		return ps, fmt.Errorf("%s: %w", cfg.Auth.KeysFile, err)
	}
	for _, k := range f.Keys {
		if k.Revoked == nil && now.Before(k.Expires) {
			ps = append(ps, checkedPrincipal{"keys file key " + k.ID, k.Tenant, k.Roles})
		}
	}
	return ps, nil
}
