package quota

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	limiter "github.com/ulule/limiter/v3"
)

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
				res, storeErr = s.redis.peek(ctx, slots)
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

// peek reads slots' counters in one MGET (a missing key is 0), less what this instance holds
// unspent in them.
func (b *redisBackend) peek(ctx context.Context, slots []slot) (batchResult, error) {
	keys := make([]string, len(slots))
	for i := range slots {
		keys[i] = b.opts.Prefix + ":" + slots[i].key
	}
	vals, err := b.client.MGet(ctx, keys...).Result()
	if err != nil {
		return batchResult{}, fmt.Errorf("peek counters: %w", err)
	}
	res := batchResult{counts: make([]int64, len(slots))}
	for i, v := range vals {
		if v == nil {
			continue
		}
		str, ok := v.(string)
		n, perr := strconv.ParseInt(str, 10, 64)
		if !ok || perr != nil {
			return batchResult{}, errors.New("peek counters: " + keys[i] + " is not an integer")
		}
		res.counts[i] = n
	}
	b.leases.unspent(slots, res.counts)
	return res, nil
}

// memBatch charges windows on the memory store: it increments every window by its cost and,
// when one of them is then over its limit, takes the charge back from all of them, so a refused
// request burns nothing and a window never admits more than its limit. One operation per window
// on the way through, where peeking first took two. Racing requests may instead refuse one another:
// a request finds the window spent by a charge that is being taken back. A refusal reports each
// window as its own increment found it (an overspent one as full), so the windows it reports are
// the ones that refused it, whatever other requests' refunds have done since. Without charge it
// only peeks.
func memBatch(ctx context.Context, st limiter.Store, slots []slot, costs []int64, charge bool) (batchResult, error) {
	res := batchResult{counts: make([]int64, len(slots))}
	if !charge {
		for i := range slots {
			lc, err := peek(ctx, st, &slots[i])
			if err != nil {
				return res, err
			}
			res.counts[i] = used(lc, slots[i].r.rate.Limit)
		}
		return res, nil
	}
	fits := true
	for i := range slots {
		lc, err := incr(ctx, st, &slots[i], costs[i])
		if err != nil {
			return res, err
		}
		res.counts[i] = used(lc, slots[i].r.rate.Limit) - costs[i] // what the window held before
		if lc.Reached {
			res.counts[i], fits = -1, false // overspent: ulule does not say by how much
		}
	}
	if fits {
		for i := range slots {
			res.counts[i] += costs[i]
		}
		res.charged = true
		return res, nil
	}
	for i := range slots {
		lc, err := incr(ctx, st, &slots[i], -costs[i])
		if err != nil {
			return res, err
		}
		if limit := slots[i].r.rate.Limit; res.counts[i] < 0 {
			// What the window holds once the charge is back, but never so little that the
			// cost would fit: this window refused it, whatever racing refunds did since.
			res.counts[i] = max(used(lc, limit), limit-costs[i]+1)
		}
	}
	return res, nil
}

// used recovers a window's count from ulule's answer, which reports only what remains (an
// overspent window reads as exactly full).
func used(lc limiter.Context, limit int64) int64 {
	return limit - max(lc.Remaining, 0)
}
