package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/quota"
	"github.com/viewgate/viewgate/schema"
)

// Quota is what the rateLimit field reads: the caller's windows, without charging (*quota.Limiter).
type Quota interface {
	Status(ctx context.Context, s quota.Subject) ([]quota.ClassStatus, error)
}

// RateLimit returns the resolver of the free rateLimit root field: every class's windows for the
// caller's tenant and credential, as maps graphql-go completes.
func (r *Resolvers) RateLimit() graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		who := auth.FromContext(p.Context)
		if who == nil {
			return nil, ErrUnauthenticated
		}
		out := map[string]any{schema.RateLimitEnabled: r.o.Quota != nil, schema.RateLimitClasses: []any{}}
		if r.o.Quota == nil {
			return out, nil
		}
		st, err := r.o.Quota.Status(p.Context, quota.Subject{Tenant: who.Tenant, Credential: who.CredentialID})
		if err != nil {
			return nil, fmt.Errorf("rate limit status: %w", err)
		}
		classes := make([]any, len(st))
		for i, c := range st {
			windows := make([]any, len(c.Windows))
			for j, w := range c.Windows {
				windows[j] = map[string]any{
					"scope": w.Scope, "window": w.Window, "limit": int(w.Limit), "remaining": int(w.Remaining),
					"seconds": int(w.Period / time.Second), "resetAt": w.ResetAt.UTC().Format(time.RFC3339),
				}
			}
			classes[i] = map[string]any{"class": string(c.Class), "windows": windows, "concurrency": c.Concurrency, "inFlight": c.InFlight}
		}
		out[schema.RateLimitClasses] = classes
		return out, nil
	}
}
