package xfr

import (
	"log/slog"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// Outbound is what Serve needs to answer transfers of one zone: its data,
// its history and its transfer block. Build one per zone at each load.
type Outbound struct {
	Zone    *zones.Zone
	History *History // nil: every IXFR is answered in full
	// Allow are the source prefixes that may ask (transfer.allow).
	Allow []netip.Prefix
	// Key, when set, must sign every request (transfer.tsigKey). Without
	// it, a signed request from Allow is still verified and answered
	// signed.
	Key     *Key
	Metrics *Metrics     // nil: not counted
	Logger  *slog.Logger // nil: not logged
}

// Allowed reports whether a request from src falls under R12 for this
// zone, rather than being resolved as a client's query (R1).
func (o *Outbound) Allowed(src netip.Addr) bool {
	src = src.Unmap()
	return slices.ContainsFunc(o.Allow, func(p netip.Prefix) bool { return p.Contains(src) })
}

// maxEnvelope bounds the record bytes of one transfer message, leaving
// room under 64 KiB for the header, question and TSIG.
const maxEnvelope = 32 << 10

// Serve answers an SOA, AXFR or IXFR request for o's zone (R12), AA set:
// REFUSED from a source outside Allow or unsigned where Key is required,
// NOTAUTH with the TSIG error for a bad signature, FORMERR for AXFR over
// UDP or an IXFR without the client's SOA. AXFR goes over TCP with
// dns.Transfer; IXFR answers the single SOA when the client is current
// (and over UDP), the deltas from History when it holds the chain, and
// the whole zone otherwise (RFC 1995 §4). A nil Zone (a secondary zone
// without data) is SERVFAIL. The error is the writer's.
func Serve(w dns.ResponseWriter, req *dns.Msg, o *Outbound) error {
	if len(req.Question) != 1 {
		return Reply(w, req, dns.RcodeFormatError)
	}
	if o.Zone == nil { // a secondary zone without data, or expired
		return Reply(w, req, dns.RcodeServerFailure)
	}
	q := req.Question[0]
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	zone := o.Zone.Name()
	src := Source(w)
	count := func(result string) {
		if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
			o.Metrics.Transfer(zone, Out, result)
		}
	}
	refuse := func(why string) error {
		log.Warn("transfer refused", "zone", zone, "client", src, "type", dns.TypeToString[q.Qtype], "why", why)
		count(Refused)
		return Reply(w, req, dns.RcodeRefused)
	}
	if !o.Allowed(src) {
		return refuse("source not in transfer.allow")
	}
	if TSIGFailed(w, req) {
		log.Warn("transfer refused", "zone", zone, "client", src, "type", dns.TypeToString[q.Qtype], "why", "bad TSIG", "err", w.TsigStatus())
		count(Refused)
		return ReplyTSIGError(w, req)
	}
	if o.Key != nil {
		t := req.IsTsig()
		if t == nil {
			return refuse("unsigned, and transfer.tsigKey is set")
		}
		if dns.CanonicalName(t.Hdr.Name) != o.Key.Name {
			return refuse("signed with key " + t.Hdr.Name + ", not " + o.Key.Name)
		}
	}
	soa := o.Zone.SOA()
	switch q.Qtype {
	case dns.TypeSOA:
		return Reply(w, req, dns.RcodeSuccess, soa)
	case dns.TypeAXFR:
		if !overTCP(w) {
			count(Failure)
			return Reply(w, req, dns.RcodeFormatError)
		}
		return o.send(w, req, log, fullTransfer(o.Zone), "AXFR")
	case dns.TypeIXFR:
		client, ok := clientSerial(req, zone)
		if !ok {
			count(Failure)
			return Reply(w, req, dns.RcodeFormatError)
		}
		if !SerialLess(client, soa.Serial) || !overTCP(w) {
			count(Success)
			return Reply(w, req, dns.RcodeSuccess, soa)
		}
		if deltas, ok := o.History.Since(client, soa.Serial); ok {
			return o.send(w, req, log, incremental(soa, deltas), "IXFR")
		}
		return o.send(w, req, log, fullTransfer(o.Zone), "IXFR answered in full")
	}
	return Reply(w, req, dns.RcodeNotImplemented)
}

// send streams rrs in messages of at most maxEnvelope record bytes.
func (o *Outbound) send(w dns.ResponseWriter, req *dns.Msg, log *slog.Logger, rrs []dns.RR, kind string) error {
	ch := make(chan *dns.Envelope)
	done := make(chan error, 1)
	tr := new(dns.Transfer)
	go func() {
		err := tr.Out(w, req, ch)
		for range ch { // drain after a write error, so the sender ends
		}
		done <- err
	}()
	start := 0
	size := 0
	for i, rr := range rrs {
		l := dns.Len(rr)
		if size+l > maxEnvelope && i > start {
			ch <- &dns.Envelope{RR: rrs[start:i]}
			start, size = i, 0
		}
		size += l
	}
	ch <- &dns.Envelope{RR: rrs[start:]}
	close(ch)
	err := <-done
	zone := o.Zone.Name()
	if err != nil {
		log.Warn("transfer failed", "zone", zone, "client", Source(w), "kind", kind, "err", err)
		o.Metrics.Transfer(zone, Out, Failure)
		return err
	}
	log.Info("transfer sent", "zone", zone, "client", Source(w), "kind", kind, "serial", o.Zone.SOA().Serial, "records", len(rrs))
	o.Metrics.Transfer(zone, Out, Success)
	return nil
}

// fullTransfer is the zone between two copies of its SOA.
func fullTransfer(z *zones.Zone) []dns.RR {
	rrs := z.Records()
	return append(rrs, z.SOA())
}

// incremental is an IXFR answer (RFC 1995 §4): the current SOA, each
// delta as old SOA, deletions, new SOA, additions, and the current SOA.
func incremental(cur *dns.SOA, deltas []Delta) []dns.RR {
	rrs := []dns.RR{cur}
	for _, d := range deltas {
		rrs = append(rrs, d.From)
		rrs = append(rrs, d.Deleted...)
		rrs = append(rrs, d.To)
		rrs = append(rrs, d.Added...)
	}
	return append(rrs, cur)
}

// clientSerial is the serial of the SOA an IXFR request carries in its
// authority section (RFC 1995 §3).
func clientSerial(req *dns.Msg, zone string) (uint32, bool) {
	for _, rr := range req.Ns {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == zone {
			return soa.Serial, true
		}
	}
	return 0, false
}
