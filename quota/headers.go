package quota

import (
	"net/http"
	"strconv"
	"time"
)

// The RateLimit-Policy and RateLimit fields' names as net/http canonicalizes them: spelled so,
// setting or looking them up costs no allocation.
const (
	PolicyHeader = "Ratelimit-Policy"
	StateHeader  = "Ratelimit"
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
	// Both values in one string (every answer carries them): the policy, then the state,
	// which repeats the policy's quoted names from where names says they are in b.
	b := make([]byte, 0, 96*len(d.Windows))
	names := make([][2]int, len(d.Windows))
	for i, w := range d.Windows {
		if i > 0 {
			b = append(b, ", "...)
		}
		names[i][0] = len(b)
		b = strconv.AppendQuote(b, string(w.Class)+"-"+w.Scope+"-"+w.Window)
		names[i][1] = len(b)
		b = strconv.AppendInt(append(b, ";q="...), w.Limit, 10)
		b = strconv.AppendInt(append(b, ";w="...), int64(w.Period/time.Second), 10)
	}
	cut := len(b)
	for i, w := range d.Windows {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, b[names[i][0]:names[i][1]]...)
		b = strconv.AppendInt(append(b, ";r="...), w.Remaining, 10)
		b = strconv.AppendInt(append(b, ";t="...), int64(retryAfter(w.ResetAt, d.at)/time.Second), 10)
	}
	all := string(b)
	h.Set(PolicyHeader, all[:cut])
	h.Set(StateHeader, all[cut:])
}
