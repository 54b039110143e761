package cache

import (
	"context"
	"sync/atomic"
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

// Freshness describes the answer of one exchange for callers that keep it
// in another form (ready-packed replies): whether the cache keeps it at all,
// until when it answers the same (its entry expires, or with prefetch its
// prefetch window opens), and how its TTLs were counted down: from the
// entry's stored time, by Age whole seconds. Current tells whether the
// cache still holds that entry: an evicted or replaced one no longer
// answers the same.
type Freshness struct {
	Kept   bool
	Until  time.Time
	Stored time.Time
	Age    uint32
	gone   *atomic.Bool // the entry's; nil when not kept
}

// Current reports whether the cache still holds the entry f describes.
func (f *Freshness) Current() bool {
	return f.gone != nil && !f.gone.Load()
}

// WithFreshness returns a context in which each exchange through the cache
// overwrites *f with the Freshness of its answer. Exchanges that do not go
// through a cache leave *f alone.
func WithFreshness(ctx context.Context, f *Freshness) context.Context {
	return context.WithValue(ctx, freshKey{}, f)
}

func noteFresh(ctx context.Context, f Freshness) {
	if p, _ := ctx.Value(freshKey{}).(*Freshness); p != nil {
		*p = f
	}
}

// ErrNotCached is the error of an exchange made with OnlyCached that the
// cache could not answer, fresh or stale, without asking an upstream.
var ErrNotCached error = notCached{}

type notCached struct{}

func (notCached) Error() string  { return "not in the cache, and no upstream may be asked now" }
func (notCached) Fleeting() bool { return true }

type onlyCachedKey struct{}

// OnlyCached returns a context in which exchanges through the cache answer
// only from it (fresh, else stale when serve-stale allows) and fail with
// ErrNotCached otherwise, at once: for a server too busy to wait on an
// upstream. No refresh or prefetch is started.
func OnlyCached(ctx context.Context) context.Context {
	return context.WithValue(ctx, onlyCachedKey{}, true)
}

func onlyCached(ctx context.Context) bool {
	held, _ := ctx.Value(onlyCachedKey{}).(bool)
	return held
}

// Cached reports that exchanges through r honour OnlyCached (an
// Exchanger without this method would ask its upstream).
func (r *routed) Cached() bool { return true }
