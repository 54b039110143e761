package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// routed is the Exchanger returned by Wrap: the shared cache seen through one route.
type routed struct {
	c     *Cache
	route string
	next  Exchanger
}

var _ Exchanger = (*routed)(nil)

// Exchange answers req from the cache when it can and asks next otherwise. Requests that
// are not a single-question QUERY pass through uncached.
func (r *routed) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		return r.next.Exchange(ctx, req)
	}
	c := r.c
	k := keyOf(r.route, req)
	now := c.opts.Now()
	e, at, found := c.lru.get(k)
	held := report.OnlyCached(ctx)
	if found && e.fresh(now) {
		c.hits.Add(1)
		if c.opts.Prefetch && !held && e.needsPrefetch(now) && c.lru.latch(at) {
			c.prefetches.Add(1)
			// Not ctx: this query does not wait for the prefetch, so
			// nothing may be recorded into it afterwards.
			r.refresh(context.Background(), k, req, false)
		}
		note(ctx, report.Hit)
		noteFresh(ctx, e.freshness(now, c.opts.Prefetch, at))
		return replyFrom(e.wire, req, countDown(e.age(now)))
	}
	var stale *entry
	if found && c.staleServable(&e, now) {
		stale = &e
	}
	if !report.Wait(ctx) { // the caller may not wait on an upstream: stale or nothing
		noteFresh(ctx, report.Freshness{})
		if stale != nil {
			note(ctx, report.Stale)
			return c.serveStale(stale, req)
		}
		return nil, fmt.Errorf("%s %s: %w", k.name, dns.TypeToString[k.qtype], ErrNotCached)
	}
	c.misses.Add(1)
	if found && e.failing(now) {
		noteFresh(ctx, report.Freshness{})
		if stale != nil {
			note(ctx, report.Stale)
			return c.serveStale(stale, req)
		}
		return nil, e.fail.err
	}
	return r.await(ctx, k, req, stale)
}

// await joins (or starts) the refresh for k and waits for it; with a stale entry it waits
// at most StaleAfter and answers stale when the refresh is slow or fails (RFC 8767 §5).
// Without one, a refresh this request starts runs on its goroutine when its context ends
// only at its deadline (report.AtDeadline; see refresh).
func (r *routed) await(ctx context.Context, k key, req *dns.Msg, stale *entry) (*dns.Msg, error) {
	cl, ran, cut := r.refresh(ctx, k, req, stale == nil && report.AtDeadline(ctx))
	if cut != nil {
		return nil, fmt.Errorf("cache: waiting for %s %s: %w", k.name, dns.TypeToString[k.qtype], cut)
	}
	if !ran {
		var slow <-chan time.Time // nil without a stale entry: never fires
		if stale != nil {
			slow = r.c.opts.After(r.c.opts.StaleAfter)
		}
		select {
		case <-cl.done:
		case <-slow:
			noteFresh(ctx, report.Freshness{})
			note(ctx, report.Stale)
			return r.c.serveStale(stale, req)
		case <-ctx.Done():
			return nil, fmt.Errorf("cache: waiting for %s %s: %w", k.name, dns.TypeToString[k.qtype], ctx.Err())
		}
	}
	return r.answered(ctx, k, req, cl, stale)
}

// answered is await's answer once cl is done.
func (r *routed) answered(ctx context.Context, k key, req *dns.Msg, cl *call, stale *entry) (*dns.Msg, error) {
	if cl.err == nil {
		var f report.Freshness // not kept: uncacheable
		if e, at, ok := r.c.lru.peek(k, false); ok && e.msg {
			f = e.freshness(e.stored, r.c.opts.Prefetch, at) // counted down by 0 s, as below
		}
		noteFresh(ctx, f)
		noteAnswerer(ctx, cl.answerer)
		return cl.reply(req)
	}
	noteFresh(ctx, report.Freshness{})
	if stale != nil {
		note(ctx, report.Stale)
		return r.c.serveStale(stale, req)
	}
	return nil, cl.err
}

// staleServable reports whether an expired entry may still answer (RFC 8767 §4).
func (c *Cache) staleServable(e *entry, now time.Time) bool {
	return c.opts.ServeStale && e.msg && e.age(now) < e.ttl+c.opts.StaleMaxAge
}

func (c *Cache) serveStale(e *entry, req *dns.Msg) (*dns.Msg, error) {
	c.stale.Add(1)
	return c.staleReply(e, req)
}

// remember stores the outcome of an upstream exchange for k and returns what the waiters
// share (call.reply): the reply as kept and its wire form (nil, nil on error). Results of
// exchanges started before a Purge are not stored.
func (c *Cache) remember(k key, gen uint64, reply *dns.Msg, err error) (*dns.Msg, []byte) {
	now := c.opts.Now()
	var f interface{ Fleeting() bool }
	if errors.As(err, &f) && f.Fleeting() {
		return nil, nil // no query was sent: nothing to remember (upstream's ErrOverloaded)
	}
	if err != nil {
		c.opts.Logger.Debug("cache: remembering upstream failure",
			"name", k.name, "type", dns.TypeToString[k.qtype], "route", k.route,
			"for", c.opts.FailureTTL, "err", err)
		c.store(k, gen, c.failure(k, err, now))
		return nil, nil
	}
	m := kept(reply)
	e, ok := c.storable(m, k, now)
	if !ok {
		// Not cached, but the waiters still need copies. Packed even so: the
		// taker of m cannot be copied from while its caller changes it.
		return m, packed(m)
	}
	c.store(k, gen, e)
	return m, e.wire
}

// failure builds the entry remembering err. It keeps the previous message while that can
// still be served, fresh or stale, so a failed refresh never loses a usable answer.
func (c *Cache) failure(k key, err error, now time.Time) entry {
	e := entry{fail: &failure{
		err:   fmt.Errorf("%w: %w", ErrFailureRemembered, err),
		until: now.Add(c.opts.FailureTTL),
	}}
	if old, _, ok := c.lru.peek(k, true); ok && (old.fresh(now) || c.staleServable(&old, now)) {
		e.wire, e.stored, e.ttl, e.msg = old.wire, old.stored, old.ttl, true
	}
	return e
}

// store keeps e for k (the entry it replaces is no longer current) unless
// a Purge or Flush came after the exchange began (gen).
func (c *Cache) store(k key, gen uint64, e entry) {
	c.purgeMu.RLock()
	defer c.purgeMu.RUnlock()
	if c.gen.Load() != gen {
		return
	}
	c.lru.add(k, e)
}
