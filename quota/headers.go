package quota

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SetHeaders writes the decision's windows as the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers-10 (September 2025), structured-field lists with one item
// per class, scope and window:
//
//	RateLimit-Policy: "search-tenant-burst";q=60;w=10, "search-tenant-sustained";q=6000;w=3600, ...
//	RateLimit: "search-tenant-burst";r=42;t=7, "search-tenant-sustained";r=5900;t=1800, ...
//
// q and r are in cost units, not requests (the draft's registry has no unit for that, so qu is left
// out); w is the window and t the seconds until it resets, at least 1. A decision without windows
// (quotas off) writes nothing. Retry-After on a 429 is the HTTP layer's, from ExceededError.RetryAfter.
func (d *Decision) SetHeaders(h http.Header) {
	if d == nil || len(d.Windows) == 0 {
		return
	}
	var policy, state strings.Builder
	for i, w := range d.Windows {
		if i > 0 {
			policy.WriteString(", ")
			state.WriteString(", ")
		}
		name := strconv.Quote(string(w.Class) + "-" + w.Scope + "-" + w.Window)
		policy.WriteString(name)
		policy.WriteString(";q=")
		policy.WriteString(strconv.FormatInt(w.Limit, 10))
		policy.WriteString(";w=")
		policy.WriteString(strconv.FormatInt(int64(w.Period/time.Second), 10))
		state.WriteString(name)
		state.WriteString(";r=")
		state.WriteString(strconv.FormatInt(w.Remaining, 10))
		state.WriteString(";t=")
		state.WriteString(strconv.FormatInt(int64(retryAfter(w.ResetAt, d.at)/time.Second), 10))
	}
	h.Set("RateLimit-Policy", policy.String())
	h.Set("RateLimit", state.String())
}
