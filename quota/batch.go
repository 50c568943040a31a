package quota

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	limiter "github.com/ulule/limiter/v3"
)

// chargeScript peeks at every window of a request and, when ARGV[1] is 1 and the request fits in
// all of them, increments each by its cost; it returns {fits, count...} with the counts after the
// increments (or as they were). Per key, ARGV holds cost, limit and TTL in milliseconds. Counters
// are the same integer keys the limiter's Redis store reads and writes (INCRBY, then PEXPIRE on
// creation), so Status and the authentication-failure limit see them.
var chargeScript = redis.NewScript(`
local counts, fits = {}, 1
for i, key in ipairs(KEYS) do
	local base = 2 + (i - 1) * 3
	counts[i] = tonumber(redis.call("GET", key) or "0")
	if counts[i] + tonumber(ARGV[base]) > tonumber(ARGV[base + 1]) then fits = 0 end
end
if ARGV[1] == "1" and fits == 1 then
	for i, key in ipairs(KEYS) do
		local base = 2 + (i - 1) * 3
		local cost = tonumber(ARGV[base])
		counts[i] = redis.call("INCRBY", key, cost)
		if counts[i] == cost then redis.call("PEXPIRE", key, ARGV[base + 2]) end
	end
end
table.insert(counts, 1, fits)
return counts
`)

// batchResult is what a store says about a request's windows.
type batchResult struct {
	counts  []int64 // used in each window: after the charge when charged, else as found
	charged bool
}

// batch peeks at slots and, when charge is set and every window has room for its cost, charges
// them all: on Redis from this instance's leases, reserving more in one atomic script when they
// run short (no overshoot between instances), else on local memory. Redis failures fall back as in run.
func (s *stores) batch(ctx context.Context, slots []slot, costs []int64, charge bool) (res batchResult, fellBack bool, storeErr, err error) {
	if s.redis != nil {
		storeErr = errRedisDown
		if s.redis.allow() {
			if charge {
				res, storeErr = s.redis.leasedBatch(ctx, slots, costs)
			} else {
				res, storeErr = s.redis.batch(ctx, slots, costs, false)
			}
			if storeErr == nil {
				s.redis.ok()
				return res, false, nil, nil
			}
			if ctx.Err() != nil {
				return res, false, nil, ctx.Err()
			}
			s.redis.failed(storeErr)
		}
		if s.failClosed {
			return res, false, storeErr, &UnavailableError{RetryAfter: retryAfter(time.Now().Add(s.redis.retry), time.Now()), Err: storeErr}
		}
		fellBack = true
	}
	res, err = memBatch(ctx, s.local, slots, costs, charge)
	return res, fellBack, storeErr, err
}

// batch runs chargeScript.
func (b *redisBackend) batch(ctx context.Context, slots []slot, costs []int64, charge bool) (batchResult, error) {
	keys := make([]string, len(slots))
	args := make([]any, 1, 1+3*len(slots))
	args[0] = "0"
	if charge {
		args[0] = "1"
	}
	for i := range slots {
		keys[i] = b.opts.Prefix + ":" + slots[i].key
		args = append(args, costs[i], slots[i].r.rate.Limit, slots[i].r.ttl().Milliseconds())
	}
	vals, err := chargeScript.Run(ctx, b.client, keys, args...).Int64Slice()
	if err != nil {
		return batchResult{}, fmt.Errorf("charge script: %w", err)
	}
	if len(vals) != len(slots)+1 {
		return batchResult{}, errors.New("charge script: got " + strconv.Itoa(len(vals)) + " values")
	}
	res := batchResult{counts: vals[1:], charged: charge && vals[0] == 1}
	b.leases.unspent(slots, res.counts)
	return res, nil
}

// memBatch does what chargeScript does on the memory store, one window at a time: racing requests
// may each find room and overshoot a window by their combined cost.
func memBatch(ctx context.Context, st limiter.Store, slots []slot, costs []int64, charge bool) (batchResult, error) {
	res := batchResult{counts: make([]int64, len(slots))}
	fits := true
	for i := range slots {
		lc, err := peek(ctx, st, &slots[i])
		if err != nil {
			return res, err
		}
		res.counts[i] = used(lc, slots[i].r.rate.Limit)
		fits = fits && res.counts[i]+costs[i] <= slots[i].r.rate.Limit
	}
	if !charge || !fits {
		return res, nil
	}
	for i := range slots {
		lc, err := incr(ctx, st, &slots[i], costs[i])
		if err != nil {
			return res, err
		}
		res.counts[i] = used(lc, slots[i].r.rate.Limit)
	}
	res.charged = true
	return res, nil
}

// used recovers a window's count from ulule's answer, which reports only what remains (an
// overspent window reads as exactly full).
func used(lc limiter.Context, limit int64) int64 {
	return limit - max(lc.Remaining, 0)
}
