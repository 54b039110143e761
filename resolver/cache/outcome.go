package cache

import "context"

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
