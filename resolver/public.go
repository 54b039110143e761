package resolver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/cache"
	"github.com/privdns/privdns/resolver/report"
)

// public resolves name on its public route (R6) and walks the reply's CNAME
// chain, keeping only records on it. The chain is cut where it enters a
// linked zone or another forwarding rule (R5); next is then the name to
// resolve there. A chain that ends in a CNAME without data or SOA (an
// authoritative-only upstream) continues with the target.
func (w *walk) public(name string, route *Route) (next string, err error) {
	w.step("public")
	w.q.Route = route.Name
	rep := report.From(w.ctx)
	if _, cached := route.Upstream.(interface{ Cached() bool }); !cached && !report.Wait(w.ctx) {
		return "", fmt.Errorf("%s via %s: %w", name, route.Name, ErrBusy)
	}
	if rep != nil {
		rep.Fresh = report.Freshness{} // an exchange without a cache leaves it
	}
	reply, err := route.Upstream.Exchange(w.ctx, w.upstreamQuery(name))
	if r := w.q.Recorder; r != nil {
		var f report.Freshness // without a Report: not known to be kept
		if rep != nil && err == nil {
			f = rep.Fresh
		}
		r.Exchanged(f)
	}
	if err != nil {
		if w.tracing() {
			w.trace("public: %s %s via %s %v → no answer: %v", name, typeName(w.qtype), route.Name, route.Targets, err)
		}
		return "", err // names the route (the group), the question and why
	}
	if w.tracing() {
		w.trace("public: %s %s via %s %v → %s, %d answer records", name, typeName(w.qtype), route.Name, route.Targets,
			dns.RcodeToString[reply.Rcode], len(reply.Answer))
	}
	w.keepEDE(reply)

	cur := name
	for {
		found, target := w.pick(reply.Answer, cur)
		if found {
			w.rcode = reply.Rcode
			return "", nil
		}
		if target == "" {
			break
		}
		if err := w.countCNAME(); err != nil {
			return "", err
		}
		target = dns.CanonicalName(target)
		if z := w.nv.zoneFor(target); z != nil {
			if w.tracing() {
				w.trace("public CNAME %s → %s enters linked zone %s: resolved privately", cur, target, z.apex())
			}
			w.obs.CNAMEIntoPrivate(trimDot(z.apex()))
			return target, nil
		}
		if r := w.v.routeFor(w.nv, target); r != route && r != w.v.def {
			if w.tracing() {
				w.trace("public CNAME %s → %s falls under forwarding rule %s: resolved there", cur, target, r.Name)
			}
			return target, nil
		}
		if w.tracing() {
			w.trace("public CNAME %s → %s", cur, target)
		}
		cur = target
	}

	soa := cache.SOAFor(reply.Ns, cur) // the SOA of cur's zone; another zone's is a stray
	switch {
	case reply.Rcode == dns.RcodeNameError:
		w.rcode = dns.RcodeNameError
	case soa == nil && cur != name:
		if w.tracing() {
			w.trace("public: chain ends at %s without data: asking for it", cur)
		}
		return cur, nil
	default:
		w.rcode = reply.Rcode
	}
	if soa != nil {
		w.auth, w.authPublic = append([]dns.RR{soa}, w.denialProofs(reply.Ns, soa.Hdr.Name)...), true
	}
	return "", nil
}

// denialProofs returns, for a client that asked with DO, the DNSSEC
// records of a negative answer from zone: the SOA's signature and the
// NSEC or NSEC3 records with theirs (RFC 4035 §3.1.3), so that a
// validating client can check the denial. Records of other zones stay out.
func (w *walk) denialProofs(ns []dns.RR, zone string) []dns.RR {
	if !w.do {
		return nil
	}
	var out []dns.RR
	for _, rr := range ns {
		h := rr.Header()
		if h.Class != dns.ClassINET || !dns.IsSubDomain(zone, h.Name) {
			continue
		}
		switch x := rr.(type) {
		case *dns.NSEC, *dns.NSEC3:
			out = append(out, rr)
		case *dns.RRSIG:
			if x.TypeCovered == dns.TypeNSEC || x.TypeCovered == dns.TypeNSEC3 ||
				(x.TypeCovered == dns.TypeSOA && dns.CanonicalName(h.Name) == dns.CanonicalName(zone)) {
				out = append(out, rr)
			}
		}
	}
	return out
}

// upstreamQuery asks for name with the client's type, class and DNSSEC bits.
func (w *walk) upstreamQuery(name string) *dns.Msg {
	m := new(dns.Msg) // no ID: each exchange stamps its own (RFC 5452)
	m.RecursionDesired = true
	m.CheckingDisabled = w.cd
	m.Question = []dns.Question{{Name: name, Qtype: w.qtype, Qclass: w.qclass}}
	m.SetEdns0(1232, w.do)
	return m
}

// pick appends to the answer the records at owner of the asked type and class
// (with their signatures when DO is set) and reports found; else it
// appends owner's CNAME record (and its signatures) and returns the
// CNAME's target; else neither.
func (w *walk) pick(answer []dns.RR, owner string) (found bool, target string) {
	var cname dns.RR
	for _, rr := range answer {
		h := rr.Header()
		if h.Class != w.qclass || !strings.EqualFold(h.Name, owner) {
			continue // another class is another namespace, not the chain
		}
		switch t := h.Rrtype; {
		case t == w.qtype || (w.qtype == dns.TypeANY && t != dns.TypeRRSIG):
			w.add(true, rr)
			found = true
		case t == dns.TypeCNAME && cname == nil:
			cname = rr
		}
	}
	covered := w.qtype
	if !found {
		if cname == nil {
			return false, ""
		}
		w.add(true, cname)
		covered = dns.TypeCNAME
	}
	if w.do {
		for _, rr := range answer {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.Hdr.Class == w.qclass && strings.EqualFold(sig.Hdr.Name, owner) &&
				(sig.TypeCovered == covered || w.qtype == dns.TypeANY) {
				w.add(true, rr)
			}
		}
	}
	if found {
		return true, ""
	}
	return false, cname.(*dns.CNAME).Target
}

// keepEDE carries extended errors from a public reply (a cache's stale
// marker, an upstream's DNSSEC failure) into the final answer.
func (w *walk) keepEDE(reply *dns.Msg) {
	opt := reply.IsEdns0()
	if opt == nil {
		return
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok && !w.hasEDE(*e) {
			w.ede = append(w.ede, *e)
		}
	}
}

// hasEDE says whether the answer already carries e: a chain with two stale
// steps says so once.
func (w *walk) hasEDE(e dns.EDNS0_EDE) bool {
	for _, x := range w.ede {
		if x.InfoCode == e.InfoCode && x.ExtraText == e.ExtraText {
			return true
		}
	}
	return false
}

// ErrBusy ends a public step that would wait on an upstream while none may
// be waited on (report.Wait: the listener is full, or too many queries
// wait on upstreams server-wide) and no cache can answer it.
var ErrBusy = errors.New("too many queries in flight")
