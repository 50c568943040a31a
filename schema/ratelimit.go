package schema

import "github.com/graphql-go/graphql"

// RateLimitField is the free root field that tells callers what is left of their quotas.
const RateLimitField = "rateLimit"

// The RateLimit type's fields, as the resolver's maps key them.
const (
	RateLimitEnabled = "enabled" // bool
	RateLimitClasses = "classes" // []map[string]any with the RateLimitClass keys below
)

// rateLimit returns the rateLimit root field: per class, its windows for the caller's tenant and
// credential, and its concurrency cap.
func (b *builder) rateLimit(resolve graphql.FieldResolveFn) *graphql.Field {
	window := graphql.NewObject(graphql.ObjectConfig{
		Name:        "RateLimitWindow",
		Description: "One fixed window of a class's quota, aligned to the Unix epoch.",
		Fields: graphql.Fields{
			"scope":     {Type: graphql.NewNonNull(graphql.String), Description: "tenant (shared by the tenant's credentials) or credential."},
			"window":    {Type: graphql.NewNonNull(graphql.String), Description: "burst (seconds) or sustained (hours)."},
			"limit":     {Type: graphql.NewNonNull(graphql.Int), Description: "Cost units per window."},
			"remaining": {Type: graphql.NewNonNull(graphql.Int), Description: "Cost units left in the current window."},
			"seconds":   {Type: graphql.NewNonNull(graphql.Int), Description: "The window's length in seconds."},
			"resetAt":   {Type: graphql.NewNonNull(b.s.dateTime), Description: "When the current window ends."},
		},
	})
	class := graphql.NewObject(graphql.ObjectConfig{
		Name:        "RateLimitClass",
		Description: "The quota of one class of request.",
		Fields: graphql.Fields{
			"class":       {Type: graphql.NewNonNull(graphql.String), Description: "lookup, search (a search argument or a text-matching filter), report (aggregates) or export."},
			"windows":     {Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(window)))},
			"concurrency": {Type: graphql.NewNonNull(graphql.Int), Description: "Requests of this class the tenant may run at once on one server; 0: no cap."},
			"inFlight":    {Type: graphql.NewNonNull(graphql.Int), Description: "Of those, running now on this server."},
		},
	})
	typ := graphql.NewObject(graphql.ObjectConfig{
		Name:        "RateLimit",
		Description: "What is left of your quotas. Asking costs nothing.",
		Fields: graphql.Fields{
			RateLimitEnabled: {Type: graphql.NewNonNull(graphql.Boolean), Description: "false when the server enforces no quotas."},
			RateLimitClasses: {Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(class)))},
		},
	})
	return &graphql.Field{Type: graphql.NewNonNull(typ), Resolve: resolve,
		Description: "What is left of your quotas, per class and window; free (it costs nothing and is not charged)."}
}
