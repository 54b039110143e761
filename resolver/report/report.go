// Package report defines the one value a client query's context carries
// down the public path: a *Report, which the server hands in and the cache
// and the upstream groups fill in as they answer (how the cache answered,
// how long its answer holds, which target answered), and which tells them
// when the server is too busy to wait on an upstream.
//
// Sharp edge: a Report belongs to one query and is written only while that
// query waits on the exchange. Work that outlives the query (a refresh the
// query does not wait for, a prefetch) must run on Detach(ctx), never on
// ctx itself, or it would write into a Report that the query's log is
// already reading.
package report

import (
	"context"
	"sync/atomic"
	"time"
)

// Report is what one client query learns about its public exchanges. The
// zero value records nothing special: no cache seen, nobody answered.
type Report struct {
	// OnlyCached (set by the server) asks every cache on the way to answer
	// from what it holds, fresh or stale, and to fail at once otherwise:
	// the listener is full and no upstream may be waited on.
	OnlyCached bool

	// Set by the cache for the last exchange that went through one.
	Cache Outcome
	Fresh Freshness

	// Answerer (set by an upstream group) is the target that answered
	// the last exchange, "" when none did.
	Answerer string

	// Budget (set by the server) bounds the upstream exchanges the query
	// may cause (R11 upstreamQueriesPerQuery); nil: unbounded.
	Budget *Budget

	// Gate (set by the server) bounds the client queries waiting on
	// upstreams at once, server-wide (R11 inFlight); nil: unbounded. The
	// query takes its place in it on its first wait (Wait) and keeps it
	// until the server calls Release.
	Gate *Gate

	waiting bool // holds a place in Gate
	refused bool // a wait was refused: OnlyCached, or Gate full
}

// Gate counts the client queries waiting on upstreams at once, against a
// maximum that a reload may change. Safe for concurrent use; the zero
// value admits nobody until SetMax.
type Gate struct{ n, max atomic.Int64 }

// NewGate returns a gate that admits max queries at once.
func NewGate(max int) *Gate {
	g := &Gate{}
	g.SetMax(max)
	return g
}

// SetMax changes how many queries may wait at once; queries already
// waiting keep their place.
func (g *Gate) SetMax(max int) { g.max.Store(int64(max)) }

// Waiting returns how many queries hold a place now.
func (g *Gate) Waiting() int { return int(g.n.Load()) }

func (g *Gate) enter() bool {
	if g.n.Add(1) > g.max.Load() {
		g.n.Add(-1)
		return false
	}
	return true
}

// Wait reports whether the query of ctx may wait on an upstream now: not
// when the server asked for cached answers only (OnlyCached), nor when its
// Gate is full. Its first successful call takes the query's place in the
// Gate; a refusal is remembered (Refused). Without a Report it is always
// true. Only the query's own goroutine may call it (see the package doc).
func Wait(ctx context.Context) bool {
	r := From(ctx)
	switch {
	case r == nil || r.waiting:
		return true
	case r.OnlyCached || (r.Gate != nil && !r.Gate.enter()):
		r.refused = true
		return false
	}
	r.waiting = r.Gate != nil
	return true
}

// Release gives back the Report's place in its Gate, if it holds one: the
// query no longer waits. The server calls it once the query is answered.
func (r *Report) Release() {
	if r.waiting {
		r.waiting = false
		r.Gate.n.Add(-1)
	}
}

// Refused reports whether a wait on an upstream was refused to the query:
// it was answered from what needs none, or SERVFAIL.
func (r *Report) Refused() bool { return r.refused }

// Budget is what one client query may still send upstream: every
// exchange it causes spends one (chain hops, fallbacks, retries over TCP
// or without EDNS, refreshes it waits for), prefetches and health probes
// none. Safe for concurrent use.
type Budget struct{ left atomic.Int64 }

// NewBudget returns a budget of n exchanges.
func NewBudget(n int) *Budget {
	b := &Budget{}
	b.Set(n)
	return b
}

// Set makes b a budget of n exchanges (for a Budget held in a larger
// struct, without an allocation of its own).
func (b *Budget) Set(n int) { b.left.Store(int64(n)) }

// Spend takes one exchange from b and reports whether there was one; a
// nil Budget always has one.
func (b *Budget) Spend() bool { return b == nil || b.left.Add(-1) >= 0 }

