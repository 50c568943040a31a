package quota

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseDivisor sets how much of a window's limit an instance reserves in Redis at a time: a
// 64th, on top of what the request needs. A request then spends from what its instance reserved
// and goes to Redis only when that runs out, so a window that is far from its limit costs one round
// trip per limit/64 units instead of one per request. What instances hold and have not spent is
// counted as used, so a window can refuse early by up to limit/64 per instance; it never admits
// more than its limit. A window whose limit is under 64 reserves exactly what each request needs:
// every charge is a round trip, as without leases.
const leaseDivisor = 64

// reserveScript reserves units in windows for an instance: per key, ARGV holds need, want, limit
// and TTL in milliseconds. When every window has room for its need, each is incremented by what it
// can give up to want (at least need); otherwise nothing is. It returns {fits, count1, grant1, ...}
// with each window's count after the increment (or as found). Counters are the same integer keys
// the limiter's Redis store uses.
var reserveScript = redis.NewScript(`
local counts, fits = {}, 1
for i, key in ipairs(KEYS) do
	local base = (i - 1) * 4
	counts[i] = tonumber(redis.call("GET", key) or "0")
	if counts[i] + tonumber(ARGV[base + 1]) > tonumber(ARGV[base + 3]) then fits = 0 end
end
local out = {fits}
for i, key in ipairs(KEYS) do
	local base = (i - 1) * 4
	local grant = 0
	if fits == 1 then
		grant = math.min(tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]) - counts[i])
		counts[i] = redis.call("INCRBY", key, grant)
		if counts[i] == grant then redis.call("PEXPIRE", key, ARGV[base + 4]) end
	end
	table.insert(out, counts[i])
	table.insert(out, grant)
end
return out
`)

// lease is what an instance reserved in one window and has not spent yet.
type lease struct {
	left  int64     // reserved, not yet spent
	count int64     // the window's count in Redis as last seen (everything reserved included)
	reset time.Time // when the window ends
}

// used is what the window has used as this instance knows it: everything reserved by every
// instance as of the last reservation, less what this one still holds.
func (l *lease) used() int64 { return l.count - l.left }

// leases are an instance's reservations, by window key.
type leases struct {
	now      func() time.Time // the limiter's clock
	mu       sync.Mutex
	m        map[string]*lease
	sweepLen int // sweep ended windows when the map grows past this
}

// get returns key's lease, creating it; the caller holds mu.
func (ls *leases) get(key string, reset time.Time) *lease {
	if l, ok := ls.m[key]; ok {
		return l
	}
	if ls.m == nil {
		ls.m = make(map[string]*lease)
	}
	if len(ls.m) >= ls.sweepLen {
		ls.sweep(ls.now())
		ls.sweepLen = max(2*len(ls.m), 1024)
	}
	l := &lease{reset: reset}
	ls.m[key] = l
	return l
}

// unspent takes what this instance holds unspent in each window out of counts, read from Redis,
// so that a window's state shows what was spent, less only what other instances hold.
func (ls *leases) unspent(slots []slot, counts []int64) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for i := range slots {
		if l, ok := ls.m[slots[i].key]; ok {
			l.count = max(l.count, counts[i])
			counts[i] -= l.left
		}
	}
}

// sweep forgets the leases of windows that have ended (their keys are never used again); the
// caller holds mu.
func (ls *leases) sweep(now time.Time) {
	for k, l := range ls.m {
		if !l.reset.After(now) {
			delete(ls.m, k)
		}
	}
}

// leasedBatch charges a request's windows from this instance's leases, reserving more in Redis,
// in one round trip for all the windows short of their cost, only when a lease runs short. A
// request refused by Redis (or failing there) gives back what it took from the leases, so it burns
// nothing.
func (b *redisBackend) leasedBatch(ctx context.Context, slots []slot, costs []int64) (batchResult, error) {
	res := batchResult{counts: make([]int64, len(slots))}
	took := make([]int64, len(slots))
	var short []int
	b.leases.mu.Lock()
	for i := range slots {
		l := b.leases.get(slots[i].key, slots[i].reset)
		took[i] = min(l.left, costs[i])
		l.left -= took[i]
		if took[i] < costs[i] {
			short = append(short, i)
		}
	}
	if len(short) == 0 {
		b.fill(res.counts, slots)
		b.leases.mu.Unlock()
		res.charged = true
		return res, nil
	}
	b.leases.mu.Unlock()

	vals, err := b.reserve(ctx, slots, costs, took, short)
	b.leases.mu.Lock()
	defer b.leases.mu.Unlock()
	fits := err == nil && vals[0] == 1
	for j, i := range short {
		if err != nil {
			break
		}
		l := b.leases.get(slots[i].key, slots[i].reset)
		l.count = max(l.count, vals[1+2*j])
		if fits {
			l.left += vals[2+2*j] - (costs[i] - took[i])
		}
	}
	if !fits {
		for i := range slots {
			b.leases.get(slots[i].key, slots[i].reset).left += took[i]
		}
	}
	if err != nil {
		return batchResult{}, err
	}
	if !fits && b.takeAll(slots, costs) {
		fits = true // a concurrent reservation refilled the leases meanwhile
	}
	b.fill(res.counts, slots)
	if !fits {
		// Redis's own count for the windows it refused, so the refusal names one of them.
		for j, i := range short {
			res.counts[i] = vals[1+2*j]
		}
	}
	res.charged = fits
	return res, nil
}

// takeAll spends costs from the leases if every window's has enough, else takes nothing; the
// caller holds leases.mu.
func (b *redisBackend) takeAll(slots []slot, costs []int64) bool {
	for i := range slots {
		if b.leases.get(slots[i].key, slots[i].reset).left < costs[i] {
			return false
		}
	}
	for i := range slots {
		b.leases.get(slots[i].key, slots[i].reset).left -= costs[i]
	}
	return true
}

// fill sets each window's count as this instance knows it; the caller holds leases.mu.
func (b *redisBackend) fill(counts []int64, slots []slot) {
	for i := range slots {
		counts[i] = b.leases.get(slots[i].key, slots[i].reset).used()
	}
}

// reserve runs reserveScript for the windows in short, each needing its cost less what the
// request took from its lease, and wanting a 64th of its limit more.
func (b *redisBackend) reserve(ctx context.Context, slots []slot, costs, took []int64, short []int) ([]int64, error) {
	keys := make([]string, len(short))
	args := make([]any, 0, 4*len(short))
	for j, i := range short {
		need, limit := costs[i]-took[i], slots[i].r.rate.Limit
		keys[j] = b.opts.Prefix + ":" + slots[i].key
		args = append(args, need, need+limit/leaseDivisor, limit, slots[i].r.ttl().Milliseconds())
	}
	vals, err := reserveScript.Run(ctx, b.client, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("reserve script: %w", err)
	}
	if len(vals) != 1+2*len(short) {
		return nil, errors.New("reserve script: got " + strconv.Itoa(len(vals)) + " values")
	}
	return vals, nil
}
