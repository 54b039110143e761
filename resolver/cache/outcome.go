package cache

import (
	"context"
	"time"
)

// Outcome says how the cache answered one exchange, for query logs.
type Outcome uint8

const (
	Miss  Outcome = iota // asked the next exchanger (or failed)
	Hit                  // answered from a fresh entry
	Stale                // answered from an expired entry (RFC 8767)
)

type outcomeKey struct{}

// WithOutcome returns a context in which exchanges through the cache
// record their Outcome in *o. Without it nothing is recorded.
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

func note(ctx context.Context, o Outcome) {
	if p, _ := ctx.Value(outcomeKey{}).(*Outcome); p != nil {
		*p = o
	}
}

type freshKey struct{}

// WithFreshness returns a context in which exchanges through the cache
// lower *d to how long their answer stays as it is: until its entry
// expires or, with prefetch, until the entry's prefetch window opens. An
// answer that is not kept (stale, uncacheable, failed) sets it to 0. Set
// *d below 0 before the first exchange.
func WithFreshness(ctx context.Context, d *time.Duration) context.Context {
	return context.WithValue(ctx, freshKey{}, d)
}

func noteFresh(ctx context.Context, d time.Duration) {
	if p, _ := ctx.Value(freshKey{}).(*time.Duration); p != nil && (*p < 0 || d < *p) {
		*p = max(d, 0)
	}
}
