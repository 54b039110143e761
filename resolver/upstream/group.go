package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Exchanger answers one DNS query. A reply whose rcode the client should see
// (NOERROR, including NODATA, and NXDOMAIN) comes back with a nil error;
// anything unusable is an error and the caller answers SERVFAIL or stale.
type Exchanger interface {
	Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error)
}

var _ Exchanger = (*Group)(nil)

// Observer is an optional metrics hook; it must be safe for concurrent use.
type Observer interface {
	// Request is called once per attempt with the reply's rcode ("NOERROR",
	// "SERVFAIL", …), "timeout" or "error", and how long the attempt took.
	Request(target string, rcode string, d time.Duration)
	// Health is called when a target goes down or comes back up, and from
	// NewGroup (healthy) for each target whose health it creates, so that
	// gauges start with a value.
	Health(target string, healthy bool)
}

// GroupOptions configures a Group. Zero values pick the documented defaults.
type GroupOptions struct {
	// Name identifies the group in logs and errors, e.g. "upstreams" or
	// "ruleset onprem rule corp.contoso.com."; default "upstreams".
	Name string
	// Targets are "ip:port" (plain DNS, port 53 if omitted) or
	// "tls://ip:port#server-name" (DNS over TLS, port 853 if omitted, the
	// certificate checked against server-name, else against the IP).
	Targets []string
	// Policy picks the first target of each query; the rest follow as
	// fail-over.
	Policy Policy
	// Timeout bounds one attempt on one target; default 2s. A failing
	// Exchange takes at most Timeout × len(Targets), and never outlives ctx.
	Timeout time.Duration
	// MaxInFlight caps outstanding queries per target so a dead target
	// cannot hold every goroutine; beyond it the target is skipped, and
	// when no target can take the query Exchange returns ErrOverloaded.
	// Default 1000.
	MaxInFlight int
	// FailThreshold is how many failures in a row mark a target down;
	// default 3.
	FailThreshold int
	// Backoff is how long a target stays down before it is probed again;
	// it doubles on each failed probe up to MaxBackoff. Defaults 1s and 30s.
	// The probe is the question of the first query that finds the back-off
	// over. It is sent on the side while another target is up, so no client
	// waits on a target that may still be dead; when every target is down,
	// that query itself is the probe.
	Backoff, MaxBackoff time.Duration
	// TLSConfig is the base for tls:// targets (tests set RootCAs); nil
	// means system roots. ServerName is always taken from the target.
	TLSConfig *tls.Config
	// Now is the clock for health and idle connections; default time.Now.
	Now func() time.Time
	// Logger receives health transitions (warn/info) and failed attempts
	// (debug); nil discards.
	Logger *slog.Logger
	// Observer, if set, is told about every attempt and health change.
	Observer Observer
	// Healths, if set, shares each target's health with the other groups
	// built with it; nil gives the group's targets health of their own.
	Healths *Healths
}

// Group sends queries to a set of upstream targets with fail-over, health
// tracking and in-flight limits. It is safe for concurrent use.
type Group struct {
	name        string
	targets     []*target
	policy      Policy
	timeout     time.Duration
	maxInFlight int64
	next        atomic.Uint64 // round-robin counter
	now         func() time.Time
	wall        bool // now is the system clock: one reading serves health and deadlines
	log         *slog.Logger
	obs         Observer

	// closed ends probes on the side when Close calls close; closeMu
	// orders each probes.Add before Close's Wait.
	closeMu sync.Mutex
	closed  context.Context
	close   context.CancelFunc
	probes  sync.WaitGroup
}

// NewGroup validates the options, applies defaults and parses the targets.
func NewGroup(opts GroupOptions) (*Group, error) {
	wall := opts.Now == nil
	opts = withDefaults(opts)
	if len(opts.Targets) == 0 {
		return nil, fmt.Errorf("%s: %w: no targets", opts.Name, ErrBadTarget)
	}
	if opts.Policy < Sequential || opts.Policy > RoundRobin {
		return nil, fmt.Errorf("%s: %w: %v", opts.Name, ErrBadPolicy, opts.Policy)
	}
	g := &Group{
		name: opts.Name, policy: opts.Policy, timeout: opts.Timeout,
		maxInFlight: int64(opts.MaxInFlight), now: opts.Now, wall: wall,
		log: opts.Logger, obs: opts.Observer,
	}
	g.closed, g.close = context.WithCancel(context.Background())
	for _, spec := range opts.Targets {
		t, err := parseTarget(spec, opts.TLSConfig, opts.Now)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.Name, err)
		}
		var created bool
		t.health, created = opts.Healths.get(spec, opts.FailThreshold, opts.Backoff, opts.MaxBackoff)
		g.targets = append(g.targets, t)
		if created && g.obs != nil {
			g.obs.Health(spec, true)
		}
	}
	return g, nil
}

func withDefaults(o GroupOptions) GroupOptions {
	if o.Name == "" {
		o.Name = "upstreams"
	}
	o.Timeout = positiveOr(o.Timeout, 2*time.Second)
	o.Backoff = positiveOr(o.Backoff, time.Second)
	o.MaxBackoff = max(positiveOr(o.MaxBackoff, 30*time.Second), o.Backoff)
	o.MaxInFlight = positiveOr(o.MaxInFlight, 1000)
	o.FailThreshold = positiveOr(o.FailThreshold, 3)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Targets returns the targets as configured, in order.
func (g *Group) Targets() []string {
	specs := make([]string, len(g.targets))
	for i, t := range g.targets {
		specs[i] = t.spec
	}
	return specs
}

// Close stops probes sent on the side and closes pooled DNS-over-TLS
// connections. Exchanges still running finish on their own connections,
// which are then closed too.
func (g *Group) Close() error {
	g.closeMu.Lock()
	g.close()
	g.closeMu.Unlock()
	g.probes.Wait()
	var errs []error
	for _, t := range g.targets {
		if t.tls != nil {
			errs = append(errs, t.tls.close())
		}
	}
	return errors.Join(errs...)
}

// first returns the index of the target a query starts with.
func (g *Group) first() int {
	n := len(g.targets)
	switch g.policy {
	case Random:
		return rand.IntN(n)
	case RoundRobin:
		return int((g.next.Add(1) - 1) % uint64(n))
	}
	return 0
}
