package secondary

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
	"github.com/privdns/privdns/zones/xfr"
)

// errBackwards is a primary whose serial is behind the data held.
var errBackwards = errors.New("serial went backwards")

// refresh checks the primaries in order until one succeeds.
func (s *Secondary) refresh(ctx context.Context, now time.Time) {
	s.setStatus(func(st *Status) { st.LastCheck = now })
	var errs []string
	for _, p := range s.opts.Primaries {
		transferred, err := s.refreshFrom(ctx, p, now)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if transferred {
				s.metrics.Transfer(s.zone, xfr.In, xfr.Success)
			}
			return
		}
		s.metrics.Transfer(s.zone, xfr.In, xfr.Failure)
		s.log.Warn("check failed; the zone keeps its data", "primary", p, "err", err)
		errs = append(errs, p+": "+err.Error())
	}
	s.failed = true
	s.setStatus(func(st *Status) { st.LastError = strings.Join(errs, "; ") })
}

// refreshFrom checks one primary and transfers what is new. It reports
// whether data was transferred.
func (s *Secondary) refreshFrom(ctx context.Context, primary string, now time.Time) (bool, error) {
	// The SOA check comes first even without data: its single answer
	// names a refusal or a TSIG error, which a transfer cannot.
	serial, err := s.querySOA(ctx, primary)
	if err != nil {
		return false, err
	}
	if s.soa == nil {
		return true, s.axfr(ctx, primary, now)
	}
	switch held := s.soa.Serial; {
	case serial == held:
		s.saveChecked(now)
		s.serve(now, "")
		return false, nil
	case xfr.SerialLess(serial, held):
		return false, fmt.Errorf("%w: the primary has %d, the zone %d (raise the primary's serial, or remove the copy in dataDir)", errBackwards, serial, held)
	}
	err = s.ixfr(ctx, primary, now)
	if err == nil {
		return true, nil
	}
	s.log.Info("IXFR failed; falling back to AXFR", "primary", primary, "err", err)
	return true, s.axfr(ctx, primary, now)
}

func (s *Secondary) keyring() xfr.Keyring {
	if s.opts.Key == nil {
		return nil
	}
	return xfr.NewKeyring(s.opts.Key)
}

func (s *Secondary) sign(m *dns.Msg) {
	if s.opts.Key != nil {
		s.opts.Key.Sign(m, time.Now())
	}
}

// querySOA asks a primary for the zone's serial, over UDP and over TCP
// when truncated.
func (s *Secondary) querySOA(ctx context.Context, primary string) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	var r *dns.Msg
	for _, network := range []string{"udp", "tcp"} {
		m := new(dns.Msg)
		m.SetQuestion(s.zone, dns.TypeSOA)
		m.RecursionDesired = false
		s.sign(m)
		c := &dns.Client{Net: network, Timeout: s.opts.Timeout}
		if kr := s.keyring(); kr != nil {
			c.TsigProvider = kr
		}
		var err error
		r, _, err = c.ExchangeContext(ctx, m, primary)
		if err := replyError(r, err, s.opts.Key != nil); err != nil {
			return 0, fmt.Errorf("SOA query: %w", err)
		}
		if !r.Truncated {
			break
		}
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == s.zone {
			return soa.Serial, nil
		}
	}
	return 0, errors.New("SOA query: no SOA of the zone in the answer")
}

// replyError turns a failed exchange or a reply that is not an answer
// into an error naming the rcode and TSIG error.
func replyError(r *dns.Msg, err error, signed bool) error {
	if r != nil && r.Rcode != dns.RcodeSuccess {
		msg := "the primary answered " + dns.RcodeToString[r.Rcode]
		if t := r.IsTsig(); t != nil && t.Error != 0 {
			msg += " (TSIG " + dns.RcodeToString[int(t.Error)] + ")"
		}
		return errors.New(msg)
	}
	switch {
	case err != nil:
		return err
	case signed && r.IsTsig() == nil:
		return errors.New("unsigned reply to a signed request")
	}
	return nil
}