// Spend takes one exchange from the budget of ctx's Report, if any.
func Spend(ctx context.Context) bool {
	r := From(ctx)
	return r == nil || r.Budget.Spend()
}

// Outcome says how the cache answered one exchange, for query logs.
type Outcome uint8

const (
	Miss  Outcome = iota // asked the next exchanger (or failed)
	Hit                  // answered from a fresh entry
	Stale                // answered from an expired entry (RFC 8767)
)

// Freshness describes the answer of one exchange for callers that keep it
// in another form (ready-packed replies): whether the cache keeps it at
// all, until when it answers the same (its entry expires, or with prefetch
// its prefetch window opens), and how its TTLs were counted down: from the
// entry's stored time, by Age whole seconds. Current tells whether the
// cache still holds that entry: an evicted or replaced one no longer
// answers the same.
type Freshness struct {
	Kept   bool
	Until  time.Time
	Stored time.Time
	Age    uint32
	gen    *atomic.Uint64 // the generation of the entry's slot; nil when not kept
	at     uint64         // its value for this entry
}

// Kept returns the Freshness of an answer from a cache entry that
// holds until until, was stored at stored and has aged age seconds. gen
// counts the entries the cache's slot for it has held, at being this
// one's: the cache bumps it when it evicts or replaces the entry.
func Kept(until, stored time.Time, age uint32, gen *atomic.Uint64, at uint64) Freshness {
	return Freshness{Kept: true, Until: until, Stored: stored, Age: age, gen: gen, at: at}
}

// Current reports whether the cache still holds the entry f describes.
func (f *Freshness) Current() bool {
	return f.gen != nil && f.gen.Load() == f.at
}

type key struct{}

// With returns a context carrying r for the exchanges made with it.
func With(ctx context.Context, r *Report) context.Context {
	return context.WithValue(ctx, key{}, r)
}

// From returns the Report of ctx, or nil when it carries none.
func From(ctx context.Context) *Report {
	r, _ := ctx.Value(key{}).(*Report)
	return r
}

// OnlyCached reports whether ctx's Report asks for cached answers only.
func OnlyCached(ctx context.Context) bool {
	r := From(ctx)
	return r != nil && r.OnlyCached
}

// Detach returns a context for work that outlives the query of ctx: it is
// never cancelled with ctx and carries no Report, so nothing it does is
// recorded into the query's.
func Detach(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), key{}, (*Report)(nil))
}

// Detached is a context for work that outlives the query of its parent but
// reports into a Report of its own, Report: it is never canceled, has no
// deadline unless given one (SetDeadline), and carries the parent's values
// but Report in place of the parent's. It is what context.WithoutCancel
// and With make, in one value that can be part of a larger object (a
// cache's refresh makes one per cold miss). Use it by pointer, after Init.
// With a deadline it ends then, its timer armed only once something
// waits for it (as Query's); End stops that.
type Detached struct {
	parent context.Context
	Report Report
	end    ending // end.deadline zero: none
}

// Init makes d a context detached from parent, with a zero Report.
func (d *Detached) Init(parent context.Context) { *d = Detached{parent: parent} }

// SetDeadline gives d a deadline, before d is used.
func (d *Detached) SetDeadline(t time.Time) { d.end = ending{deadline: t} }

// Parent is the context d was detached from.
func (d *Detached) Parent() context.Context { return d.parent }

// End ends d now, if it has a deadline (a context without one never
// ends), and stops the timer armed for it.
func (d *Detached) End() {
	if !d.end.deadline.IsZero() {
		d.end.End()
	}
}

// Deadline, Done, Err and Value make *Detached a context.Context.
func (d *Detached) Deadline() (time.Time, bool) { return d.end.deadline, !d.end.deadline.IsZero() }
func (d *Detached) Done() <-chan struct{} {
	if d.end.deadline.IsZero() {
		return nil
	}
	return d.end.Done()
}
func (d *Detached) Err() error {
	if d.end.deadline.IsZero() {
		return nil
	}
	return d.end.Err()
}

// AfterFunc is ending's, for context.AfterFunc; without a deadline d never
// ends (and context.AfterFunc, seeing a nil Done, does not call it).
func (d *Detached) AfterFunc(f func()) (stop func() bool) {
	if d.end.deadline.IsZero() {
		return func() bool { return true }
	}
	return d.end.AfterFunc(f)
}

func (d *Detached) Value(k any) any {
	if _, ok := k.(key); ok {
		return &d.Report
	}
	return d.parent.Value(k)
}
