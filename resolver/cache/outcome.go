package cache

import (
	"context"

	"github.com/privdns/privdns/resolver/report"
)

// note records how the cache answered into the query's Report, if any.
func note(ctx context.Context, o report.Outcome) {
	if r := report.From(ctx); r != nil {
		r.Cache = o
	}
}

// noteFresh records the Freshness of the answer into the query's Report.
func noteFresh(ctx context.Context, f report.Freshness) {
	if r := report.From(ctx); r != nil {
		r.Fresh = f
	}
}

// noteAnswerer passes on which upstream target answered a refresh the
// query waited for: the refresh itself ran detached from the query.
func noteAnswerer(ctx context.Context, target string) {
	if r := report.From(ctx); r != nil {
		r.Answerer = target
	}
}

// ErrNotCached is the error of an exchange that may not wait on an
// upstream (report.Wait: the server asked for cached answers only, or too
// many queries wait already) and that the cache could not answer, fresh or
// stale.
var ErrNotCached error = notCached{}

type notCached struct{}

func (notCached) Error() string  { return "not in the cache, and no upstream may be asked now" }
func (notCached) Fleeting() bool { return true }

// Cached reports that exchanges through r ask report.Wait before waiting
// on an upstream (an Exchanger without this method would ask its upstream).
func (r *routed) Cached() bool { return true }
