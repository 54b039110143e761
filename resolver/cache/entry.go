package cache

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/report"
)

// entry is what the index holds, in its slot and its arena, and what it
// gives out: a copy, whose wire bytes are the reader's. An entry kept is
// never changed (a refresh stores a new one).
//
// The message is kept in wire form, one slice of bytes without pointers: a *dns.Msg is
// about ten objects (each RR, its owner name, its address, the sections), and with many
// entries the collector's mark phase, which must visit each of them every cycle, is where
// a cold miss's latency goes on a server with one CPU. A hit unpacks its own copy.
type entry struct {
	wire   []byte        // the message packed, without question and OPT; see msg
	stored time.Time     // when the message arrived; TTLs count down from here
	ttl    time.Duration // how long the message is fresh, whole seconds
	msg    bool          // it has a message (wire may still be nil: not read out, index.peek)

	fail *failure // non-nil: the upstream failed for this key (rare, so kept out of line)
}

// failure is a remembered upstream error: replayed until, not asked again (RFC 9520).
type failure struct {
	err   error
	until time.Time
}

// age is how long ago the entry's message arrived (never negative if the clock steps back).
func (e *entry) age(now time.Time) time.Duration {
	return max(now.Sub(e.stored), 0)
}

// fresh reports whether the message may be served as a normal hit.
func (e *entry) fresh(now time.Time) bool {
	return e.msg && e.age(now) < e.ttl
}

// failing reports whether a remembered failure still holds.
func (e *entry) failing(now time.Time) bool {
	return e.fail != nil && now.Before(e.fail.until)
}

// freshness describes e's answer at now (see report.Freshness); r is
// where the index keeps it.
func (e *entry) freshness(now time.Time, prefetch bool, r ref) report.Freshness {
	end := e.ttl
	if prefetch && e.ttl >= 10*time.Second {
		end = e.ttl - e.ttl/10
	}
	age := min(e.age(now)/time.Second, time.Duration(^uint32(0)))
	return report.Kept(e.stored.Add(end), e.stored, uint32(age), &r.sl.gen, r.at)
}

// needsPrefetch reports whether a hit should refresh the entry: under 10% of an original
// TTL of at least 10s left, and the upstream not known to be failing.
func (e *entry) needsPrefetch(now time.Time) bool {
	if e.ttl < 10*time.Second || e.failing(now) {
		return false
	}
	return e.ttl-e.age(now) < e.ttl/10
}

// storable turns m, an upstream reply to the question of k as kept, into an entry, or
// returns false when the reply must not be cached: truncated, not NOERROR/NXDOMAIN, TTL 0,
// negative without an SOA, or not packable (see packed). It clamps m's TTLs in place.
func (c *Cache) storable(m *dns.Msg, k key, now time.Time) (entry, bool) {
	if m == nil || m.Truncated {
		return entry{}, false
	}
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return entry{}, false
	}
	// The question is the key's (the name case-folded): an upstream's
	// reply need not carry one.
	soa := SOAFor(m.Ns, chainEnd(m.Answer, k.name, k.qclass))
	var ttl uint32
	switch {
	case m.Rcode == dns.RcodeSuccess && answers(m.Answer, k.qtype, k.qclass):
		ttl = c.positiveTTL(m)
	case m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0 && soa == nil:
		// A CNAME chain that stops without data or SOA: an authoritative
		// server that does not chase chains. The chain is what it knows;
		// keep it for its TTL like any positive answer.
		ttl = c.positiveTTL(m)
	default:
		ttl = c.negativeTTL(m, soa)
	}
	if ttl == 0 {
		return entry{}, false
	}
	wire := packed(m)
	if wire == nil {
		return entry{}, false
	}
	return entry{wire: wire, stored: now, ttl: time.Duration(ttl) * time.Second, msg: true}, true
}

// answers reports whether the answer section holds the asked type in the asked class (so
// it is not NODATA: a CNAME chain that stops short of the type is a negative answer, and a
// record of another class is another namespace's).
func answers(rrs []dns.RR, qtype, qclass uint16) bool {
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class == qclass && (h.Rrtype == qtype || (qtype == dns.TypeANY && h.Rrtype != dns.TypeOPT)) {
			return true
		}
	}
	return false
}

