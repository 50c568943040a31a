package config

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Auth configures authentication beyond the static api_keys: a reloaded keys file and bearer JWTs.
type Auth struct {
	KeysFile          string        // "" = none; relative paths are resolved against the config file's directory
	KeysReload        time.Duration // how often the keys file's mtime is polled; default 10s (1s..1h)
	ExpiryWarningDays int           // warn about keys expiring within this many days; default 14 (1..365)
	AdminRole         string        // the role admin routes need; default "admin"
	JWT               *JWT          // nil: bearer JWTs are refused
}

// JWT configures bearer JWT (OAuth2 access token, OIDC) validation.
type JWT struct {
	Issuer         string        // exact iss; OIDC discovery starts here when JWKSURL is ""
	JWKSURL        string        // "" = discovered from Issuer/.well-known/openid-configuration
	Audience       []string      // the token's aud must contain one of these (required)
	Algorithms     []string      // allow-list; default RS256, ES256
	Skew           time.Duration // leeway for exp, nbf, iat; default 30s (0..5m)
	TenantClaim    string        // dotted path to the tenant claim, e.g. org.tenant
	RolesClaim     string        // dotted path to roles (array or space-separated); default roles
	ScopesClaim    string        // default scope
	AcceptIDTokens bool          // accept OIDC ID tokens as access tokens; default false
	RefreshLimit   time.Duration // at most one JWKS refresh for an unknown kid per this; default 30s (1s..1h)
}

// JWTAlgorithms are the algorithms jwt.algorithms may list: asymmetric signatures only.
var JWTAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// rawAuth is the auth section before paths are anchored.
type rawAuth struct {
	keysFile field
	auth     Auth
}

// DefaultAuth returns the auth settings used for keys absent from the auth section.
func DefaultAuth() Auth {
	return Auth{KeysReload: 10 * time.Second, ExpiryWarningDays: 14, AdminRole: "admin"}
}

// authSection decodes the auth section over the defaults.
func (d *decoder) authSection(n *yaml.Node, path string) rawAuth {
	ra := rawAuth{auth: DefaultAuth()}
	m := d.fields(n, path, "keys_file", "keys_reload", "expiry_warning_days", "admin_role", "jwt")
	if m == nil {
		return ra
	}
	ra.keysFile = d.field(m, n, path, "keys_file")
	d.setDuration(m, path, "keys_reload", time.Second, time.Hour, &ra.auth.KeysReload)
	d.setInt(m, path, "expiry_warning_days", 1, 365, &ra.auth.ExpiryWarningDays)
	if f := d.field(m, n, path, "admin_role"); f.set && !f.bad {
		if !isName(f.raw, ":.") {
			d.addf(f.node, f.path, "%q must be a role name (letters, digits, _, -, :, .)", truncate(f.raw, 40))
		}
		ra.auth.AdminRole = f.raw
	}
	if v := m["jwt"]; !isNull(v) {
		ra.auth.JWT = d.jwt(v, join(path, "jwt"))
	}
	return ra
}

// jwt decodes and checks the jwt section.
func (d *decoder) jwt(n *yaml.Node, path string) *JWT {
	m := d.fields(n, path, "issuer", "jwks_url", "audience", "algorithms", "skew", "tenant_claim",
		"roles_claim", "scopes_claim", "accept_id_tokens", "refresh_limit")
	if m == nil {
		return nil
	}
	j := &JWT{Algorithms: []string{"RS256", "ES256"}, Skew: 30 * time.Second, RolesClaim: "roles",
		ScopesClaim: "scope", RefreshLimit: 30 * time.Second}
	iss := d.field(m, n, path, "issuer")
	if j.Issuer = iss.raw; iss.missing() {
		d.addf(iss.node, iss.path, "is required: the exact iss of accepted tokens, e.g. https://login.example.com/realms/erp")
	} else if !iss.bad {
		d.checkURL(iss)
	}
	if f := d.field(m, n, path, "jwks_url"); f.set && !f.bad {
		j.JWKSURL = f.raw
		d.checkURL(f)
	}
	if a := m["audience"]; isNull(a) {
		d.addf(n, join(path, "audience"), "is required: the aud value(s) that name this server")
	} else if s := deref(a); s.Kind == yaml.ScalarNode {
		j.Audience = []string{s.Value}
	} else {
		j.Audience = d.strList(a, join(path, "audience"))
	}
	if a := m["algorithms"]; !isNull(a) {
		p := join(path, "algorithms")
		j.Algorithms = d.strList(a, p)
		for i, alg := range j.Algorithms {
			if !slices.Contains(JWTAlgorithms, alg) {
				d.addf(a, index(p, i), "%q is not allowed: only asymmetric algorithms (%s); none and HS* never are", truncate(alg, 20), strings.Join(JWTAlgorithms, ", "))
			}
		}
		if len(j.Algorithms) == 0 {
			d.addf(a, p, "must list at least one algorithm")
		}
	}
	d.setDuration(m, path, "skew", 0, 5*time.Minute, &j.Skew)
	d.setDuration(m, path, "refresh_limit", time.Second, time.Hour, &j.RefreshLimit)
	for key, dst := range map[string]*string{"tenant_claim": &j.TenantClaim, "roles_claim": &j.RolesClaim, "scopes_claim": &j.ScopesClaim} {
		f := d.field(m, n, path, key)
		if !f.set || f.bad {
			continue
		}
		if !claimPath(f.raw) {
			d.addf(f.node, f.path, "%q must be a claim name or a dotted path like org.tenant", truncate(f.raw, 40))
		}
		*dst = f.raw
	}
	d.setBool(m, path, "accept_id_tokens", &j.AcceptIDTokens)
	return j
}

// checkURL reports a URL that is not https; plain http is allowed only on a loopback host.
func (d *decoder) checkURL(f field) {
	u, err := url.Parse(f.raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		d.addf(f.node, f.path, "%q must be an https URL", truncate(f.raw, 80))
		return
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			d.addf(f.node, f.path, "%q must be https (plain http only on a loopback host)", truncate(f.raw, 80))
		}
	}
}

// claimPath reports whether s is a dotted path of claim names.
func claimPath(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, step := range strings.Split(s, ".") {
		if step == "" || strings.ContainsAny(step, " \t\"'") {
			return false
		}
	}
	return true
}

// authConfig anchors the keys file path.
func (r *resolver) authConfig(ra rawAuth) Auth {
	a := ra.auth
	a.KeysFile = r.path(ra.keysFile)
	return a
}
