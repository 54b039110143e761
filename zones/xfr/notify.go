package xfr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// NotifierOptions configure a Notifier; zero values take the defaults.
type NotifierOptions struct {
	// Source is the address NOTIFY is sent from: privdns's first listener
	// that names a specific address, since secondaries match the source
	// against their primaries. Zero: the system picks.
	Source netip.Addr
	Tries  int           // sends per target before giving up (default 5)
	Retry  time.Duration // pause between tries (default 3s)
	// Timeout is how long each try waits for the acknowledgement
	// (default 2s).
	Timeout time.Duration
	// After is the clock of the pauses between tries (default
	// time.After), so tests need not sleep.
	After  func(time.Duration) <-chan time.Time
	Now    func() time.Time // signing time (default time.Now)
	Logger *slog.Logger
}

// Notifier sends NOTIFY (RFC 1996) to a zone's transfer.notify targets.
// A newer NOTIFY for a zone and target supersedes one still retrying.
type Notifier struct {
	opts    NotifierOptions
	mu      sync.Mutex
	pending map[[2]string]context.CancelFunc // zone, target → the sending one
	wg      sync.WaitGroup
}

// NewNotifier returns a notifier with opts' defaults filled in.
func NewNotifier(opts NotifierOptions) *Notifier {
	if opts.Tries <= 0 {
		opts.Tries = 5
	}
	if opts.Retry <= 0 {
		opts.Retry = 3 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{opts: opts, pending: map[[2]string]context.CancelFunc{}}
}

// Notify tells every target that zone now has soa, in the background,
// each retried until acknowledged, signed with key when it is set. It
// returns at once; the outcome is logged. Cancel ctx (the process ending)
// to stop every retry.
func (n *Notifier) Notify(ctx context.Context, zone string, soa *dns.SOA, targets []string, key *Key) {
	for _, target := range targets {
		id := [2]string{zone, target}
		ctx, cancel := context.WithCancel(ctx)
		n.mu.Lock()
		if old := n.pending[id]; old != nil {
			old()
		}
		n.pending[id] = cancel
		n.mu.Unlock()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			err := n.Send(ctx, zone, soa, target, key)
			n.mu.Lock()
			superseded := ctx.Err() != nil
			if !superseded {
				delete(n.pending, id)
			}
			n.mu.Unlock()
			cancel()
			switch {
			case err == nil:
				n.opts.Logger.Info("notify acknowledged", "zone", zone, "target", target, "serial", soa.Serial)
			case !superseded:
				n.opts.Logger.Warn("notify failed", "zone", zone, "target", target, "serial", soa.Serial, "err", err)
			}
		}()
	}
}

// Wait blocks until every Notify started has ended: for tests and a
// clean shutdown.
func (n *Notifier) Wait() { n.wg.Wait() }

// ErrNotAcknowledged is returned by Send when no try was acknowledged.
var ErrNotAcknowledged = errors.New("no acknowledgement")

// Send notifies one target and waits for its acknowledgement, trying up
// to Tries times, Retry apart. A reply other than NOERROR (REFUSED,
// NOTAUTH) ends the tries: asking again would get the same.
func (n *Notifier) Send(ctx context.Context, zone string, soa *dns.SOA, target string, key *Key) error {
	c := &dns.Client{Net: "udp", Timeout: n.opts.Timeout}
	if n.opts.Source.IsValid() {
		c.Dialer = &net.Dialer{Timeout: n.opts.Timeout, LocalAddr: &net.UDPAddr{IP: n.opts.Source.AsSlice()}}
	}
	if key != nil {
		c.TsigProvider = NewKeyring(key)
	}
	var last error
	for try := 1; try <= n.opts.Tries; try++ {
		if try > 1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-n.opts.After(n.opts.Retry):
			}
		}
		m := new(dns.Msg)
		m.SetNotify(zone)
		m.Authoritative = true
		m.Answer = []dns.RR{soa}
		if key != nil {
			key.Sign(m, n.opts.Now())
		}
		r, _, err := c.ExchangeContext(ctx, m, target)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case r != nil && r.Opcode == dns.OpcodeNotify && r.Rcode != dns.RcodeSuccess:
			// Final, even when its TSIG does not verify: a BADSIG or
			// BADKEY answer is unsigned by design (RFC 8945 §5.2).
			return fmt.Errorf("%s answered %s", target, dns.RcodeToString[r.Rcode])
		case err != nil:
			last = err
			n.opts.Logger.Debug("notify not acknowledged", "zone", zone, "target", target, "try", try, "err", err)
		case r.Opcode != dns.OpcodeNotify:
			last = fmt.Errorf("reply with opcode %s", dns.OpcodeToString[r.Opcode])
		case key != nil && r.IsTsig() == nil && r.Rcode == dns.RcodeSuccess:
			last = errors.New("unsigned reply to a signed NOTIFY") // RFC 8945 §5.3.1: not an answer
		default:
			return nil
		}
	}
	return fmt.Errorf("%w from %s after %d tries: %v", ErrNotAcknowledged, target, n.opts.Tries, last)
}
