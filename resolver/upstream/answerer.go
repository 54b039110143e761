package upstream

import "context"

type answererKey struct{}

// WithAnswerer returns a context in which a Group's Exchange records in
// *target which target answered (for query logs). Without it nothing is
// recorded.
func WithAnswerer(ctx context.Context, target *string) context.Context {
	return context.WithValue(ctx, answererKey{}, target)
}

func noteAnswerer(ctx context.Context, target string) {
	if p, _ := ctx.Value(answererKey{}).(*string); p != nil {
		*p = target
	}
}
