package secondary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/datadir"
	"github.com/privdns/privdns/zones/xfr"
)

// Options configure a Secondary. Zone and Primaries are required; zero
// values of the others take the defaults.
type Options struct {
	Zone      string   // apex, any case
	Primaries []string // "ip:port", tried in order
	Key       *xfr.Key // signs SOA, AXFR and IXFR requests (zones[].tsigKey); nil = unsigned

	// Store keeps the last data across restarts (server.dataDir); nil =
	// memory only. StoreKey names the copy in it (default: the zone's
	// name); two secondaries of one zone name need two keys.
	Store    *datadir.Store
	StoreKey string

	Now   func() time.Time                     // default time.Now
	After func(time.Duration) <-chan time.Time // the refresh timer; default time.After

	Logger     *slog.Logger          // default: discard
	Registerer prometheus.Registerer // metrics of SPEC §8; nil = not registered

	// Timeout bounds each SOA check and each read of a transfer (default
	// 5s); TransferTimeout a whole transfer (default 5m).
	Timeout         time.Duration
	TransferTimeout time.Duration
	// MaxRecords is the largest transfer accepted (default 500000): a
	// primary sending more is cut off, as an oversized transfer.
	MaxRecords int
	// RetryWithoutData is how often checks go on while no SOA is known
	// to give a retry interval (default 10s).
	RetryWithoutData time.Duration

	// History, when set, receives every change, so that this zone can in
	// turn be served by IXFR (a transfer block on a secondary zone).
	History *xfr.History
	// OnChange, when set, is called from Run as soon as the data Current
	// returns changes: each new version swapped in, and nil when the zone
	// expires (to NOTIFY downstream, or flush what was cached around
	// the zone). It must not block for long.
	OnChange func(*zones.Zone)
}

// Status is what `privdns explain` says about a secondary zone.
type Status struct {
	Zone        string
	HasData     bool      // data held (served unless Expired)
	Serial      uint32    // serial of the data held
	Source      string    // where the data came from: "primary 10.0.0.4:53", "dataDir copy"
	LastCheck   time.Time // last check attempted
	LastSuccess time.Time // last successful check; expiry counts from it
	Expired     bool
	LastError   string // of the last failed check, "" after a success
}

// Secondary is one followed zone.
type Secondary struct {
	opts    Options
	zone    string
	log     *slog.Logger
	metrics *xfr.Metrics
	cur     atomic.Pointer[zones.Zone] // nil: no data, or expired
	notify  chan struct{}
	primary map[netip.Addr]bool

	// Owned by Run (and New before it).
	raw    []dns.RR    // what the primary sent, SOA first: the base of IXFR
	soa    *dns.SOA    // of raw; nil before any data
	zdata  *zones.Zone // raw validated, served unless expired
	cuts   string      // delegations dropped, for warning once per change
	failed bool        // the last check failed: retry interval

	mu     sync.Mutex
	status Status
	checks checks
}

// checks counts the checks Run made, for Sync: started and finished are
// numbered alike, and ended is closed (and replaced) at each end.
type checks struct {
	started, finished uint64
	ended             chan struct{}
}

// ErrNoPrimaries is returned by New for a zone without primaries.
var ErrNoPrimaries = errors.New("secondary: no primaries")

// New checks opts, registers the metrics and, with a Store, puts the copy
// kept there in place, so that Current serves it before Run's first
// check (unless it is older than its SOA expire).
func New(opts Options) (*Secondary, error) {
	if len(opts.Primaries) == 0 {
		return nil, ErrNoPrimaries
	}
	zone := dns.CanonicalName(opts.Zone)
	if _, ok := dns.IsDomainName(zone); !ok || opts.Zone == "" {
		return nil, fmt.Errorf("secondary: bad zone name %q", opts.Zone)
	}
	primary := map[netip.Addr]bool{}
	for _, p := range opts.Primaries {
		ap, err := netip.ParseAddrPort(p)
		if err != nil {
			return nil, fmt.Errorf("secondary %s: primary %q is not ip:port", zone, p)
		}
		primary[ap.Addr().Unmap()] = true
	}
	defaults(&opts, zone)
	m, err := xfr.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("secondary %s: %w", zone, err)
	}
	s := &Secondary{
		opts: opts, zone: zone, metrics: m, primary: primary,
		log:    opts.Logger.With("zone", zone),
		notify: make(chan struct{}, 1),
		status: Status{Zone: zone},
	}
	m.Expired(zone, false)
	s.loadCopy()
	return s, nil
}

func defaults(o *Options, zone string) {
	if o.StoreKey == "" {
		o.StoreKey = zone
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.TransferTimeout <= 0 {
		o.TransferTimeout = 5 * time.Minute
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = 500000
	}
	if o.RetryWithoutData <= 0 {
		o.RetryWithoutData = 10 * time.Second
	}
}

// Name is the zone's apex, lower-case FQDN.
func (s *Secondary) Name() string { return s.zone }

// Current returns the zone to answer from, or nil before any data and
// while expired: answer SERVFAIL then (R12). Safe for concurrent use and
// allocation-free.
func (s *Secondary) Current() *zones.Zone { return s.cur.Load() }

// Status reports where the zone stands.
func (s *Secondary) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Notify asks for an SOA check at once (R12: within a second of a
// NOTIFY). It never blocks; notifications arriving during a check fold
// into one more check.
func (s *Secondary) Notify() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Sync asks for a check at once and waits until a check that began after
// the call has ended (with a transfer, when the primary had news), or ctx
// ends: a replica that had an update accepted answers it right after.
func (s *Secondary) Sync(ctx context.Context) error {
	s.mu.Lock()
	want := s.checks.started + 1
	s.mu.Unlock()
	s.Notify()
	for {
		s.mu.Lock()
		if s.checks.finished >= want {
			s.mu.Unlock()
			return nil
		}
		if s.checks.ended == nil {
			s.checks.ended = make(chan struct{})
		}
		ended := s.checks.ended
		s.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// IsPrimary reports whether addr is the address of one of the primaries,
// whatever the port: the only senders whose NOTIFY counts.
func (s *Secondary) IsPrimary(addr netip.Addr) bool { return s.primary[addr.Unmap()] }

// HandleNotify answers a NOTIFY for this zone (R12): REFUSED from an
// address that is not a primary's, NOTAUTH with the TSIG error for a bad
// signature, else NOERROR (signed when the NOTIFY was) and a check at
// once. The server routes NOTIFY by zone and answers NOTAUTH for zones it
// does not hold. The error is the writer's.
func (s *Secondary) HandleNotify(w dns.ResponseWriter, req *dns.Msg) error {
	src := xfr.Source(w)
	if !s.IsPrimary(src) {
		s.log.Warn("NOTIFY from an address that is not a primary: refused", "from", src)
		return xfr.Reply(w, req, dns.RcodeRefused)
	}
	if xfr.TSIGFailed(w, req) {
		s.log.Warn("NOTIFY with a bad signature", "from", src, "err", w.TsigStatus())
		return xfr.ReplyTSIGError(w, req)
	}
	s.log.Debug("NOTIFY", "from", src)
	s.Notify()
	return xfr.Reply(w, req, dns.RcodeSuccess)
}

func (s *Secondary) setStatus(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.status)
}
