package secondary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones/xfr"
)

// ixfr asks for the changes since the serial held and installs the
// result. Any error sends the caller to AXFR.
func (s *Secondary) ixfr(ctx context.Context, primary string, now time.Time) error {
	m := new(dns.Msg)
	m.SetIxfr(s.zone, s.soa.Serial, s.soa.Ns, s.soa.Mbox)
	rrs, err := s.transfer(ctx, primary, m)
	if err != nil {
		return fmt.Errorf("IXFR: %w", err)
	}
	raw, deltas, err := applyIXFR(s.raw, rrs)
	if err != nil {
		return fmt.Errorf("IXFR: %w", err)
	}
	if err := s.install(raw, deltas, now, primary); err != nil {
		return fmt.Errorf("IXFR: %w", err)
	}
	kind := "IXFR"
	if deltas == nil {
		kind = "IXFR answered in full"
	}
	s.log.Info("zone transferred", "primary", primary, "kind", kind, "serial", s.soa.Serial, "changes", len(deltas))
	return nil
}

// applyIXFR applies an IXFR answer (RFC 1995 §4) to held, the records of
// the version held, and returns the new version's records
// with the deltas, or, for an answer in full (AXFR form), the zone it
// holds and nil deltas. An answer that is cut short, does not start at
// the serial held, or deletes records not held is an error.
func applyIXFR(held []dns.RR, rrs []dns.RR) ([]dns.RR, []xfr.Delta, error) {
	n := len(rrs)
	if n == 0 {
		return nil, nil, errors.New("empty answer")
	}
	newest, ok := rrs[0].(*dns.SOA)
	if !ok {
		return nil, nil, errors.New("the answer does not begin with the SOA")
	}
	last, ok := rrs[n-1].(*dns.SOA)
	if n == 1 || !ok || last.Serial != newest.Serial {
		return nil, nil, errors.New("cut short: the answer does not end with the new SOA")
	}
	heldSOA := soaOf(held)
	if heldSOA == nil {
		return nil, nil, errors.New("the data held has no SOA")
	}
	second, incremental := rrs[1].(*dns.SOA)
	if !incremental || (second.Serial == newest.Serial && n == 2) {
		return rrs[:n-1], nil, nil // answered in full
	}
	if second.Serial != heldSOA.Serial {
		return nil, nil, fmt.Errorf("the changes start at serial %d, not at the serial held %d", second.Serial, heldSOA.Serial)
	}

	index := make(map[string]int, len(held)) // key → position in recs
	recs := make([]dns.RR, 0, len(held))
	for _, rr := range held {
		if rr.Header().Rrtype == dns.TypeSOA {
			continue
		}
		index[xfr.RRKey(rr)] = len(recs)
		recs = append(recs, rr)
	}
	var deltas []xfr.Delta
	i := 1
	for i < n-1 {
		from, ok := rrs[i].(*dns.SOA)
		cur := heldSOA
		if len(deltas) > 0 {
			cur = deltas[len(deltas)-1].To
		}
		if !ok || from.Serial != cur.Serial {
			return nil, nil, fmt.Errorf("record %d: want the SOA of serial %d to start a change", i, cur.Serial)
		}
		d := xfr.Delta{From: from}
		for i++; i < n-1; i++ {
			if soa, ok := rrs[i].(*dns.SOA); ok {
				d.To = soa
				break
			}
			k := xfr.RRKey(rrs[i])
			pos, held := index[k]
			if !held {
				return nil, nil, fmt.Errorf("deletes a record not held: %s", rrs[i])
			}
			recs[pos] = nil
			delete(index, k)
			d.Deleted = append(d.Deleted, rrs[i])
		}
		if d.To == nil {
			return nil, nil, errors.New("cut short in a change's deletions")
		}
		for i++; i < n; i++ {
			if _, ok := rrs[i].(*dns.SOA); ok {
				break
			}
			k := xfr.RRKey(rrs[i])
			if pos, held := index[k]; held {
				recs[pos] = rrs[i] // the same record again: its new TTL
			} else {
				index[k] = len(recs)
				recs = append(recs, rrs[i])
			}
			d.Added = append(d.Added, rrs[i])
		}
		deltas = append(deltas, d)
	}
	if to := deltas[len(deltas)-1].To; to.Serial != newest.Serial {
		return nil, nil, fmt.Errorf("the changes end at serial %d, not at %d", to.Serial, newest.Serial)
	}
	out := make([]dns.RR, 0, len(recs)+1)
	out = append(out, newest)
	for _, rr := range recs {
		if rr != nil {
			out = append(out, rr)
		}
	}
	return out, deltas, nil
}

// soaOf returns the first SOA of rrs, or nil.
func soaOf(rrs []dns.RR) *dns.SOA {
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}
