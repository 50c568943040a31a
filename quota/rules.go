package quota

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/viewgate/viewgate/config"
)

// plan is a config.Plan compiled for lookups.
type plan struct {
	name    string
	classes map[Class]*classRules
}

// classRules are one class's four windows (tenant burst, tenant sustained, credential burst,
// credential sustained) and its concurrency cap.
type classRules struct {
	class       Class
	rules       [4]rule
	concurrency int
	rows        rule // export only: the tenant's rows per UTC day (limit 0: none)
}

// rule is one fixed window of one scope.
type rule struct {
	scope  string // ScopeTenant, ScopeCredential, or "client" (authentication failures)
	window string // WindowBurst, WindowSustained, or "auth"
	rate   config.Rate
	prefix string // the scope's part of a store key: t, c or ip
	label  string // the window's part of a store key, like b10s
	policy string // its RateLimit-Policy name, like search-tenant-burst
}

// compile builds the plans and assigns them to tenants.
func (l *Limiter) compile() error {
	for name, cp := range l.cfg.Plans {
		p := &plan{name: name, classes: map[Class]*classRules{}}
		for _, c := range Classes {
			cl, ok := cp[string(c)]
			if !ok {
				return fmt.Errorf("quota: plan %s has no limits for class %s", name, c)
			}
			p.classes[c] = compileClass(c, cl)
		}
		l.plans[name] = p
	}
	l.def = l.plans[l.cfg.DefaultPlan]
	if l.def == nil {
		return fmt.Errorf("quota: default plan %q is not defined", l.cfg.DefaultPlan)
	}
	for tenant, name := range l.cfg.Tenants {
		p := l.plans[name]
		if p == nil {
			return fmt.Errorf("quota: tenant %q has plan %q, which is not defined", tenant, name)
		}
		l.tenants[tenant] = p
	}
	l.auth = newRule("client", "auth", "auth", l.cfg.AuthFailures)
	if l.auth.rate.Limit < 1 || l.auth.rate.Window < time.Second {
		return fmt.Errorf("quota: auth_failures %s is not a positive rate", l.auth.rate)
	}
	return nil
}

func compileClass(c Class, cl config.ClassLimits) *classRules {
	cr := &classRules{class: c, concurrency: cl.Concurrency}
	cr.rules[0] = newRule(ScopeTenant, WindowBurst, string(c), cl.Tenant.Burst)
	cr.rules[1] = newRule(ScopeTenant, WindowSustained, string(c), cl.Tenant.Sustained)
	cr.rules[2] = newRule(ScopeCredential, WindowBurst, string(c), cl.Credential.Burst)
	cr.rules[3] = newRule(ScopeCredential, WindowSustained, string(c), cl.Credential.Sustained)
	if c == Export {
		cr.rows = newRule(ScopeTenant, WindowRows, string(c), config.Rate{Limit: cl.RowsPerDay, Window: rowsWindow})
	}
	return cr
}

func newRule(scope, window, name string, r config.Rate) rule {
	secs := int64(r.Window / time.Second)
	if secs < 1 {
		secs = 1
		r.Window = time.Second
	}
	prefix := map[string]string{ScopeTenant: "t", ScopeCredential: "c"}[scope]
	if prefix == "" {
		prefix = "ip"
	}
	return rule{scope: scope, window: window, rate: r, prefix: prefix,
		label:  window[:1] + strconv.FormatInt(secs, 10) + "s",
		policy: name + "-" + scope + "-" + window}
}

// planFor returns tenant's plan.
func (l *Limiter) planFor(tenant string) *plan {
	if p, ok := l.tenants[tenant]; ok {
		return p
	}
	return l.def
}

// slot is a rule's current window for one subject: its store key and when it ends.
type slot struct {
	class Class
	r     *rule
	key   string
	reset time.Time
}

// slotFor returns the window of r that contains now, for the scope id (tenant or credential).
//
// Windows are fixed and aligned to the Unix epoch, so every instance agrees on their boundaries
// whatever its start time; the window index is part of the key, so a new window starts from zero
// without waiting for the store to expire the old key.
func slotFor(class Class, r *rule, id string, now time.Time) slot {
	secs := int64(r.rate.Window / time.Second)
	idx := floorDiv(now.Unix(), secs)
	var b strings.Builder
	b.Grow(len(id) + len(class) + len(r.label) + 24)
	b.WriteString(r.prefix)
	b.WriteByte(':')
	b.WriteString(id)
	b.WriteByte(':')
	b.WriteString(string(class))
	b.WriteByte(':')
	b.WriteString(r.label)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(idx, 10))
	return slot{class: class, r: r, key: b.String(), reset: time.Unix((idx+1)*secs, 0)}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// slots returns the windows a request of class is charged to for s.
func (p *plan) slots(class Class, s Subject, now time.Time, dst []slot) []slot {
	cr := p.classes[class]
	if s.Tenant != "" {
		dst = append(dst, slotFor(class, &cr.rules[0], s.Tenant, now), slotFor(class, &cr.rules[1], s.Tenant, now))
	}
	if s.Credential != "" {
		dst = append(dst, slotFor(class, &cr.rules[2], s.Credential, now), slotFor(class, &cr.rules[3], s.Credential, now))
	}
	return dst
}

// ttl is how long the store keeps a window's counter: its window plus a grace for clock skew
// between instances; the window index in the key, not the expiry, starts the next window.
func (r *rule) ttl() time.Duration {
	return r.rate.Window + min(r.rate.Window, time.Minute)
}

// clientKey reduces a client address to what the authentication-failure limit counts: an IPv4
// address, or the /64 of an IPv6 one (one host usually holds a whole /64); anything else as given.
func clientKey(ip string) string {
	parsed := net.ParseIP(ip)
	switch {
	case parsed == nil:
		return ip
	case parsed.To4() != nil:
		return parsed.To4().String()
	}
	return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// retryAfter rounds the time until reset up to whole seconds, at least one.
func retryAfter(reset, now time.Time) time.Duration {
	d := reset.Sub(now)
	secs := (d + time.Second - 1) / time.Second
	return max(secs, 1) * time.Second
}