// transfer runs an AXFR or IXFR request and returns every record of the
// answer, or an error for a refusal, a transfer cut short, a bad
// signature or one over MaxRecords.
func (s *Secondary) transfer(ctx context.Context, primary string, m *dns.Msg) ([]dns.RR, error) {
	s.sign(m)
	tr := &dns.Transfer{DialTimeout: s.opts.Timeout, ReadTimeout: s.opts.Timeout}
	if kr := s.keyring(); kr != nil {
		tr.TsigProvider = kr
	}
	ch, err := tr.In(m, primary)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.TransferTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { tr.Conn.Close() })
	defer stop()
	var rrs []dns.RR
	for env := range ch {
		if err == nil && env.Error != nil {
			err = env.Error
		}
		if err == nil {
			rrs = append(rrs, env.RR...)
			if len(rrs) > s.opts.MaxRecords {
				err = fmt.Errorf("oversized: more than %d records (MaxRecords)", s.opts.MaxRecords)
				tr.Conn.Close() // the reader ends, and the channel with it
			}
		}
	}
	if ctx.Err() != nil && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		var rcode int
		if _, serr := fmt.Sscanf(err.Error(), "dns: bad xfr rcode: %d", &rcode); serr == nil {
			err = fmt.Errorf("the primary answered %s", dns.RcodeToString[rcode])
		}
		return nil, err
	}
	return rrs, nil
}

// axfr transfers the whole zone and installs it.
func (s *Secondary) axfr(ctx context.Context, primary string, now time.Time) error {
	m := new(dns.Msg)
	m.SetAxfr(s.zone)
	rrs, err := s.transfer(ctx, primary, m)
	if err != nil {
		return fmt.Errorf("AXFR: %w", err)
	}
	n := len(rrs)
	if n < 2 {
		return fmt.Errorf("AXFR: cut short after %d records", n)
	}
	first, ok1 := rrs[0].(*dns.SOA)
	last, ok2 := rrs[n-1].(*dns.SOA)
	if !ok1 || !ok2 || first.Serial != last.Serial {
		return errors.New("AXFR: does not begin and end with the zone's SOA (cut short?)")
	}
	if err := s.install(rrs[:n-1], nil, now, primary); err != nil {
		return fmt.Errorf("AXFR: %w", err)
	}
	s.log.Info("zone transferred", "primary", primary, "kind", "AXFR", "serial", s.soa.Serial, "records", n-1)
	return nil
}

// validate builds the zone from transferred records, as a zone file is
// validated.
func (s *Secondary) validate(raw []dns.RR) (*zones.Zone, []string, error) {
	z, cuts, err := zones.Transferred(s.zone, raw)
	if err == nil {
		return z, cuts, nil
	}
	var zerrs zones.Errors
	if errors.As(err, &zerrs) && len(zerrs) > 5 {
		more := len(zerrs) - 5
		err = fmt.Errorf("%w\n(and %d more)", zerrs[:5], more)
	}
	return nil, cuts, fmt.Errorf("invalid zone: %w", err)
}

// install validates raw (SOA first) and swaps it in whole. deltas are the
// IXFR changes that led to it, for the History (nil: computed).
func (s *Secondary) install(raw []dns.RR, deltas []xfr.Delta, now time.Time, primary string) error {
	// Copies: Transferred canonicalises in place, and raw outlives this
	// version as the base of the next IXFR.
	rrs := make([]dns.RR, len(raw))
	for i, rr := range raw {
		rrs[i] = dns.Copy(rr)
	}
	z, cuts, err := s.validate(rrs)
	if err != nil {
		return err
	}
	if s.soa != nil && xfr.SerialLess(z.SOA().Serial, s.soa.Serial) {
		return fmt.Errorf("%w: the transfer has %d, the zone %d", errBackwards, z.SOA().Serial, s.soa.Serial)
	}
	old := s.zdata
	s.raw, s.soa, s.zdata = rrs, z.SOA(), z
	s.warnCuts(cuts)
	for i, w := range z.Warnings() {
		if i == 5 {
			s.log.Warn("more oddities in the transfer", "count", len(z.Warnings())-5)
			break
		}
		s.log.Warn("accepted an oddity in the transfer", "primary", primary, "serial", s.soa.Serial, "warning", w.Msg)
	}
	// The history first: the NOTIFY that serve's OnChange may send brings
	// IXFR requests for this very change.
	if h := s.opts.History; h != nil {
		if deltas != nil {
			for _, d := range deltas {
				h.AddDelta(d)
			}
		} else {
			h.Add(old, z)
		}
	}
	s.serve(now, "primary "+primary)
	s.save(now)
	return nil
}

// warnCuts warns about the delegations dropped, when they change.
func (s *Secondary) warnCuts(cuts []string) {
	joined := strings.Join(cuts, " ")
	if joined == s.cuts {
		return
	}
	s.cuts = joined
	if len(cuts) > 0 {
		s.log.Warn("delegations below the apex dropped with their glue; names under them are resolved on the public path", "delegations", cuts)
	}
}
