package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FailureLog logs authentication failures with their reason, rate-limited per reason by a token
// bucket, so a flood of bad credentials cannot fill the disk: what is dropped is counted and
// reported as "suppressed" on the next line logged for that reason.
type FailureLog struct {
	log   *slog.Logger
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket // by reason; reasons are a closed set, so the map stays small
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int
}

// NewFailureLog returns a log that writes at most burst lines at once per reason, refilled by one
// line per every; now may be nil (time.Now).
func NewFailureLog(log *slog.Logger, burst int, every time.Duration, now func() time.Time) *FailureLog {
	if now == nil {
		now = time.Now
	}
	return &FailureLog{log: log, burst: float64(burst), every: every, now: now, buckets: map[string]*bucket{}}
}

// Failed logs one authentication failure (never the credential itself), unless the reason's budget
// is spent.
func (f *FailureLog) Failed(ctx context.Context, err error, remote string) {
	reason := Reason(err)
	suppressed, ok := f.take(reason)
	if !ok {
		return
	}
	attrs := []slog.Attr{slog.String("reason", reason), slog.String("error", err.Error()), slog.String("remote", remote)}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	f.log.LogAttrs(ctx, slog.LevelWarn, "authentication failed", attrs...)
}

// take spends a token of reason's bucket; it returns how many lines were suppressed since the last
// one logged, and false when this one must be suppressed too.
func (f *FailureLog) take(reason string) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	b := f.buckets[reason]
	if b == nil {
		b = &bucket{tokens: f.burst, last: now}
		f.buckets[reason] = b
	}
	if f.every > 0 {
		b.tokens = min(f.burst, b.tokens+float64(now.Sub(b.last))/float64(f.every))
	}
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		return 0, false
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return n, true
}
