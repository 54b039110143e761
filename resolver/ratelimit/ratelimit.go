// Package ratelimit is the per-client-prefix token bucket of R11: one
// bucket per /24 (IPv4) or /56 (IPv6), refilled at a steady rate, with
// every Slip-th query beyond it answered "try TCP" instead of dropped. The
// listeners ask it before anything else is done with a UDP query, so it
// costs one lock and no allocation for a prefix it knows.
//
// Sharp edge: the buckets live in an LRU of MaxPrefixes prefixes, so that a
// flood from many (spoofed) sources cannot grow it. Such a flood evicts the
// quiet prefixes first, and a prefix evicted and seen again starts with a
// full bucket: the bound on memory is bought with a bound on memory of
// abusers, not with refusing new ones.
package ratelimit

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Verdict is what to do with one query.
type Verdict uint8

const (
	Pass Verdict = iota // answer it
	Drop                // limited: send nothing
	Slip                // limited: answer NOERROR with TC and no records
)

// DefaultMaxPrefixes is how many prefixes a Limiter tracks by default:
// about 6 MB of buckets.
const DefaultMaxPrefixes = 65536

// Settings are the parts of a Limiter a reload may change
// (server.rateLimit). The zero value limits nothing.
type Settings struct {
	Enabled bool
	// QueriesPerSecond refills each prefix's bucket; above 0.
	QueriesPerSecond float64
	// Burst is the bucket's size; at least 1.
	Burst int
	// Slip answers every Slip-th limited query of a prefix with TC (so a
	// real client retries over TCP) and drops the others; 0 drops all.
	Slip int
	// Exempt prefixes are never limited.
	Exempt []netip.Prefix
}

// Options configures a Limiter.
type Options struct {
	Settings
	// MaxPrefixes bounds the prefixes tracked at once; 0 means
	// DefaultMaxPrefixes.
	MaxPrefixes int
	// Now is the clock that refills buckets; default time.Now.
	Now func() time.Time
}

// Limiter holds the buckets of every client prefix. Safe for concurrent use.
type Limiter struct {
	now func() time.Time
	set atomic.Pointer[Settings]

	mu      sync.Mutex
	buckets *simplelru.LRU[uint64, *bucket]
}

// bucket is one prefix's tokens as of last, and how many of its queries
// were limited (which of them slip).
type bucket struct {
	tokens  float64
	last    time.Time
	limited uint64
}

// New returns a Limiter with opts' settings.
func New(opts Options) *Limiter {
	if opts.MaxPrefixes <= 0 {
		opts.MaxPrefixes = DefaultMaxPrefixes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	buckets, err := simplelru.NewLRU[uint64, *bucket](opts.MaxPrefixes, nil)
	if err != nil {
		panic(err) // only for a size below 1, excluded above
	}
	l := &Limiter{now: opts.Now, buckets: buckets}
	l.Configure(opts.Settings)
	return l
}

// Configure changes the settings for the queries checked from now on
// (reload). Buckets are kept, holding at most the new Burst; turning the
// limiter off forgets them.
func (l *Limiter) Configure(s Settings) {
	s.Exempt = append([]netip.Prefix(nil), s.Exempt...)
	for i, p := range s.Exempt {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		s.Exempt[i] = p.Masked()
	}
	l.set.Store(&s)
	if !s.Enabled {
		l.mu.Lock()
		l.buckets.Purge()
		l.mu.Unlock()
	}
}

// Check takes one token from the bucket of client's prefix and says what
// to do with its query.
func (l *Limiter) Check(client netip.Addr) Verdict {
	s := l.set.Load()
	if !s.Enabled || !client.IsValid() {
		return Pass
	}
	client = client.Unmap()
	for _, p := range s.Exempt {
		if p.Contains(client) {
			return Pass
		}
	}
	now := l.now()
	k := keyOf(client)
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(k)
	if !ok {
		b = &bucket{tokens: float64(s.Burst), last: now}
		l.buckets.Add(k, b)
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens += d.Seconds() * s.QueriesPerSecond
		b.last = now
	}
	b.tokens = min(b.tokens, float64(s.Burst))
	if b.tokens >= 1 {
		b.tokens--
		return Pass
	}
	b.limited++
	if s.Slip > 0 && b.limited%uint64(s.Slip) == 0 {
		return Slip
	}
	return Drop
}

// Prefixes returns how many prefixes have a bucket now.
func (l *Limiter) Prefixes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

// keyOf is client's prefix as a number: the /24 of an IPv4 address (low
// byte 1) or the /56 of an IPv6 one (low byte 0), so the two never meet.
func keyOf(client netip.Addr) uint64 {
	if client.Is4() {
		b := client.As4()
		return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | 1
	}
	b := client.As16()
	return binary.BigEndian.Uint64(b[:8]) &^ 0xFF
}
