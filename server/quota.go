package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/plan"
	"github.com/viewgate/viewgate/quota"
)

// Quota charges requests to their tenant's and credential's budgets, caps the concurrent
// requests of expensive classes, and limits authentication failures per client (*quota.Limiter).
type Quota interface {
	Charge(ctx context.Context, s quota.Subject, costs map[quota.Class]int64) (*quota.Decision, error)
	Acquire(ctx context.Context, s quota.Subject, c quota.Class) (release func(), err error)
	AuthBlocked(ctx context.Context, ip string) (*quota.ExceededError, error)
	AuthFailed(ctx context.Context, ip string)
}

// capped are the classes whose concurrent requests per tenant are capped.
var capped = []plan.Class{plan.Report, plan.Export}

// charge takes a slot of every capped class the plan uses, then charges the plan's cost per
// class before anything runs, so that a request refused by a cap or a window burns nothing, and
// sets the RateLimit headers from the decision; release gives the slots back.
func (h *graphqlHandler) charge(ctx context.Context, w http.ResponseWriter, pl *plan.Plan) (release func(), d *quota.Decision, err error) {
	release = func() {}
	if h.o.Quota == nil {
		return release, nil, nil
	}
	s := subject(auth.FromContext(ctx))
	costs := map[quota.Class]int64{}
	for c, n := range pl.CostByClass() {
		costs[quota.Class(c)] = int64(n)
	}
	var held []func()
	release = func() {
		for _, r := range held {
			r()
		}
	}
	for _, c := range capped {
		if costs[quota.Class(c)] == 0 {
			continue
		}
		r, err := h.o.Quota.Acquire(ctx, s, quota.Class(c))
		if err != nil {
			release()
			logDecision(ctx, pl, nil, err)
			return func() {}, nil, err
		}
		held = append(held, r)
	}
	d, err = h.o.Quota.Charge(ctx, s, costs)
	d.SetHeaders(w.Header())
	logDecision(ctx, pl, d, err)
	if err != nil {
		release()
		return func() {}, d, err
	}
	return release, d, nil
}

// rateHeaders sets the RateLimit headers of a request refused before its charge (a bad
// document, say), from a free charge, so that every answer to a principal carries them.
func (h *graphqlHandler) rateHeaders(ctx context.Context, w http.ResponseWriter) {
	if h.o.Quota == nil || w.Header().Get(quota.StateHeader) != "" {
		return
	}
	if who := auth.FromContext(ctx); who != nil {
		d, _ := h.o.Quota.Charge(ctx, subject(who), nil)
		d.SetHeaders(w.Header())
	}
}

func subject(who *auth.Principal) quota.Subject {
	return quota.Subject{Tenant: who.Tenant, Credential: who.CredentialID}
}

// logDecision adds the quota decision to the access log line: the outcome and what is left of
// the request's class, never a key.
func logDecision(ctx context.Context, pl *plan.Plan, d *quota.Decision, err error) {
	outcome := "allowed"
	switch {
	case err != nil:
		outcome = string(classify(err).code)
	case d != nil && d.FellBack:
		outcome = "allowed_local"
	}
	attrs := []slog.Attr{slog.String("quota", outcome)}
	if d != nil {
		if left := d.Remaining(quota.Class(pl.Class())); left >= 0 {
			attrs = append(attrs, slog.Int64("quotaRemaining", left))
		}
	}
	SetLogAttrs(ctx, attrs...)
}

// clientIP is the address the authentication-failure limit counts: the connection's peer
// (viewgate does not trust forwarding headers).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
