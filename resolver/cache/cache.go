package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/privdns/privdns/resolver/workers"
)

// Exchanger sends one query and returns the reply. NOERROR and NXDOMAIN replies are
// answers; anything unusable (SERVFAIL, timeouts, …) is an error. It is declared here with
// the same shape as upstream.Exchanger so the cache does not depend on that package. As
// resolver.Exchanger says, req is handed over: the cache's own Exchange keeps it for a
// refresh that outlives the call, and the caller must not modify it afterwards. The reply
// is the caller's: the cache trims it, keeps it packed and hands it on to one waiter.
type Exchanger interface {
	Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error)
}

// ErrFailureRemembered marks an error replayed from the cache: the upstream failed for
// this key less than FailureTTL ago and was not asked again (RFC 9520). The original error
// is wrapped too, so errors.Is works for both.
var ErrFailureRemembered = errors.New("cache: upstream failure remembered")

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultMaxNegativeTTL = time.Hour
	DefaultFailureTTL     = 5 * time.Second
	DefaultStaleAnswerTTL = 30 * time.Second
	DefaultStaleMaxAge    = 24 * time.Hour
	DefaultStaleAfter     = 1800 * time.Millisecond
)

// Options configures a Cache. Zero values are meaningful: a zero Options is a disabled
// cache, and every zero duration below takes the documented default.
type Options struct {
	// MaxEntries bounds the LRU; 0 turns the cache off (Wrap returns next unchanged).
	MaxEntries int
	// MinTTL and MaxTTL clamp the TTL of stored positive answers (MaxTTL 0 = no maximum),
	// so a flapping record with TTL 1 does not become an upstream query per client query.
	MinTTL, MaxTTL time.Duration
	// MaxNegativeTTL caps how long NXDOMAIN and NODATA are kept (0 = 1h, RFC 2308 §5).
	MaxNegativeTTL time.Duration
	// FailureTTL is how long an upstream failure is remembered so a dead upstream is not
	// hammered (0 = 5s, RFC 9520).
	FailureTTL time.Duration
	// ServeStale keeps expired entries to answer when the upstream fails or is slow (RFC 8767).
	ServeStale bool
	// StaleAnswerTTL is the TTL put on stale answers (0 = 30s, RFC 8767 §4).
	StaleAnswerTTL time.Duration
	// StaleMaxAge is how long past expiry an entry may still be served stale (0 = 24h).
	StaleMaxAge time.Duration
	// StaleAfter is the client response timer: a refresh slower than this is answered
	// stale when a stale entry exists, and finishes in the background (0 = 1.8s).
	StaleAfter time.Duration
	// Prefetch refreshes an entry in the background when a hit finds it in the last 10% of
	// its TTL, so popular names never expire in front of a client.
	Prefetch bool
	// Now is the clock (nil = time.Now); tests inject a fake one instead of sleeping.
	Now func() time.Time
	// After starts the StaleAfter timer (nil = time.After); tests inject one they control.
	After func(time.Duration) <-chan time.Time
	// Logger receives debug events (nil = discard).
	Logger *slog.Logger
}

// Cache holds answers for every route wrapped with it. It is safe for concurrent use.
type Cache struct {
	opts   Options
	lru    *index // nil when disabled
	flight flight
	fetch  *workers.Pool // the upstream fetches, on goroutines kept warm
	// gen is bumped by Purge so refreshes started before it do not resurrect entries;
	// purgeMu makes "check gen, then store" atomic with respect to Purge.
	gen     atomic.Uint64
	purgeMu sync.RWMutex

	hits, misses, stale, prefetches atomic.Uint64
}

// Stats is a snapshot of the counters, read by the metrics exporter.
type Stats struct {
	Hits, Misses, StaleServed, Prefetches uint64
	Entries                               int
}

// New validates opts, applies defaults and builds a Cache.
func New(opts Options) (*Cache, error) {
	if err := validate(opts); err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	c := &Cache{opts: opts, fetch: workers.New(0)}
	if opts.MaxEntries > 0 {
		c.lru = newIndex(opts.MaxEntries)
	}
	return c, nil
}

func validate(o Options) error {
	if o.MaxEntries < 0 {
		return fmt.Errorf("cache: MaxEntries %d is negative", o.MaxEntries)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"MinTTL", o.MinTTL}, {"MaxTTL", o.MaxTTL}, {"MaxNegativeTTL", o.MaxNegativeTTL},
		{"FailureTTL", o.FailureTTL}, {"StaleAnswerTTL", o.StaleAnswerTTL},
		{"StaleMaxAge", o.StaleMaxAge}, {"StaleAfter", o.StaleAfter},
	}
	for _, d := range durations {
		if d.d < 0 {
			return fmt.Errorf("cache: %s %s is negative", d.name, d.d)
		}
	}
	if o.MaxTTL > 0 && o.MinTTL > o.MaxTTL {
		return fmt.Errorf("cache: MinTTL %s is above MaxTTL %s", o.MinTTL, o.MaxTTL)
	}
	return nil
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.MaxNegativeTTL, DefaultMaxNegativeTTL)
	def(&o.FailureTTL, DefaultFailureTTL)
	def(&o.StaleAnswerTTL, DefaultStaleAnswerTTL)
	def(&o.StaleMaxAge, DefaultStaleMaxAge)
	def(&o.StaleAfter, DefaultStaleAfter)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Wrap returns an Exchanger that answers from the cache for one public route. route names
// the route ("" for default upstreams, or e.g. "onprem/corp.contoso.com.") and is part of
// every key, so answers fetched through one route are never served for another.
func (c *Cache) Wrap(route string, next Exchanger) Exchanger {
	if c == nil || c.lru == nil {
		return next
	}
	return &routed{c: c, route: route, next: next}
}

// Stats returns the counters and the current number of entries.
func (c *Cache) Stats() Stats {
	s := Stats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		StaleServed: c.stale.Load(),
		Prefetches:  c.prefetches.Load(),
	}
	if c.lru != nil {
		s.Entries = c.lru.len()
	}
	return s
}

// Wait blocks until background refreshes (prefetch, stale refresh) have finished; for
// tests and shutdown.
func (c *Cache) Wait() { c.fetch.Wait() }

// Purge drops every entry, for example when a reload changes what routes mean.
// Refreshes already in flight still answer their waiters but are not stored.
func (c *Cache) Purge() {
	if c.lru == nil {
		return
	}
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.gen.Add(1)
	c.lru.purge()
}

// Flush drops every entry whose question is name (any case), on every
// route: of type qtype only, or of every type when qtype is 0. Positive,
// negative, failure and stale entries go alike; names below name stay.
// Like Purge, refreshes already in flight are not stored. It returns how
// many entries it dropped.
func (c *Cache) Flush(name string, qtype uint16) int {
	if c.lru == nil {
		return 0
	}
	name = foldASCII(dns.Fqdn(name))
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.gen.Add(1)
	return c.lru.removeIf(func(k key) bool {
		return k.name == name && (qtype == 0 || k.qtype == qtype)
	})
}
