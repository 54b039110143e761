package listen

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/privdns/privdns/resolver/ratelimit"
)

// LimitObserver is told about every limit a listener reaches (R11): its
// configuration key, as privdns_limited_total counts it.
type LimitObserver interface {
	Limited(limit string)
}

// LimitSettings are the R11 limits the listeners of one server share; a
// reload may change them (Limits.Set).
type LimitSettings struct {
	// TCPConnections bounds the TCP connections open at once across every
	// listener; beyond it the one idle the longest is closed, or the new
	// one when none is idle. 0 = 1000.
	TCPConnections int
	// TCPIdle is how long a connection may stay with no query outstanding,
	// from its opening or its last reply (RFC 7766). 0 = 10 s.
	TCPIdle time.Duration
	// TCPQueriesPerConnection closes a connection once it has answered
	// that many queries; 0 = unlimited.
	TCPQueriesPerConnection int
	// RateLimit limits UDP queries per client prefix; TCP never is.
	RateLimit ratelimit.Settings
}

func (s LimitSettings) withDefaults() LimitSettings {
	if s.TCPConnections <= 0 {
		s.TCPConnections = 1000
	}
	if s.TCPIdle <= 0 {
		s.TCPIdle = 10 * time.Second
	}
	return s
}

// LimitsOptions configures Limits.
type LimitsOptions struct {
	LimitSettings
	Observer LimitObserver    // nil: limits reached are not counted
	Now      func() time.Time // the rate limiter's clock; default time.Now
	// MaxPrefixes bounds the client prefixes the rate limiter tracks; 0 =
	// ratelimit.DefaultMaxPrefixes.
	MaxPrefixes int
}

// Limits is what the listeners of one server count together: their TCP
// connections and the rate limiter's buckets, with the settings of both.
// Safe for concurrent use; give every Listener of a server the same one.
type Limits struct {
	set   atomic.Pointer[LimitSettings]
	obs   LimitObserver
	rate  *ratelimit.Limiter
	conns connTable
}

// NewLimits returns the shared limits of one server.
func NewLimits(opts LimitsOptions) *Limits {
	l := &Limits{obs: opts.Observer, rate: ratelimit.New(ratelimit.Options{MaxPrefixes: opts.MaxPrefixes, Now: opts.Now})}
	l.conns.limits = l
	l.Set(opts.LimitSettings)
	return l
}

// Set changes the limits for what arrives from now on (reload): new
// connections, the next query of a connection, the next UDP query.
// Connections already open stay even above a lowered TCPConnections, until
// a new one needs the room.
func (l *Limits) Set(s LimitSettings) {
	s = s.withDefaults()
	l.set.Store(&s)
	l.rate.Configure(s.RateLimit)
}

func (l *Limits) settings() *LimitSettings { return l.set.Load() }

// TCPConnections returns how many TCP connections are open now.
func (l *Limits) TCPConnections() int { return l.conns.open() }

func (l *Limits) limited(limit string) {
	if l.obs != nil {
		l.obs.Limited(limit)
	}
}

// rateLimit checks a UDP request from client: Pass, or a limited query
// (counted) to drop or to answer with TC.
func (l *Limits) rateLimit(client netip.Addr) ratelimit.Verdict {
	v := l.rate.Check(client)
	if v != ratelimit.Pass {
		l.limited("rateLimit")
	}
	return v
}