// positiveTTL is the smallest answer TTL clamped to [MinTTL, MaxTTL]. Every stored RR TTL
// is clamped the same way, so clients never see a TTL outliving the entry by MaxTTL, nor
// one reaching 0 long before it expires by MinTTL. A TTL of 0 means "do not cache" and
// wins over MinTTL.
func (c *Cache) positiveTTL(m *dns.Msg) uint32 {
	lo, hi := seconds(c.opts.MinTTL), seconds(c.opts.MaxTTL)
	minTTL := ^uint32(0)
	for _, rr := range m.Answer {
		minTTL = min(minTTL, rr.Header().Ttl)
	}
	if minTTL == 0 {
		return 0
	}
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			h := rr.Header()
			h.Ttl = max(h.Ttl, lo)
			if hi > 0 {
				h.Ttl = min(h.Ttl, hi)
			}
		}
	}
	return clamp(minTTL, lo, hi)
}

// negativeTTL is min(SOA TTL, SOA MINIMUM) capped by MaxNegativeTTL (RFC 2308 §5), or 0
// without an SOA for the name (soa, one of m's records). The SOA's TTL is set to it, as
// RFC 2308 §3 asks, and so is every other authority record's of its zone (the SOA's RRSIG must keep
// the SOA's TTL, RFC 4034 §3; NSEC records the SOA minimum, RFC 4035 §2.3); one of them
// with a shorter TTL shortens it for all.
//
// CNAMEs in the answer section of a negative answer are clamped like
// positive records, and the entry lives no longer than the shortest of
// them: a changed CNAME is seen when its own TTL runs out.
func (c *Cache) negativeTTL(m *dns.Msg, soa *dns.SOA) uint32 {
	if soa == nil {
		return 0
	}
	ttl := min(soa.Hdr.Ttl, soa.Minttl, seconds(c.opts.MaxNegativeTTL))
	var zone []dns.RR // the authority records of the SOA's zone; others are strays
	for _, rr := range m.Ns {
		if dns.IsSubDomain(soa.Hdr.Name, rr.Header().Name) {
			zone = append(zone, rr)
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	for _, rr := range zone {
		rr.Header().Ttl = ttl
	}
	lo, hi := seconds(c.opts.MinTTL), seconds(c.opts.MaxTTL)
	for _, a := range m.Answer {
		h := a.Header()
		if h.Ttl == 0 {
			return 0
		}
		h.Ttl = clamp(h.Ttl, lo, hi)
		ttl = min(ttl, h.Ttl)
	}
	return ttl
}

// SOAFor returns the SOA among rrs that speaks for name: the one owned by
// name or by its closest ancestor. An SOA of an unrelated zone is a stray
// record and never chosen; nil when there is none.
func SOAFor(rrs []dns.RR, name string) *dns.SOA {
	var best *dns.SOA
	for _, rr := range rrs {
		soa, ok := rr.(*dns.SOA)
		if !ok || soa.Hdr.Class != dns.ClassINET || !dns.IsSubDomain(soa.Hdr.Name, name) {
			continue
		}
		if best == nil || dns.CountLabel(soa.Hdr.Name) > dns.CountLabel(best.Hdr.Name) {
			best = soa
		}
	}
	return best
}

// chainEnd follows the CNAMEs of class in answer from name and returns the
// last name of the chain (name itself without a CNAME). A CNAME of another
// class is another namespace's, not a step of the chain.
func chainEnd(answer []dns.RR, name string, class uint16) string {
	for range answer { // a chain is no longer than the records; loops end too
		next := ""
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == class && strings.EqualFold(c.Hdr.Name, name) {
				next = c.Target
				break
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	return name
}

func clamp(v, lo, hi uint32) uint32 {
	v = max(v, lo)
	if hi > 0 {
		v = min(v, hi)
	}
	return v
}

func seconds(d time.Duration) uint32 {
	return uint32(min(d/time.Second, time.Duration(^uint32(0))))
}

// kept is reply as the cache keeps it: without its question (the key holds it) and OPT
// record (the caller adds its own), and not to be compressed (as a copy built by replyFrom
// is not). An Exchanger's reply is its caller's to keep, so it is trimmed in place rather
// than copied; one waiter takes it, the others get copies (call.reply). nil stays nil.
func kept(reply *dns.Msg) *dns.Msg {
	if reply == nil {
		return nil
	}
	reply.Compress = false
	reply.Question = nil
	reply.Answer = withoutOPT(reply.Answer)
	reply.Ns = withoutOPT(reply.Ns)
	reply.Extra = withoutOPT(reply.Extra)
	return reply
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
