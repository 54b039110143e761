package upstream

import (
	"context"

	"github.com/privdns/privdns/resolver/report"
)

// noteAnswerer records which target answered into the query's Report (for
// query logs); without one nothing is recorded.
func noteAnswerer(ctx context.Context, target string) {
	if r := report.From(ctx); r != nil {
		r.Answerer = target
	}
}
